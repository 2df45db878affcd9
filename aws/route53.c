/* Route53 calls (see route53.h): REST paths under /2013-04-01, XML bodies
 * in the 2013-04-01 namespace, answers read namespace-agnostically. */
#include "aws/route53.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "aws/xml.h"

#define R53_NS "https://route53.amazonaws.com/doc/2013-04-01/"

/* One call; doc (when not NULL) gets the parsed answer. */
static int r53_call(struct aws_client *c, const char *method, const char *path,
                    const char *query, const struct buf *body,
                    const char *action, int idempotent, xmlDoc **doc,
                    struct err *e)
{
    struct aws_response resp;
    struct aws_request req = {
        .svc = AWS_ROUTE53, .method = method, .path = path, .query = query,
        .content_type = body ? "application/xml" : NULL,
        .body = body ? buf_str(body) : NULL, .body_len = body ? body->len : 0,
        .action = action, .idempotent = idempotent,
    };
    int rc;
    if (doc)
        *doc = NULL;
    if (body && body->failed)
        return err_set(e, ERR_FAILED, "out of memory building %s", action);
    aws_response_init(&resp);
    rc = aws_send(c, &req, &resp, e);
    if (rc == 0 && doc)
        rc = aws_xml_parse(buf_str(&resp.body), resp.body.len, doc, e);
    aws_response_release(&resp);
    return rc;
}

/* Appends s with the XML specials escaped. */
static void r53_xml_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        default: buf_putc(b, *s);
        }
    }
}

static void r53_elem(struct buf *b, const char *name, const char *value)
{
    buf_printf(b, "<%s>", name);
    r53_xml_escape(b, value);
    buf_printf(b, "</%s>", name);
}

/* "name" -> "name." so comparisons with answers work. */
static void r53_fqdn(const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    snprintf(out, size, "%s%s", name, n && name[n - 1] == '.' ? "" : ".");
}

/* "/hostedzone/Z123" -> "Z123". */
static void r53_zone_id(const char *raw, char *out, size_t size)
{
    const char *slash = strrchr(raw, '/');
    snprintf(out, size, "%s", slash ? slash + 1 : raw);
}

/* ListHostedZonesByName from dns_name: the first zone of that name whose
 * PrivateZone flag is want_private (-1: either). */
static int r53_find_kind(struct aws_client *c, const char *dns_name,
                         int want_private, struct r53_zone *out, int *found,
                         struct err *e)
{
    struct buf q = BUF_INIT;
    char want[256];
    xmlDoc *doc;
    int rc;
    *found = 0;
    memset(out, 0, sizeof(*out));
    r53_fqdn(dns_name, want, sizeof(want));
    buf_puts(&q, "dnsname=");
    buf_uri_encode(&q, want, strlen(want), 0);
    buf_puts(&q, want_private < 0 ? "&maxitems=1" : "&maxitems=20");
    rc = r53_call(c, "GET", "/2013-04-01/hostedzonesbyname", buf_str(&q), NULL,
                  "ListHostedZonesByName", 1, &doc, e);
    buf_release(&q);
    if (rc < 0)
        return -1;
    /* The list starts at dnsname in name order: only zones named exactly
     * that are candidates. */
    for (xmlNode *z = aws_xml_first(aws_xml_child(xmlDocGetRootElement(doc), "HostedZones"),
                                    "HostedZone");
         z && !*found; z = aws_xml_next(z, "HostedZone")) {
        char raw[128] = "", priv[8] = "";
        aws_xml_text(z, "Name", out->name, sizeof(out->name));
        if (strcmp(out->name, want) != 0)
            break;
        aws_xml_text(z, "Config/PrivateZone", priv, sizeof(priv));
        if (want_private >= 0 && (strcmp(priv, "true") == 0) != want_private)
            continue;
        aws_xml_text(z, "Id", raw, sizeof(raw));
        r53_zone_id(raw, out->id, sizeof(out->id));
        *found = 1;
    }
    if (!*found)
        memset(out, 0, sizeof(*out));
    xmlFreeDoc(doc);
    return 0;
}

