/* Independent Query-protocol calls sent together (SPEC.md "AWS
 * conventions"): the plans build a batch of creates or
 * deletes whose inputs are all known, and send it in one round of parallel
 * transfers. Also the eventual-consistency rules: a just-created id that the
 * next call does not know yet (`*.NotFound`) is retried shortly, and in
 * teardown `DependencyViolation` is retried while AWS catches up. */
#ifndef AWS_BATCH_H
#define AWS_BATCH_H

#include <stddef.h>
#include <libxml/tree.h>
#include "aws/query.h"

/* What a `*.NotFound` answer means for one call. */
enum aws_notfound {
    AWS_NF_RETRY,   /* creates: the id was just made; ask again shortly */
    AWS_NF_OK,      /* deletes: already gone is success */
    AWS_NF_FAIL,    /* plain error */
};

struct aws_batch_item {
    struct aws_query q;
    int idempotent;           /* see aws_query_call */
    enum aws_notfound notfound;
    const char *id_path;      /* creates: where the new id is in the answer
                               * ("subnet/subnetId"); NULL = none */
    char id[64];              /* filled on success when id_path is set */
    xmlDoc *doc;              /* the answer (owned by the batch), NULL on error */
    struct err err;           /* this call's error */
    int ref;                  /* the caller's: which resource this is */
    const void *ptr;          /* the caller's, likewise */
    int state;                /* 0 to send, 1 done, -1 failed */
    int attempts;
};

struct aws_batch {
    struct aws_batch_item *items;
    size_t n, cap;
    int failed;               /* an allocation failed: run reports it */
    int dependency_wait_s;    /* keep retrying DependencyViolation this long */
    struct aws_batch_item scratch;  /* written to when an add fails */
};

void aws_batch_init(struct aws_batch *b);
void aws_batch_release(struct aws_batch *b);

/* Adds a call and returns it for the caller to fill (q is started with the
 * action). The pointer is valid until the next add. Never NULL: when memory
 * runs out the batch is marked failed and a scratch item is returned. */
struct aws_batch_item *aws_batch_add(struct aws_batch *b, enum aws_service svc,
                                     const char *action, int idempotent);

/* Sends every call not yet done, in parallel, retrying NotFound and
 * DependencyViolation answers as each item says. Returns 0 when all
 * succeeded; else -1 with e set to the first failure (each item keeps its
 * own err). Items that succeeded keep their doc and id. An empty batch is
 * success without a request. */
int aws_batch_run(struct aws_client *c, struct aws_batch *b, struct err *e);

/* One call now, with the same retry rules; *doc (may be NULL to drop it)
 * gets the answer for the caller to xmlFreeDoc. */
int aws_batch_call1(struct aws_client *c, const struct aws_query *q,
                    int idempotent, enum aws_notfound nf, xmlDoc **doc,
                    struct err *e);

/* 1 if an AWS error code says "this id is unknown" (InvalidVpcID.NotFound,
 * InvalidInstanceID.NotFound, NatGatewayNotFound, ...). */
int aws_code_is_notfound(const char *code);

#endif
