/* A linker set spread over several sections of one identifier name (gas's `unique`, as
 * COMDAT groups and -ffunction-sections builds give): ld merges them into one output section,
 * so __start_/__stop_ bracket every entry and nothing else (the filler in between stays out). */
__asm__(".section weights,\"a\",%progbits,unique,1\n .balign 4\n .long 100\n"
        ".section .rodata.filler,\"a\",%progbits\n .balign 4\n .long 5\n"
        ".section weights,\"a\",%progbits,unique,2\n .balign 4\n .long 10\n"
        ".text\n");
extern const int __start_weights[], __stop_weights[];
struct entry { int (*fn)(void); int weight; };
extern const struct entry __start_entries[], __stop_entries[];
static int a(void) { return 1; }
static int b(void) { return 2; }
__attribute__((section("entries"), used)) static const struct entry ea = { a, 1000 };
__attribute__((section("entries"), used)) static const struct entry eb = { b, 10000 };
int test(void) {
    int n = 0;
    for (const struct entry *e = __start_entries; e < __stop_entries; e++) n += e->fn() * e->weight;
    for (const int *w = __start_weights; w < __stop_weights; w++) n += *w;
    return n;
}
