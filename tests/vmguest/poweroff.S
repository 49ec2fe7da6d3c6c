/* Guest payload: says so on COM1, then powers off the way Linux does without ACPI: interrupts
 * off and hlt, on every vCPU (the APs of vm_load_raw never run). The VMM notices that nothing
 * can wake the VM and ends it as "halt". Entered in long mode at 1 MiB. */
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
done:   cli
1:      hlt
        jmp 1b
msg:    .asciz "poweroff: halting with interrupts off\n"