int r53_find_zone(struct aws_client *c, const char *dns_name,
                  struct r53_zone *out, int *found, struct err *e)
{
    return r53_find_kind(c, dns_name, -1, out, found, e);
}

int r53_find_private_zone(struct aws_client *c, const char *dns_name,
                          struct r53_zone *out, int *found, struct err *e)
{
    return r53_find_kind(c, dns_name, 1, out, found, e);
}

/* CreateHostedZone; vpc_id NULL for a public zone. */
static int r53_create(struct aws_client *c, const char *dns_name,
                      const char *caller_ref, const char *comment,
                      const char *vpc_id, const char *vpc_region,
                      struct r53_zone *out, struct err *e)
{
    struct buf b = BUF_INIT;
    xmlDoc *doc;
    char raw[128] = "";
    int rc;
    memset(out, 0, sizeof(*out));
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
             "<CreateHostedZoneRequest xmlns=\"" R53_NS "\">");
    r53_elem(&b, "Name", dns_name);
    if (vpc_id) {
        buf_puts(&b, "<VPC>");
        r53_elem(&b, "VPCRegion", vpc_region);
        r53_elem(&b, "VPCId", vpc_id);
        buf_puts(&b, "</VPC>");
    }
    r53_elem(&b, "CallerReference", caller_ref);
    buf_puts(&b, "<HostedZoneConfig>");
    r53_elem(&b, "Comment", comment);
    buf_printf(&b, "<PrivateZone>%s</PrivateZone></HostedZoneConfig>"
               "</CreateHostedZoneRequest>", vpc_id ? "true" : "false");
    rc = r53_call(c, "POST", "/2013-04-01/hostedzone", NULL, &b,
                  "CreateHostedZone", 0, &doc, e);
    buf_release(&b);
    if (rc < 0)
        return -1;
    aws_xml_text(xmlDocGetRootElement(doc), "HostedZone/Id", raw, sizeof(raw));
    aws_xml_text(xmlDocGetRootElement(doc), "HostedZone/Name", out->name,
                 sizeof(out->name));
    r53_zone_id(raw, out->id, sizeof(out->id));
    xmlFreeDoc(doc);
    return 0;
}

int r53_create_zone(struct aws_client *c, const char *dns_name,
                    const char *caller_ref, const char *comment,
                    struct r53_zone *out, struct err *e)
{
    return r53_create(c, dns_name, caller_ref, comment, NULL, NULL, out, e);
}

int r53_create_private_zone(struct aws_client *c, const char *dns_name,
                            const char *caller_ref, const char *comment,
                            const char *vpc_id, const char *vpc_region,
                            struct r53_zone *out, struct err *e)
{
    return r53_create(c, dns_name, caller_ref, comment, vpc_id, vpc_region, out, e);
}

int r53_tag_zone(struct aws_client *c, const char *zone_id,
                 const char *const *keys, const char *const *values, size_t n,
                 struct err *e)
{
    struct buf b = BUF_INIT;
    char path[128];
    int rc;
    snprintf(path, sizeof(path), "/2013-04-01/tags/hostedzone/%s", zone_id);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
             "<ChangeTagsForResourceRequest xmlns=\"" R53_NS "\"><AddTags>");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&b, "<Tag>");
        r53_elem(&b, "Key", keys[i]);
        r53_elem(&b, "Value", values[i]);
        buf_puts(&b, "</Tag>");
    }
    buf_puts(&b, "</AddTags></ChangeTagsForResourceRequest>");
    rc = r53_call(c, "POST", path, NULL, &b, "ChangeTagsForResource", 1, NULL, e);
    buf_release(&b);
    return rc;
}

