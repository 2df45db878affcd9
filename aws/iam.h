/* IAM over the Query protocol (API 2010-05-08, one global endpoint signed
 * for us-east-1; AWS_ENDPOINT_URL_IAM honoured by aws/creds.c): the roles,
 * inline policies and instance profiles of a slot (SPEC.md "Clusters",
 * IAM). Every call is by name; "already gone" and "already there" are the
 * callers' to decide through e->code (NoSuchEntity, EntityAlreadyExists). */
#ifndef AWS_IAM_H
#define AWS_IAM_H

#include <stddef.h>
#include "aws/transport.h"
#include "core/buf.h"

struct iam_tag {
    const char *key;
    const char *value;
};

#define IAM_MAX_PROFILE_ROLES 4
struct iam_profile {
    char name[128];
    char arn[256];
    size_t n_roles;                           /* beyond the max are dropped */
    char roles[IAM_MAX_PROFILE_ROLES][128];   /* role names */
};

/* GetRole: *found = 0 when NoSuchEntity. arn_out may be NULL. */
int iam_get_role(struct aws_client *c, const char *name, int *found,
                 char *arn_out, size_t arn_size, struct err *e);
/* CreateRole with its trust policy and tags (at creation). */
int iam_create_role(struct aws_client *c, const char *name, const char *path,
                    const char *trust_json, const struct iam_tag *t, size_t nt,
                    struct err *e);
/* DeleteRole; a role that is gone already is success. */
int iam_delete_role(struct aws_client *c, const char *name, struct err *e);

/* GetRolePolicy: doc_out gets the policy document (URL-decoded JSON),
 * *found = 0 when NoSuchEntity. */
int iam_get_role_policy(struct aws_client *c, const char *role,
                        const char *policy, int *found, struct buf *doc_out,
                        struct err *e);
/* PutRolePolicy: creates or replaces the inline policy. */
int iam_put_role_policy(struct aws_client *c, const char *role,
                        const char *policy, const char *doc_json,
                        struct err *e);
/* ListRolePolicies (all pages): fn is called with each inline policy name.
 * A missing role lists nothing. */
typedef int (*iam_name_fn)(const char *name, void *ctx, struct err *e);
int iam_list_role_policies(struct aws_client *c, const char *role,
                           iam_name_fn fn, void *ctx, struct err *e);
/* DeleteRolePolicy; gone already is success. */
int iam_delete_role_policy(struct aws_client *c, const char *role,
                           const char *policy, struct err *e);

/* GetInstanceProfile: *found = 0 when NoSuchEntity. */
int iam_get_instance_profile(struct aws_client *c, const char *name,
                             int *found, struct iam_profile *out,
                             struct err *e);
/* CreateInstanceProfile with tags (at creation). */
int iam_create_instance_profile(struct aws_client *c, const char *name,
                                const char *path, const struct iam_tag *t,
                                size_t nt, struct err *e);
int iam_add_role_to_instance_profile(struct aws_client *c, const char *profile,
                                     const char *role, struct err *e);
/* RemoveRoleFromInstanceProfile; not there is success. */
int iam_remove_role_from_instance_profile(struct aws_client *c,
                                          const char *profile,
                                          const char *role, struct err *e);
/* DeleteInstanceProfile; gone already is success. */
int iam_delete_instance_profile(struct aws_client *c, const char *name,
                                struct err *e);

/* 1 when e is IAM's "no such entity" answer. */
int iam_is_missing(const struct err *e);

#endif
