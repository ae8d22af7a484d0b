/* What the QEMU firmware exports of <stdio.h> (extensions are built without a C library). */
#ifndef LLEXT_FW_STDIO_H
#define LLEXT_FW_STDIO_H
#include <stddef.h>
int puts(const char *s);
int printf(const char *fmt, ...);
int snprintf(char *buf, size_t n, const char *fmt, ...);
#endif
