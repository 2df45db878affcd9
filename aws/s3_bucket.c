/* S3 bucket housekeeping (see s3_bucket.h). */
#include "aws/s3_bucket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws/s3.h"
#include "aws/xml.h"

void s3_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
    for (unsigned int i = 0; i < n && i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[32] = '\0';
}

/* Base64 MD5 for Content-MD5, which PutBucketTagging requires. */
static void s3_md5_b64(const void *data, size_t len, char out[32])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}

/* A bucket-level call. Path-style with an overridden endpoint (emulators),
 * virtual-hosted otherwise, as aws/s3.c addresses buckets. */
static int s3b_call(struct aws_client *c, const char *method,
                    const char *bucket, const char *query, const struct buf *body,
                    const struct sigv4_header *h, size_t nh, const char *action,
                    struct aws_response *resp, struct err *e)
{
    struct buf path = BUF_INIT;
    char prefix[80] = "";
    struct aws_request req;
    int rc;
    if (c->ep[AWS_S3].overridden) {
        buf_putc(&path, '/');
        buf_uri_encode(&path, bucket, strlen(bucket), 0);
    } else {
        snprintf(prefix, sizeof(prefix), "%s.", bucket);
    }
    buf_putc(&path, '/');
    req = (struct aws_request){
        .svc = AWS_S3, .method = method, .path = buf_str(&path),
        .query = query, .body = body ? buf_str(body) : "",
        .body_len = body ? body->len : 0, .headers = h, .n_headers = nh,
        .action = action, .idempotent = 1,
        .host_prefix = prefix[0] ? prefix : NULL,
    };
    rc = aws_send(c, &req, resp, e);
    buf_release(&path);
    return rc;
}

static void s3b_xml_text(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            buf_puts(b, "&amp;");
        else if (*s == '<')
            buf_puts(b, "&lt;");
        else if (*s == '>')
            buf_puts(b, "&gt;");
        else
            buf_putc(b, *s);
    }
}

int s3_put_bucket_tags(struct aws_client *c, const char *bucket,
                       const struct s3_bucket_tag *t, size_t n, struct err *e)
{
    struct buf body = BUF_INIT;
    struct aws_response resp;
    char md5[32];
    struct sigv4_header h[2];
    int rc;
    buf_puts(&body, "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&body, "<Tag><Key>");
        s3b_xml_text(&body, t[i].key);
        buf_puts(&body, "</Key><Value>");
        s3b_xml_text(&body, t[i].value);
        buf_puts(&body, "</Value></Tag>");
    }
    buf_puts(&body, "</TagSet></Tagging>");
    if (body.failed) {
        buf_release(&body);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    s3_md5_b64(body.data, body.len, md5);
    h[0] = (struct sigv4_header){ "Content-MD5", md5 };
    h[1] = (struct sigv4_header){ "Content-Type", "application/xml" };
    aws_response_init(&resp);
    rc = s3b_call(c, "PUT", bucket, "tagging", &body, h, 2, "PutBucketTagging",
                  &resp, e);
    aws_response_release(&resp);
    buf_release(&body);
    return rc;
}

int s3_get_bucket_tag(struct aws_client *c, const char *bucket,
                      const char *key, char *value_out, size_t size,
                      struct err *e)
{
    struct aws_response resp;
    xmlDoc *doc = NULL;
    int rc;
    value_out[0] = '\0';
    aws_response_init(&resp);
    rc = s3b_call(c, "GET", bucket, "tagging", NULL, NULL, 0, "GetBucketTagging",
                  &resp, e);
    if (rc < 0 && strcmp(e->code, "NoSuchTagSet") == 0) {
        aws_response_release(&resp);
        err_init(e);
        return 0;
    }
    if (rc == 0)
        rc = aws_xml_parse(buf_str(&resp.body), resp.body.len, &doc, e);
    if (rc == 0) {
        xmlNode *set = aws_xml_child(xmlDocGetRootElement(doc), "TagSet");
        for (xmlNode *t = aws_xml_first(set, "Tag"); t; t = aws_xml_next(t, "Tag")) {
            char k[256] = "";
            aws_xml_text(t, "Key", k, sizeof(k));
            if (strcmp(k, key) == 0)
                aws_xml_text(t, "Value", value_out, size);
        }
        xmlFreeDoc(doc);
    }
    aws_response_release(&resp);
    return rc;
}

struct s3b_list {
    struct s3_object *items;
    size_t n, cap;
};

static int s3b_push(struct s3b_list *l, xmlNode *it, struct err *e)
{
    struct s3_object *o;
    char etag[96] = "";
    const char *p = etag;
    size_t len;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *np = realloc(l->items, cap * sizeof(*l->items));
        if (!np)
            return err_set(e, ERR_FAILED, "out of memory");
        l->items = np;
        l->cap = cap;
    }
    o = memset(&l->items[l->n++], 0, sizeof(*o));
    aws_xml_text(it, "Key", o->key, sizeof(o->key));
    aws_xml_text(it, "ETag", etag, sizeof(etag));
    if (*p == '"')
        p++;
    len = strcspn(p, "\"");
    snprintf(o->etag, sizeof(o->etag), "%.*s", (int)len, p);
    return 0;
}

