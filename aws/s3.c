/* S3 calls (see s3.h). */
#include "aws/s3.h"

#include <stdlib.h>
#include <string.h>

#include "aws/xml.h"

/* The addressing of one bucket/key: path and host prefix for the request. */
struct s3_target {
    struct buf path;
    char prefix[80];
};

static void s3_target_init(struct aws_client *c, const char *bucket,
                           const char *key, struct s3_target *t)
{
    buf_init(&t->path);
    t->prefix[0] = '\0';
    if (c->ep[AWS_S3].overridden) {
        buf_putc(&t->path, '/');
        buf_uri_encode(&t->path, bucket, strlen(bucket), 0);
    } else {
        snprintf(t->prefix, sizeof(t->prefix), "%s.", bucket);
    }
    buf_putc(&t->path, '/');
    if (key)
        buf_uri_encode(&t->path, key, strlen(key), 1);
}

/* One S3 call; resp may be NULL when the body is not wanted. */
static int s3_call(struct aws_client *c, const char *method, const char *bucket,
                   const char *key, const char *query, const void *body,
                   size_t len, const struct sigv4_header *h, size_t nh,
                   const char *action, struct aws_response *resp,
                   struct err *e)
{
    struct s3_target t;
    struct aws_response local;
    struct aws_request req;
    int rc;
    s3_target_init(c, bucket, key, &t);
    req = (struct aws_request){
        .svc = AWS_S3, .method = method, .path = buf_str(&t.path),
        .query = query, .body = body, .body_len = len, .headers = h,
        .n_headers = nh, .action = action, .idempotent = 1,
        .host_prefix = t.prefix[0] ? t.prefix : NULL,
    };
    /* S3 PUT/DELETE of a whole object are idempotent, and a conditional
     * PUT answers 412 on a resend that already succeeded, which the lock
     * code treats as "held" and then checks the holder id. */
    aws_response_init(&local);
    rc = aws_send(c, &req, resp ? resp : &local, e);
    aws_response_release(&local);
    buf_release(&t.path);
    return rc;
}

int s3_create_bucket(struct aws_client *c, const char *bucket, int *created,
                     struct err *e)
{
    struct buf body = BUF_INIT;
    int rc, exists;
    *created = 0;
    /* us-east-1 answers 200 to re-creating a bucket one owns, so only a
     * HeadBucket first tells "created" from "was there". */
    if (s3_head_bucket(c, bucket, &exists, e) < 0)
        return -1;
    if (exists)
        return 0;
    /* us-east-1 takes no LocationConstraint; every other region needs it. */
    if (strcmp(c->region, "us-east-1") != 0)
        buf_printf(&body, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                   "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                   c->region);
    rc = s3_call(c, "PUT", bucket, NULL, NULL, body.data, body.len, NULL, 0,
                 "CreateBucket", NULL, e);
    buf_release(&body);
    if (rc == 0) {
        *created = 1;
        return 0;
    }
    if (strcmp(e->code, "BucketAlreadyOwnedByYou") == 0) {
        err_init(e);
        return 0;
    }
    return -1;
}

int s3_head_bucket(struct aws_client *c, const char *bucket, int *exists,
                   struct err *e)
{
    *exists = 0;
    if (s3_call(c, "HEAD", bucket, NULL, NULL, NULL, 0, NULL, 0, "HeadBucket",
                NULL, e) == 0) {
        *exists = 1;
        return 0;
    }
    if (e->http_status == 404) {
        err_init(e);
        return 0;
    }
    return -1;
}

int s3_delete_bucket(struct aws_client *c, const char *bucket, struct err *e)
{
    if (s3_call(c, "DELETE", bucket, NULL, NULL, NULL, 0, NULL, 0,
                "DeleteBucket", NULL, e) == 0 || e->http_status == 404) {
        err_init(e);
        return 0;
    }
    return -1;
}

int s3_put_object(struct aws_client *c, const char *bucket, const char *key,
                  const void *body, size_t len, const char *content_type,
                  int if_none_match, struct err *e)
{
    struct sigv4_header h[2];
    size_t nh = 0;
    if (content_type)
        h[nh++] = (struct sigv4_header){ "Content-Type", content_type };
    if (if_none_match)
        h[nh++] = (struct sigv4_header){ "If-None-Match", "*" };
    return s3_call(c, "PUT", bucket, key, NULL, body ? body : "", len, h, nh,
                   "PutObject", NULL, e);
}

int s3_get_object(struct aws_client *c, const char *bucket, const char *key,
                  struct buf *out, struct err *e)
{
    struct aws_response resp;
    int rc;
    aws_response_init(&resp);
    rc = s3_call(c, "GET", bucket, key, NULL, NULL, 0, NULL, 0, "GetObject",
                 &resp, e);
    if (rc == 0)
        buf_add(out, buf_str(&resp.body), resp.body.len);
    aws_response_release(&resp);
    return rc;
}

int s3_delete_object(struct aws_client *c, const char *bucket,
                     const char *key, struct err *e)
{
    return s3_call(c, "DELETE", bucket, key, NULL, NULL, 0, NULL, 0,
                   "DeleteObject", NULL, e);
}

static int s3_list_page(xmlNode *root, s3_key_fn fn, void *ctx, struct err *e)
{
    for (xmlNode *it = aws_xml_first(root, "Contents"); it;
         it = aws_xml_next(it, "Contents")) {
        char key[1024];
        if (aws_xml_text(it, "Key", key, sizeof(key)) && fn(key, ctx, e) < 0)
            return -1;
    }
    return 0;
}

int s3_list_objects(struct aws_client *c, const char *bucket,
                    const char *prefix, s3_key_fn fn, void *ctx,
                    struct err *e)
{
    char *token = NULL;
    int rc = 0;
    do {
        struct buf q = BUF_INIT;
        struct aws_response resp;
        xmlDoc *doc = NULL;
        buf_puts(&q, "list-type=2");
        if (token) {
            buf_puts(&q, "&continuation-token=");
            buf_uri_encode(&q, token, strlen(token), 0);
        }
        buf_puts(&q, "&prefix=");
        buf_uri_encode(&q, prefix, strlen(prefix), 0);
        free(token);
        token = NULL;
        aws_response_init(&resp);
        rc = s3_call(c, "GET", bucket, NULL, buf_str(&q), NULL, 0, NULL, 0,
                     "ListObjectsV2", &resp, e);
        if (rc == 0)
            rc = aws_xml_parse(buf_str(&resp.body), resp.body.len, &doc, e);
        if (rc == 0) {
            xmlNode *root = xmlDocGetRootElement(doc);
            rc = s3_list_page(root, fn, ctx, e);
            token = aws_xml_strdup(root, "NextContinuationToken");
        }
        if (doc)
            xmlFreeDoc(doc);
        aws_response_release(&resp);
        buf_release(&q);
    } while (rc == 0 && token && *token);
    free(token);
    return rc;
}
