/* An extension that exports a function and data to extensions loaded after it
 * (see app.c). */
int lib_counter = 1000;
const char *lib_name = "library";

int lib_add(int a, int b)
{
    lib_counter += 1;
    return a + b;
}

/* Lets the test check lib's own state too: 1000 + calls so far. */
int lib_get_counter(void)
{
    return lib_counter;
}
