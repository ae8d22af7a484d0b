/* Half of an extension joined with `ld -r ldr_a.o ldr_b.o -o ldr_ab.o`: the two
 * halves call each other and point at each other's data. */
extern int ldr_b_values[4];
extern const char *ldr_b_name;
int ldr_b_step(int n);

int ldr_a_scale = 3;
int *ldr_a_points_into_b = &ldr_b_values[2]; /* 30 */

__attribute__((noinline)) int ldr_a_step(int n)
{
    return n <= 0 ? 1 : ldr_a_scale * ldr_b_step(n - 1);
}

/* a(5) = 3 * b(4); b(n) = 2 + a(n - 1):
 * a(0)=1, b(1)=2+a(0)=3, a(2)=3*b(1)=9, b(3)=2+9=11, a(4)=33, b(5)=35...
 * ldr_chain = a(6) = 3 * b(5) = 3 * (2 + a(4)) = 3 * 35 = 105 */
int ldr_chain(void)
{
    return ldr_a_step(6);
}

/* *ldr_a_points_into_b (30) * 1000 + sum of b's values (100) + length of b's
 * name ("ldr-b", 5) * 7 = 30135 */
int ldr_cross_data(void)
{
    int s = 0;
    for (int i = 0; i < 4; i++)
        s += ldr_b_values[i];
    int len = 0;
    while (ldr_b_name[len])
        len++;
    return *ldr_a_points_into_b * 1000 + s + len * 7;
}