/* One ListObjectsV2 page; *token gets the next continuation (or NULL). */
static int s3b_list_page(struct aws_client *c, const char *bucket,
                         const char *prefix, char **token, struct s3b_list *l,
                         struct err *e)
{
    struct buf q = BUF_INIT;
    struct aws_response resp;
    xmlDoc *doc = NULL;
    int rc;
    buf_puts(&q, "list-type=2");
    if (*token) {
        buf_puts(&q, "&continuation-token=");
        buf_uri_encode(&q, *token, strlen(*token), 0);
    }
    buf_puts(&q, "&prefix=");
    buf_uri_encode(&q, prefix, strlen(prefix), 0);
    free(*token);
    *token = NULL;
    aws_response_init(&resp);
    rc = s3b_call(c, "GET", bucket, buf_str(&q), NULL, NULL, 0, "ListObjectsV2",
                  &resp, e);
    if (rc == 0)
        rc = aws_xml_parse(buf_str(&resp.body), resp.body.len, &doc, e);
    if (rc == 0) {
        xmlNode *root = xmlDocGetRootElement(doc);
        for (xmlNode *it = aws_xml_first(root, "Contents"); it && rc == 0;
             it = aws_xml_next(it, "Contents"))
            rc = s3b_push(l, it, e);
        *token = aws_xml_strdup(root, "NextContinuationToken");
        xmlFreeDoc(doc);
    }
    aws_response_release(&resp);
    buf_release(&q);
    return rc;
}

int s3_list_with_etags(struct aws_client *c, const char *bucket,
                       const char *prefix, struct s3_object **out, size_t *n,
                       struct err *e)
{
    struct s3b_list l = { NULL, 0, 0 };
    char *token = NULL;
    int rc;
    do {
        rc = s3b_list_page(c, bucket, prefix, &token, &l, e);
    } while (rc == 0 && token && *token);
    free(token);
    if (rc < 0) {
        free(l.items);
        l.items = NULL;
        l.n = 0;
    }
    *out = l.items;
    *n = l.n;
    return rc;
}

int s3_empty_and_delete(struct aws_client *c, const char *bucket,
                        struct err *e)
{
    struct s3_object *objs;
    size_t n;
    if (s3_list_with_etags(c, bucket, "", &objs, &n, e) < 0) {
        if (e->http_status == 404) {
            err_init(e);
            return 0;
        }
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s3_delete_object(c, bucket, objs[i].key, e) < 0 &&
            e->http_status != 404) {
            free(objs);
            return -1;
        }
    }
    free(objs);
    return s3_delete_bucket(c, bucket, e);
}
