/* IAM calls (see iam.h). */
#include "aws/iam.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/query.h"
#include "aws/xml.h"

int iam_is_missing(const struct err *e)
{
    return strcmp(e->code, "NoSuchEntity") == 0 || e->http_status == 404;
}

/* Sends q; missing (NoSuchEntity) sets *found = 0 and succeeds when found
 * is given. doc may be NULL when the answer is not wanted. */
static int iam_call(struct aws_client *c, struct aws_query *q, int idempotent,
                    int *found, xmlDoc **doc, struct err *e)
{
    xmlDoc *local = NULL;
    int rc = aws_query_call(c, q, idempotent, doc ? doc : &local, e);
    aws_query_release(q);
    xmlFreeDoc(local);
    if (found)
        *found = rc == 0;
    if (rc < 0 && found && iam_is_missing(e)) {
        err_init(e);
        return 0;
    }
    return rc;
}

/* A delete: gone already counts as done. */
static int iam_delete(struct aws_client *c, struct aws_query *q, struct err *e)
{
    int found;
    return iam_call(c, q, 1, &found, NULL, e);
}

static void iam_add_tags(struct aws_query *q, const struct iam_tag *t, size_t nt)
{
    for (size_t i = 0; i < nt; i++) {
        aws_query_addf(q, t[i].key, "Tags.member.%zu.Key", i + 1);
        aws_query_addf(q, t[i].value, "Tags.member.%zu.Value", i + 1);
    }
}

int iam_get_role(struct aws_client *c, const char *name, int *found,
                 char *arn_out, size_t arn_size, struct err *e)
{
    struct aws_query q;
    xmlDoc *doc = NULL;
    aws_query_init(&q, AWS_IAM, "GetRole");
    aws_query_add(&q, "RoleName", name);
    if (iam_call(c, &q, 1, found, &doc, e) < 0)
        return -1;
    if (arn_out && doc)
        aws_xml_text(xmlDocGetRootElement(doc), "GetRoleResult/Role/Arn", arn_out,
                     arn_size);
    xmlFreeDoc(doc);
    return 0;
}

int iam_create_role(struct aws_client *c, const char *name, const char *path,
                    const char *trust_json, const struct iam_tag *t, size_t nt,
                    struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "CreateRole");
    aws_query_add(&q, "RoleName", name);
    aws_query_add(&q, "Path", path);
    aws_query_add(&q, "AssumeRolePolicyDocument", trust_json);
    iam_add_tags(&q, t, nt);
    /* Not idempotent by itself: a resend after success answers
     * EntityAlreadyExists, which the caller treats as done. */
    return iam_call(c, &q, 0, NULL, NULL, e);
}

int iam_delete_role(struct aws_client *c, const char *name, struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "DeleteRole");
    aws_query_add(&q, "RoleName", name);
    return iam_delete(c, &q, e);
}

int iam_get_role_policy(struct aws_client *c, const char *role,
                        const char *policy, int *found, struct buf *doc_out,
                        struct err *e)
{
    struct aws_query q;
    xmlDoc *doc = NULL;
    char *raw;
    aws_query_init(&q, AWS_IAM, "GetRolePolicy");
    aws_query_add(&q, "RoleName", role);
    aws_query_add(&q, "PolicyName", policy);
    if (iam_call(c, &q, 1, found, &doc, e) < 0)
        return -1;
    raw = doc ? aws_xml_strdup(xmlDocGetRootElement(doc),
                               "GetRolePolicyResult/PolicyDocument") : NULL;
    xmlFreeDoc(doc);
    if (raw) {
        /* IAM answers the document URL-encoded (RFC 3986). */
        int len = 0;
        char *dec = curl_easy_unescape(NULL, raw, 0, &len);
        if (dec)
            buf_add(doc_out, dec, (size_t)len);
        curl_free(dec);
        free(raw);
        if (!dec)
            return err_set(e, ERR_FAILED, "out of memory");
    }
    return 0;
}

int iam_put_role_policy(struct aws_client *c, const char *role,
                        const char *policy, const char *doc_json,
                        struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "PutRolePolicy");
    aws_query_add(&q, "RoleName", role);
    aws_query_add(&q, "PolicyName", policy);
    aws_query_add(&q, "PolicyDocument", doc_json);
    return iam_call(c, &q, 1, NULL, NULL, e);   /* a replace: resend is safe */
}

