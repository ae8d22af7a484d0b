@ One branch to `far` at the start of .text; KIND picks the instruction (assemble with
@ --defsym KIND=n). The test places `far` (an export) at the edge of the branch's reach.
    .syntax unified
    .thumb
    .text
    .global start
    .type start, %function
    .thumb_func
start:
.if KIND == 1
    bl far          @ R_ARM_THM_CALL, +-16 MiB
.elseif KIND == 2
    b.w far         @ R_ARM_THM_JUMP24, +-16 MiB
.elseif KIND == 3
    beq.w far       @ R_ARM_THM_JUMP19, +-1 MiB
.elseif KIND == 4
    b.n far         @ R_ARM_THM_JUMP11, +-2 KiB
.elseif KIND == 5
    beq.n far       @ R_ARM_THM_JUMP8, +-256 B
.endif
    bx lr
