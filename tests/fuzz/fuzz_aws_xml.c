/* Fuzz target: AWS answers (aws/xml.c, aws/transport.c): any bytes as an
 * error document of any protocol, and the namespace-free lookups. */
#include <stdint.h>
#include <string.h>

#include "aws/transport.h"
#include "aws/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct aws_request req = { .svc = AWS_EC2, .method = "POST",
                                            .path = "/", .action = "Fuzz" };
    struct err e;
    xmlDoc *doc;
    char text[64];
    err_init(&e);
    aws_error_from_response(&req, 400, (const char *)data, size, "rid", &e);
    if (aws_xml_parse((const char *)data, size, &doc, &e) == 0) {
        xmlNode *root = xmlDocGetRootElement(doc);
        aws_xml_text(root, "Errors/Error/Code", text, sizeof(text));
        for (xmlNode *it = aws_xml_first(root, "item"); it; it = aws_xml_next(it, "item"))
            aws_xml_text(it, "instanceId", text, sizeof(text));
        xmlFreeDoc(doc);
    }
    return 0;
}
