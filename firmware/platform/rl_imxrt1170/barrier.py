# pyright: reportUndefinedVariable=false
# (the bodies below are inline assembler: data, mov and r0 are its names)
"""Memory barriers for the i.MX RT1170 port, as inline Thumb-2 machine code.

MicroPython's inline assembler has no DSB/ISB mnemonics, so the
instructions are emitted as raw halfwords with the data() directive
(MicroPython 1.25 docs/reference/asm_thumb2_directives.rst).
Encodings (32-bit Thumb-2, first halfword first):
    DSB SY = 0xF3BF 0x8F4F      ISB SY = 0xF3BF 0x8F6F
taken from the LLVM assembler's encoding tests (test/MC/ARM/
basic-thumb2-instructions.s: "dsb sy" -> bytes bf f3 4f 8f, "isb sy" ->
bf f3 6f 8f). Not in the project docs: check against the ARMv7-M
Architecture Reference Manual (DSB, ISB) before relying on a new build.

This file is its own module because it only compiles where MicroPython
has the inline Thumb assembler (MICROPY_EMIT_INLINE_THUMB, enabled on
mimxrt: MP125 ports/mimxrt/mpconfigport.h L49). Elsewhere (the unix port)
importing it raises SyntaxError ("invalid micropython decorator"); on
CPython the shim's asm_thumb makes calls raise NotImplementedError.
rl_imxrt1170_soc.load_barriers() handles both.

Each function sets r0 to 0 before returning: an asm_thumb function returns
r0 as an int, and a leftover large value would allocate a long int.
"""

import micropython


@micropython.asm_thumb
def dsb():
    data(2, 0xF3BF, 0x8F4F)  # DSB SY: earlier memory accesses complete first
    mov(r0, 0)


@micropython.asm_thumb
def dsb_isb():
    data(2, 0xF3BF, 0x8F4F)  # DSB SY
    data(2, 0xF3BF, 0x8F6F)  # ISB SY: refetch with the new MPU settings
    mov(r0, 0)
