/* Uses what another extension exports through its `.exported_sym` table. */
extern int number;
int twice(int x);
int get(void) { return twice(number) + 1; }
