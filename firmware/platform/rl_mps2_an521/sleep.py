"""WFI sleep of one mps2-an521 core as inline Thumb code (the WFI
instruction has no Python spelling). Compiles only where
@micropython.asm_thumb exists: the board's firmware."""

import micropython


@micropython.asm_thumb
def sleep(r0, r1):
    # r0: this core (0/1), r1: SysTick reload in ticks. Sleeps in WFI until
    # this core's MHU0 STAT is non-zero or SysTick wraps. Returns
    # STAT (0 on a timeout) | wakeups << 4, wakeups being how many times WFI
    # returned (at most 0xFFFF counted): about one per call unless something
    # keeps waking the core, which the tests check. PRIMASK is set (boards/qemu_mps2_an521/uart_an521.c):
    # the MHU IRQ (enabled in the NVIC) and SysTick pend without being
    # taken, which is enough to end WFI. STAT is read again before every
    # WFI, so a ring between the read and the WFI leaves the IRQ pending and
    # WFI returns at once. IRQs 32-63 (the UARTs' RX: a byte left by a host
    # tool while a script runs) are disabled meanwhile (NVIC ICER1, then
    # ISER1 restored), or a pending byte would turn this sleep into a spin
    # that, under -icount, starves the other core.
    movwt(r4, 0xE000E104)  # NVIC ISER1
    ldr(r5, [r4, 0])
    movwt(r6, 0xE000E184)  # NVIC ICER1
    str(r5, [r6, 0])
    mov(r7, 0)  # wakeups
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
    movw(r2, 0xFFFF)
    cmp(r7, r2)
    bge(loop)
    add(r7, r7, 1)
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
    str(r5, [r4, 0])  # UART IRQs enabled again
    lsl(r7, r7, 4)
    orr(r1, r7)
    mov(r0, r1)
