/* Calls between functions in both directions, mutual recursion and recursion.
 * Every function is global and noinline so the object really contains call
 * relocations (forward and backward) instead of inlined code. */
#define NOINLINE __attribute__((noinline))

int calls_is_odd(unsigned n);

/* Defined before its callee: forward call. */
NOINLINE int calls_is_even(unsigned n)
{
    return n == 0 ? 1 : calls_is_odd(n - 1);
}

/* Defined after its callee: backward call. */
NOINLINE int calls_is_odd(unsigned n)
{
    return n == 0 ? 0 : calls_is_even(n - 1);
}

NOINLINE int calls_fib(int n)
{
    return n < 2 ? n : calls_fib(n - 1) + calls_fib(n - 2);
}

int calls_down(int n);

/* a(n) calls b, b calls a: accumulates a weighted sum along the way. */
NOINLINE int calls_up(int n)
{
    return n <= 0 ? 0 : 3 * n + calls_down(n - 1);
}

NOINLINE int calls_down(int n)
{
    return n <= 0 ? 0 : n * n + calls_up(n - 1);
}

/* fib(20) = 6765 */
int calls_fib20(void)
{
    return calls_fib(20);
}

/* Number of even values among 0..99 computed by mutual recursion (50),
 * times 100, plus is_odd(77) (1): 5001. */
int calls_parity(void)
{
    int evens = 0;
    for (unsigned i = 0; i < 100; i++)
        evens += calls_is_even(i);
    return evens * 100 + calls_is_odd(77);
}

/* up(10) = 3*10 + 9*9 + 3*8 + 7*7 + 3*6 + 5*5 + 3*4 + 3*3 + 3*2 + 1*1 = 255 */
int calls_updown(void)
{
    return calls_up(10);
}
