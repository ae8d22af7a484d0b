/* COMMON symbols (compiled with -fcommon): uninitialised globals that the
 * loader must allocate itself (zeroed, aligned as st_value says). */
int common_var;
long common_long;
int common_array[300];
double common_double;

static void *launder(void *p)
{
    __asm__("" : "+r"(p));
    return p;
}

/* All zero at first (1); then written and read back through their addresses:
 * zero * 1000000 + common_var (123) * 1000 + common_array[299] (45)
 * + common_long (600) + (int)common_double (2) = 1123647 */
int common_check(void)
{
    int *v = launder(&common_var);
    long *l = launder(&common_long);
    int *arr = launder(common_array);
    double *d = launder(&common_double);
    int zero = *v == 0 && *l == 0 && arr[0] == 0 && arr[299] == 0 && *d == 0.0;
    *v = 123;
    *l = 600;
    arr[299] = 45;
    arr[0] = 1;
    *d = 2.5;
    return zero * 1000000 + common_var * 1000 + common_array[299] + (int)common_long +
           (int)common_double;
}

/* The four objects do not overlap: sum of distinct addresses' relative order
 * would be fragile, so instead write distinct values through each and read all:
 * 1 + 2 * 10 + 3 * 100 + 4 * 1000 = 4321 */
int common_distinct(void)
{
    *(int *)launder(&common_var) = 1;
    *(long *)launder(&common_long) = 2;
    ((int *)launder(common_array))[0] = 3;
    ((int *)launder(common_array))[299] = 0;
    *(double *)launder(&common_double) = 4.0;
    return common_var + (int)common_long * 10 + common_array[0] * 100 + (int)common_double * 1000;
}
