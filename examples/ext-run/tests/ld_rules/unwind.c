/* Built with -funwind-tables (as C++ and many vendor SDKs build): on ARM the object gets
 * .ARM.exidx entries whose R_ARM_NONE relocations name __aeabi_unwind_cpp_pr0 or pr1, a C++
 * personality routine no firmware exports. unwind_test returns 6 * 7 + 1 = 43. */
unsigned strlen(const char *);
const char *volatile word = "unwind";
int unwind_test(void) { return (int)strlen(word) * 7 + 1; }
