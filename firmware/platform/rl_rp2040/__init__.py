"""RP2040 platform port: the two ways RPMsg-Lite links the cores.

(a) Both cores run MicroPython (rl_rp2040_dual): core 1 is the one extra
    _thread, sharing the heap. Shared memory is an aligned bytearray;
    doorbells are single-writer counters in a shared array plus a _thread
    lock that wakes core 1's loop and, optionally, a PIO IRQ that makes
    core 0 service them in scheduler context. The SIO FIFO is never
    touched: MicroPython's multicore lockout owns it (pico-sdk
    multicore.c multicore_lockout_handler; MicroPython
    ports/rp2/mpthreadport.c mp_thread_init).

        import rl_rp2040 as rp
        def core1_main(side):             # runs on core 1
            link = side.remote()
            link.create_ept(30, on_message)
        dual = rp.DualCore(Config(buffer_count=4), pio=rp.PioDoorbell(1, 3))
        dual.start_core1(core1_main)
        master = dual.core0.master()       # kicks core 1: link up
        ...
        dual.deinit()                      # core 1's loop returns

(b) Core 1 runs other firmware, e.g. C RPMsg-Lite (fifo.FifoMailbox):
    launched from Python through the boot ROM's FIFO handshake, doorbells
    are 32-bit FIFO words (each followed by SEV), polled on core 0 with
    core 0's SIO FIFO IRQ masked for as long as the mailbox lives. _thread
    cannot be used then.

    Where core-1 code lives: a stock RP2040 MicroPython gives all striped
    RAM to the GC heap and SCRATCH_X/Y to the stacks (MicroPython
    ports/rp2/memmap_mp_rp2040.ld), so the firmware goes into a pinned,
    256-byte aligned heap buffer that the mailbox keeps alive:
    launch_image() takes an image linked at 0 and relocates its vector
    table (boards/rpi_pico/core1_echo builds one); launch_core1(entry, sp, vtor,
    ram=buf) takes firmware linked for an address inside ``buf``.

        box = rp.FifoMailbox(config)         # masks NVIC bit 15
        box.launch_image(open("core1.bin", "rb").read())
        box.post(rp.address_of(shm))         # e.g. tell it where shm is
        link = box.master(shm)
        while True: box.wait(10)             # or box.service() in a loop
        box.deinit()                         # IRQ back to MicroPython

    FIFO word format, both directions: the RPMsg-Lite vector id
    (link_id << 1) | vring (rpmsg-lite RL_GET_VQ_ID), one word per
    notification. A C peer's side, with pico-sdk names:
        void platform_notify(uint32_t v) { if (multicore_fifo_wready()) sio_hw->fifo_wr = v; }
        void isr_sio_proc1(void) { while (multicore_fifo_rvalid()) env_isr(sio_hw->fifo_rd);
                                    multicore_fifo_clear_irq(); }
    Words above 0xFFFF are not vector ids and are counted as foreign.

RP2350: bell.BellMailbox uses its SIO doorbells instead of the FIFO (no
IRQ masking needed). FifoMailbox refuses to run there.

Needs MicroPython >= 1.25 on the board (checked here at import: see
hw.check_micropython). Importing this on the board also gives core 0's
SIO FIFO IRQ back if a FifoMailbox of the previous session left it masked
(fifo.recover_sio_irq).

Hardware facts and their sources: the hw module. Nothing here has run on
a chip: everything is tested against register models
(host_tests/portable/model_rp2040.py); boards/rpi_pico/selftest.py checks
the facts on a board.
"""

import sys

from . import hw

hw.check_micropython()  # first: refuse old firmware before anything else runs

from .hw import pinned_buffer  # noqa: F401,E402
from .dual import DualCore, CoreSide, PioDoorbell  # noqa: F401,E402
from .fifo import FifoMailbox, launch_core1, reset_core1, check_launch_words  # noqa: F401,E402
from .fifo import recover_sio_irq, relocate_image, core1_runs_micropython  # noqa: F401,E402
from .bell import BellMailbox  # noqa: F401,E402

if sys.platform == "rp2" and not hw.is_rp2350():
    recover_sio_irq()


def address_of(buf):
    """The address of a buffer (uctypes.addressof), e.g. to hand the shared
    memory's location to core-1 firmware."""
    import uctypes

    return uctypes.addressof(buf)
