/* Constructors and destructors with priorities. Constructors append a digit to
 * ctors_order, so running them in priority order (101, 102, then the default
 * priority) gives 123. Destructors run in the opposite priority order (default,
 * 102, 101) and print a line each through the host's printf. */
int printf(const char *fmt, ...);

int ctors_order;      /* .bss: 0 before any constructor runs */
int ctors_count = 5;  /* .data: constructors multiply it */
static int dtors_seen;

__attribute__((constructor)) static void ctor_plain(void)
{
    ctors_order = ctors_order * 10 + 3;
    ctors_count *= 7;
    printf("ctor plain\n");
}

__attribute__((constructor(102))) static void ctor_102(void)
{
    ctors_order = ctors_order * 10 + 2;
    ctors_count *= 3;
    printf("ctor 102\n");
}

__attribute__((constructor(101))) static void ctor_101(void)
{
    ctors_order = ctors_order * 10 + 1;
    ctors_count += 1;
    printf("ctor 101\n");
}

__attribute__((destructor(101))) static void dtor_101(void)
{
    dtors_seen = dtors_seen * 10 + 1;
    printf("dtor 101 seen=%d\n", dtors_seen);
}

__attribute__((destructor)) static void dtor_plain(void)
{
    dtors_seen = dtors_seen * 10 + 3;
    printf("dtor plain order=%d\n", ctors_order);
}

__attribute__((destructor(102))) static void dtor_102(void)
{
    dtors_seen = dtors_seen * 10 + 2;
    printf("dtor 102 seen=%d\n", dtors_seen);
}

/* 123 if the constructors ran once each in priority order. */
int ctors_get_order(void)
{
    return ctors_order;
}

/* ((5 + 1) * 3) * 7 = 126 in priority order (any other order differs:
 * e.g. plain first gives (5*7+1)*3 = 108). */
int ctors_get_count(void)
{
    return ctors_count;
}
