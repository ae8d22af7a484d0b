struct item { int v; };
/* A linker set: ld brackets every section named `items` with __start_items/__stop_items. */
extern const struct item __start_items[], __stop_items[];
__attribute__((section("items"), used)) static const struct item one = {7}, two = {35};
/* A table no entry fills in this build: empty, yet its bounds have addresses. */
extern const struct item __start_hooks[], __stop_hooks[];
__attribute__((section("hooks"), used)) static const struct item no_hooks[0];
__attribute__((section(".tab"))) int tab_begin[0];
__attribute__((section(".tab"))) int tab_end[0];
struct empty {};
__attribute__((section(".empty_obj"))) struct empty marker;

static int sum(const struct item *a, const struct item *b) {
    int n = 0;
    for (; a < b; a++) n += a->v;
    return n;
}
int test(void) {
    int n = sum(__start_items, __stop_items) * 100 + sum(__start_hooks, __stop_hooks) * 10;
    for (int *p = tab_begin; p < tab_end; p++) n += 1000;
    return n + (&marker != 0);
}
