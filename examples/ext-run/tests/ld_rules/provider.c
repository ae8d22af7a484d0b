/* Exports a static object only through its `.exported_sym` table, as Zephyr's
 * LL_EXTENSION_SYMBOL / EXPORT_SYMBOL does: `number` is not a global ELF symbol. */
struct ext_sym { const char *name; const void *addr; };
static int number = 42;
static int twice(int x) { return 2 * x; }
__attribute__((section(".exported_sym"), used))
static const struct ext_sym exported[] = { { "number", &number }, { "twice", twice } };
