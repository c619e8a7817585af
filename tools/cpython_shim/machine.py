"""CPython stand-in for the parts of MicroPython's ``machine`` module the
firmware uses: raw memory access and interrupt masking.

``mem8/mem16/mem32`` go through the *current* address space (looked up on
every access, so ``set_address_space`` / ``use_address_space`` take effect
immediately), where tests map RAM and register models.
"""

import operator
import threading
import time as _time

from _address_space import (AddressSpace, AlignmentFault, BusFault,  # noqa: F401 (re-exported)
                            get_address_space, set_address_space, use_address_space)


class _Mem:
    """``machine.memNN[addr]`` read / ``machine.memNN[addr] = value`` write.

    As in MicroPython the address is truncated to 32 bits, a misaligned
    address raises ValueError (AlignmentFault is both a BusFault and a
    ValueError) and stored values are truncated to the width.  Difference:
    reads are always unsigned, whereas MicroPython's mem32 returns a signed
    int for values >= 2**31 on 32-bit ports.  Mask with 0xFFFFFFFF in
    firmware when the sign matters, so both behave alike.
    """

    __slots__ = ("_width",)

    def __init__(self, width):
        self._width = width

    def __getitem__(self, addr):
        return get_address_space().read(operator.index(addr) & 0xFFFFFFFF, self._width)

    def __setitem__(self, addr, value):
        get_address_space().write(operator.index(addr) & 0xFFFFFFFF, self._width, value)

    def __repr__(self):
        return "<%d-bit memory>" % (8 * self._width)


mem8 = _Mem(1)
mem16 = _Mem(2)
mem32 = _Mem(4)


# --- interrupts -------------------------------------------------------------
# There are no interrupts on the host, but tests want to check that every
# disable_irq() is matched by enable_irq() in LIFO order.  The depth is kept
# per thread because host tests run each simulated core in its own thread
# and every core has its own PRIMASK.

_irq_state = threading.local()


def _irq_depth():
    """Number of disable_irq() calls not yet matched in this thread."""
    return getattr(_irq_state, "depth", 0)


def disable_irq():
    """Returns the state token to hand back to enable_irq (here: the nesting
    depth before this call; on target: the previous PRIMASK)."""
    depth = _irq_depth()
    _irq_state.depth = depth + 1
    return depth


def enable_irq(state):
    depth = _irq_depth()
    if depth == 0:
        raise RuntimeError("enable_irq() without a matching disable_irq()")
    if state != depth - 1:
        raise RuntimeError("enable_irq(%r) out of order: innermost disable_irq() returned %d"
                           % (state, depth - 1))
    _irq_state.depth = state


# --- misc -------------------------------------------------------------------

def idle():
    """Wait for an interrupt: on the host, just let other threads run."""
    _time.sleep(0)


def freq(hz=None):
    """RP2040 default clock.  Setting the frequency is accepted and ignored."""
    if hz is None:
        return 125_000_000
    return None


def unique_id():
    return b"\x00" * 8


def reset():
    raise SystemExit("machine.reset()")


def soft_reset():
    raise SystemExit("machine.soft_reset()")
