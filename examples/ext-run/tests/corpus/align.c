/* Over-aligned data (512 bytes) in .data, .rodata and .bss, and a 256-byte
 * aligned function. The address checks go through an asm barrier so gcc cannot
 * fold them to "true" from the declared alignment. */
#include <stdint.h>

_Alignas(512) int align_data[4] = {10, 20, 30, 40};        /* .data */
_Alignas(512) const int align_ro[4] = {1, 2, 3, 4};         /* .rodata */
_Alignas(512) static int align_bss[4];                      /* .bss */
_Alignas(512) int align_bss_global[2];   /* .bss, or COMMON with -fcommon */
char align_pad_byte = 1;  /* something small next to the aligned data */

static uintptr_t launder(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    __asm__("" : "+r"(v));
    return v;
}

__attribute__((aligned(256), noinline)) int align_fn(void)
{
    return 5;
}

/* One bit per correctly aligned object: 1 .data, 2 .rodata, 4 .bss,
 * 8 global .bss/COMMON, 16 function (256). All aligned: 31. */
int align_bits(void)
{
    int bits = 0;
    if (launder(&align_data) % 512 == 0) bits |= 1;
    if (launder(&align_ro) % 512 == 0) bits |= 2;
    if (launder(&align_bss) % 512 == 0) bits |= 4;
    if (launder(&align_bss_global) % 512 == 0) bits |= 8;
    if (launder((const void *)align_fn) % 256 == 0) bits |= 16;
    return bits;
}

/* Contents are right too: bss starts zeroed, then is written.
 * sum(data) = 100, sum(ro) = 10, bss zero check, pad byte 1, align_fn() = 5:
 * 100 * 1000 + 10 * 100 + 3 * 10 + 1 + 5 = 101036 */
int align_contents(void)
{
    const volatile int *d = (const volatile int *)launder(align_data);
    const volatile int *r = (const volatile int *)launder(align_ro);
    volatile int *b = (volatile int *)launder(align_bss);
    volatile int *g = (volatile int *)launder(align_bss_global);
    int zero = b[0] == 0 && b[3] == 0 && g[1] == 0;
    b[3] = 3;
    g[1] = 7;
    return (d[0] + d[1] + d[2] + d[3]) * 1000 + (r[0] + r[1] + r[2] + r[3]) * 100 +
           (zero ? b[3] : 0) * 10 + (g[1] == 7 ? align_pad_byte : 0) + align_fn();
}
