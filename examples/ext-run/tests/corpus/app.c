/* Uses another extension's function and data (lib.c, loaded before it:
 * `ext-run lib.o app.o --call app_main`). */
extern int lib_counter;
extern const char *lib_name;
int lib_add(int a, int b);

static int (*app_add_ptr)(int, int) = lib_add; /* absolute relocation to lib */
int *app_counter_ptr = &lib_counter;

/* lib_add(20, 22) = 42 directly and 5 + 6 = 11 through the pointer; each call
 * bumps lib_counter from 1000 to 1002; lib_counter is then bumped here to 1003:
 * 42 * 10000 + 11 * 1000 + (1003 - 1000) * 100 + strlen("library") (7)
 * = 420000 + 11000 + 300 + 7 = 431307 */
int app_main(void)
{
    int a = lib_add(20, 22);
    int b = app_add_ptr(5, 6);
    lib_counter += 1;
    int len = 0;
    while (lib_name[len])
        len++;
    return a * 10000 + b * 1000 + (*app_counter_ptr - 1000) * 100 + len;
}
