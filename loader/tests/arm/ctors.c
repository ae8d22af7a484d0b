/* Constructors and destructors (init_array/fini_array, with a priority). */
extern void fw_log(const char *s);
static int state = 1;
__attribute__((constructor)) static void init_a(void) { state += 1; }
__attribute__((constructor(200))) static void init_b(void) { state *= 3; }
__attribute__((constructor(300))) void init_c(void) { state -= 2; }
__attribute__((destructor)) static void fini_a(void) { fw_log("bye"); }
int get_state(void) { return state; }