int r53_zone_tag(struct aws_client *c, const char *zone_id, const char *key,
                 char *out, size_t size, struct err *e)
{
    char path[128], k[128];
    xmlDoc *doc;
    xmlNode *set;
    out[0] = '\0';
    snprintf(path, sizeof(path), "/2013-04-01/tags/hostedzone/%s", zone_id);
    if (r53_call(c, "GET", path, NULL, NULL, "ListTagsForResource", 1, &doc, e) < 0)
        return -1;
    set = aws_xml_child(aws_xml_child(xmlDocGetRootElement(doc), "ResourceTagSet"), "Tags");
    for (xmlNode *t = aws_xml_first(set, "Tag"); t; t = aws_xml_next(t, "Tag")) {
        aws_xml_text(t, "Key", k, sizeof(k));
        if (strcmp(k, key) == 0)
            aws_xml_text(t, "Value", out, size);
    }
    xmlFreeDoc(doc);
    return 0;
}

int r53_delete_zone(struct aws_client *c, const char *zone_id, struct err *e)
{
    char path[128];
    snprintf(path, sizeof(path), "/2013-04-01/hostedzone/%s", zone_id);
    if (r53_call(c, "DELETE", path, NULL, NULL, "DeleteHostedZone", 1, NULL, e) == 0)
        return 0;
    if (strcmp(e->code, "NoSuchHostedZone") == 0 || e->http_status == 404) {
        err_init(e);
        return 0;
    }
    return -1;
}

/* ---- records ----------------------------------------------------------------- */

struct r53_list {
    struct r53_record *items;
    size_t n, cap;
};

static void r53_parse_alias(xmlNode *a, struct r53_record *r)
{
    char health[8] = "";
    if (!a)
        return;
    aws_xml_text(a, "DNSName", r->alias_dns, sizeof(r->alias_dns));
    aws_xml_text(a, "HostedZoneId", r->alias_zone_id, sizeof(r->alias_zone_id));
    aws_xml_text(a, "EvaluateTargetHealth", health, sizeof(health));
    r->alias_health = strcmp(health, "true") == 0;
}

