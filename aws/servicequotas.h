/* Service Quotas over the AWS JSON 1.1 protocol (API 2019-06-24): the one
 * read paasctl's pre-flight needs, a quota's value (README "Pre-flight"). */
#ifndef AWS_SERVICEQUOTAS_H
#define AWS_SERVICEQUOTAS_H

#include "aws/transport.h"

/* EC2's quotas that `up` can run into half-way. */
#define SQ_EC2_STANDARD_VCPUS "L-1216C47A"  /* Running On-Demand Standard
                                             * (A, C, D, H, I, M, R, T, Z)
                                             * instances, in vCPUs */
#define SQ_EC2_VPC_EIPS "L-0263D0A3"        /* EC2-VPC Elastic IPs */

/* *value = the quota's value applied to this account
 * (GetServiceQuota), or its AWS default when no applied value is kept for
 * it (NoSuchResourceException: GetAWSDefaultServiceQuota). Errors keep the
 * AWS code (AccessDeniedException when the caller may not read quotas). */
int sq_get_quota(struct aws_client *c, const char *service, const char *code,
                 double *value, struct err *e);

#endif
