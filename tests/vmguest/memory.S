/* Guest payload: writes a pattern at 48 MiB through the identity map and reads it back: code 1
 * when it matches, 2 when it does not. */
        .code64
        .globl _start
_start:
        mov $0x3000000, %rdi
        mov $0x1122334455667788, %rax
        mov %rax, (%rdi)
        mov (%rdi), %rbx
        cmp %rbx, %rax
        mov $1, %al             /* mov leaves the flags alone */
        je 1f
        mov $2, %al
1:      mov $0xf4, %dx
        out %al, %dx
        hlt
