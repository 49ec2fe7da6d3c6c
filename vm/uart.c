/* The 8250/16550A UART as Linux's serial driver sees it: divisor latch, interrupt enable and
 * identification (with the THR-empty latch the driver tests for), FIFO bits, modem control with
 * loopback (autoconfig checks MSR in loopback), line status and scratch. Pure state machine: the
 * VMM calls it on port I/O and asks it for the interrupt line level. */
#include "vm.h"

#include <string.h>
#include <unistd.h>

#include "../base/util.h"

enum {
        IER_RDI = 0x01,
        IER_THRI = 0x02,
        LCR_DLAB = 0x80,
        MCR_DTR = 0x01,
        MCR_RTS = 0x02,
        MCR_OUT1 = 0x04,
        MCR_OUT2 = 0x08,
        MCR_LOOP = 0x10,
        LSR_DR = 0x01,
        LSR_THRE = 0x20,
        LSR_TEMT = 0x40,
        IIR_NONE = 0x01,
        IIR_THRI = 0x02,
        IIR_RDI = 0x04,
        IIR_FIFO = 0xc0,
};

void ctr_uart_init(struct ctr_uart *u, int out_fd)
{
        memset(u, 0, sizeof(*u));
        u->out_fd = out_fd;
        u->dll = 12; /* 9600 baud, as after reset */
}

void ctr_uart_receive(struct ctr_uart *u, uint8_t c)
{
        if (u->rx_len == sizeof(u->rx))
                return; /* overrun: dropped, as hardware would */
        u->rx[(u->rx_head + u->rx_len++) % sizeof(u->rx)] = c;
}

static uint8_t rx_pop(struct ctr_uart *u)
{
        if (!u->rx_len)
                return 0;
        uint8_t c = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % sizeof(u->rx);
        u->rx_len--;
        return c;
}

uint8_t ctr_uart_read(struct ctr_uart *u, unsigned offset)
{
        bool dlab = u->lcr & LCR_DLAB;
        switch (offset) {
        case 0: return dlab ? u->dll : rx_pop(u);
        case 1: return dlab ? u->dlm : u->ier;
        case 2: {
                uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
                if ((u->ier & IER_RDI) && u->rx_len)
                        return IIR_RDI | fifo;
                if ((u->ier & IER_THRI) && u->thre_pending) {
                        u->thre_pending = false; /* reading IIR acknowledges THR empty */
                        return IIR_THRI | fifo;
                }
                return IIR_NONE | fifo;
        }
        case 3: return u->lcr;
        case 4: return u->mcr;
        case 5: return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
        case 6:
                if (u->mcr & MCR_LOOP) /* DCD<-OUT2, RI<-OUT1, DSR<-DTR, CTS<-RTS */
                        return ((u->mcr & MCR_OUT2) << 4) | ((u->mcr & MCR_OUT1) << 4) | ((u->mcr & MCR_DTR) << 5) |
                               ((u->mcr & MCR_RTS) << 3);
                return 0xb0; /* DCD, DSR, CTS: a terminal is there */
        case 7: return u->scr;
        }
        return 0xff;
}

void ctr_uart_write(struct ctr_uart *u, unsigned offset, uint8_t v)
{
        bool dlab = u->lcr & LCR_DLAB;
        switch (offset) {
        case 0:
                if (dlab)
                        u->dll = v;
                else if (u->mcr & MCR_LOOP)
                        ctr_uart_receive(u, v);
                else if (u->out_fd >= 0)
                        ctr_write_all(u->out_fd, &v, 1);
                if (!dlab)
                        u->thre_pending = true; /* sent at once: the holding register is empty again */
                break;
        case 1:
                if (dlab)
                        u->dlm = v;
                else {
                        /* Enabling THRI while the THR is empty raises the interrupt (the driver's
                         * UART_BUG_THRE test expects it). */
                        if ((v & IER_THRI) && !(u->ier & IER_THRI))
                                u->thre_pending = true;
                        u->ier = v & 0x0f;
                }
                break;
        case 2:
                u->fcr = v;
                if (v & 0x02) { /* clear the receive FIFO */
                        u->rx_len = 0;
                        u->rx_head = 0;
                }
                break;
        case 3: u->lcr = v; break;
        case 4: u->mcr = v & 0x1f; break;
        case 7: u->scr = v; break;
        }
}

bool ctr_uart_irq(const struct ctr_uart *u)
{
        if (!(u->mcr & MCR_OUT2))
                return false; /* on a PC, OUT2 gates the interrupt line */
        return ((u->ier & IER_RDI) && u->rx_len) || ((u->ier & IER_THRI) && u->thre_pending);
}
