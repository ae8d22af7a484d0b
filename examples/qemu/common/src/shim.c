/* C library basics for extensions: string functions and a small printf family (d i u x X c s p
   and %%, with width, zero padding, '-' and the l/ll/z/h length modifiers). puts and printf write
   to the firmware log (fw_log_write, log.rs). Freestanding: no C library is linked. */
#include <stdarg.h>
#include <stddef.h>

extern void fw_log_write(const char *s, size_t n);

size_t fw_strlen(const char *s) {
    const char *p = s;
    while (*p) p++;
    return (size_t)(p - s);
}

int fw_strcmp(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}

int fw_strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a) return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *fw_strcpy(char *d, const char *s) {
    char *r = d;
    while ((*d++ = *s++)) {}
    return r;
}

char *fw_strchr(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c) return (char *)s;
        if (!*s) return NULL;
    }
}

struct out { char *buf; size_t cap; size_t len; };

static void put(struct out *o, char c) {
    if (o->len + 1 < o->cap) o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, int upper, int neg,
                    int width, char pad, int left) {
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do { tmp[n++] = digits[v % base]; v /= base; } while (v);
    int len = n + neg;
    if (neg && pad == '0') put(o, '-');
    if (!left) for (; width > len; width--) put(o, pad);
    if (neg && pad != '0') put(o, '-');
    while (n) put(o, tmp[--n]);
    if (left) for (; width > len; width--) put(o, ' ');
}

