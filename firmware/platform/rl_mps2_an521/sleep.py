"""WFI sleep of one mps2-an521 core as inline Thumb code (the WFI
instruction has no Python spelling). Compiles only where
@micropython.asm_thumb exists: the board's firmware."""

import micropython


@micropython.asm_thumb
def sleep(r0, r1):
    # r0: this core (0/1), r1: SysTick reload in ticks. Sleeps in WFI until
    # this core's MHU0 STAT is non-zero (returned) or SysTick wraps
    # (returns 0). PRIMASK is set (boards/qemu_mps2_an521/uart_an521.c):
    # the MHU IRQ (enabled in the NVIC) and SysTick pend without being
    # taken, which is enough to end WFI. STAT is read again before every
    # WFI, so a ring between the read and the WFI leaves the IRQ pending and
    # WFI returns at once.
    lsl(r0, r0, 4)
    movwt(r2, 0x50003000)
    add(r0, r0, r2)  # &CPUnINTR_STAT
    movwt(r3, 0xE000E010)  # SYST_CSR; RVR +4, CVR +8
    str(r1, [r3, 4])
    mov(r2, 0)
    str(r2, [r3, 8])  # any write clears the counter and COUNTFLAG
    mov(r2, 7)  # ENABLE | TICKINT | CLKSOURCE (processor clock)
    str(r2, [r3, 0])
    label(loop)
    ldr(r1, [r0, 0])
    cmp(r1, 0)
    bne(done)
    ldr(r2, [r3, 0])  # reading CSR returns and clears COUNTFLAG (bit 16)
    lsr(r2, r2, 16)
    mov(r1, 1)
    and_(r2, r1)
    cmp(r2, 0)
    bne(timeout)
    wfi()
    b(loop)
    label(timeout)
    mov(r1, 0)
    label(done)
    mov(r2, 0)
    str(r2, [r3, 0])  # SysTick off
    movwt(r3, 0xE000ED04)  # ICSR: PENDSTCLR (bit 25), or WFI elsewhere
    mov(r2, 1)  # (the UART wait) would never sleep again
    lsl(r2, r2, 25)
    str(r2, [r3, 0])
    mov(r0, r1)
