/* The creation tag set (see tags.h; SPEC.md "Tags"). */
#include "plans/tags.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/buf.h"

void res_tags_init(struct res_tags *rt, const char *paas, const char *slot,
                   const char *role, const char *traffic,
                   const char *suffix_fmt, ...)
{
    char suffix[96];
    va_list ap;
    memset(rt, 0, sizeof(*rt));
    va_start(ap, suffix_fmt);
    vsnprintf(suffix, sizeof(suffix), suffix_fmt, ap);
    va_end(ap);
    snprintf(rt->name, sizeof(rt->name), "%s-%s-%s", paas, slot, suffix);
    snprintf(rt->paas, sizeof(rt->paas), "%s", paas);
    snprintf(rt->slot, sizeof(rt->slot), "%s", slot);
    snprintf(rt->role, sizeof(rt->role), "%s", role);
    rt->t[rt->n++] = (struct ec2_tag){ "Name", rt->name };
    rt->t[rt->n++] = (struct ec2_tag){ TAG_PAAS, rt->paas };
    rt->t[rt->n++] = (struct ec2_tag){ TAG_SLOT, rt->slot };
    rt->t[rt->n++] = (struct ec2_tag){ TAG_ROLE, rt->role };
    if (traffic) {
        snprintf(rt->traffic, sizeof(rt->traffic), "%s", traffic);
        rt->t[rt->n++] = (struct ec2_tag){ TAG_TRAFFIC, rt->traffic };
    }
}

void res_tags_elb(const struct res_tags *rt, struct elb_tag out[5])
{
    for (size_t i = 0; i < rt->n; i++)
        out[i] = (struct elb_tag){ rt->t[i].key, rt->t[i].value };
}

int res_tags_complete(const struct res_tags *rt, const struct ec2_tags *have)
{
    return strcmp(have->name, rt->name) == 0 && strcmp(have->paas, rt->paas) == 0 &&
           strcmp(have->slot, rt->slot) == 0 && strcmp(have->role, rt->role) == 0 &&
           (!rt->traffic[0] || have->traffic[0]);
}

static int res_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SHA-256 of p as lower-case hex; an EVP failure (out of memory) leaves a
 * token of zeros, which AWS accepts and a re-run recomputes. */
static void res_sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    memset(md, 0, sizeof(md));
    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
        len = 32;
    for (unsigned int i = 0; i < 32; i++)
        snprintf(hex + (size_t)2 * i, 3, "%02x", md[i]);
}

void res_client_token(char out[65], const char *paas, const char *slot,
                      const char *role, int z, int count, const char **ids,
                      size_t n)
{
    struct buf b = BUF_INIT;
    char hex[65];
    qsort(ids, n, sizeof(*ids), res_cmp_str);
    buf_printf(&b, "%s/%s/%s/%d/%d", paas, slot, role, z, count);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "/%s", ids[i]);
    res_sha256_hex(buf_str(&b), b.len, hex);
    snprintf(out, 65, "paasctl-%.40s", hex);
    buf_release(&b);
}
