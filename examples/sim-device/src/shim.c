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

/* llext_try / llext_unwind: a panic in a Rust extension ends the call the firmware made, not
 * the device. Each llext_try pushes a jump buffer; llext_unwind jumps to the innermost one.
 * The extension frames in between are abandoned (their destructors do not run). */
#include <setjmp.h>
#include <stdlib.h>

struct llext_try_frame {
    jmp_buf env;
    struct llext_try_frame *prev;
};

static struct llext_try_frame *llext_top;

int llext_try(int (*f)(void *), void *ctx, int on_panic) {
    struct llext_try_frame frame;
    frame.prev = llext_top;
    llext_top = &frame;
    if (setjmp(frame.env) != 0) {
        llext_top = frame.prev;
        return on_panic;
    }
    int r = f(ctx);
    llext_top = frame.prev;
    return r;
}

void llext_unwind(void) {
    if (llext_top == NULL) {
        sim_log_write("panic outside any llext_try: stopping\n", 38);
        abort();
    }
    longjmp(llext_top->env, 1);
}
