/* S3 calls (see s3.h). */
#include "aws/s3.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws/sts.h"
#include "aws/xml.h"
#include "core/util.h"

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

/* The account these credentials belong to, asked once per run: every S3
 * call carries it as x-amz-expected-bucket-owner, so a bucket of the same
 * name owned by anyone else answers 403 instead of being used (SPEC.md
 * "Clusters": whoever owns the slot bucket runs code on every node). */
static int s3_owner(struct aws_client *c, struct err *e)
{
    struct sts_identity id;
    if (c->account[0])
        return 0;
    if (sts_get_caller_identity(c, &id, e) < 0)
        return err_wrap(e, "asking STS which account owns our S3 buckets");
    if (!id.account[0])
        return err_set(e, ERR_FAILED, "STS GetCallerIdentity named no account");
    snprintf(c->account, sizeof(c->account), "%s", id.account);
    return 0;
}

/* Says what a refused bucket means and what to do about it. */
static int s3_explain(const struct aws_client *c, const char *bucket,
                      struct err *e)
{
    if (e->http_status == 403 && (strcmp(e->code, "AccessDenied") == 0 ||
                                  strcmp(e->code, "Forbidden") == 0 || !e->code[0]))
        return err_wrap(e, "bucket %s is not owned by account %s (S3 answered 403 "
                        "to a request that names it as the expected owner): another "
                        "account owns that name, and paasctl never uses a bucket it "
                        "does not own. Choose another [paas] name or state_bucket "
                        "(or check these credentials may use S3)", bucket, c->account);
    if (e->http_status == 301 || strcmp(e->code, "PermanentRedirect") == 0 ||
        strcmp(e->code, "AuthorizationHeaderMalformed") == 0 ||
        strcmp(e->code, "IllegalLocationConstraintException") == 0)
        return err_wrap(e, "bucket %s exists in another region than %s: set [paas] "
                        "region to the bucket's region, or choose another [paas] name "
                        "or state_bucket (bucket names are global)", bucket, c->region);
    if (strcmp(e->code, "BucketAlreadyExists") == 0)
        return err_wrap(e, "bucket name %s is taken by another AWS account: choose "
                        "another [paas] name or state_bucket", bucket);
    return -1;
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
    struct sigv4_header all[8];
    int rc;
    if (nh + 1 > sizeof(all) / sizeof(all[0]))
        return err_set(e, ERR_FAILED, "too many S3 headers for %s", action);
    if (s3_owner(c, e) < 0)
        return -1;
    for (size_t i = 0; i < nh; i++)
        all[i] = h[i];
    all[nh++] = (struct sigv4_header){ "x-amz-expected-bucket-owner", c->account };
    s3_target_init(c, bucket, key, &t);
    req = (struct aws_request){
        .svc = AWS_S3, .method = method, .path = buf_str(&t.path),
        .query = query, .body = body, .body_len = len, .headers = all,
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
    if (rc < 0)
        s3_explain(c, bucket, e);
    return rc;
}

int s3_create_bucket(struct aws_client *c, const char *bucket, int *created,
                     struct err *e)
{
    static const struct sigv4_header xml = { "Content-Type", "application/xml" };
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
    /* Without a Content-Type libcurl would label the body a form, which
     * S3 outside us-east-1 may refuse to read. */
    rc = s3_call(c, "PUT", bucket, NULL, NULL, body.data, body.len, &xml, body.len ? 1 : 0,
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

int s3_get_object_etag(struct aws_client *c, const char *bucket, const char *key,
                       struct buf *out, char *etag, size_t size, struct err *e)
{
    struct aws_response resp;
    int rc;
    aws_response_init(&resp);
    rc = s3_call(c, "GET", bucket, key, NULL, NULL, 0, NULL, 0, "GetObject",
                 &resp, e);
    if (rc == 0)
        buf_add(out, buf_str(&resp.body), resp.body.len);
    if (rc == 0 && etag)
        snprintf(etag, size, "%s", resp.etag);
    buf_release_secret(&resp.body);   /* the object may be a secret */
    aws_response_release(&resp);
    return rc;
}

int s3_put_secret(struct aws_client *c, const char *bucket, const char *key,
                  const void *body, size_t len, int if_none_match, struct err *e)
{
    struct sigv4_header h[3];
    size_t nh = 0;
    h[nh++] = (struct sigv4_header){ "Content-Type", "application/octet-stream" };
    h[nh++] = (struct sigv4_header){ "x-amz-server-side-encryption", "AES256" };
    if (if_none_match)
        h[nh++] = (struct sigv4_header){ "If-None-Match", "*" };
    return s3_call(c, "PUT", bucket, key, NULL, body, len, h, nh, "PutObject",
                   NULL, e);
}

int s3_get_secret(struct aws_client *c, const char *bucket, const char *key,
                  struct buf *out, struct err *e)
{
    return s3_get_object(c, bucket, key, out, e);   /* which wipes its copy */
}

int s3_get_object(struct aws_client *c, const char *bucket, const char *key,
                  struct buf *out, struct err *e)
{
    return s3_get_object_etag(c, bucket, key, out, NULL, 0, e);
}

int s3_delete_object(struct aws_client *c, const char *bucket,
                     const char *key, struct err *e)
{
    return s3_delete_object_if(c, bucket, key, NULL, e);
}

int s3_delete_object_if(struct aws_client *c, const char *bucket, const char *key,
                        const char *etag, struct err *e)
{
    struct sigv4_header h = { "If-Match", etag };
    return s3_call(c, "DELETE", bucket, key, NULL, NULL, 0, &h, etag && *etag ? 1 : 0,
                   "DeleteObject", NULL, e);
}

void s3_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
    for (unsigned int i = 0; i < n && i < 16; i++)
        snprintf(out + (size_t)2 * i, 3, "%02x", md[i]);
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
    rc = s3_call(c, "PUT", bucket, NULL, "tagging", body.data, body.len, h, 2,
                 "PutBucketTagging", &resp, e);
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
    rc = s3_call(c, "GET", bucket, NULL, "tagging", NULL, 0, NULL, 0, "GetBucketTagging",
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

struct s3_objlist {
    struct s3_object *items;
    size_t n, cap;
};

static int s3_objlist_push(struct s3_objlist *l, xmlNode *it, struct err *e)
{
    struct s3_object *o;
    char etag[96] = "";
    const char *p = etag;
    char *key = aws_xml_strdup(it, "Key");
    size_t len;
    if (!key)
        return err_set(e, ERR_FAILED, "ListObjectsV2: an entry without a Key");
    if (util_grow(&l->items, &l->cap, l->n, sizeof(*l->items)) < 0) {
        free(key);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    /* S3 keys may be 1024 bytes: a longer one is an error, never a cut. */
    if (strlen(key) >= sizeof(l->items[0].key)) {
        err_set(e, ERR_FAILED, "S3 key of %zu bytes, longer than S3 allows (%.60s...)",
                strlen(key), key);
        free(key);
        return -1;
    }
    o = memset(&l->items[l->n++], 0, sizeof(*o));
    memcpy(o->key, key, strlen(key) + 1);
    free(key);
    aws_xml_text(it, "ETag", etag, sizeof(etag));
    if (*p == '"')
        p++;
    len = strcspn(p, "\"");
    snprintf(o->etag, sizeof(o->etag), "%.*s", (int)len, p);
    return 0;
}

/* One ListObjectsV2 page; *token gets the next continuation (or NULL).
 * start_after (first page only) and max_keys (0 = S3's 1000) may be
 * NULL/0. */
static int s3_objlist_page(struct aws_client *c, const char *bucket,
                           const char *prefix, const char *start_after, int max_keys,
                           char **token, struct s3_objlist *l, struct err *e)
{
    struct buf q = BUF_INIT;
    struct aws_response resp;
    xmlDoc *doc = NULL;
    int rc;
    if (*token) {
        buf_puts(&q, "continuation-token=");
        buf_uri_encode(&q, *token, strlen(*token), 0);
        buf_puts(&q, "&");
    }
    buf_puts(&q, "list-type=2");
    if (max_keys > 0)
        buf_printf(&q, "&max-keys=%d", max_keys);
    buf_puts(&q, "&prefix=");
    buf_uri_encode(&q, prefix, strlen(prefix), 0);
    if (start_after && start_after[0] && !*token) {
        buf_puts(&q, "&start-after=");
        buf_uri_encode(&q, start_after, strlen(start_after), 0);
    }
    free(*token);
    *token = NULL;
    aws_response_init(&resp);
    rc = s3_call(c, "GET", bucket, NULL, buf_str(&q), NULL, 0, NULL, 0, "ListObjectsV2",
                 &resp, e);
    if (rc == 0)
        rc = aws_xml_parse(buf_str(&resp.body), resp.body.len, &doc, e);
    if (rc == 0) {
        xmlNode *root = xmlDocGetRootElement(doc);
        for (xmlNode *it = aws_xml_first(root, "Contents"); it && rc == 0;
             it = aws_xml_next(it, "Contents"))
            rc = s3_objlist_push(l, it, e);
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
    struct s3_objlist l = { NULL, 0, 0 };
    char *token = NULL;
    int rc;
    do {
        rc = s3_objlist_page(c, bucket, prefix, NULL, 0, &token, &l, e);
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

int s3_list_page(struct aws_client *c, const char *bucket,
                 const struct s3_list_opts *o, char **token, s3_key_fn fn,
                 void *ctx, struct err *e)
{
    struct s3_objlist l = { NULL, 0, 0 };
    int rc = s3_objlist_page(c, bucket, o->prefix, o->start_after, o->max_keys,
                             token, &l, e);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = fn(l.items[i].key, ctx, e);
    free(l.items);
    if (rc < 0 || (*token && !**token)) {
        free(*token);
        *token = NULL;
    }
    return rc;
}
