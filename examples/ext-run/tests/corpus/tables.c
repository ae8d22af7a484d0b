/* Pointer tables: arrays of function pointers (in .data.rel.ro and .data) and of
 * string pointers. Every entry needs its own absolute relocation, so a sum over
 * the table catches any entry the loader got wrong. */
typedef int (*op_fn)(int, int);

static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int op_xor(int a, int b) { return a ^ b; }
int tables_op_max(int a, int b) { return a > b ? a : b; }

/* Read-only table of function pointers. */
static op_fn const ops_ro[] = {op_add, op_sub, op_mul, op_xor, tables_op_max};
/* Writable table of function pointers (.data). */
op_fn tables_ops_rw[] = {tables_op_max, op_xor, op_mul, op_sub, op_add};

/* Table of string pointers. */
const char *const tables_names[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
};
/* A table of pointers into the middle of other tables. */
const char *const *const tables_name_ptrs[] = {&tables_names[7], &tables_names[2], &tables_names[0]};

static unsigned hash(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* The table index is laundered so gcc cannot resolve the calls statically. */
static int launder(int i)
{
    __asm__("" : "+r"(i));
    return i;
}

/* sum over i of (i+1) * ops_ro[i](7, 3):
 * 1*10 + 2*4 + 3*21 + 4*4 + 5*7 = 10 + 8 + 63 + 16 + 35 = 132 */
int tables_ops_ro_sum(void)
{
    int s = 0;
    for (int i = 0; i < 5; i++)
        s += (i + 1) * ops_ro[launder(i)](7, 3);
    return s;
}

/* sum over i of (i+1) * tables_ops_rw[i](12, 5):
 * 1*12 + 2*9 + 3*60 + 4*7 + 5*17 = 12 + 18 + 180 + 28 + 85 = 323 */
int tables_ops_rw_sum(void)
{
    int s = 0;
    for (int i = 0; i < 5; i++)
        s += (i + 1) * tables_ops_rw[launder(i)](12, 5);
    return s;
}

/* Weighted sum of the string hashes (mod 2^32), modulo 1000003: 218317 */
int tables_names_hash(void)
{
    unsigned s = 0;
    for (int i = 0; i < 8; i++)
        s += (unsigned)(i + 1) * hash(tables_names[launder(i)]);
    return (int)(s % 1000003u);
}

/* First letters through the pointer-to-pointer table: 't', 'g', 'a' as a
 * base-256 number: 0x746761 = 7628641. */
int tables_first_letters(void)
{
    int v = 0;
    for (int i = 0; i < 3; i++)
        v = v * 256 + (unsigned char)(*tables_name_ptrs[launder(i)])[0];
    return v;
}