int fw_vsnprintf(char *buf, size_t cap, const char *f, va_list ap) {
    struct out o = { buf, cap, 0 };
    for (; *f; f++) {
        if (*f != '%') { put(&o, *f); continue; }
        f++;
        int left = 0; char pad = ' ';
        for (;; f++) {
            if (*f == '-') left = 1;
            else if (*f == '0') pad = '0';
            else break;
        }
        int width = 0;
        if (*f == '*') { width = va_arg(ap, int); f++; }
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        int prec = -1;
        if (*f == '.') {
            f++; prec = 0;
            if (*f == '*') { prec = va_arg(ap, int); f++; }
            while (*f >= '0' && *f <= '9') prec = prec * 10 + (*f++ - '0');
        }
        int lng = 0;
        for (;; f++) {
            if (*f == 'l') lng++;
            else if (*f == 'z') lng = sizeof(size_t) > 4 ? 2 : 1;
            else if (*f != 'h') break;
        }
        if (left) pad = ' ';
        switch (*f) {
        case 'd': case 'i': {
            long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            put_num(&o, u, 10, 0, v < 0, width, pad, left);
            break;
        }
        case 'u': case 'x': case 'X': {
            unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
                                 : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(&o, v, *f == 'u' ? 10 : 16, *f == 'X', 0, width, pad, left);
            break;
        }
        case 'p':
            put(&o, '0'); put(&o, 'x');
            put_num(&o, (unsigned long long)(size_t)va_arg(ap, void *), 16, 0, 0, 0, ' ', 0);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int n = 0;
            while (s[n] && (prec < 0 || n < prec)) n++;
            if (!left) for (int w = width; w > n; w--) put(&o, ' ');
            for (int i = 0; i < n; i++) put(&o, s[i]);
            if (left) for (int w = width; w > n; w--) put(&o, ' ');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case 0:
            f--;
            break;
        default:
            put(&o, '%'); put(&o, *f);
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = 0;
    return (int)o.len;
}

int fw_snprintf(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = fw_vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

int fw_printf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = fw_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) fw_log_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

int fw_puts(const char *s) {
    size_t n = fw_strlen(s);
    fw_log_write(s, n);
    fw_log_write("\n", 1);
    return (int)n + 1;
}

/* llext_try / fw_llext_unwind: a panic or fault in extension code ends the call the firmware made,
   not the firmware. GCC's __builtin_setjmp/__builtin_longjmp (no C library): each llext_try keeps
   a frame; fw_llext_unwind jumps to the outermost one. The extension frames in between are
   abandoned (their destructors do not run). */
struct llext_try_frame {
    void *env[5];
    struct llext_try_frame *prev;
    int on_panic;
};

static struct llext_try_frame *volatile llext_top;

int llext_try(int (*f)(void *), void *ctx, int on_panic) {
    struct llext_try_frame frame;
    frame.prev = llext_top;
    frame.on_panic = on_panic;
    llext_top = &frame;
    if (__builtin_setjmp(frame.env)) {
        struct llext_try_frame *volatile top = llext_top;
        llext_top = top->prev;
        return top->on_panic;
    }
    int r = f(ctx);
    llext_top = frame.prev;
    return r;
}

/* Jumps back to the outermost llext_try, the one the firmware's guarded call runs in (a fault or
   panic ends the whole call, whatever llext_try frames extension code added); returns 0 only when
   there is none (the caller then stops). */
static int fw_llext_unwind(void) {
    struct llext_try_frame *top = llext_top;
    if (top == NULL) return 0;
    while (top->prev != NULL) top = top->prev;
    llext_top = top;
    __builtin_longjmp(top->env, 1);
}

/* Fault containment, shared by the boards: a fault (or the time limit) whose PC lies in extension
   memory while a guarded call runs (llext_top set) is recorded in fw_last_fault, and the trap
   returns into fw_fault_resume instead of the interrupted code, which jumps back to the llext_try
   frame of the call. Any other fault stays fatal: the firmware stops, as before. The board's trap
   entry (below for Cortex-M3, riscv32-virt/src/fault.rs for RISC-V) calls fw_fault_record. */
#include <stdint.h>

struct fw_fault {
    /* faulted: 1 fault, 2 time limit, 3 panic. status: CFSR, mcause or the panic's line; aux:
       HFSR or the panic's column; addr: MMFAR or mtval; addr2: BFAR. */
    uint32_t faulted, status, aux, pc, lr, sp, addr, addr2;
};
volatile struct fw_fault fw_last_fault;
/* Extension code lives in these ranges: the pool, and flash for extensions run in place. */
#define FW_EXT_RANGES 2
static uint32_t fw_ext_lo[FW_EXT_RANGES], fw_ext_hi[FW_EXT_RANGES];

/* Range `i` of extension code is [lo, hi). */
void fw_fault_set_range(uint32_t i, uint32_t lo, uint32_t hi) {
    if (i < FW_EXT_RANGES) {
        fw_ext_lo[i] = lo;
        fw_ext_hi[i] = hi;
    }
}

__attribute__((noreturn)) static void fw_fault_resume(void) {
    fw_llext_unwind();
    for (;;) {}
}

/* Whether `pc` is extension code run by a guarded call. */
int fw_fault_in_extension(uint32_t pc) {
    if (llext_top == NULL) return 0;
    for (int i = 0; i < FW_EXT_RANGES; i++)
        if (pc >= fw_ext_lo[i] && pc < fw_ext_hi[i]) return 1;
    return 0;
}

/* Records a fault of extension code (`how`: 1 fault, 2 time limit, 3 panic) and returns the address the
   trap must return to. */
uint32_t fw_fault_record(uint32_t how, uint32_t pc, uint32_t lr, uint32_t sp, uint32_t status,
                         uint32_t addr) {
    fw_last_fault.status = status;
    fw_last_fault.addr = addr;
    fw_last_fault.pc = pc;
    fw_last_fault.lr = lr;
    fw_last_fault.sp = sp;
    fw_last_fault.faulted = how;
    return (uint32_t)(uintptr_t)&fw_fault_resume;
}

/* llext_panic (llext-api): a Rust extension panicked. api.rs logs `panicked at FILE:LINE:COLUMN:
   MESSAGE`; under a guarded call the panic is recorded as a fault (how 3: status the line, pc in
   the call instruction: its return address - 1, as the call may end the extension's code) and
   ends the call as a fault does. Outside one the firmware stops. */
extern void fw_panic_log(const char *msg, size_t msg_len, const char *file, size_t file_len,
                         uint32_t line, uint32_t column);

__attribute__((noreturn)) void llext_panic(const char *msg, size_t msg_len, const char *file,
                                           size_t file_len, uint32_t line, uint32_t column) {
    uint32_t ra = (uint32_t)(uintptr_t)__builtin_return_address(0);
#if defined(__thumb__)
    ra &= ~1u;
#endif
    fw_panic_log(msg, msg_len, file, file_len, line, column);
    if (llext_top != NULL) {
        fw_last_fault.aux = column;
        fw_last_fault.addr2 = 0;
        fw_fault_record(3, ra - 1, 0, (uint32_t)(uintptr_t)&ra, line, 0);
        fw_fault_resume();
    }
    static const char msg_stop[] = "panic outside any llext_try: the firmware stops\n";
    fw_log_write(msg_stop, sizeof msg_stop - 1);
    for (;;) {}
}

/* A fault outside extension code: the firmware stops. */
void fw_fault_fatal(void) {
    static const char msg[] = "llext-fw: fault outside extension code: the firmware stops\n";
    fw_log_write(msg, sizeof msg - 1);
    for (;;) {}
}

#if defined(__ARM_ARCH_7M__)
/* Cortex-M3: a HardFault (the configurable faults escalate to it, they are not enabled) or the
   time limit's PendSV, in thread mode, with the stacked PC in extension code. */
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)

/* Records the stacked frame (r0-r3, r12, lr, pc, xPSR) and makes the exception return into
   fw_fault_resume. */
static void fw_redirect(uint32_t *frame, uint32_t how, uint32_t status, uint32_t addr) {
    uint32_t to = fw_fault_record(how, frame[6], frame[5], (uint32_t)(frame + 8), status, addr);
    frame[6] = to & ~1u;
    frame[7] = 1u << 24; /* xPSR: Thumb, no IT state */
}

/* Whether the exception interrupted extension code (thread mode, guarded call, PC in range). */
static int fw_in_extension(uint32_t *frame, uint32_t exc_return) {
    return (exc_return & 0xFu) != 0x1u && fw_fault_in_extension(frame[6]);
}

/* A call through a bad pointer faults at its target (IACCVIOL, IBUSERR, INVSTATE): where it came
   from is LR. */
static int fw_bad_jump(uint32_t *frame, uint32_t exc_return) {
    return (exc_return & 0xFu) != 0x1u && (SCB_CFSR & (1u | 1u << 8 | 1u << 17)) != 0 &&
           fw_fault_in_extension(frame[5] & ~1u);
}

void fw_fault_contain(uint32_t *frame, uint32_t exc_return) {
    if (!fw_in_extension(frame, exc_return) && !fw_bad_jump(frame, exc_return)) fw_fault_fatal();
    uint32_t cfsr = SCB_CFSR;
    fw_last_fault.aux = SCB_HFSR;
    fw_last_fault.addr2 = SCB_BFAR;
    fw_redirect(frame, 1, cfsr, SCB_MMFAR);
    SCB_CFSR = cfsr; /* write-one-to-clear */
    SCB_HFSR = SCB_HFSR;
}

/* The time limit: armed by a guarded call (ms), counted down by the 1 kHz tick; at 0 PendSV
   (lowest priority, so it interrupts thread code: the extension) ends the call as a fault does. */
static volatile uint32_t fw_limit_left;
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)

