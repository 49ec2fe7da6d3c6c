/* Guest payload: pulses the i8042 reset line, as Linux does for reboot=k. */
        .code64
        .globl _start
_start:
        mov $0x64, %dx
        mov $0xfe, %al
        out %al, %dx
        hlt
