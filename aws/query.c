/* The AWS Query protocol (see query.h). */
#include "aws/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/xml.h"

static const char *aws_query_version(enum aws_service svc)
{
    switch (svc) {
    case AWS_EC2: return "2016-11-15";
    case AWS_ELB: return "2012-06-01";
    case AWS_STS: return "2011-06-15";
    case AWS_IAM: return "2010-05-08";
    default: return "";
    }
}

void aws_query_init(struct aws_query *q, enum aws_service svc,
                    const char *action)
{
    q->svc = svc;
    q->action = action;
    buf_init(&q->body);
    buf_printf(&q->body, "Action=%s&Version=%s", action, aws_query_version(svc));
}

void aws_query_release(struct aws_query *q)
{
    buf_release(&q->body);
}

void aws_query_add(struct aws_query *q, const char *key, const char *value)
{
    buf_putc(&q->body, '&');
    buf_uri_encode(&q->body, key, strlen(key), 0);
    buf_putc(&q->body, '=');
    buf_uri_encode(&q->body, value, strlen(value), 0);
}

void aws_query_addf(struct aws_query *q, const char *value, const char *keyfmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, keyfmt);
    vsnprintf(key, sizeof(key), keyfmt, ap);
    va_end(ap);
    aws_query_add(q, key, value);
}

int aws_query_filter(struct aws_query *q, int n, const char *name,
                     const char *value)
{
    aws_query_addf(q, name, "Filter.%d.Name", n);
    aws_query_addf(q, value, "Filter.%d.Value.1", n);
    return n + 1;
}

int aws_query_call(struct aws_client *c, const struct aws_query *q,
                   int idempotent, xmlDoc **out, struct err *e)
{
    struct aws_response resp;
    struct aws_request req = {
        .svc = q->svc, .method = "POST", .path = "/",
        .content_type = "application/x-www-form-urlencoded; charset=utf-8",
        .body = buf_str(&q->body), .body_len = q->body.len,
        .action = q->action, .idempotent = idempotent,
    };
    int rc;
    *out = NULL;
    if (q->body.failed)
        return err_set(e, ERR_FAILED, "out of memory building %s", q->action);
    aws_response_init(&resp);
    rc = aws_send(c, &req, &resp, e);
    if (rc == 0)
        rc = aws_xml_parse(buf_str(&resp.body), resp.body.len, out, e);
    aws_response_release(&resp);
    return rc;
}

int aws_query_pages(struct aws_client *c, struct aws_query *q,
                    const char *req_token, const char *resp_token,
                    aws_page_fn fn, void *ctx, struct err *e)
{
    size_t base = q->body.len;
    char *token = NULL;
    int rc = 0;
    for (int page = 0; rc == 0; page++) {
        xmlDoc *doc;
        xmlNode *root;
        q->body.len = base;
        q->body.data[base] = '\0';
        if (token)
            aws_query_add(q, req_token, token);
        free(token);
        token = NULL;
        rc = aws_query_call(c, q, 1, &doc, e);
        if (rc < 0)
            break;
        root = xmlDocGetRootElement(doc);
        rc = fn(root, ctx, e);
        token = aws_xml_strdup(root, resp_token);
        xmlFreeDoc(doc);
        if (!token || !*token)
            break;
        if (page + 1 == AWS_MAX_PAGES) {
            rc = err_set(e, ERR_FAILED, "%s: still more after %d pages; refusing a "
                         "partial answer", q->action, AWS_MAX_PAGES);
            break;
        }
    }
    free(token);
    q->body.len = base;
    q->body.data[base] = '\0';
    return rc;
}
