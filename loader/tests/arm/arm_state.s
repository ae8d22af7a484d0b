@ ARM-state code calling Thumb and ARM code, and Thumb code calling ARM code (interworking).
    .syntax unified
    .arm
    .section .text.arm, "ax"
    .global arm_entry
    .type arm_entry, %function
arm_entry:
    bl fw_func                      @ R_ARM_CALL to a Thumb export: BLX
    bl arm_helper                   @ R_ARM_CALL to ARM: BL
    blx arm_helper                  @ R_ARM_CALL on a BLX to ARM: becomes BL
    bl thumb_helper                 @ R_ARM_CALL to Thumb at 2 mod 4: BLX with H set
    bl thumb_aligned                @ R_ARM_CALL to Thumb at 0 mod 4: BLX
    b arm_helper                    @ R_ARM_JUMP24
    bne arm_helper                  @ R_ARM_JUMP24, conditional
    movw r0, #:lower16:value
    movt r0, #:upper16:value
    movw r1, #:lower16:thumb_helper
    movt r1, #:upper16:thumb_helper
    movw r2, #:lower16:value+0x20
    movt r2, #:upper16:value+0x20
    .reloc ., R_ARM_MOVW_PREL_NC, value
    movw r3, #0xfff8                @ A = -8: value - (P + 8)
    .reloc ., R_ARM_MOVT_PREL, value
    movt r3, #0xfff8
    bx lr

    .section .text.armhelp, "ax"
    .global arm_helper
    .type arm_helper, %function
arm_helper:
    bx lr

    .section .text.thumb, "ax"
    .thumb
    .align 2
    .global thumb_aligned
    .type thumb_aligned, %function
    .thumb_func
thumb_aligned:
    nop
    .global thumb_helper
    .type thumb_helper, %function
    .thumb_func
thumb_helper:
    bl arm_helper                   @ R_ARM_THM_CALL to ARM: BLX
    bl fw_func                      @ R_ARM_THM_CALL to Thumb: BL
    blx thumb_aligned               @ R_ARM_THM_CALL on a BLX to Thumb: becomes BL
    bx lr

    .section .rodata
    .align 2
    .global value
value:
    .word 1
