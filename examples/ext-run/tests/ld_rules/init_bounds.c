/* ld's default script provides the bounds of the init and fini arrays; an extension that walks
 * them itself sees its own arrays: two constructors (run once each by bringup), one destructor. */
typedef void (*fn)(void);
extern const fn __init_array_start[], __init_array_end[], __fini_array_start[], __fini_array_end[];
static int runs;
__attribute__((constructor)) static void c1(void) { runs += 1; }
__attribute__((constructor)) static void c2(void) { runs += 10; }
__attribute__((destructor)) static void d1(void) { runs = 0; }
int test(void) {
    return (int)(__init_array_end - __init_array_start) * 1000
         + (int)(__fini_array_end - __fini_array_start) * 100 + runs;
}
