/* Guest payload: prints a line on COM1 (polling the line status register) and ends the VM
 * through the debug-exit port with code 42. Entered in long mode at 1 MiB. */
        .code64
        .globl _start
_start:
        lea msg(%rip), %rsi
next:   lodsb
        test %al, %al
        jz done
        mov %al, %bl
wait:   mov $0x3fd, %dx
        in %dx, %al
        test $0x20, %al
        jz wait
        mov $0x3f8, %dx
        mov %bl, %al
        out %al, %dx
        jmp next
done:   mov $0xf4, %dx
        mov $42, %al
        out %al, %dx
        hlt
msg:    .asciz "hello from the guest\n"
