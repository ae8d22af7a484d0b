@ Relocations the loader does not support; RELOC picks one (1: GOT_BREL, 2: TLS_LE32, 3: an
@ ARM-state B to a local Thumb function, which would need a veneer slot the loader only
@ reserves for imports).
    .syntax unified
.if RELOC == 3
    .arm
    .text
    .global arm_code
    .type arm_code, %function
arm_code:
    b thumb_code
    .thumb
    .global thumb_code
    .type thumb_code, %function
    .thumb_func
thumb_code:
    bx lr
.else
    .data
    .global slot
slot:
.if RELOC == 1
    .reloc ., R_ARM_GOT32, fw_func  @ GAS's name for R_ARM_GOT_BREL
.else
    .reloc ., R_ARM_TLS_LE32, fw_func
.endif
    .word 0
.endif
