// The UART of one core of QEMU's mps2-an521, for MicroPython's ports/qemu
// (which calls uart_init, uart_rx_chr and uart_tx_strn, see its uart.h).
//
// Core n talks on CMSDK APB UART n at 0x40200000 + n * 0x1000, the n-th
// -serial of QEMU; its RX interrupt is IRQ 32 + 2n (QEMU hw/arm/mps2-tz.c,
// the an521 UART table; README "Emulated dual-core board").
// CMSDK UART registers (ARM CMSDK technical reference, APB UART): DATA +0,
// STATE +4 (bit 0 TX full, bit 1 RX full), CTRL +8 (bit 0 TX enable, bit 1
// RX enable, bit 3 RX interrupt enable), INTSTATUS/INTCLEAR +0xC (bit 1 RX),
// BAUDDIV +0x10.
//
// Why not ports/qemu's own MPS2 UART code: it drives 0x40004000 (MHU1 on
// this machine) and its stdin spins. Under -icount QEMU runs the two cores
// in turn on one host thread, so a core spinning for a key keeps the other
// core off the CPU; here a core without input sleeps in WFI until its UART
// has a byte. The firmware has no interrupt handlers (ports/qemu's vector
// table stops at SysTick), so PRIMASK stays set: an enabled, pending IRQ
// wakes WFI without being taken (ARMv8-M architecture reference, WFI
// wake-up events), and the code that wanted it polls its source.

#include <stdint.h>
#include <stddef.h>

#include "uart.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART_BASE (0x40200000u + 0x1000u * AN521_CORE)
#define UART_DATA REG(UART_BASE + 0x0)
#define UART_STATE REG(UART_BASE + 0x4)
#define UART_CTRL REG(UART_BASE + 0x8)
#define UART_INTCLEAR REG(UART_BASE + 0xC)
#define UART_BAUDDIV REG(UART_BASE + 0x10)
#define STATE_TXFULL (1u << 0)
#define STATE_RXFULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INTEN (1u << 3)
#define INT_RX (1u << 1)

#define UART_RX_IRQ (32u + 2u * AN521_CORE)
// NVIC (ARMv8-M: ISER at 0xE000E100, ICER +0x80, ICPR +0x180; one word per 32 IRQs).
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) REG(0xE000E280u + 4u * (n))

void uart_init(void) {
    __asm volatile ("cpsid i" ::: "memory");
    UART_BAUDDIV = 16;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
    NVIC_ISER(UART_RX_IRQ / 32) = 1u << (UART_RX_IRQ % 32);
}

int uart_rx_chr(void) {
    if (UART_STATE & STATE_RXFULL) {
        int c = UART_DATA;
        // The source first, then the NVIC: the other order leaves the IRQ
        // pending (QEMU re-pends a level that is still high) and WFI would
        // never sleep again.
        UART_INTCLEAR = INT_RX;
        NVIC_ICPR(UART_RX_IRQ / 32) = 1u << (UART_RX_IRQ % 32);
        return c;
    }
    // Sleep until a byte arrives. Other interrupts the Python code enabled
    // (the MHU doorbell) are masked meanwhile: a doorbell rung while the
    // REPL waits for a key is left for the platform port to find (the MHU
    // keeps it), instead of turning this wait into a spin.
    uint32_t others = NVIC_ISER(0);
    NVIC_ICER(0) = others;
    __asm volatile ("dsb\n isb" ::: "memory");
    if (!(UART_STATE & STATE_RXFULL)) {
        __asm volatile ("wfi" ::: "memory");
    }
    NVIC_ISER(0) = others;
    return UART_RX_NO_CHAR;
}

void uart_tx_strn(const char *buf, size_t len) {
    for (size_t i = 0; i < len; ++i) {
        while (UART_STATE & STATE_TXFULL) {
        }
        UART_DATA = buf[i];
    }
}
