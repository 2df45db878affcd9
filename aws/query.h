/* The AWS Query protocol (EC2, classic ELB, STS, IAM): Action and Version
 * plus parameters, sent as a POST form body (as the SDKs do) and answered in
 * XML. Also the pagination helper for NextToken/Marker. */
#ifndef AWS_QUERY_H
#define AWS_QUERY_H

#include <libxml/tree.h>
#include "aws/transport.h"

struct aws_query {
    enum aws_service svc;
    const char *action;      /* static string */
    struct buf body;         /* form-encoded, owned */
};

/* Starts Action=action&Version=<the service's API version>. */
void aws_query_init(struct aws_query *q, enum aws_service svc,
                    const char *action);
void aws_query_release(struct aws_query *q);
/* Appends key=value, both form-encoded. */
void aws_query_add(struct aws_query *q, const char *key, const char *value);
/* Same with a printf-formatted key: aws_query_addf(q, v, "Filter.%d.Name", i). */
void aws_query_addf(struct aws_query *q, const char *value, const char *keyfmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends Filter.N.Name=name&Filter.N.Value.1=value; returns the next N. */
int aws_query_filter(struct aws_query *q, int n, const char *name,
                     const char *value);

/* Sends q and parses the answer. On success *out is the document (caller
 * frees with xmlFreeDoc). idempotent: may be resent after a 5xx/timeout
 * (true for Describe* and for creates that carry a ClientToken). */
int aws_query_call(struct aws_client *c, const struct aws_query *q,
                   int idempotent, xmlDoc **out, struct err *e);

typedef int (*aws_page_fn)(xmlNode *root, void *ctx, struct err *e);

/* Calls q repeatedly, adding req_token=<token> from the element at
 * resp_token (a path under the root, e.g. "nextToken" for EC2 or
 * "DescribeLoadBalancersResult/NextMarker" for ELB) until none, calling
 * fn on each page's root. q is left as it was given. */
int aws_query_pages(struct aws_client *c, struct aws_query *q,
                    const char *req_token, const char *resp_token,
                    aws_page_fn fn, void *ctx, struct err *e);

#endif