void fw_fault_arm(uint32_t ms) {
    fw_limit_left = ms;
}

void fw_fault_tick(void) {
    if (fw_limit_left != 0 && --fw_limit_left == 0) SCB_ICSR = 1u << 28; /* PENDSVSET */
}

void fw_timeout_contain(uint32_t *frame, uint32_t exc_return) {
    if (!fw_in_extension(frame, exc_return)) {
        /* Not in extension code right now (a firmware export, a handler): try at the next tick. */
        if (llext_top != NULL) fw_limit_left = 1;
        return;
    }
    fw_last_fault.aux = 0;
    fw_last_fault.addr2 = 0;
    fw_redirect(frame, 2, 0, 0);
}

/* An exception entry that passes the stacked frame and EXC_RETURN to `handler`, then returns
   from the exception (into the code interrupted, or where `handler` redirected it). */
#define FW_EXCEPTION(name, handler)                                   \
    __attribute__((naked)) void name(void) {                          \
        __asm volatile("tst lr, #4\n"                                 \
                       "ite eq\n"                                     \
                       "mrseq r0, msp\n"                              \
                       "mrsne r0, psp\n"                              \
                       "mov r1, lr\n"                                 \
                       "push {r1, lr}\n"                              \
                       "bl " #handler "\n"                            \
                       "pop {r1, pc}\n");                             \
    }

FW_EXCEPTION(HardFault, fw_fault_contain)
FW_EXCEPTION(PendSV, fw_timeout_contain)
#endif
