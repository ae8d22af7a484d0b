@ ARM-state branches that need a veneer. FAR=1: calls to exports out of reach (the test puts
@ them 64 MiB away); FAR=0: a B to a Thumb export in reach, which cannot change state.
    .syntax unified
    .arm
    .text
    .global arm_far
    .type arm_far, %function
arm_far:
.if FAR
    bl fw_a                         @ R_ARM_CALL out of reach: veneer
    b fw_a                          @ R_ARM_JUMP24 out of reach: the same veneer
    bl fw_b                         @ a second veneer
.else
    b fw_a                          @ R_ARM_JUMP24 to Thumb: veneer
    bl fw_a                         @ R_ARM_CALL to Thumb: BLX, no veneer
.endif
    bx lr