static int r53_parse_record(xmlNode *s, struct r53_list *l, struct err *e)
{
    struct r53_record *r;
    char ttl[16] = "";
    if (util_grow(&l->items, &l->cap, l->n, sizeof(*l->items)) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    r = memset(&l->items[l->n++], 0, sizeof(*r));
    aws_xml_text(s, "Name", r->name, sizeof(r->name));
    aws_xml_text(s, "Type", r->type, sizeof(r->type));
    aws_xml_text(s, "TTL", ttl, sizeof(ttl));
    r->ttl = util_leading_int(ttl, 0);
    for (xmlNode *v = aws_xml_first(aws_xml_child(s, "ResourceRecords"), "ResourceRecord");
         v && r->n_values < R53_MAX_VALUES; v = aws_xml_next(v, "ResourceRecord"))
        aws_xml_text(v, "Value", r->values[r->n_values++], sizeof(r->values[0]));
    r53_parse_alias(aws_xml_child(s, "AliasTarget"), r);
    return 0;
}

/* One page; fills next (name and type to start the next page at) or
 * leaves next_name empty when this was the last. */
static int r53_list_page(struct aws_client *c, const char *path,
                         char *next_name, size_t nn, char *next_type,
                         size_t nt, struct r53_list *l, struct err *e)
{
    struct buf q = BUF_INIT;
    xmlDoc *doc;
    xmlNode *root;
    char truncated[8] = "";
    int rc;
    buf_puts(&q, "maxitems=300");
    if (next_name[0]) {
        buf_puts(&q, "&name=");
        buf_uri_encode(&q, next_name, strlen(next_name), 0);
        buf_puts(&q, "&type=");
        buf_uri_encode(&q, next_type, strlen(next_type), 0);
    }
    rc = r53_call(c, "GET", path, buf_str(&q), NULL, "ListResourceRecordSets",
                  1, &doc, e);
    buf_release(&q);
    if (rc < 0)
        return -1;
    root = xmlDocGetRootElement(doc);
    for (xmlNode *s = aws_xml_first(aws_xml_child(root, "ResourceRecordSets"),
                                    "ResourceRecordSet");
         s && rc == 0; s = aws_xml_next(s, "ResourceRecordSet"))
        rc = r53_parse_record(s, l, e);
    aws_xml_text(root, "IsTruncated", truncated, sizeof(truncated));
    next_name[0] = next_type[0] = '\0';
    if (strcmp(truncated, "true") == 0) {
        aws_xml_text(root, "NextRecordName", next_name, nn);
        aws_xml_text(root, "NextRecordType", next_type, nt);
    }
    xmlFreeDoc(doc);
    return rc;
}

int r53_list_records(struct aws_client *c, const char *zone_id,
                     struct r53_record **out, size_t *n, struct err *e)
{
    struct r53_list l = { NULL, 0, 0 };
    char path[128], next_name[256] = "", next_type[16] = "";
    int rc, pages = 0;
    snprintf(path, sizeof(path), "/2013-04-01/hostedzone/%s/rrset", zone_id);
    do {
        rc = r53_list_page(c, path, next_name, sizeof(next_name), next_type,
                           sizeof(next_type), &l, e);
    } while (rc == 0 && next_name[0] && ++pages < AWS_MAX_PAGES);
    if (rc == 0 && next_name[0])
        rc = err_set(e, ERR_FAILED, "ListResourceRecordSets %s: still more after %d "
                     "pages; refusing a partial answer", zone_id, AWS_MAX_PAGES);
    if (rc < 0) {
        free(l.items);
        l.items = NULL;
        l.n = 0;
    }
    *out = l.items;
    *n = l.n;
    return rc;
}

static void r53_change_xml(struct buf *b, const struct r53_change *ch)
{
    const struct r53_record *r = ch->rec;
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%ld", r->ttl);
    buf_puts(b, "<Change>");
    r53_elem(b, "Action", ch->action);
    buf_puts(b, "<ResourceRecordSet>");
    r53_elem(b, "Name", r->name);
    r53_elem(b, "Type", r->type);
    if (r->alias_dns[0]) {
        /* Route53 refuses TTL and ResourceRecords next to an AliasTarget. */
        buf_puts(b, "<AliasTarget>");
        r53_elem(b, "HostedZoneId", r->alias_zone_id);
        r53_elem(b, "DNSName", r->alias_dns);
        r53_elem(b, "EvaluateTargetHealth", r->alias_health ? "true" : "false");
        buf_puts(b, "</AliasTarget></ResourceRecordSet></Change>");
        return;
    }
    r53_elem(b, "TTL", ttl);
    buf_puts(b, "<ResourceRecords>");
    for (size_t i = 0; i < r->n_values; i++) {
        buf_puts(b, "<ResourceRecord>");
        r53_elem(b, "Value", r->values[i]);
        buf_puts(b, "</ResourceRecord>");
    }
    buf_puts(b, "</ResourceRecords></ResourceRecordSet></Change>");
}

int r53_change(struct aws_client *c, const char *zone_id,
               const struct r53_change *ch, size_t n, struct err *e)
{
    struct buf b = BUF_INIT;
    char path[128];
    int rc, upserts_only = 1;
    if (n == 0)
        return 0;
    snprintf(path, sizeof(path), "/2013-04-01/hostedzone/%s/rrset", zone_id);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
             "<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS "\">"
             "<ChangeBatch><Changes>");
    for (size_t i = 0; i < n; i++) {
        r53_change_xml(&b, &ch[i]);
        if (strcmp(ch[i].action, "UPSERT") != 0)
            upserts_only = 0;
    }
    buf_puts(&b, "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    /* An UPSERT sent twice leaves the same record; a DELETE sent twice fails
     * the second time, so only the former may be resent blindly. */
    rc = r53_call(c, "POST", path, NULL, &b, "ChangeResourceRecordSets",
                  upserts_only, NULL, e);
    buf_release(&b);
    return rc;
}
