/* XML helpers for AWS responses (see xml.h). */
#include "xml.h"

#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

int aws_xml_parse(const char *data, size_t len, xmlDoc **out, struct err *e)
{
    xmlDoc *doc;
    *out = NULL;
    if (len > AWS_XML_MAX_BYTES)
        return err_set(e, ERR_FAILED, "AWS response too large (%zu bytes)", len);
    if (len > (size_t)INT32_MAX)
        return err_set(e, ERR_FAILED, "AWS response too large");
    /* No XML_PARSE_NOENT (entities stay unexpanded), no DTD loading, no
     * network: a hostile or broken endpoint cannot make us fetch or expand. */
    doc = xmlReadMemory(data, (int)len, "aws.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc || !xmlDocGetRootElement(doc)) {
        if (doc)
            xmlFreeDoc(doc);
        return err_set(e, ERR_FAILED, "AWS response is not valid XML");
    }
    /* AWS never sends a DTD; one in a response can only be an attack
     * (entity expansion) or a broken proxy, so it is refused outright. */
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return err_set(e, ERR_FAILED, "AWS response carries a DTD; refused");
    }
    *out = doc;
    return 0;
}

static int xml_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

xmlNode *aws_xml_child(const xmlNode *n, const char *name)
{
    if (!n)
        return NULL;
    for (xmlNode *c = n->children; c; c = c->next)
        if (xml_is(c, name))
            return c;
    return NULL;
}

xmlNode *aws_xml_path(const xmlNode *n, const char *path)
{
    char part[128];
    const char *p = path;
    xmlNode *cur = (xmlNode *)n;
    while (cur && *p) {
        size_t k = strcspn(p, "/");
        if (k >= sizeof(part))
            return NULL;
        memcpy(part, p, k);
        part[k] = '\0';
        cur = aws_xml_child(cur, part);
        p += k;
        if (*p == '/')
            p++;
    }
    return cur;
}

const char *aws_xml_text(const xmlNode *n, const char *path, char *out,
                         size_t size)
{
    xmlNode *t = path && *path ? aws_xml_path(n, path) : (xmlNode *)n;
    xmlChar *s;
    if (!t || size == 0)
        return NULL;
    s = xmlNodeGetContent(t);
    if (!s)
        return NULL;
    snprintf(out, size, "%s", (const char *)s);
    xmlFree(s);
    return out;
}

char *aws_xml_strdup(const xmlNode *n, const char *path)
{
    xmlNode *t = path && *path ? aws_xml_path(n, path) : (xmlNode *)n;
    xmlChar *s;
    char *copy;
    if (!t)
        return NULL;
    s = xmlNodeGetContent(t);
    if (!s)
        return NULL;
    copy = strdup((const char *)s);
    xmlFree(s);
    return copy;
}

xmlNode *aws_xml_first(const xmlNode *n, const char *name)
{
    return aws_xml_child(n, name);
}

xmlNode *aws_xml_next(const xmlNode *prev, const char *name)
{
    for (xmlNode *c = prev ? prev->next : NULL; c; c = c->next)
        if (xml_is(c, name))
            return c;
    return NULL;
}

xmlNode *aws_xml_find(const xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        xmlNode *hit;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xml_is(c, name))
            return c;
        hit = aws_xml_find(c, name);
        if (hit)
            return hit;
    }
    return NULL;
}
