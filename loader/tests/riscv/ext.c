/* A freestanding extension: calls to firmware exports and between its own functions, data and
 * string pointers, pointer tables, a switch jump table, constructors, COMMON. */
typedef unsigned long size_t;
extern int fw_puts(const char *);
extern size_t fw_strlen(const char *);
extern int fw_snprintf(char *, size_t, const char *, ...);
extern void *fw_memcpy(void *, const void *, size_t);
extern int fw_value;
extern int fw_table[];

static int counter = 5;
const char *msg = "hello";
const char *const greetings[] = {"zero", "one", "two", "three", "four"};
int big[1000];
int common_thing; /* COMMON with -fcommon */
static short small_data = 7;
long long wide = 0x123456789abcdefLL;
int (*ops[4])(int);
struct pair { const char *name; int (*fn)(int); int *slot; };

int helper(int x) { return x * 3 + counter; }
static int twice(int x) { return x * 2; }
static int neg(int x) { return -x; }
__attribute__((noinline)) static int square(int x) { return x * x + small_data; }

static const struct pair pairs[] = {
    {"twice", twice, &counter},
    {"neg", neg, big},
    {"helper", helper, &big[999]},
};

/* Sparse enough to stay a jump table (not a value lookup). */
__attribute__((noinline)) int dispatch(int k, int v) {
    switch (k) {
    case 0: return helper(v);
    case 1: return twice(v) + 1;
    case 2: return neg(v) - 3;
    case 3: return square(v);
    case 4: return fw_puts(msg);
    case 5: return (int)fw_strlen(greetings[v & 3]);
    case 6: return fw_value + v;
    case 7: return fw_table[v & 7];
    case 8: return big[v & 511] + 9;
    case 9: return common_thing * 7;
    default: return -1;
    }
}

__attribute__((constructor)) static void ctor(void) {
    counter += 100;
    ops[0] = twice;
    ops[1] = neg;
    ops[2] = helper;
    ops[3] = square;
}
__attribute__((destructor)) static void dtor(void) { fw_puts("bye"); }

int go(int k) {
    char buf[32];
    struct pair copy;
    fw_snprintf(buf, sizeof buf, "%s-%d", msg, helper(2));
    fw_memcpy(&copy, &pairs[k % 3], sizeof copy);
    big[999] = 1;
    common_thing += fw_value;
    return (int)fw_strlen(buf) * 1000 + dispatch(k, 3) + ops[k & 3](k) + copy.fn(k) + *copy.slot
           + (int)(wide >> 8) + (int)fw_strlen(greetings[k % 5]);
}
