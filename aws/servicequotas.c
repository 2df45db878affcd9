/* Service Quotas calls (see servicequotas.h): POST / with X-Amz-Target
 * ServiceQuotasV20190624.<Action> and a JSON body, answered in JSON. */
#include "aws/servicequotas.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* One call: {"ServiceCode", "QuotaCode"} in, Quota.Value out. */
static int sq_call(struct aws_client *c, const char *action, const char *service,
                   const char *code, double *value, struct err *e)
{
    char target[96];
    struct sigv4_header h[1];
    struct aws_request req;
    struct aws_response resp;
    json_t *body = json_pack("{s:s, s:s}", "ServiceCode", service, "QuotaCode", code);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_t *doc = NULL, *v;
    int rc;
    json_decref(body);
    if (!text)
        return err_set(e, ERR_FAILED, "out of memory");
    snprintf(target, sizeof(target), "ServiceQuotasV20190624.%s", action);
    h[0] = (struct sigv4_header){ "X-Amz-Target", target };
    req = (struct aws_request){
        .svc = AWS_SERVICE_QUOTAS, .method = "POST", .path = "/",
        .content_type = "application/x-amz-json-1.1", .body = text,
        .body_len = strlen(text), .headers = h, .n_headers = 1, .action = action,
        .idempotent = 1,
    };
    aws_response_init(&resp);
    rc = aws_send(c, &req, &resp, e);
    free(text);
    if (rc == 0) {
        doc = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        v = json_object_get(json_object_get(doc, "Quota"), "Value");
        if (json_is_number(v))
            *value = json_number_value(v);
        else
            rc = err_set(e, ERR_FAILED, "servicequotas %s %s/%s: no Quota.Value in the "
                         "answer", action, service, code);
        json_decref(doc);
    }
    aws_response_release(&resp);
    return rc;
}

int sq_get_quota(struct aws_client *c, const char *service, const char *code,
                 double *value, struct err *e)
{
    if (sq_call(c, "GetServiceQuota", service, code, value, e) == 0)
        return 0;
    if (strcmp(e->code, "NoSuchResourceException") != 0)
        return -1;
    err_init(e);
    return sq_call(c, "GetAWSDefaultServiceQuota", service, code, value, e);
}
