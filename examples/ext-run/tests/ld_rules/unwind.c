/* Built with -funwind-tables (as C++ and many vendor SDKs build): on ARM the object gets
 * .ARM.exidx entries whose R_ARM_NONE relocations name __aeabi_unwind_cpp_pr0. */
int fw_get(int x);
int call_firmware(int x) { return fw_get(x * 2) + 1; }
