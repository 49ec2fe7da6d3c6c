/* The static guest program (vm/guest/ctr-vminit.c, built first) as bytes inside ctr, so the host
 * binary alone can write a VM's initramfs. CTR_VMINIT_PATH comes from the Makefile. */
        .section .rodata
        .balign 16
        .global ctr_vminit_start
        .type ctr_vminit_start, @object
ctr_vminit_start:
        .incbin CTR_VMINIT_PATH
        .global ctr_vminit_end
        .type ctr_vminit_end, @object
ctr_vminit_end:
        .size ctr_vminit_start, ctr_vminit_end - ctr_vminit_start

        .section .note.GNU-stack,"",@progbits
