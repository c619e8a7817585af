// Reset and vector table of this project's bare-metal C firmware for one
// core of QEMU mps2-an521 (linked with ../core0.ld or ../core1.ld). There
// are no interrupt handlers: PRIMASK is set before anything else, and
// every wait sleeps in WFI and polls (an521.c), so the table stops at the
// system exceptions and any fault just stops the core.
#include <stdint.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

static void halt(void) {
    for (;;) {
        __asm volatile ("wfi");
    }
}

void Reset_Handler(void) {
    __asm volatile ("cpsid i" ::: "memory");
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    main();
    halt();
}

__attribute__((section(".isr_vector"), used))
const void *const vectors[16] = {
    &_estack, (void *)Reset_Handler, (void *)halt, (void *)halt, (void *)halt, (void *)halt, (void *)halt, 0,
    0, 0, 0, (void *)halt, (void *)halt, 0, (void *)halt, (void *)halt,
};
