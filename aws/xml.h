/* XML for AWS responses, through libxml2 with network access and DTD loading
 * off, documents carrying a DTD refused (no entity tricks), and a size cap. Lookups ignore namespaces: AWS
 * answers carry a default namespace that changes with the API version. */
#ifndef AWS_XML_H
#define AWS_XML_H

#include <stddef.h>
#include <libxml/tree.h>
#include "core/err.h"

#define AWS_XML_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* Parses data into a document the caller frees with xmlFreeDoc(). */
int aws_xml_parse(const char *data, size_t len, xmlDoc **out, struct err *e);

/* First element child of n with this local name, or NULL. */
xmlNode *aws_xml_child(const xmlNode *n, const char *name);
/* Walks "a/b/c" from n through first matching children; NULL if absent. */
xmlNode *aws_xml_path(const xmlNode *n, const char *path);
/* Text of the element at path under n ("" path = n itself), copied into
 * out (size bytes, truncated, NUL-terminated); returns out, or NULL when the
 * element is absent. */
const char *aws_xml_text(const xmlNode *n, const char *path, char *out,
                         size_t size);
/* Like aws_xml_text but returns a malloc'd copy (caller frees) or NULL. */
char *aws_xml_strdup(const xmlNode *n, const char *path);
/* Iteration over the element children of n named `name` ("item", "member"):
 * first with aws_xml_first(n, name), then aws_xml_next(prev, name). */
xmlNode *aws_xml_first(const xmlNode *n, const char *name);
xmlNode *aws_xml_next(const xmlNode *prev, const char *name);
/* Depth-first search for the first element with this local name. */
xmlNode *aws_xml_find(const xmlNode *n, const char *name);

#endif
