/* Dense switch statements with more than 8 cases: gcc emits a jump table (in
 * .rodata, with one relocation or relative offset per case) at every -O level. */
__attribute__((noinline)) int switch_pick(int x)
{
    switch (x) {
    case 0: return 11;
    case 1: return 23;
    case 2: return 37;
    case 3: return 41;
    case 4: return 59;
    case 5: return 67;
    case 6: return 73;
    case 7: return 89;
    case 8: return 97;
    case 9: return 101;
    case 10: return 113;
    case 11: return 127;
    default: return 1000;
    }
}

/* A switch that does work in each case (cannot become a lookup table of values). */
__attribute__((noinline)) int switch_apply(int op, int a, int b)
{
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a % b;
    case 5: return a << (b & 7);
    case 6: return a >> (b & 7);
    case 7: return a & b;
    case 8: return a | b;
    case 9: return a ^ b;
    default: return -1;
    }
}

static int launder(int i)
{
    __asm__("" : "+r"(i));
    return i;
}

/* sum over x in -1..12 of (x+2) * switch_pick(x):
 * default(1000)*1 + 11*2 + 23*3 + 37*4 + 41*5 + 59*6 + 67*7 + 73*8 + 89*9
 * + 97*10 + 101*11 + 113*12 + 127*13 + default(1000)*14 = 22740 */
int switch_pick_sum(void)
{
    int s = 0;
    for (int x = -1; x <= 12; x++)
        s += (x + 2) * switch_pick(launder(x));
    return s;
}

/* sum over op in 0..10 of (op+1) * switch_apply(op, 100, 7), with the cases giving
 * 107, 93, 700, 14, 2, 12800, 0, 4, 103, 99, -1: 81197 */
int switch_apply_sum(void)
{
    int s = 0;
    for (int op = 0; op <= 10; op++)
        s += (op + 1) * switch_apply(launder(op), 100, 7);
    return s;
}
