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

/* llext_try / llext_panic: a panic in a Rust extension ends the call the device made, not the
 * device. Each llext_try pushes a jump buffer; a panic jumps to the outermost one, the server's
 * guarded call (guard.rs), recorded in sim_last_panic. The extension frames in between are
 * abandoned (their destructors do not run). */
#include <setjmp.h>
#include <stdint.h>
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

/* The last panic (guard.rs reads and clears it): its line, an address in the call instruction
 * (return address - 1), the stack there. */
struct sim_panic {
    uint32_t panicked, line;
    uint64_t pc, sp;
};
struct sim_panic sim_last_panic;

extern void sim_panic_log(const char *msg, size_t msg_len, const char *file, size_t file_len,
                          uint32_t line, uint32_t column);

__attribute__((noreturn)) void llext_panic(const char *msg, size_t msg_len, const char *file,
                                           size_t file_len, uint32_t line, uint32_t column) {
    uint64_t ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
    sim_panic_log(msg, msg_len, file, file_len, line, column);
    struct llext_try_frame *top = llext_top;
    if (top == NULL) {
        sim_log_write("panic outside any llext_try: stopping\n", 38);
        abort();
    }
    while (top->prev != NULL) top = top->prev;
    sim_last_panic.line = line;
    sim_last_panic.pc = ra - 1; /* in the call: it may be the extension's last instruction */
    sim_last_panic.sp = (uint64_t)(uintptr_t)&ra;
    sim_last_panic.panicked = 1;
    llext_top = top;
    longjmp(top->env, 1);
}
