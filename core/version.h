/* paasctl's own version. */
#ifndef CORE_VERSION_H
#define CORE_VERSION_H
#define PAASCTL_VERSION "0.1.0"
#endif
