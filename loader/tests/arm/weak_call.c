/* A call to an undefined weak function, with the firmware far away (0x1000 vs 0x2000_0000). */
extern int maybe(int) __attribute__((weak));
extern int fw_present(int);
int use_weak(int x) { return (maybe ? maybe(x) : 42) + fw_present(x); }
