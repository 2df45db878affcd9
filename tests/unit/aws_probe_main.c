/* Test-only driver: makes one AWS call through the real client so the
 * end-to-end tests can check signing and errors for each protocol (Query,
 * S3 REST) against the signature-checking emulator. Exit codes as paasctl's.
 *   aws_probe ec2-describe-vpcs | elb-describe NAME | sts-whoami
 *   aws_probe s3-mb BUCKET | s3-put BUCKET KEY FILE | s3-get BUCKET KEY
 *   aws_probe s3-put-new BUCKET KEY FILE   (If-None-Match: *) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "core/env.h"
#include "aws/elb.h"
#include "aws/s3.h"
#include "aws/sts.h"

static int probe_read_file(const char *path, struct buf *out, struct err *e)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_USAGE, "%s: cannot read", path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(out, chunk, n);
    fclose(f);
    return 0;
}

static int probe_run(struct aws_client *c, int argc, char **argv, struct err *e)
{
    const char *op = argv[1];
    if (strcmp(op, "ec2-describe-vpcs") == 0) {
        struct ec2_vpc *v;
        size_t n;
        if (ec2_describe_vpcs(c, NULL, 0, &v, &n, e) < 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            printf("%s %s\n", v[i].id, v[i].cidr);
        free(v);
        return 0;
    }
    if (strcmp(op, "elb-describe") == 0 && argc > 2) {
        const char *names[1] = { argv[2] };
        struct elb_lb lb;
        int found;
        if (elb_describe(c, names, 1, &lb, &found, e) < 0)
            return -1;
        printf("%s %s\n", argv[2], found ? lb.dns_name : "not-found");
        elb_lb_release(&lb);
        return 0;
    }
    if (strcmp(op, "sts-whoami") == 0) {
        struct sts_identity id;
        if (sts_get_caller_identity(c, &id, e) < 0)
            return -1;
        printf("%s %s\n", id.account, id.arn);
        return 0;
    }
    if (strcmp(op, "s3-mb") == 0 && argc > 2) {
        int created;
        if (s3_create_bucket(c, argv[2], &created, e) < 0)
            return -1;
        printf("%s\n", created ? "created" : "exists");
        return 0;
    }
    if ((strcmp(op, "s3-put") == 0 || strcmp(op, "s3-put-new") == 0) && argc > 4) {
        struct buf body = BUF_INIT;
        int rc = probe_read_file(argv[4], &body, e);
        if (rc == 0)
            rc = s3_put_object(c, argv[2], argv[3], body.data, body.len,
                               "application/octet-stream",
                               strcmp(op, "s3-put-new") == 0, e);
        buf_release(&body);
        return rc;
    }
    if (strcmp(op, "s3-get") == 0 && argc > 3) {
        struct buf body = BUF_INIT;
        int rc = s3_get_object(c, argv[2], argv[3], &body, e);
        if (rc == 0)
            fwrite(body.data ? body.data : "", 1, body.len, stdout);
        buf_release(&body);
        return rc;
    }
    return err_set(e, ERR_USAGE, "aws_probe: unknown call");
}

int main(int argc, char **argv)
{
    struct logger log;
    struct aws_client c;
    /* The knobs cmd/ reads for paasctl, read here the same way. */
    struct aws_client_opts o = {
        NULL, NULL, NULL, &log, (int)env_long("PAASCTL_MAX_ATTEMPTS", 0, 1, 100),
        env_long("PAASCTL_RETRY_BASE_MS", 0, 1, 60000), NULL
    };
    struct err e;
    int rc;
    err_init(&e);
    log_init(&log, stderr);
    log.verbosity = getenv("PROBE_VERBOSE") ? 2 : 0;
    if (argc < 2) {
        fprintf(stderr, "usage: aws_probe CALL [ARGS]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = aws_client_init(&c, &o, &e);
    if (rc == 0)
        rc = probe_run(&c, argc, argv, &e);
    if (rc < 0)
        fprintf(stderr, "aws_probe: %s\n", e.msg);
    aws_client_release(&c);
    curl_global_cleanup();
    return rc < 0 ? err_exit_code(&e) : 0;
}
