/* Weak undefined symbols resolve to 0 (null) when nothing provides them, and a
 * weak definition is used when nothing overrides it. */
extern int maybe(void) __attribute__((weak));
extern int maybe_data __attribute__((weak));
extern int maybe_array[] __attribute__((weak));

__attribute__((weak, noinline)) int weak_default(void)
{
    return 31;
}

/* The spec's check: 0 because maybe is not defined anywhere. */
int weak_present(void)
{
    return maybe ? 1 : 0;
}

/* 1000 * (maybe defined) + 100 * (&maybe_data non-null) + 10 * (maybe_array
 * non-null) + weak_default() = 31 when the weak references are null. */
int weak_mix(void)
{
    int v = 0;
    if (maybe)
        v += 1000 + maybe();
    if (&maybe_data)
        v += 100 + maybe_data;
    if (maybe_array)
        v += 10;
    return v + weak_default();
}
