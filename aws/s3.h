/* S3 over REST: the state bucket (lock, journal) and the slot config
 * buckets. Path-style addressing when the endpoint is overridden (emulators),
 * virtual-hosted otherwise (SPEC.md "AWS conventions"). */
#ifndef AWS_S3_H
#define AWS_S3_H

#include <stddef.h>
#include "aws/transport.h"

/* Creates the bucket in the client's region unless HeadBucket finds it
 * (then *created = 0). Owned by someone else is an error (e->code
 * BucketAlreadyExists), which callers naming buckets handle. */
int s3_create_bucket(struct aws_client *c, const char *bucket, int *created,
                     struct err *e);
/* *exists = 1 if the bucket exists and is ours; 0 when 404. */
int s3_head_bucket(struct aws_client *c, const char *bucket, int *exists,
                   struct err *e);
int s3_delete_bucket(struct aws_client *c, const char *bucket, struct err *e);

/* PUT. if_none_match: send "If-None-Match: *", so an existing key answers
 * 412 (e->http_status == 412, e->code "PreconditionFailed"). */
int s3_put_object(struct aws_client *c, const char *bucket, const char *key,
                  const void *body, size_t len, const char *content_type,
                  int if_none_match, struct err *e);
/* GET into out (appended). A missing key is an error with http_status 404. */
int s3_get_object(struct aws_client *c, const char *bucket, const char *key,
                  struct buf *out, struct err *e);
/* The same for secrets (the slot's PKI, SPEC.md "Clusters"): the PUT asks
 * for server-side encryption (x-amz-server-side-encryption: AES256); the
 * GET wipes the response buffer after copying it to out (which the caller
 * releases with buf_release_secret). */
int s3_put_secret(struct aws_client *c, const char *bucket, const char *key,
                  const void *body, size_t len, int if_none_match, struct err *e);
int s3_get_secret(struct aws_client *c, const char *bucket, const char *key,
                  struct buf *out, struct err *e);
/* Like s3_get_object; etag (size bytes) gets the object's ETag as S3 sent
 * it, for a later s3_delete_object_if. */
int s3_get_object_etag(struct aws_client *c, const char *bucket, const char *key,
                       struct buf *out, char *etag, size_t size, struct err *e);
int s3_delete_object(struct aws_client *c, const char *bucket,
                     const char *key, struct err *e);
/* DELETE only while the object's ETag is still etag (If-Match): an object
 * replaced since it was read answers 412 (e->http_status 412). */
int s3_delete_object_if(struct aws_client *c, const char *bucket, const char *key,
                        const char *etag, struct err *e);

typedef int (*s3_key_fn)(const char *key, void *ctx, struct err *e);
struct s3_list_opts {
    const char *prefix;       /* "" = every key */
    const char *start_after;  /* NULL/"" = from the first key */
    int max_keys;             /* keys per page; 0 = S3's default, 1000 */
};
/* One ListObjectsV2 page: fn gets its keys in lexical order. *token is
 * NULL for the first page and gets the next page's continuation token
 * (malloc'd; NULL after the last page), to pass back for the next. So a
 * caller that needs only the first keys sends one short request. */
int s3_list_page(struct aws_client *c, const char *bucket,
                 const struct s3_list_opts *o, char **token, s3_key_fn fn,
                 void *ctx, struct err *e);

struct s3_bucket_tag {
    const char *key;
    const char *value;
};

/* PutBucketTagging: replaces the bucket's tag set with these n tags. */
int s3_put_bucket_tags(struct aws_client *c, const char *bucket,
                       const struct s3_bucket_tag *t, size_t n, struct err *e);
/* GetBucketTagging: *value_out gets the value of `key` ("" when the bucket
 * has no such tag or no tags at all). */
int s3_get_bucket_tag(struct aws_client *c, const char *bucket,
                      const char *key, char *value_out, size_t size,
                      struct err *e);

struct s3_object {
    char key[1025];       /* S3 keys are at most 1024 bytes */
    char etag[80];        /* without quotes: the hex MD5 of a simple PUT */
};

/* Every object under prefix (all pages). *out is malloc'd (caller frees).
 * A missing bucket is an error with http_status 404. */
int s3_list_with_etags(struct aws_client *c, const char *bucket,
                       const char *prefix, struct s3_object **out, size_t *n,
                       struct err *e);

/* Deletes every object of the bucket, then the bucket. Missing is done. */
int s3_empty_and_delete(struct aws_client *c, const char *bucket,
                        struct err *e);

/* The hex MD5 of data (what S3 puts in the ETag of a simple PUT). */
void s3_md5_hex(const void *data, size_t len, char out[33]);

#endif

