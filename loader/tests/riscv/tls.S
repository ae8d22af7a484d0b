/* A general-dynamic TLS access: R_RISCV_TLS_GD_HI20, which the loader does not support. gas
 * marks the symbol thread-local, and the loader already refuses that symbol; with RELOC_ONLY the
 * same relocation is made against an ordinary symbol, to reach the relocation itself. */
    .text
    .globl tls_get
tls_get:
#ifdef RELOC_ONLY
    .reloc  ., R_RISCV_TLS_GD_HI20, fw_tls_var
    .4byte  0x00000517              /* auipc a0, 0 */
#else
    la.tls.gd a0, fw_tls_var
#endif
    ret
