"""RP2350 only: the SIO doorbells as the mailbox between MicroPython on one
core and other firmware (e.g. C RPMsg-Lite) on the other.

Why: on the RP2350 the SIO has 8 doorbell bits per direction (pico-sdk
rp2350 hardware/regs/sio.h DOORBELL_*, intctrl.h SIO_IRQ_BELL):
writing 1s to DOORBELL_OUT_SET sets them in the other core's DOORBELL_IN,
raising its SIO_IRQ_BELL (26); the receiver clears them by writing 1s to
DOORBELL_IN_CLR. Neither the SDK nor MicroPython uses them, and they are
not on the FIFO's IRQ (25), which MicroPython's lockout handler owns
(MicroPython 1.25 ports/rp2/mpthreadport.c mp_thread_init ->
multicore_lockout_victim_init). So unlike rl_rp2040_fifo this mailbox masks nothing and
never touches the FIFO: flash-write lockouts keep working unchanged.
Python cannot attach a handler to IRQ 26, so receiving is polling:
service() / wait(ms).

Bit format: bit v is the RPMsg-Lite vector id v = (link_id << 1) | vring
(RL_GET_VQ_ID; docs/protocol.md#link-up), so vectors 0..7: links 0..3. A C peer (pico-sdk
names):
    platform_notify(v):  sio_hw->doorbell_out_set = 1u << v;
    SIO_IRQ_BELL ISR:    uint32_t b = sio_hw->doorbell_in_clr;
                         sio_hw->doorbell_in_clr = b;
                         for each set bit v of b: env_isr(v);
A ring is a level, not a count: ringing a bit that is already set merges
with the pending one, which is harmless (a notification means "look at
this vring" and the receiver drains it). Bits are cleared before their
vector is delivered, so a ring during delivery is seen next time. Bits of
links not attached yet stay set until they are (the master's single init
kick must not be lost: docs/protocol.md#link-up).

Erratum RP2350-E2 (RP2350 datasheet errata; pico-sdk PR 2645): writes to SIO offsets 0x180 and up (these
doorbell registers included) alias onto hardware spinlock releases.
MicroPython on the RP2350 builds the SDK with software spinlocks
(PICO_USE_SW_SPIN_LOCKS = 1 in pico-sdk hardware/sync/spin_lock.h, not
overridden in ports/rp2), so it holds no
hardware spinlock these writes could release; firmware on the other core
that uses hardware spinlocks must stick to the E2-safe ones (5, 6, 7, 10,
11, 18-31), and so must Python code claiming spinlocks through mem32.

Launching the other core is not provided here: it has not been checked
against the RP2350's PSM (at 0x40018000, FRCE_OFF.PROC1 = bit 24 per
pico-sdk rp2350 psm.h) on a chip.
"""

from micropython import const

from rpmsg_lite.port import Port, WRAP
from rpmsg_lite.vring import route as _route
from . import hw

_BITS = const(8)


class BellMailbox(Port):
    """The MicroPython core's port (a ``rpmsg_lite.port.Port``) over the
    RP2350 SIO doorbells.

    config  rpmsg_lite Config of the links (default Config()).
    regs    register accessor (default rl_regs.HW).
    idle    called between polls while waiting (default sleep_ms(0)).
    """

    def __init__(self, config=None, regs=None, idle=None):
        config, regs = hw.port_defaults(config, regs)
        Port.__init__(self, config)
        self._regs = regs
        if idle is not None:
            self.idle = idle
        self._out_set = hw.DOORBELL_OUT_SET
        self._in_clr = hw.DOORBELL_IN_CLR
        self._attached = 0  # bit v set: vector v has a link to go to
        self._closed = False
        self.notified = 0
        self.received = 0

    def notify(self, vector_id):
        if not 0 <= vector_id < _BITS:
            raise ValueError("doorbells carry vectors 0..7 (links 0..3), not %r" % (vector_id,))
        self._regs.write(self._out_set, 1 << vector_id)
        self.notified = (self.notified + 1) & WRAP

    def attach(self, link):
        if self._closed:
            raise ValueError("the mailbox was deinitialised")
        if not 0 <= link.link_id < _BITS // 2:
            raise ValueError("doorbells carry links 0..3, not %d" % link.link_id)
        Port.attach(self, link)
        self._attached |= 3 << (2 * link.link_id)

    def detach(self, link):
        if self.links.get(link.link_id) is link:
            Port.detach(self, link)
            self._attached &= ~(3 << (2 * link.link_id))

    def service(self):
        """Deliver the rung doorbells of attached links. Allocation-free."""
        regs = self._regs
        bits = regs.field(self._in_clr, 0, _BITS) & self._attached
        if not bits:
            return 0
        regs.write(self._in_clr, bits)  # clear first: a ring during delivery stays set
        done = 0
        v = 0
        while bits:
            if bits & 1:
                link = self.links.get(v >> 1)
                if link is not None:
                    _route(self._routes, v)  # (its link: drain() straight away)
                    done += 1
            bits >>= 1
            v += 1
        self.received = (self.received + done) & WRAP
        return done

    def pending(self):
        """Doorbell bits set for us, delivered or not (e.g. for unattached links)."""
        return self._regs.field(self._in_clr, 0, _BITS)

    def deinit(self):
        if self._closed:
            return
        self._closed = True
        Port.deinit(self)
        self._attached = 0



    def stats(self):
        return {"notified": self.notified, "received": self.received, "pending": self.pending()}

