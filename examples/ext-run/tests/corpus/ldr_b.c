/* Other half of the `ld -r` extension (see ldr_a.c). */
extern int ldr_a_scale;
int ldr_a_step(int n);

int ldr_b_values[4] = {10, 20, 30, 40};
const char *ldr_b_name = "ldr-b";
int *ldr_b_points_into_a = &ldr_a_scale;

__attribute__((noinline)) int ldr_b_step(int n)
{
    return n <= 0 ? 1 : 2 + ldr_a_step(n - 1);
}

/* Calls back into a and reads a's data through a pointer: b(5) = 35, scale 3:
 * 35 * 10 + 3 = 353 */
int ldr_b_entry(void)
{
    return ldr_b_step(5) * 10 + *ldr_b_points_into_a;
}
