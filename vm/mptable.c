/* The Intel MultiProcessor table: how a guest without ACPI learns its CPUs (one LAPIC each), the
 * IOAPIC, the ISA IRQs (identity-routed to IOAPIC pins, as KVM's default GSI routing has them)
 * and the PCI slots' INTA# lines (pins 16+). Plain memory: unit-tested without /dev/kvm. */
#include "vm-internal.h"

#include <string.h>

#define MPC_CPU 0
#define MPC_BUS 1
#define MPC_IOAPIC 2
#define MPC_INTSRC 3
#define MPC_LINTSRC 4

static uint8_t checksum(const uint8_t *p, size_t n)
{
        uint8_t s = 0;
        while (n--)
                s += *p++;
        return (uint8_t)-s;
}

static void le16(uint8_t *p, uint16_t v)
{
        p[0] = v;
        p[1] = v >> 8;
}

static void le32(uint8_t *p, uint32_t v)
{
        le16(p, v);
        le16(p + 2, v >> 16);
}

static size_t intsrc(uint8_t *e, uint8_t type, uint16_t flags, uint8_t bus, uint8_t bus_irq, uint8_t apic,
                     uint8_t pin)
{
        e[0] = MPC_INTSRC;
        e[1] = type;
        le16(e + 2, flags);
        e[4] = bus;
        e[5] = bus_irq;
        e[6] = apic;
        e[7] = pin;
        return 8;
}

size_t ctr_vm_mptable(uint8_t *base, uint32_t gpa, size_t cap, unsigned ncpus, const uint8_t *pci_slots,
                      unsigned nslots, uint32_t cpu_signature, uint32_t cpu_features)
{
        /* Floating pointer (16) + header (44) + entries: CPUs 20 each, 2 buses 8 each, IOAPIC 8,
         * 16 ISA + nslots PCI interrupt sources and 2 local ones, 8 each. */
        size_t need = 16 + 44 + ncpus * 20 + 16 + 8 + (16 + nslots + 2) * 8;
        if (need > cap)
                return 0;
        memset(base, 0, need);
        uint8_t *mpf = base, *mpc = base + 16, *e = mpc + 44;
        uint8_t ioapic_id = ncpus;
        uint16_t count = 0;
        for (unsigned i = 0; i < ncpus; i++, count++, e += 20) {
                e[0] = MPC_CPU;
                e[1] = i;                        /* LAPIC id */
                e[2] = 0x14;                     /* LAPIC version */
                e[3] = 1 | (i == 0 ? 2 : 0);     /* enabled, boot processor */
                le32(e + 4, cpu_signature);
                le32(e + 8, cpu_features);
        }
        static const char *const buses[] = {"PCI   ", "ISA   "};
        for (unsigned b = 0; b < 2; b++, count++, e += 8) {
                e[0] = MPC_BUS;
                e[1] = b;
                memcpy(e + 2, buses[b], 6);
        }
        e[0] = MPC_IOAPIC;
        e[1] = ioapic_id;
        e[2] = 0x11;
        e[3] = 1; /* enabled */
        le32(e + 4, CTR_VM_IOAPIC_ADDR);
        e += 8;
        count++;
        /* ISA IRQ n -> pin n, edge/high as the bus defines (flags 0); 2 is the cascade and not
         * listed, so Linux does not look for the timer there. */
        for (unsigned irq = 0; irq < 16; irq++) {
                if (irq == 2)
                        continue;
                e += intsrc(e, 0 /* INT */, 0, 1, irq, ioapic_id, irq);
                count++;
        }
        /* PCI: source irq (slot << 2 | INTA#), level-triggered, active high (KVM's IOAPIC takes
         * the line level as it is given). */
        for (unsigned i = 0; i < nslots; i++) {
                e += intsrc(e, 0, 0x1 | 0x3 << 2, 0, pci_slots[i] << 2, ioapic_id, CTR_VM_PCI_IRQ_BASE + i);
                count++;
        }
        e += intsrc(e, 3 /* ExtINT */, 0, 1, 0, 0xff, 0); /* LINT0 on every LAPIC */
        e[-8] = MPC_LINTSRC;
        e += intsrc(e, 1 /* NMI */, 0, 1, 0, 0xff, 1);
        e[-8] = MPC_LINTSRC;
        count += 2;
        size_t mpc_len = e - mpc;

        memcpy(mpc, "PCMP", 4);
        le16(mpc + 4, mpc_len);
        mpc[6] = 4; /* spec 1.4 */
        memcpy(mpc + 8, "CTR     ", 8);
        memcpy(mpc + 16, "CTR-VM      ", 12);
        le16(mpc + 34, count);
        le32(mpc + 36, CTR_VM_LAPIC_ADDR);
        mpc[7] = checksum(mpc, mpc_len);

        memcpy(mpf, "_MP_", 4);
        le32(mpf + 4, gpa + 16);
        mpf[8] = 1; /* length in 16-byte units */
        mpf[9] = 4;
        mpf[10] = checksum(mpf, 16);
        return e - base;
}
