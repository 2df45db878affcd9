/* STS over the Query protocol (API 2011-06-15): who the credentials are. */
#ifndef AWS_STS_H
#define AWS_STS_H

#include "aws/transport.h"

struct sts_identity {
    char account[16];
    char arn[256];
    char user_id[128];
};

int sts_get_caller_identity(struct aws_client *c, struct sts_identity *out,
                            struct err *e);

#endif
