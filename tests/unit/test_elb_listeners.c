/* Unit tests for plans/elb_listeners.c's diff (SPEC.md "Configuration",
 * [elb] listener): what an in-place listener change deletes, creates and
 * swaps. A listener that differs only in its certificate is swapped in
 * place, so a certificate change never leaves the live ELB without it. */
#include "t.h"

#include "plans/elb_listeners.h"

#define ARN1 "arn:aws:acm:us-east-1:123456789012:certificate/one"
#define ARN2 "arn:aws:acm:us-east-1:123456789012:certificate/two"

static void want_listener(struct config *cfg, int lb, int inst, const char *proto,
                          const char *iproto, const char *arn)
{
    struct listener *l = &cfg->listeners[cfg->n_listeners++];
    memset(l, 0, sizeof(*l));
    l->lb_port = lb;
    l->instance_port = inst;
    snprintf(l->protocol, sizeof(l->protocol), "%s", proto);
    snprintf(l->instance_protocol, sizeof(l->instance_protocol), "%s", iproto);
    snprintf(l->cert_arn, sizeof(l->cert_arn), "%s", arn);
}

/* As DescribeLoadBalancers reads it back: protocols in capitals. */
static void have_listener(struct elb_lb *lb, int port, int inst, const char *proto,
                          const char *iproto, const char *arn)
{
    struct elb_listener *l = &lb->listeners[lb->n_listeners++];
    memset(l, 0, sizeof(*l));
    l->lb_port = port;
    l->instance_port = inst;
    snprintf(l->protocol, sizeof(l->protocol), "%s", proto);
    snprintf(l->instance_protocol, sizeof(l->instance_protocol), "%s", iproto);
    snprintf(l->cert_arn, sizeof(l->cert_arn), "%s", arn);
}

static void setup(struct config *cfg, struct elb_lb *lb)
{
    memset(cfg, 0, sizeof(*cfg));
    memset(lb, 0, sizeof(*lb));
    want_listener(cfg, 80, 80, "HTTP", "HTTP", "");
    have_listener(lb, 80, 80, "HTTP", "HTTP", "");
}

static void test_same(void)
{
    struct config cfg;
    struct elb_lb lb;
    struct lsn_diff d;
    setup(&cfg, &lb);
    want_listener(&cfg, 443, 80, "https", "HTTP", ARN1);
    have_listener(&lb, 443, 80, "HTTPS", "HTTP", ARN1);
    lsn_diff(&cfg, &lb, &d);
    T_OK("same listeners: nothing to do", !lsn_todo(&d), "add %zu del %zu cert %zu",
         d.n_add, d.n_del, d.n_cert);
}

static void test_certificate_swapped(void)
{
    struct config cfg;
    struct elb_lb lb;
    struct lsn_diff d;
    setup(&cfg, &lb);
    want_listener(&cfg, 443, 80, "https", "HTTP", ARN2);
    have_listener(&lb, 443, 80, "HTTPS", "HTTP", ARN1);
    lsn_diff(&cfg, &lb, &d);
    T_INTEQ("new certificate: one swap", d.n_cert, 1);
    T_INTEQ("new certificate: nothing deleted", d.n_del, 0);
    T_INTEQ("new certificate: nothing created", d.n_add, 0);
    T_INTEQ("the swap names the port", d.cert[0].lb_port, 443);
    T_STREQ("the swap carries the new certificate", d.cert[0].cert_arn, ARN2);
}

static void test_protocol_replaced(void)
{
    struct config cfg;
    struct elb_lb lb;
    struct lsn_diff d;
    setup(&cfg, &lb);
    want_listener(&cfg, 443, 443, "ssl", "TCP", ARN1);
    have_listener(&lb, 443, 80, "HTTPS", "HTTP", ARN1);
    lsn_diff(&cfg, &lb, &d);
    T_INTEQ("another protocol on 443: deleted", d.n_del, 1);
    T_INTEQ("...and made again", d.n_add, 1);
    T_INTEQ("...not a certificate swap", d.n_cert, 0);
    T_INTEQ("the delete names 443", d.del[0], 443);
}

static void test_added_and_removed(void)
{
    struct config cfg;
    struct elb_lb lb;
    struct lsn_diff d;
    setup(&cfg, &lb);
    want_listener(&cfg, 8080, 8080, "HTTP", "HTTP", "");
    have_listener(&lb, 9090, 9090, "HTTP", "HTTP", "");
    lsn_diff(&cfg, &lb, &d);
    T_OK("8080 added, 9090 deleted, 80 kept",
         d.n_add == 1 && d.add[0].lb_port == 8080 && d.n_del == 1 && d.del[0] == 9090 &&
         d.n_cert == 0, "add %zu del %zu cert %zu", d.n_add, d.n_del, d.n_cert);
}

int main(void)
{
    test_same();
    test_certificate_swapped();
    test_protocol_replaced();
    test_added_and_removed();
    return t_done();
}
