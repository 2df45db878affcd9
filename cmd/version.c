/* version / --version: paasctl's version and the libraries it runs with. */
#include "cmd/cmd.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

#include "core/version.h"

/* libxml2 reports its run-time version as "20914"; show it as 2.9.14. */
static void version_libxml2(char *out, size_t size)
{
    long v = strtol(xmlParserVersion, NULL, 10);
    snprintf(out, size, "%ld.%ld.%ld", v / 10000, v / 100 % 100, v % 100);
}

void cmd_print_version(struct paas *p)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    const char *ssl = OpenSSL_version(OPENSSL_VERSION_STRING);
    char xml[32];
    version_libxml2(xml, sizeof(xml));
    if (p->output == OUT_JSON) {
        json_t *d = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}",
                              "paasctl", PAASCTL_VERSION, "libraries",
                              "libcurl", cv->version,
                              "openssl", ssl,
                              "libxml2", xml,
                              "jansson", jansson_version_str(),
                              "libyaml", yaml_get_version_string());
        cmd_print_json(d);
        json_decref(d);
        return;
    }
    printf("paasctl %s\n", PAASCTL_VERSION);
    printf("  libcurl  %s (%s)\n", cv->version, cv->ssl_version ? cv->ssl_version : "no TLS");
    printf("  OpenSSL  %s\n", ssl);
    printf("  libxml2  %s\n", xml);
    printf("  jansson  %s\n", jansson_version_str());
    printf("  libyaml  %s\n", yaml_get_version_string());
    printf("  inih     (no version API; Debian libinih)\n");
}

int cmd_version(struct paas *p, int argc, char **argv, struct err *e)
{
    (void)argv;
    if (argc > 1)
        return err_set(e, ERR_USAGE, "version takes no arguments");
    cmd_print_version(p);
    return 0;
}
