/* S3 bucket housekeeping for the lifecycle (issue 3), beside aws/s3.h:
 * bucket tags (CreateBucket takes none, so buckets are tagged right after
 * creation and the tags are checked on every run), listing with ETags (so
 * `up` re-uploads a bootstrap file only when its content changed) and
 * emptying a bucket before it is deleted. */
#ifndef AWS_S3_BUCKET_H
#define AWS_S3_BUCKET_H

#include <stddef.h>
#include "aws/transport.h"

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
    char key[512];
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
