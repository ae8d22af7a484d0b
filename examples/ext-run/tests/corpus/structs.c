/* Struct copies that gcc turns into memcpy calls, and calls to the host's
 * strlen/strcmp/snprintf/memset (on run-time data, so they stay calls). */
#include <stdio.h>
#include <string.h>

struct big {
    int id;
    char name[60];
    int values[4000]; /* 16 KiB: gcc copies it with a memcpy call */
};

static struct big structs_src = {
    .id = 7,
    .name = "big struct",
    .values = {[0] = 1, [1] = 2, [500] = 500, [3999] = 3999},
};
struct big structs_dst;
static struct big structs_tmp;

static void *launder(void *p)
{
    __asm__("" : "+r"(p));
    return p;
}

__attribute__((noinline)) static struct big make_copy(const struct big *b)
{
    struct big r = *b; /* memcpy */
    r.values[2] = 3;
    return r;
}

/* Struct assignments (memcpy except at -Os, which uses rep movsb): id 7,
 * values 1 + 2 + 3 + 500 + 3999 = 4505, strlen(name) 10:
 * 7 * 100000 + 4505 * 10 + 10 = 745060 */
int structs_copy(void)
{
    struct big *src = launder(&structs_src);
    structs_tmp = make_copy(src);
    structs_dst = structs_tmp; /* memcpy */
    int sum = 0;
    for (int i = 0; i < 4000; i++)
        sum += structs_dst.values[i];
    return structs_dst.id * 100000 + sum * 10 + (int)strlen(structs_dst.name);
}

static char structs_buf[200];

/* An explicit memcpy/memmove/memcmp with a run-time size stays a call at every
 * -O level. Copies "big struct" into the middle of a buffer, shifts it by 3
 * with memmove and compares: memcmp(buf + 3, "big", 3) == 0 -> 1 (1000000),
 * plus h = h * 31 + byte over "bigbig struct", low 20 bits (922613): 1922613 */
int structs_memcpy(void)
{
    char *buf = launder(structs_buf);
    size_t n = 11; /* "big struct" and its NUL */
    __asm__("" : "+r"(n));
    memset(buf, '-', 20);
    memcpy(buf, structs_src.name, n);
    memmove(buf + 3, buf, n);
    int same = memcmp(buf + 3, "big", 3) == 0;
    int h = 0;
    for (int i = 0; buf[i]; i++)
        h = h * 31 + (unsigned char)buf[i];
    return same * 1000000 + (h & 0xfffff);
}
static char structs_word_a[16] = "apple";
static char structs_word_b[16] = "apricot";

/* snprintf + strlen + strcmp + memset:
 * snprintf "big struct/7/-42/ff" has length 19,
 * strcmp("apple", "apricot") < 0 -> 1, strcmp("apple", "apple") == 0 -> 1,
 * memset of 150 bytes with 'x' then strlen -> 150:
 * 19 * 10000 + 1 * 1000 + 1 * 100 + 150 = 191250 */
int structs_libc(void)
{
    char *buf = launder(structs_buf);
    const char *a = launder(structs_word_a);
    const char *b = launder(structs_word_b);
    int n = snprintf(buf, sizeof structs_buf, "%s/%d/%d/%x", structs_src.name, structs_src.id, -42, 255);
    int len = (int)strlen(buf);
    int lt = strcmp(a, b) < 0;
    int eq = strcmp(a, launder(structs_word_a)) == 0;
    size_t count = 150;
    __asm__("" : "+r"(count));
    memset(buf, 'x', count);
    buf[count] = 0;
    int xs = (int)strlen(buf);
    return (n == len ? len : -1) * 10000 + lt * 1000 + eq * 100 + xs;
}

/* A string checksum through snprintf: sum of the bytes of "id=7 name=big struct"
 * weighted by position (1-based): 20549 */
int structs_format_hash(void)
{
    char *buf = launder(structs_buf);
    snprintf(buf, sizeof structs_buf, "id=%d name=%s", structs_src.id, structs_src.name);
    int h = 0;
    for (int i = 0; buf[i]; i++)
        h += (i + 1) * (unsigned char)buf[i];
    return h;
}
