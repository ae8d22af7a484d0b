/* puts and printf for extensions: formatted here (printf is variadic), written to the device log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern void sim_log_write(const char *s, size_t n);

int sim_puts(const char *s) {
    size_t n = strlen(s);
    sim_log_write(s, n);
    sim_log_write("\n", 1);
    return (int)n + 1;
}

int sim_printf(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sim_log_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    }
    return n;
}
