/* Guest payload: an invalid opcode with no IDT: #UD, #DF, then a triple fault (shutdown). */
        .code64
        .globl _start
_start:
        ud2
