// Waiting, doorbells, output, timer and test pattern of this project's C
// firmware for QEMU mps2-an521 (declared in an521.h).
#include <stddef.h>
#include <string.h>
#include "an521.h"

void env_isr(uint32_t vector);
uint32_t an521_enabled_vectors(void);

uint32_t an521_sleep(uint32_t ms) {
    uint32_t me = core_id();
    uint32_t stat;
    NVIC_ISER0 = 1u << MHU_IRQ;  // may pend (and end WFI); never taken (PRIMASK)
    SYST_RVR = ms * TICKS_PER_MS;
    SYST_CVR = 0;  // clears the counter and COUNTFLAG
    SYST_CSR = 7;  // ENABLE | TICKINT | CLKSOURCE = processor clock
    for (;;) {
        stat = MHU_STAT(me);
        if (stat) {
            break;
        }
        if (SYST_CSR & (1u << 16)) {  // COUNTFLAG, cleared by this read
            break;
        }
        __asm volatile ("wfi" ::: "memory");
    }
    SYST_CSR = 0;
    ICSR = ICSR_PENDSTCLR;  // else the next WFI would not sleep
    return stat;
}

uint32_t an521_poll(void) {
    uint32_t me = core_id();
    uint32_t bits = MHU_STAT(me) & an521_enabled_vectors();
    uint32_t done = 0;
    if (!bits) {
        return 0;
    }
    // The MHU bits before the NVIC pending bit: in the other order the
    // still-high level pends the IRQ again and WFI stops sleeping.
    MHU_CLR(me) = bits;
    NVIC_ICPR0 = 1u << MHU_IRQ;
    for (uint32_t v = 0; bits; v++, bits >>= 1) {
        if (bits & 1u) {
            env_isr(v);
            done++;
        }
    }
    return done;
}

uint32_t an521_wait(uint32_t ms) {
    uint32_t done = an521_poll();
    if (done) {
        return done;
    }
    if (an521_sleep(ms)) {
        return an521_poll();
    }
    return 0;
}

void an521_start_core1(void) {
    if (CPUWAIT & 2u) {
        INITSVTOR1 = CORE1_VTOR;
        CPUWAIT = CPUWAIT & ~2u;
    }
}

void out(const char *s) {
    // Semihosting SYS_WRITE0 (0x04): r1 points at a NUL-terminated string.
    register uint32_t r0 __asm__("r0") = 0x04;
    register const char *r1 __asm__("r1") = s;
    __asm volatile ("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void out_u32(uint32_t v) {
    char buf[12];
    int i = sizeof(buf) - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out(&buf[i]);
}

void out_kv(const char *key, uint32_t v, int last) {
    out("\"");
    out(key);
    out("\": ");
    out_u32(v);
    out(last ? "}\n" : ", ");
}

void timer_restart(void) {
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1;
}

uint32_t timer_ticks(void) {
    return 0xFFFFFFFFu - TIMER0_VALUE;
}

uint32_t pattern_len(uint32_t seq) {
    return 4u + (seq * 37u) % 493u;
}

void pattern_fill(uint8_t *buf, uint32_t seq, uint32_t len) {
    buf[0] = (uint8_t)seq;
    buf[1] = (uint8_t)(seq >> 8);
    buf[2] = (uint8_t)(seq >> 16);
    buf[3] = (uint8_t)(seq >> 24);
    for (uint32_t i = 4; i < len; i++) {
        buf[i] = (uint8_t)(seq * 7u + i);
    }
}

int pattern_ok(const uint8_t *buf, uint32_t len, uint32_t *seq) {
    if (len < 4u) {
        return 0;
    }
    uint32_t s = buf[0] | (buf[1] << 8) | (buf[2] << 16) | ((uint32_t)buf[3] << 24);
    *seq = s;
    for (uint32_t i = 4; i < len; i++) {
        if (buf[i] != (uint8_t)(s * 7u + i)) {
            return 0;
        }
    }
    return 1;
}

// The C library calls printf only on an error path (virtqueue.c, through
// env_print); print the format string.
int printf(const char *fmt, ...) {
    out(fmt);
    return 0;
}

// Freestanding: the compiler may call these for copies and clears.
void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x - *y;
        }
    }
    return 0;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (uint8_t)*a - (uint8_t)*b;
}
