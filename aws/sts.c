/* STS calls (see sts.h). */
#include "aws/sts.h"

#include <string.h>

#include "aws/query.h"
#include "aws/xml.h"

int sts_get_caller_identity(struct aws_client *c, struct sts_identity *out,
                            struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    xmlNode *r;
    int rc;
    memset(out, 0, sizeof(*out));
    aws_query_init(&q, AWS_STS, "GetCallerIdentity");
    rc = aws_query_call(c, &q, 1, &doc, e);
    aws_query_release(&q);
    if (rc < 0)
        return -1;
    r = aws_xml_path(xmlDocGetRootElement(doc), "GetCallerIdentityResult");
    aws_xml_text(r, "Account", out->account, sizeof(out->account));
    aws_xml_text(r, "Arn", out->arn, sizeof(out->arn));
    aws_xml_text(r, "UserId", out->user_id, sizeof(out->user_id));
    xmlFreeDoc(doc);
    return 0;
}
