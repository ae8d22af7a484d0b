@ Data relocations: ABS32, TARGET1, REL32, PREL31, NONE, V4BX.
    .syntax unified
    .thumb
    .text
    .global fn
    .type fn, %function
    .thumb_func
fn:
    bx lr

    .data
    .global words
words:
    .word fw_func
    .word fn
    .word fn + 8
    .word value + 12
    .word fw_func(TARGET1)
    .word value - .
    .word fn - .
    .reloc ., R_ARM_PREL31, fn
    .word 0
    .reloc ., R_ARM_PREL31, value
    .word 0x80000010                @ bit 31 is kept, the addend is 0x10
    .reloc ., R_ARM_NONE, fw_func
    .word 0x12345678
    .reloc ., R_ARM_V4BX
    .word 0xe12fff1e

    .section .rodata
    .align 2
    .global value
value:
    .word 1, 2, 3
