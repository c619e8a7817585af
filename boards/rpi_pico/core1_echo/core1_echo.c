/*
 * Example core-1 program for the RP2040 FIFO mailbox (rl_rp2040.FifoMailbox).
 *
 * It answers every word core 0 pushes into its SIO FIFO with the same word,
 * exactly as pico-sdk's multicore_fifo_pop_blocking / push_blocking would:
 * wait with WFE until FIFO_ST.VLD, pop; wait with WFE until FIFO_ST.RDY,
 * push, then SEV so a core 0 that waits in WFE wakes (pico-sdk 2.1.1
 * pico/multicore.h L184-193). No SDK and no C library: register addresses
 * are pico-sdk's hardware/regs/addressmap.h L77 (SIO_BASE) and sio.h
 * L257-308 (FIFO_ST/WR/RD, VLD bit 0, RDY bit 1).
 *
 * Where it runs: a stock RP2040 MicroPython gives all striped RAM to the GC
 * heap, so the port copies this image into a pinned heap buffer
 * (FifoMailbox.launch_image). The image is therefore linked at address 0
 * and position-independent: the code refers to nothing of its own by
 * address (only the SIO registers, absolute by nature), and the loader adds
 * the buffer's address to the non-zero vector-table words. build.py checks
 * this by linking at two addresses and comparing.
 *
 * Build: python3 boards/rpi_pico/core1_echo/build.py (needs Debian's
 * gcc-arm-none-eabi); the tests build it too.
 */
#include <stdint.h>

#define SIO_BASE 0xd0000000u
#define SIO_FIFO_ST (*(volatile uint32_t *)(SIO_BASE + 0x50u))
#define SIO_FIFO_WR (*(volatile uint32_t *)(SIO_BASE + 0x54u))
#define SIO_FIFO_RD (*(volatile uint32_t *)(SIO_BASE + 0x58u))
#define FIFO_VLD 0x1u
#define FIFO_RDY 0x2u

static inline void wfe(void) { __asm volatile("wfe"); }
static inline void sev(void) { __asm volatile("sev"); }

void __attribute__((noreturn)) core1_main(void)
{
    for (;;) {
        while (!(SIO_FIFO_ST & FIFO_VLD))
            wfe();
        uint32_t word = SIO_FIFO_RD;
        while (!(SIO_FIFO_ST & FIFO_RDY))
            wfe();
        SIO_FIFO_WR = word;
        sev();
    }
}

/* NMI and HardFault: park the core (it never takes interrupts). */
void __attribute__((noreturn)) core1_halt(void)
{
    for (;;)
        wfe();
}

extern uint32_t __stack_top[];

/* ARMv6-M vector table: initial SP, reset, NMI, HardFault, then unused. */
__attribute__((section(".vectors"), used)) const uintptr_t core1_vectors[16] = {
    (uintptr_t)__stack_top,
    (uintptr_t)core1_main,
    (uintptr_t)core1_halt,
    (uintptr_t)core1_halt,
};
