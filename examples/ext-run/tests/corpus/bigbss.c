/* Large .bss: a 1 MiB static array and a 1 MiB global one (COMMON with
 * -fcommon), touched at the start, the end and every page in between. */
#define BIG (1024 * 1024)

static unsigned char bigbss_static[BIG];
unsigned int bigbss_global[BIG / 4];
int bigbss_after = 77; /* .data next to the big arrays */

static void *launder(void *p)
{
    __asm__("" : "+r"(p));
    return p;
}

/* All zero at first (checked at every 4 KiB and at both ends), then the first
 * and last bytes are written and read back:
 * zero (1) * 100000 + first (17) * 1000 + last (29) * 10 + bigbss_after % 10 (7)
 * = 117297 */
int bigbss_touch(void)
{
    volatile unsigned char *p = launder(bigbss_static);
    int zero = 1;
    for (int i = 0; i < BIG; i += 4096)
        zero &= p[i] == 0;
    zero &= p[BIG - 1] == 0;
    p[0] = 17;
    p[BIG - 1] = 29;
    return zero * 100000 + p[0] * 1000 + p[BIG - 1] * 10 + bigbss_after % 10;
}

/* Fill every 1024th word of the global array with its index, then sum them and
 * the last word: sum_{k=0}^{255} 1024k = 1024 * 255 * 256 / 2 = 33423360,
 * plus the last word (written as 12345) = 33435705. */
int bigbss_global_sum(void)
{
    volatile unsigned int *g = launder(bigbss_global);
    long s = 0;
    for (int i = 0; i < BIG / 4; i += 1024)
        g[i] = (unsigned)i;
    g[BIG / 4 - 1] = 12345;
    for (int i = 0; i < BIG / 4; i += 1024)
        s += g[i];
    return (int)(s + g[BIG / 4 - 1]);
}
