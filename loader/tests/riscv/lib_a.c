/* First half of an `ld -r` pair: calls into lib_b and shares data with it. */
extern int fw_value;
extern int b_scale(int);
extern int b_data[4];
int a_total = 3;
static const char *const names[] = {"a0", "a1"};
const char *a_name(int i) { return names[i & 1]; }
int a_entry(int x) { a_total += b_scale(x) + b_data[x & 3] + fw_value; return a_total; }
