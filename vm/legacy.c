/* The PC's legacy I/O that Linux probes at boot: the MC146818 CMOS clock (ports 0x70/0x71) giving
 * the host's time, and the i8042 controller's command protocol (ports 0x60/0x64). Without them a
 * guest starts at 1970 and its drivers spend seconds timing out on a silent bus. Plain state. */
#include "vm.h"

#include <string.h>
#include <time.h>

/* --- CMOS clock --------------------------------------------------------------------------- */

#define RTC_SECONDS     0x00
#define RTC_MINUTES     0x02
#define RTC_HOURS       0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY         0x07
#define RTC_MONTH       0x08
#define RTC_YEAR        0x09
#define RTC_REG_A       0x0a
#define RTC_REG_B       0x0b
#define RTC_REG_C       0x0c
#define RTC_REG_D       0x0d
#define RTC_CENTURY     0x32

#define REG_B_24H    0x02
#define REG_B_BINARY 0x04

void ctr_rtc_init(struct ctr_rtc *r)
{
        memset(r, 0, sizeof(*r));
        r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate; never "update in progress" */
        /* BCD, 24-hour, as PC firmware leaves it: x86 Linux reads the clock as BCD whatever the
         * DM bit says (RTC_ALWAYS_BCD). */
        r->ram[RTC_REG_B] = REG_B_24H;
        r->ram[RTC_REG_D] = 0x80; /* battery good: the time is valid */
}

static uint8_t encode(const struct ctr_rtc *r, unsigned v)
{
        return r->ram[RTC_REG_B] & REG_B_BINARY ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t hours(const struct ctr_rtc *r, unsigned h)
{
        if (r->ram[RTC_REG_B] & REG_B_24H)
                return encode(r, h);
        unsigned h12 = h % 12 ? h % 12 : 12;
        return encode(r, h12) | (h >= 12 ? 0x80 : 0);
}

uint8_t ctr_rtc_read(struct ctr_rtc *r, unsigned port, time_t now)
{
        if (port == 0)
                return r->index;
        unsigned reg = r->index & 0x7f; /* bit 7 of the index is the NMI mask */
        struct tm tm;
        if (reg <= RTC_YEAR || reg == RTC_CENTURY) {
                if (!gmtime_r(&now, &tm))
                        memset(&tm, 0, sizeof(tm));
        }
        switch (reg) {
        case RTC_SECONDS: return encode(r, (unsigned)tm.tm_sec);
        case RTC_MINUTES: return encode(r, (unsigned)tm.tm_min);
        case RTC_HOURS: return hours(r, (unsigned)tm.tm_hour);
        case RTC_DAY_OF_WEEK: return encode(r, (unsigned)tm.tm_wday + 1);
        case RTC_DAY: return encode(r, (unsigned)tm.tm_mday);
        case RTC_MONTH: return encode(r, (unsigned)tm.tm_mon + 1);
        case RTC_YEAR: return encode(r, (unsigned)(tm.tm_year % 100));
        case RTC_CENTURY: return encode(r, (unsigned)(tm.tm_year / 100 + 19));
        case RTC_REG_C: return 0; /* no interrupt ever pending (the alarm and periodic IRQ are not wired) */
        default: return reg < sizeof(r->ram) ? r->ram[reg] : 0xff;
        }
}

void ctr_rtc_write(struct ctr_rtc *r, unsigned port, uint8_t v)
{
        if (port == 0) {
                r->index = v;
                return;
        }
        unsigned reg = r->index & 0x7f;
        /* The clock is the host's: setting it (hwclock -w) is ignored, as are the read-only C and D.
         * A and B keep their meaning, except that the update cycle never runs. */
        if (reg <= RTC_YEAR || reg == RTC_CENTURY || reg == RTC_REG_C || reg == RTC_REG_D || reg >= sizeof(r->ram))
                return;
        if (reg == RTC_REG_A)
                v &= 0x7f;
        r->ram[reg] = v;
}

/* --- i8042 ------------------------------------------------------------------------------ */

#define I8042_STR_OBF 0x01
#define I8042_STR_SYS 0x04 /* system flag: the self test passed */
#define I8042_STR_CMD 0x08 /* the last write was a command */

void ctr_i8042_init(struct ctr_i8042 *k)
{
        memset(k, 0, sizeof(*k));
        k->ctr = 0x30; /* both ports disabled, no interrupts, translation off */
}

static void put_out(struct ctr_i8042 *k, uint8_t v)
{
        k->out = v;
        k->out_full = true;
}

uint8_t ctr_i8042_read(struct ctr_i8042 *k, unsigned port)
{
        if (port == 0x64)
                return (k->out_full ? I8042_STR_OBF : 0) | I8042_STR_SYS | (k->last_cmd ? I8042_STR_CMD : 0);
        uint8_t v = k->out;
        k->out_full = false;
        return v;
}

bool ctr_i8042_write(struct ctr_i8042 *k, unsigned port, uint8_t v)
{
        if (port == 0x60) {
                k->last_cmd = false;
                if (k->pending == 0x60) /* the new command byte */
                        k->ctr = v;
                /* Other data is for a keyboard or mouse, and there is none (i8042.nokbd/noaux):
                 * nothing answers, as with an empty port. */
                k->pending = 0;
                return false;
        }
        k->last_cmd = true;
        k->pending = 0;
        switch (v) {
        case 0x20: put_out(k, k->ctr); break; /* read the command byte */
        case 0x60: k->pending = 0x60; break;  /* write it: the next data byte */
        case 0xa7: k->ctr |= 0x20; break;     /* disable the aux port */
        case 0xa8: k->ctr &= ~0x20; break;    /* enable it */
        case 0xa9: put_out(k, 0x00); break;   /* aux interface test: passed */
        case 0xaa: put_out(k, 0x55); break;   /* controller self test: passed */
        case 0xab: put_out(k, 0x00); break;   /* keyboard interface test: passed */
        case 0xad: k->ctr |= 0x10; break;     /* disable the keyboard port */
        case 0xae: k->ctr &= ~0x10; break;    /* enable it */
        case 0xfe: return true;               /* pulse the reset line */
        default: break;
        }
        return false;
}
