/* Guest payload: the 8250 autoconfig check Linux does: in loopback with OUT2|RTS set, MSR reads
 * 0x90; a byte written in loopback comes back in RBR with LSR.DR. Code 1 = both hold. */
        .code64
        .globl _start
_start:
        mov $0x3fc, %dx         /* MCR = LOOP | OUT2 | RTS */
        mov $0x1a, %al
        out %al, %dx
        mov $0x3fe, %dx         /* MSR */
        in %dx, %al
        and $0xf0, %al
        cmp $0x90, %al
        jne bad
        mov $0x3f8, %dx
        mov $0x5a, %al
        out %al, %dx
        mov $0x3fd, %dx
        in %dx, %al
        test $1, %al
        jz bad
        mov $0x3f8, %dx
        in %dx, %al
        cmp $0x5a, %al
        jne bad
        mov $1, %al
        jmp out
bad:    mov $2, %al
out:    mov $0xf4, %dx
        out %al, %dx
        hlt
