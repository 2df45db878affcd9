/* Unit tests for the AWS transport's pure parts: error documents of each
 * protocol become one error value; which errors are retried; backoff bounds;
 * the Query protocol's form encoding. */
#include "t.h"

#include "aws/query.h"
#include "aws/transport.h"
#include "aws/xml.h"

static const struct aws_request ec2_describe = {
    .svc = AWS_EC2, .method = "POST", .path = "/", .action = "DescribeVpcs",
    .idempotent = 1,
};
static const struct aws_request ec2_create = {
    .svc = AWS_EC2, .method = "POST", .path = "/", .action = "CreateVpc",
    .idempotent = 0,
};

static void test_error_shapes(void)
{
    struct err e;
    const char *ec2 = "<?xml version=\"1.0\"?><Response><Errors><Error>"
        "<Code>AuthFailure</Code><Message>AWS was not able to validate</Message>"
        "</Error></Errors><RequestID>req-ec2-1</RequestID></Response>";
    const char *query = "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/\">"
        "<Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code>"
        "<Message>There is no ACTIVE Load Balancer named 'x'</Message></Error>"
        "<RequestId>req-elb-2</RequestId></ErrorResponse>";
    const char *s3 = "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
        "signature we calculated does not match</Message><RequestId>req-s3-3</RequestId></Error>";

    err_init(&e);
    aws_error_from_response(&ec2_describe, 401, ec2, strlen(ec2), NULL, &e);
    T_STREQ("error/ec2/code", e.code, "AuthFailure");
    T_STREQ("error/ec2/request-id", e.request_id, "req-ec2-1");
    T_INTEQ("error/ec2/status", e.http_status, 401);
    T_OK("error/ec2/message", strstr(e.msg, "DescribeVpcs") && strstr(e.msg, "AuthFailure") &&
         strstr(e.msg, "req-ec2-1"), "%s", e.msg);
    T_INTEQ("error/ec2/kind", e.kind, ERR_FAILED);

    aws_error_from_response(&ec2_describe, 400, query, strlen(query), NULL, &e);
    T_STREQ("error/query/code", e.code, "LoadBalancerNotFound");
    T_STREQ("error/query/request-id", e.request_id, "req-elb-2");

    aws_error_from_response(&ec2_describe, 403, s3, strlen(s3), "hdr-id", &e);
    T_STREQ("error/s3/code", e.code, "SignatureDoesNotMatch");
    T_STREQ("error/s3/request-id-from-body", e.request_id, "req-s3-3");

    aws_error_from_response(&ec2_describe, 404, "", 0, "hdr-id-4", &e);
    T_STREQ("error/empty-body/code", e.code, "NotFound");
    T_STREQ("error/empty-body/request-id-from-header", e.request_id, "hdr-id-4");

    aws_error_from_response(&ec2_describe, 502, "<html>bad gateway", 17, NULL, &e);
    T_STREQ("error/not-xml/code", e.code, "ServerError");
}

static struct err err_with(const char *code, long status)
{
    struct err e;
    err_init(&e);
    snprintf(e.code, sizeof(e.code), "%s", code);
    e.http_status = status;
    e.kind = ERR_FAILED;
    return e;
}

static void test_retryable(void)
{
    struct err e = err_with("RequestLimitExceeded", 503);
    T_OK("retry/throttle/idempotent", aws_error_retryable(&ec2_describe, &e), "%s", "unexpected");
    T_OK("retry/throttle/not-idempotent", aws_error_retryable(&ec2_create, &e),
         "throttled calls were refused, so resending is safe");
    e = err_with("Throttling", 400);
    T_OK("retry/elb-throttling", aws_error_retryable(&ec2_describe, &e), "%s", "unexpected");
    e = err_with("SlowDown", 503);
    T_OK("retry/s3-slowdown", aws_error_retryable(&ec2_create, &e), "%s", "unexpected");
    e = err_with("InternalError", 500);
    T_OK("retry/5xx/idempotent", aws_error_retryable(&ec2_describe, &e), "%s", "unexpected");
    T_OK("retry/5xx/not-idempotent", !aws_error_retryable(&ec2_create, &e),
         "a 500 on a create without client token must not be resent");
    e = err_with("", 429);
    T_OK("retry/429", aws_error_retryable(&ec2_create, &e), "%s", "unexpected");
    e = err_with("AuthFailure", 401);
    T_OK("retry/auth-never", !aws_error_retryable(&ec2_describe, &e), "%s", "unexpected");
    e = err_with("InvalidParameterValue", 400);
    T_OK("retry/client-error-never", !aws_error_retryable(&ec2_describe, &e), "%s", "unexpected");
}