struct iam_names {
    iam_name_fn fn;
    void *ctx;
};

static int iam_policy_page(xmlNode *root, void *ctx, struct err *e)
{
    struct iam_names *l = ctx;
    xmlNode *names = aws_xml_path(root, "ListRolePoliciesResult/PolicyNames");
    for (xmlNode *m = aws_xml_first(names, "member"); m; m = aws_xml_next(m, "member")) {
        xmlChar *s = xmlNodeGetContent(m);
        int rc = l->fn(s ? (const char *)s : "", l->ctx, e);
        xmlFree(s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int iam_list_role_policies(struct aws_client *c, const char *role,
                           iam_name_fn fn, void *ctx, struct err *e)
{
    struct aws_query q;
    struct iam_names l = { fn, ctx };
    int rc;
    aws_query_init(&q, AWS_IAM, "ListRolePolicies");
    aws_query_add(&q, "RoleName", role);
    rc = aws_query_pages(c, &q, "Marker", "ListRolePoliciesResult/Marker",
                         iam_policy_page, &l, e);
    aws_query_release(&q);
    if (rc < 0 && iam_is_missing(e)) {
        err_init(e);
        return 0;
    }
    return rc;
}

int iam_delete_role_policy(struct aws_client *c, const char *role,
                           const char *policy, struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "DeleteRolePolicy");
    aws_query_add(&q, "RoleName", role);
    aws_query_add(&q, "PolicyName", policy);
    return iam_delete(c, &q, e);
}

int iam_get_instance_profile(struct aws_client *c, const char *name,
                             int *found, struct iam_profile *out,
                             struct err *e)
{
    struct aws_query q;
    xmlDoc *doc = NULL;
    xmlNode *ip, *roles;
    memset(out, 0, sizeof(*out));
    aws_query_init(&q, AWS_IAM, "GetInstanceProfile");
    aws_query_add(&q, "InstanceProfileName", name);
    if (iam_call(c, &q, 1, found, &doc, e) < 0)
        return -1;
    if (!doc)
        return 0;
    ip = aws_xml_path(xmlDocGetRootElement(doc), "GetInstanceProfileResult/InstanceProfile");
    aws_xml_text(ip, "InstanceProfileName", out->name, sizeof(out->name));
    aws_xml_text(ip, "Arn", out->arn, sizeof(out->arn));
    roles = aws_xml_child(ip, "Roles");
    for (xmlNode *m = aws_xml_first(roles, "member");
         m && out->n_roles < IAM_MAX_PROFILE_ROLES; m = aws_xml_next(m, "member"))
        aws_xml_text(m, "RoleName", out->roles[out->n_roles++], sizeof(out->roles[0]));
    xmlFreeDoc(doc);
    return 0;
}

int iam_create_instance_profile(struct aws_client *c, const char *name,
                                const char *path, const struct iam_tag *t,
                                size_t nt, struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "CreateInstanceProfile");
    aws_query_add(&q, "InstanceProfileName", name);
    aws_query_add(&q, "Path", path);
    iam_add_tags(&q, t, nt);
    return iam_call(c, &q, 0, NULL, NULL, e);
}

int iam_add_role_to_instance_profile(struct aws_client *c, const char *profile,
                                     const char *role, struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "AddRoleToInstanceProfile");
    aws_query_add(&q, "InstanceProfileName", profile);
    aws_query_add(&q, "RoleName", role);
    return iam_call(c, &q, 0, NULL, NULL, e);
}

int iam_remove_role_from_instance_profile(struct aws_client *c,
                                          const char *profile,
                                          const char *role, struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "RemoveRoleFromInstanceProfile");
    aws_query_add(&q, "InstanceProfileName", profile);
    aws_query_add(&q, "RoleName", role);
    return iam_delete(c, &q, e);
}

int iam_delete_instance_profile(struct aws_client *c, const char *name,
                                struct err *e)
{
    struct aws_query q;
    aws_query_init(&q, AWS_IAM, "DeleteInstanceProfile");
    aws_query_add(&q, "InstanceProfileName", name);
    return iam_delete(c, &q, e);
}
