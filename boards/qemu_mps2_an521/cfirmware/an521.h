// Bare-metal helpers for one Cortex-M33 core of QEMU's mps2-an521, used by
// this project's C firmware around NXP's RPMsg-Lite (remote.c, master.c).
//
// Register facts, as in firmware/platform/rl_mps2_an521 (QEMU 7.2 sources:
// hw/arm/armsse.c, hw/misc/armsse-mhu.c, hw/misc/iotkit-sysctl.c,
// hw/misc/armsse-cpuid.c, hw/arm/mps2-tz.c; ARMv8-M architecture reference
// for NVIC, SysTick and WFI).
#ifndef AN521_H
#define AN521_H

#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define SHM_BASE 0x30000000u          // SSE-200 internal SRAM, secure alias
#define SHM_SIZE 0x20000u             // 4 banks of 32 KiB
#define CORE1_VTOR 0x10200000u        // core 1's code (sections.ld, core1.ld)

#define CPU_IDENTITY REG(0x5001F000u) // 0 on core 0, 1 on core 1
#define INITSVTOR1 REG(0x50021114u)   // core 1's secure VTOR at reset
#define CPUWAIT REG(0x50021118u)      // bit n: CPU n held at reset

// MHU0: CPUnINTR_STAT/SET/CLR at +0x10 * n + 0/4/8; STAT != 0 raises IRQ 6
// on CPU n, a level that stays high until CPU n clears the bits.
#define MHU0 0x50003000u
#define MHU_STAT(n) REG(MHU0 + 0x10u * (n))
#define MHU_SET(n) REG(MHU0 + 0x10u * (n) + 4u)
#define MHU_CLR(n) REG(MHU0 + 0x10u * (n) + 8u)
#define MHU_IRQ 6u

#define NVIC_ISER0 REG(0xE000E100u)
#define NVIC_ICPR0 REG(0xE000E280u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define ICSR REG(0xE000ED04u)
#define ICSR_PENDSTCLR (1u << 25)
#define TICKS_PER_MS 20000u           // SysTick on the 20 MHz SYSCLK

// SSE-200 timer 0 (CMSDK APB timer: CTRL +0, VALUE +4, RELOAD +8), 20 MHz
// of virtual time: with -icount shift=0 one tick is 50 instructions, of
// both cores together (they share the virtual clock).
#define TIMER0_CTRL REG(0x50000000u)
#define TIMER0_VALUE REG(0x50000004u)
#define TIMER0_RELOAD REG(0x50000008u)
#define INSTRUCTIONS_PER_TICK 50u

static inline uint32_t core_id(void) {
    return CPU_IDENTITY & 1u;
}

// Sleep in WFI until this core's MHU0 bits are non-zero (returned) or ms
// pass (returns 0). PRIMASK is set: the enabled MHU IRQ and SysTick pend
// without being taken, which ends WFI; STAT is read again before each WFI,
// so a ring in between is not missed (the IRQ is then already pending).
uint32_t an521_sleep(uint32_t ms);
// Deliver this core's rung doorbells to RPMsg-Lite (env_isr); returns the
// number of vectors delivered.
uint32_t an521_poll(void);
// an521_poll(), or sleep up to ms and then poll.
uint32_t an521_wait(uint32_t ms);
void an521_start_core1(void);

// Output through semihosting (SYS_WRITE0): it ends up on QEMU's stdout,
// whichever core writes, without a UART or a pty.
void out(const char *s);
void out_u32(uint32_t v);
void out_kv(const char *key, uint32_t v, int last);

void timer_restart(void);
uint32_t timer_ticks(void);

// The test traffic both masters (C and MicroPython) send: payload[0:4] is
// the sequence number (little endian), byte i >= 4 is (seq * 7 + i) & 0xFF;
// stress lengths are 4 + (seq * 37) % 493, i.e. 4..496 bytes.
uint32_t pattern_len(uint32_t seq);
void pattern_fill(uint8_t *buf, uint32_t seq, uint32_t len);
int pattern_ok(const uint8_t *buf, uint32_t len, uint32_t *seq);

// Endpoints of the echo remote (remote.c and boards/qemu_mps2_an521/an521_echo.py)
#define EPT_ECHO 30u     // echoes with rpmsg_lite_send, announced as "rpmsg-echo"
#define EPT_CHECKED 31u  // checks pattern and sequence, echoes zero-copy
#define EPT_STATS 32u    // answers 4 words: checked, bad, echoed, held at most
#define EPT_STOP 33u     // a MicroPython remote returns to its REPL (the C remote has none)

#endif
