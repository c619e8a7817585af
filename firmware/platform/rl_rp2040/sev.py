# pyright: reportUndefinedVariable=false
# (the body below is inline assembler: data, mov and r0 are its names)
"""SEV (send event) for the core-1 launch handshake, as inline Thumb code.

Core 1's boot ROM waits for each launch word in WFE and looks at its FIFO
only after an event (pico-bootrom-rp2040 bootrom_rt0.S L381-386), so the
sender issues SEV after every FIFO write, as pico-sdk's
multicore_fifo_push_blocking does (pico/multicore.h L189-192). MicroPython's
inline assembler has no sev() mnemonic (only nop and wfi among the hints:
py/emitinlinethumb.c), so the instruction is emitted with data(): SEV is
the 16-bit Thumb hint 0xBF40 (ARMv6-M Architecture Reference Manual, SEV,
encoding T1; the neighbouring hints NOP 0xBF00 and WFI 0xBF30 are what
MicroPython's asmthumb.h emits).

A separate module because @micropython.asm_thumb only compiles where the
inline Thumb assembler exists (rp2 enables it: MicroPython 1.25
ports/rp2/mpconfigport.h L105); the port
imports this lazily, and tests inject their own sev().
"""

import micropython


@micropython.asm_thumb
def sev():
    data(2, 0xBF40)  # noqa: F821 (SEV)
    mov(r0, 0)  # noqa: F821 (MOVS r0, #0: return 0, not a leftover large int)
