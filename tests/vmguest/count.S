/* Guest payload: prints the digits 0 to 9 on COM1, one about every 100 ms (a TSC delay: the
 * count lives in a register, the pace in the TSC, both carried by a live snapshot), then ends the
 * VM through the debug-exit port with code 42. Entered in long mode at 1 MiB. */
        .code64
        .globl _start
_start:
        mov $'0', %bl
digit:  mov $0x3fd, %dx
wait:   in %dx, %al
        test $0x20, %al
        jz wait
        mov $0x3f8, %dx
        mov %bl, %al
        out %al, %dx
        rdtsc
        shl $32, %rdx
        or %rax, %rdx
        mov %rdx, %rcx
        add $300000000, %rcx
delay:  rdtsc
        shl $32, %rdx
        or %rax, %rdx
        cmp %rcx, %rdx
        jb delay
        inc %bl
        cmp $'9' + 1, %bl
        jne digit
        mov $0xf4, %dx
        mov $42, %al
        out %al, %dx
        hlt
