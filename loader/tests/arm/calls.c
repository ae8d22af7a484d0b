/* Calls into the firmware, between functions, through pointers, tail calls, libgcc helpers. */
extern int fw_printf(const char *fmt, ...);
extern void *fw_alloc(unsigned n);
extern void fw_free(void *p);
extern int fw_add(int a, int b);
extern void fw_log(const char *s);

static int sq(int x) { return x * x; }
int twice(int x) { return fw_add(x, x); }
int chain(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += sq(i) + twice(i);
    return s;
}
int divide(int a, int b) { return a / b + a % b; }
unsigned long long mul64(unsigned long long a, unsigned long long b) { return a * b / 3; }
int (*pick(int k))(int) { return k ? twice : sq; }
int tail(int x) { return fw_add(x, 1); }
int run(void)
{
    void *p = fw_alloc(16);
    fw_log("run");
    fw_printf("%d %p\n", chain(5), p);
    fw_free(p);
    return pick(1)(3) + tail(2) + divide(7, 2);
}
