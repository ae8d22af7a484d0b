/* Data and string pointers, pointer tables, structures of pointers, bss. */
extern void fw_log(const char *s);
extern int fw_add(int, int);

const char *greeting = "hello";
static const char *const names[] = {"zero", "one", "two", "three"};
int counter = 7;
int zeroed[64];
static int local_state;
struct ops {
    int (*add)(int, int);
    void (*log)(const char *);
    const char *name;
    int *count;
};
const struct ops ops = {fw_add, fw_log, "ops", &counter};
static int inc(int x) { return x + 1; }
static int dec(int x) { return x - 1; }
int (*const table[])(int) = {inc, dec, inc, 0};
void *ptrs[] = {&counter, zeroed + 3, (void *)&ops, (void *)names, (void *)"inline"};
const char *name_of(int i) { return names[i & 3]; }
int use(int i)
{
    local_state += i;
    zeroed[i & 63] = counter;
    ops.log(name_of(i));
    return ops.add(table[i & 1](i), local_state) + greeting[0];
}