static void test_uncertain(void)
{
    struct err e = err_with("ServiceUnavailable", 503);
    T_OK("uncertain/503", aws_error_uncertain(&e, CURLE_OK), "%s", "a 503 may follow execution");
    e = err_with("InternalError", 500);
    T_OK("uncertain/500", aws_error_uncertain(&e, CURLE_OK), "%s", "unexpected");
    e = err_with("SlowDown", 503);
    T_OK("uncertain/throttle-503-certain", !aws_error_uncertain(&e, CURLE_OK), "%s",
         "throttling is a refusal");
    e = err_with("Throttling", 400);
    T_OK("uncertain/throttle-certain", !aws_error_uncertain(&e, CURLE_OK), "%s", "unexpected");
    e = err_with("InvalidParameterValue", 400);
    T_OK("uncertain/4xx-certain", !aws_error_uncertain(&e, CURLE_OK), "%s", "unexpected");
    err_init(&e);
    T_OK("uncertain/refused-certain", !aws_error_uncertain(&e, CURLE_COULDNT_CONNECT), "%s",
         "never connected: never executed");
    T_OK("uncertain/reset", aws_error_uncertain(&e, CURLE_RECV_ERROR), "%s", "unexpected");
    T_OK("uncertain/empty-reply", aws_error_uncertain(&e, CURLE_GOT_NOTHING), "%s", "unexpected");
    T_OK("uncertain/timeout", aws_error_uncertain(&e, CURLE_OPERATION_TIMEDOUT), "%s",
         "unexpected");
}

static void test_backoff(void)
{
    struct aws_client c;
    long max_seen = 0;
    int within = 1;
    memset(&c, 0, sizeof(c));
    c.http.retry = (struct http_policy){ 13, 100, 20000 };
    c.http.rng = 12345;
    for (int k = 1; k <= 13; k++) {
        long ceiling = 100L << (k - 1);
        if (ceiling > 20000)
            ceiling = 20000;
        for (int i = 0; i < 200; i++) {
            long ms = aws_backoff_ms(&c, k);
            if (ms < 0 || ms > ceiling)
                within = 0;
            if (k == 13 && ms > max_seen)
                max_seen = ms;
        }
    }
    T_OK("backoff/full-jitter-within-ceiling", within, "a delay fell outside [0, ceiling]");
    T_OK("backoff/cap-reached", max_seen > 10000 && max_seen <= 20000,
         "max at attempt 13 was %ld", max_seen);
}

static void test_query_encoding(void)
{
    struct aws_query q;
    aws_query_init(&q, AWS_EC2, "DescribeVpcs");
    aws_query_filter(&q, 1, "tag:paasctl:paas", "a b/c");
    T_STREQ("query/form-encoding", buf_str(&q.body),
            "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Apaasctl%3Apaas"
            "&Filter.1.Value.1=a%20b%2Fc");
    aws_query_release(&q);
    aws_query_init(&q, AWS_ELB, "DescribeLoadBalancers");
    T_STREQ("query/elb-version", buf_str(&q.body),
            "Action=DescribeLoadBalancers&Version=2012-06-01");
    aws_query_release(&q);
}

static void test_xml_safety(void)
{
    struct err e;
    xmlDoc *doc = NULL;
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><r><Code>&b;</Code></r>";
    const char *ext = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<r><Code>&x;</Code></r>";
    const char *ok = "<r xmlns=\"urn:x\"><a><Code>c1</Code></a></r>";
    char text[64] = "";
    err_init(&e);
    T_OK("xml/entity-expansion-refused", aws_xml_parse(bomb, strlen(bomb), &doc, &e) < 0 &&
         strstr(e.msg, "DTD"), "parsed a DTD: %s", e.msg);
    T_OK("xml/external-entity-refused", aws_xml_parse(ext, strlen(ext), &doc, &e) < 0, "parsed");
    T_OK("xml/garbage-is-error", aws_xml_parse("not xml", 7, &doc, &e) < 0, "parsed garbage");
    T_OK("xml/namespaced-ok", aws_xml_parse(ok, strlen(ok), &doc, &e) == 0, "%s", e.msg);
    if (doc) {
        aws_xml_text(xmlDocGetRootElement(doc), "a/Code", text, sizeof(text));
        xmlFreeDoc(doc);
    }
    T_STREQ("xml/path-ignores-namespace", text, "c1");
}

int main(void)
{
    test_error_shapes();
    test_retryable();
    test_uncertain();
    test_backoff();
    test_query_encoding();
    test_xml_safety();
    xmlCleanupParser();
    return t_done();
}
