/* QEMU side of the VMM benchmark: a PVH ELF (the Xen PHYS32_ENTRY note QEMU boots) that writes
 * 42 to the isa-debug-exit port, the same work as tests/vmguest/hello.S minus the serial line. */
        .section .note.Xen, "a"
        .align 4
        .long 4          /* namesz */
        .long 4          /* descsz */
        .long 18         /* XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .long _start
        .text
        .code32
        .globl _start
_start:
        mov $0xf4, %dx
        mov $42, %al
        out %al, %dx
1:      hlt
        jmp 1b
