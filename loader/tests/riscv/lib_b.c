/* Second half of an `ld -r` pair. */
extern int a_total;
extern int fw_puts(const char *);
int b_data[4] = {1, 2, 3, 4};
int b_scale(int x) { if (x > 100) fw_puts("big"); return x * a_total; }
