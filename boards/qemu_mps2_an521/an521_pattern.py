# The test traffic of the dual-core scenarios, byte for byte as the C
# firmware makes and checks it (cfirmware/an521.c pattern_*): payload[0:4]
# is the sequence number (little endian), byte i >= 4 is (seq * 7 + i) &
# 0xFF; stress lengths are 4 + (seq * 37) % 493, i.e. 4..496 bytes. Viper:
# filling and checking a message costs tens of instructions, not thousands.

import micropython


def length(seq):
    return 4 + (seq * 37) % 493


@micropython.viper
def fill(buf, seq: int, n: int):
    p = ptr8(buf)
    p[0] = seq
    p[1] = seq >> 8
    p[2] = seq >> 16
    p[3] = seq >> 24
    base = seq * 7
    i = 4
    while i < n:
        p[i] = base + i
        i += 1


@micropython.viper
def check(buf, n: int) -> int:
    """The message's sequence number, or -1 if the pattern is broken."""
    if n < 4:
        return -1
    p = ptr8(buf)
    seq = p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)
    base = seq * 7
    i = 4
    while i < n:
        if p[i] != ((base + i) & 0xFF):
            return -1
        i += 1
    return seq


# SSE-200 timer 0 (CMSDK APB timer: CTRL +0, VALUE +4, RELOAD +8) counts
# virtual time at 20 MHz; with -icount shift=0 one tick is 50 instructions,
# both cores' together (QEMU hw/arm/armsse.c, hw/timer/cmsdk-apb-timer.c).
INSTRUCTIONS_PER_TICK = 50


@micropython.viper
def timer_restart():
    t = ptr32(0x50000000)
    t[0] = 0
    t[2] = -1
    t[1] = -1
    t[0] = 1


@micropython.viper
def timer_ticks() -> int:
    return int(uint(0xFFFFFFFF) - uint(ptr32(0x50000004)[0]))
