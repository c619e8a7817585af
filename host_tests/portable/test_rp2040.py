"""RP2040 port (firmware/platform/rl_rp2040*.py) against the register models
of model_rp2040.py, with both cores simulated: core 1 is this project's
RPMsgLite stack on the other side of the model, standing for C firmware in
mode (b) (model_rp2040.CFirmware) and for the core-1 thread in mode (a).
Deterministic: nothing runs unless a test (or a port's idle hook) steps it;
only the core-1 loop tests start a real thread."""

import micropython

from rpmsg_lite import env as rl_env
import rl_rp2040 as rp
from rpmsg_lite.port import Port
from rl_rp2040 import DualCore, FifoMailbox, PioDoorbell, BellMailbox, launch_core1
from rpmsg_lite import Config, NameService, RPMsgLite, DONT_BLOCK, HOLD
from model_rp2040 import (
    RP2040,
    CFirmware,
    LOCKOUT_MAGIC_START,
    LOCKOUT_MAGIC_END,
    FIFO_ST,
    FIFO_WR,
    FIFO_RD,
    NVIC_ISER,
    NVIC_ICER,
    NVIC_ICPR,
    PSM_FRCE_OFF,
    PSM_PROC1,
    PIO_BASES,
    SIO_BASE,
    VLD,
    RDY,
    WOF,
    ROE,
)
from linkpair import Counter, Inbox, pattern
from support import IS_MICROPYTHON, raises, skip

ENTRY = 0x20010001  # Thumb bit set
SP = 0x20012000
VTOR = 0x20010000
BIT15 = 1 << 15
BIT16 = 1 << 16
CONFIG = Config(buffer_count=4)


def _sev_into(chip):
    """Core 0's SEV on the model: marks its place in core 0's bus trace and
    sets the event registers (waking WFE code on core 1)."""
    bus = chip.core0

    def sev():
        if bus.trace is not None:
            bus.trace.append(("sev",))
        chip.sev(0)

    return sev


def _writes(trace, addr):
    return [t[2] for t in trace if t[0] == "w" and t[1] == addr]


def _index(trace, item):
    for i in range(len(trace)):
        if trace[i] == item:
            return i
    return -1


def _fifo_or_nvic(trace):
    """Accesses to the SIO FIFO registers, the NVIC or the PSM."""
    out = []
    for t in trace:
        if t[0] == "sev":
            out.append(t)
            continue
        a = t[1]
        if SIO_BASE + 0x50 <= a <= SIO_BASE + 0x58 or 0xE000E000 <= a < 0xE000F000 or 0x40010000 <= a < 0x40014000:
            out.append(t)
    return out


# -- the model itself -----------------------------------------------------------------


def test_model_fifo_depth_flags_and_per_core_views():
    chip = RP2040(micropython=False, core1="halted")
    c0 = chip.core0
    c1 = chip.core1
    assert c0[SIO_BASE] == 0 and c1[SIO_BASE] == 1  # CPUID differs per core
    assert c0[FIFO_ST] == RDY and c1[FIFO_ST] == RDY  # reset value 0x2
    for i in range(8):
        c0[FIFO_WR] = 100 + i
    assert c0[FIFO_ST] == 0 and c1[FIFO_ST] == VLD | RDY  # core 0's TX full, core 1's RX valid
    c0[FIFO_WR] = 999  # written when full: ignored, WOF sticks
    assert c0[FIFO_ST] == WOF
    assert [c1[FIFO_RD] for _ in range(8)] == list(range(100, 108))
    assert c1[FIFO_ST] == RDY and c0[FIFO_ST] == RDY | WOF
    c1[FIFO_RD]  # read when empty: ROE sticks on core 1 only
    assert c1[FIFO_ST] == RDY | ROE and c0[FIFO_ST] == RDY | WOF
    for i in range(9):
        c1[FIFO_WR] = i  # core 1 overfills its TX: WOF as well
    assert c1[FIFO_ST] == ROE | WOF
    c1[FIFO_ST] = 0  # ANY write clears BOTH flags (pico/multicore.h L273-276)
    for i in range(8):
        c0[FIFO_RD]
    assert c1[FIFO_ST] == RDY and c0[FIFO_ST] == RDY | WOF  # the other core's stay
    c0[FIFO_ST] = WOF
    assert c0[FIFO_ST] == RDY


def test_model_spinlocks_claim_on_read_release_on_write():
    chip = RP2040(core1="halted")
    lock = SIO_BASE + 0x100 + 4 * 27
    assert chip.core0[lock] != 0  # claimed
    assert chip.core1[lock] == 0 and chip.core0[lock] == 0  # held
    assert chip.core1[SIO_BASE + 0x5C] == 1 << 27
    chip.core1[lock] = 0  # any write releases
    assert chip.core1[SIO_BASE + 0x5C] == 0 and chip.core1[lock] != 0


def test_model_lockout_handler_discards_words_and_echoes_the_magic():
    chip = RP2040(core1="python")  # both cores MicroPython: both handlers on
    assert chip.nvic[0].enabled == BIT15 and chip.nvic[1].enabled == BIT16
    chip.core1[FIFO_WR] = 7  # a would-be doorbell for core 0
    assert chip.rx_words(0) == [] and chip.swallowed_words[0] == [7]
    assert chip.lockout(1)  # core 1 locks core 0 out for a flash write: echoed
    assert chip.lockout(0)  # and the other way round
    assert chip.lockout_echoes == [2, 2] and chip.locked_out == [False, False]
    chip.core0[NVIC_ICER] = BIT15  # masked: nobody answers, the magic stays
    assert not chip.lockout(1)
    assert chip.rx_words(0) == [LOCKOUT_MAGIC_START]
    assert chip.core0[FIFO_RD] == LOCKOUT_MAGIC_START
    chip.core0[NVIC_ISER] = BIT15
    assert chip.lockout(1)


def test_model_lockout_victim_spins_until_the_end_magic():
    chip = RP2040(core1="halted")
    chip.core1[FIFO_WR] = LOCKOUT_MAGIC_START
    assert chip.locked_out[0] and chip.rx_words(1) == [LOCKOUT_MAGIC_START]
    chip.core1[FIFO_WR] = 9  # discarded while spinning...
    chip.core1[FIFO_WR] = LOCKOUT_MAGIC_END  # ...until END, echoed too
    assert not chip.locked_out[0] and chip.rx_words(1) == [LOCKOUT_MAGIC_START, LOCKOUT_MAGIC_END]
    assert chip.swallowed_words[0] == [9]


def test_model_psm_aliases_and_boot_rom_greeting():
    chip = RP2040(micropython=False)
    chip.core0[PSM_FRCE_OFF + 0x2000] = PSM_PROC1  # SET alias
    assert chip.core0[PSM_FRCE_OFF] == PSM_PROC1 and chip.rom == "off"
    chip.core0[PSM_FRCE_OFF + 0x3000] = PSM_PROC1  # CLR alias: core 1 boots
    assert chip.core0[PSM_FRCE_OFF] == 0 and chip.rx_words(0) == [0]
    assert chip.resets == 1


# -- mode (b): the FIFO mailbox: masking ---------------------------------------------------


def _box(chip, config=CONFIG, fw=None, **kw):
    return FifoMailbox(
        config, regs=chip.core0, idle=fw.step if fw else None, sev=_sev_into(chip), irq=chip.irq_functions(0), **kw
    )


def test_mailbox_masks_core0_sio_irq_first_and_restores_it_on_deinit():
    chip = RP2040()
    chip.core0.trace = []
    box = _box(chip)
    trace = chip.core0.trace
    # Reads only (CPUID, ISER: was MicroPython's handler on?), then ICER bit
    # 15: the first write of all, before anything else can happen.
    first = _index(trace, ("w", NVIC_ICER, BIT15))
    assert [t for t in trace[:first] if t[0] == "w"] == []
    assert trace[0] == ("r", SIO_BASE, 0) and trace[first - 1] == ("r", NVIC_ISER, BIT15)
    assert box.irq_was_enabled and chip.nvic[0].enabled == 0 and chip.nvic[1].enabled == 0
    del trace[:]
    box.deinit()
    nvic = [t for t in trace if 0xE000E000 <= t[1] < 0xE000F000 and t[0] == "w"]
    assert nvic == [("w", NVIC_ICPR, BIT15), ("w", NVIC_ISER, BIT15)]
    assert chip.nvic[0].enabled == BIT15
    box.deinit()  # idempotent
    assert len([t for t in trace if t[0] == "w"]) == 2


def _soft_reset(chip):
    """MicroPython's soft reset: the chip side (model), and a new
    interpreter session, which imports rl_rp2040 afresh (no mailbox open)."""
    from rl_rp2040 import fifo

    chip.soft_reset()
    fifo._open = None


def test_soft_reset_without_deinit_leaves_the_irq_masked_until_the_next_mailbox():
    chip, fw, box, shm = _booted()
    box.master(shm)
    _soft_reset(chip)  # the user forgot box.deinit()
    assert chip.nvic[0].enabled == 0  # multicore_reset_core1 restored "masked"
    chip.victim[1] = True  # a later _thread on core 1 ...
    chip.core1_entry = True
    assert not chip.lockout(1)  # ... could not lock core 0 out for its flash write
    box2 = _box(chip)  # the next session's mailbox gives it back first
    assert box2.stats()["recovered"] and box2.irq_was_enabled
    box2.deinit()
    assert chip.nvic[0].enabled == BIT15 and chip.lockout(1)


def test_recover_sio_irq_only_when_no_mailbox_is_open():
    chip = RP2040()
    assert not rp.recover_sio_irq(chip.core0)  # enabled: nothing to do
    box = _box(chip)
    assert not rp.recover_sio_irq(chip.core0)  # masked by a live mailbox: leave it
    assert chip.nvic[0].enabled == 0
    _soft_reset(chip)
    chip.core1[FIFO_WR] = 7  # a stale word that would fire the handler at once
    assert rp.recover_sio_irq(chip.core0)
    assert chip.nvic[0].enabled == BIT15 and chip.rx_words(0) == [] and chip.swallowed[0] == 0
    assert box  # (the old session's object: gone on the board)


def test_one_mailbox_at_a_time():
    chip = RP2040()
    box = _box(chip)
    raises(RuntimeError, _box, chip)
    box.deinit()
    _box(chip).deinit()


# -- mode (b): launching core 1 ---------------------------------------------------------------


def test_launch_register_sequence_is_the_boot_rom_handshake():
    chip = RP2040()
    fw = CFirmware(chip, bytearray(CONFIG.shm_size), CONFIG)
    chip.firmware = fw
    chip.core0.trace = []
    box = _box(chip, fw=fw)
    assert box.launch_core1(ENTRY, SP, VTOR) == 1
    assert chip.launched == [(VTOR, SP, ENTRY)] and fw.boots == [(VTOR, SP, ENTRY)]
    trace = chip.core0.trace
    steps = [t for t in trace if t[0] in ("w", "sev")]
    assert steps == [
        ("w", NVIC_ICER, BIT15),  # masked before core 1 is touched
        ("w", FIFO_WR, LOCKOUT_MAGIC_START),  # probe: is core 1 MicroPython's lockout victim?
        ("sev",),  # (the boot ROM answers 0: no)
        ("w", PSM_FRCE_OFF + 0x2000, PSM_PROC1),  # FRCE_OFF.PROC1 set (SET alias)...
        ("w", PSM_FRCE_OFF + 0x3000, PSM_PROC1),  # ...read back, then cleared (CLR alias)
        ("sev",),  # drain + SEV before each 0 (SDK multicore.c L191-195)
        ("w", FIFO_WR, 0),
        ("sev",),  # and SEV after every push (pico/multicore.h L189-192)
        ("sev",),
        ("w", FIFO_WR, 0),
        ("sev",),
        ("w", FIFO_WR, 1),
        ("sev",),
        ("w", FIFO_WR, VTOR),
        ("sev",),
        ("w", FIFO_WR, SP),
        ("sev",),
        ("w", FIFO_WR, ENTRY),
        ("sev",),
    ], steps
    # FRCE_OFF read back as set between the two PSM writes.
    i = _index(trace, ("w", PSM_FRCE_OFF + 0x2000, PSM_PROC1))
    assert trace[i + 1] == ("r", PSM_FRCE_OFF, PSM_PROC1)
    # The boot ROM's greeting 0 was popped after the reset and before the
    # first 0 was sent, and every word written was echoed and read back.
    reset = _index(trace, ("w", PSM_FRCE_OFF + 0x3000, PSM_PROC1))
    greeting = reset + _index(trace[reset:], ("r", FIFO_RD, 0))
    assert reset < greeting < _index(trace, ("w", FIFO_WR, 0))
    # The probe's answer, the greeting, then the six echoes.
    assert [t[2] for t in trace if t[0] == "r" and t[1] == FIFO_RD] == [0, 0, 0, 0, 1, VTOR, SP, ENTRY]
    assert chip.swallowed == [0, 0] and chip.rx_words(0) == [] and chip.rx_words(1) == []


def test_launch_starts_again_after_a_wrong_echo():
    chip = RP2040()
    fw = CFirmware(chip, bytearray(CONFIG.shm_size), CONFIG)
    chip.firmware = fw
    chip.corrupt_echoes = (2,)  # the boot ROM's echo of VTOR comes back wrong
    chip.core0.trace = []
    box = _box(chip)
    assert box.launch_core1(ENTRY, SP, VTOR) == 2
    assert _writes(chip.core0.trace, FIFO_WR) == [LOCKOUT_MAGIC_START, 0, 0, 1, VTOR, 0, 0, 1, VTOR, SP, ENTRY]
    steps = [t for t in chip.core0.trace if t[0] == "sev" or t[1] == FIFO_WR]
    # Each 0, including the restart's, is preceded by a SEV.
    for i in range(len(steps)):
        if steps[i] == ("w", FIFO_WR, 0):
            assert steps[i - 1] == ("sev",), steps
    assert chip.launched == [(VTOR, SP, ENTRY)] and box.stats()["launch_attempts"] == 2


class _Every:
    def __contains__(self, item):
        return True


def test_launch_gives_up_when_every_echo_is_wrong():
    chip = RP2040()
    chip.corrupt_echoes = _Every()  # a peer that answers at once, always wrongly
    box = _box(chip)
    e = raises(OSError, box.launch_core1, ENTRY, SP, VTOR, 30)
    assert "handshake" in str(e) and chip.launched == []


def test_launch_drains_stale_doorbells_left_from_an_earlier_session():
    chip = RP2040()
    fw = CFirmware(chip, bytearray(CONFIG.shm_size), CONFIG)
    chip.firmware = fw
    box = _box(chip)
    chip.rom = "running"  # an earlier firmware is running and has sent us kicks
    for v in (1, 0, 1):
        chip.push_from(1, v)
    chip.push_from(0, 3)  # and one of ours it never read
    assert box.launch_core1(ENTRY, SP, VTOR) >= 1
    assert chip.launched == [(VTOR, SP, ENTRY)] and chip.rx_words(0) == []


def test_without_masking_the_lockout_handler_swallows_the_handshake():
    # What happens if the FIFO is used with MicroPython's handler still on:
    # the boot ROM's greeting and echoes never reach the sender.
    chip = RP2040()
    e = raises(OSError, launch_core1, chip.core0, ENTRY, SP, VTOR, 30, _sev_into(chip))
    assert "sent nothing" in str(e)
    assert chip.swallowed[0] >= 1 and chip.launched == []


def test_launch_refuses_words_core1_cannot_start_from():
    chip = RP2040()
    box = _box(chip)
    raises(ValueError, box.launch_core1, ENTRY - 1, SP, VTOR)  # not Thumb
    raises(ValueError, box.launch_core1, ENTRY, SP + 2, VTOR)  # unaligned stack
    raises(ValueError, box.launch_core1, ENTRY, SP, VTOR + 0x80)  # VTOR.TBLOFF is bits 31:8
    raises(ValueError, box.launch_core1, ENTRY, 0, VTOR)  # 0 is the resync word
    raises(ValueError, box.launch_core1, 1 << 32 | 1, SP, VTOR)
    assert chip.psm.writes == [] and chip.launched == []
    box.master(bytearray(CONFIG.shm_size))
    raises(RuntimeError, box.launch_core1, ENTRY, SP, VTOR)  # links exist: FIFO in use


def test_launch_times_out_when_core1_never_answers():
    chip = RP2040()
    chip.core1_power = lambda on: None  # a core 1 that never leaves reset
    box = _box(chip)
    start = rl_env.ticks_ms()
    e = raises(OSError, box.launch_core1, ENTRY, SP, VTOR, 30)
    assert "30 ms" in str(e) and rl_env.ticks_diff(rl_env.ticks_ms(), start) < 2000


def test_model_boot_rom_looks_at_its_fifo_only_after_an_event():
    # bootrom_rt0.S receive_and_check_zero: WFE first, FIFO_ST second.
    chip = RP2040()
    chip.core0[NVIC_ICER] = BIT15
    chip.core0[FIFO_WR] = 0  # pushed, no SEV: the ROM sleeps on
    assert chip.rx_words(1) == [0] and chip.rx_words(0) == []
    chip.sev(0)  # now it wakes, takes the 0, drains and answers 0
    assert chip.rx_words(1) == [] and chip.rx_words(0) == [0]
    chip.core0[FIFO_RD]
    chip.sev(0)  # an SEV before the word: it looks, finds nothing, sleeps
    chip.core0[FIFO_WR] = 0
    assert chip.rx_words(1) == [0] and chip.rx_words(0) == []


def test_launch_sends_sev_after_every_push_or_the_boot_rom_sleeps_through_it():
    chip = RP2040()
    chip.firmware = CFirmware(chip, bytearray(CONFIG.shm_size), CONFIG)
    box = _box(chip)
    box.launch_core1(ENTRY, SP, VTOR)
    # Each push of the launch is followed by an SEV: 6 words, plus one
    # before each 0 and the probe's.
    assert chip.sevs[0] == 6 + 2 + 1 and chip.launched == [(VTOR, SP, ENTRY)]


def test_launch_refuses_to_reset_a_core1_running_micropython():
    chip = RP2040(core1="python")  # a _thread runs there: a lockout victim
    box = _box(chip)
    e = raises(RuntimeError, box.launch_core1, ENTRY, SP, VTOR, 200)
    assert "MicroPython" in str(e)
    assert chip.psm.writes == [] and chip.resets == 0 and chip.launched == []
    # The probe was a lockout like a flash write's: core 1 resumed.
    assert chip.locked_out == [False, False] and chip.rx_words(0) == [] and chip.flash_write()
    box.deinit()


def test_model_resetting_a_micropython_core1_hangs_later_flash_writes():
    # What the refusal prevents: MicroPython still counts core 1 as a lockout
    # victim, so each flash write pushes the magic to the new firmware and
    # re-pushes it for every other word it pops (SDK multicore.c L260-285).
    chip = RP2040(core1="python")
    fw = CFirmware(chip, bytearray(CONFIG.shm_size), CONFIG, wfe=True)
    chip.firmware = fw
    box = _box(chip, fw=fw)
    box.launch_core1(ENTRY, SP, VTOR, 200, force=True)
    assert chip.launched == [(VTOR, SP, ENTRY)]
    fw.notify(0)
    fw.notify(0)  # words the C firmware sends meanwhile
    assert not chip.flash_write()  # on the chip: waits for ever
    assert chip.lockout_pushes >= 3  # the first magic and one more per non-matching word
    box.deinit()


def test_probe_tells_micropython_from_the_boot_rom_and_from_an_echo():
    chip = RP2040()
    chip.core0[NVIC_ICER] = BIT15
    assert not rp.core1_runs_micropython(chip.core0, _sev_into(chip))  # the ROM answers 0
    chip = RP2040(core1="python")
    chip.core0[NVIC_ICER] = BIT15
    assert rp.core1_runs_micropython(chip.core0, _sev_into(chip))
    chip = RP2040(core1="halted")
    chip.core0[NVIC_ICER] = BIT15

    def echo():  # core-1 code that echoes everything (with SEV)
        chip.sev(0)
        while chip.rx_words(1):
            chip.core1[FIFO_WR] = chip.core1[FIFO_RD]

    assert not rp.core1_runs_micropython(chip.core0, echo, wait_ms=5)
    assert chip.rx_words(0) == [] and chip.rx_words(1) == []


def test_c_firmware_waiting_in_wfe_gets_every_doorbell_and_post():
    # Firmware reading with multicore_fifo_pop_blocking sleeps in WFE: each
    # word the mailbox writes (notify, the backlog, post) is followed by SEV.
    chip = RP2040()
    raw, shm = rp.pinned_buffer(CONFIG.shm_size, CONFIG.vring_align)
    fw = CFirmware(chip, shm, CONFIG, wfe=True)
    chip.firmware = fw
    box = _box(chip)  # no idle hook: nothing steps core 1 but SEV
    box.launch_core1(ENTRY, SP, VTOR)
    master = box.master(shm)
    inbox = Inbox()
    ept = master.create_ept(40, inbox)
    assert fw.link.is_link_up()  # the init kick woke it
    for i in range(3 * CONFIG.buffer_count):
        master.send(ept, 30, bytes([i]), DONT_BLOCK)
        box.service()
    assert inbox.messages == [(bytes([i]), 30) for i in range(3 * CONFIG.buffer_count)]
    assert fw.wakes >= 3 * CONFIG.buffer_count
    fw.alive = False
    for _ in range(10):
        box.notify(1)  # fill the FIFO: the rest is backlogged
    assert box.stats()["backlog"] == 2
    fw.alive = True
    woken = fw.wakes
    chip.core1[FIFO_RD]  # room for one
    box.service()  # the backlog goes out, with its SEV
    assert fw.wakes == woken + 1 and box.stats()["backlog"] == 0
    assert box.post(0x20000000) and fw.wakes == woken + 2


def test_a_sticky_flag_raised_while_the_flags_are_cleared_is_not_lost():
    # Writing FIFO_ST clears WOF and ROE both: the port clears with its
    # interrupts off, so a handler that raises ROE in between (model hook)
    # runs after the write and its flag is counted at the next service().
    chip, fw, box, shm = _booted()
    fw.alive = False
    for i in range(9):
        chip.core0[FIFO_WR] = 0  # WOF
    chip.irq_before_st_write = lambda: chip.core0[FIFO_RD]  # an IRQ handler reads empty: ROE
    for _ in range(8):
        chip.core1[FIFO_RD]
    box.service()
    box.service()
    assert box.stats()["wof"] == 1 and box.stats()["roe"] == 1
    assert chip.core0[FIFO_ST] & (WOF | ROE) == 0


def test_micropython_older_than_1_25_is_refused_on_an_rp2():
    from rl_rp2040 import hw

    class Impl:
        name = "micropython"
        version = (1, 24, 1)

    e = raises(ImportError, hw.check_micropython, Impl, "rp2")
    assert "1.25" in str(e) and "soft reset" in str(e)
    Impl.version = (1, 23, 0)
    raises(ImportError, hw.check_micropython, Impl, "rp2")
    Impl.version = (1, 25, 0)
    hw.check_micropython(Impl, "rp2")
    Impl.version = (1, 29, 0)
    hw.check_micropython(Impl, "rp2")
    Impl.version = (1, 20, 0)
    hw.check_micropython(Impl, "linux")  # other ports: not this board's problem


# -- mode (b): messaging with C firmware on core 1 -----------------------------------------------


def _booted(role="remote", config=CONFIG, app=None):
    chip = RP2040()
    raw, shm = rp.pinned_buffer(config.shm_size, config.vring_align)
    fw = CFirmware(chip, shm, config, role=role, app=app)
    chip.firmware = fw
    chip.core0.trace = []
    box = _box(chip, config, fw=fw)
    box.launch_core1(ENTRY, SP, VTOR)
    return chip, fw, box, shm


def _run(fw, box, rounds=6):
    for _ in range(rounds):
        fw.step()
        box.service()


def test_python_master_and_c_remote_link_up_name_service_and_echo():
    chip, fw, box, shm = _booted()
    seen = []
    master = box.master(shm)
    NameService(master, lambda addr, name, flags: seen.append((addr, name, flags)))
    inbox = Inbox()
    ept = master.create_ept(40, inbox)
    # The master's init kick is the FIFO word 0 (vector of link 0, vring 0).
    assert chip.rx_words(1) == [0]
    _run(fw, box)
    assert fw.link.is_link_up() and seen == [(30, "rp2040-echo", 0)]
    for i in range(3 * CONFIG.buffer_count):
        master.send(ept, 30, pattern(1 + 40 * i, i), DONT_BLOCK)
        _run(fw, box, 2)
    assert inbox.messages == [(pattern(1 + 40 * i, i), 30) for i in range(3 * CONFIG.buffer_count)]
    trace = chip.core0.trace
    assert _index(trace, ("w", NVIC_ICER, BIT15)) < _index(trace, ("w", FIFO_WR, 0))
    assert chip.swallowed == [0, 0] and chip.nvic[0].enabled == 0
    stats = box.stats()
    assert stats["deferred"] == 0 and stats["foreign"] == 0 and stats["wof"] == 0 and stats["roe"] == 0
    # After the probe's answer and the 7 launch words, every word core 0
    # read is the remote's vector: link 0, vring 0 (remote -> master).
    words = [t[2] for t in trace if t[0] == "r" and t[1] == FIFO_RD]
    assert words[:8] == [0, 0, 0, 0, 1, VTOR, SP, ENTRY] and set(words[8:]) == {0}


def test_blocking_calls_work_through_wait_and_the_idle_hook():
    chip, fw, box, shm = _booted()
    master = box.master(shm)
    inbox = Inbox()
    ept = master.create_ept(40, inbox)
    for i in range(2 * CONFIG.buffer_count):  # more than N: sends wait for returned buffers
        master.send(ept, 30, bytes([i]), 500)
    box.wait(50)
    assert fw.echoed == 2 * CONFIG.buffer_count
    assert inbox.messages == [(bytes([i]), 30) for i in range(2 * CONFIG.buffer_count)]


def test_c_master_kick_before_the_python_remote_exists_is_kept():
    # The C master inits first: its init kick reaches core 0 before any
    # link is attached; the mailbox keeps it and delivers it on attach.
    got = []

    def app(fw):
        fw.ept = fw.link.create_ept(30, lambda p, s: got.append((bytes(p), s)) or 0)

    chip, fw, box, shm = _booted(role="master", app=app)
    box.service()
    assert box.stats()["unrouted"] == 1 and box.stats()["pending"] == 1
    remote = box.remote(shm)
    assert not remote.is_link_up()
    box.service()
    assert remote.is_link_up() and box.stats()["pending"] == 0
    ept = remote.create_ept(40, Inbox())
    remote.send(ept, 30, b"from core 0", DONT_BLOCK)
    fw.step()
    assert got == [(b"from core 0", 40)]


def test_zero_copy_both_ways():
    held = []

    def app(fw):
        def on_message(payload, src):
            held.append(payload)
            return HOLD

        fw.ept = fw.link.create_ept(30, on_message)

    chip, fw, box, shm = _booted(app=app)
    master = box.master(shm)
    inbox = Inbox(HOLD)
    ept = master.create_ept(40, inbox)
    _run(fw, box)
    buf = master.alloc_tx_buffer(DONT_BLOCK)
    buf[:5] = b"zero!"
    master.send_nocopy(ept, 30, buf, 5)
    fw.step()
    assert bytes(held[0]) == b"zero!"
    fw.link.release_rx_buffer(held[0])
    out = fw.link.alloc_tx_buffer(DONT_BLOCK)
    out[:4] = b"back"
    fw.link.send_nocopy(fw.ept, 40, out, 4)
    box.service()
    assert inbox.messages == [(b"back", 30)]
    master.release_rx_buffer(inbox.views[0])
    assert master.free_tx_buffers() >= 1


def test_a_full_tx_fifo_does_not_hang_notify():
    chip, fw, box, shm = _booted()
    chip.core0.trace = []
    start = rl_env.ticks_ms()
    for i in range(20):  # core 1 never reads: 8 words fit, the rest are backlogged
        box.notify(i % 2)
    assert rl_env.ticks_diff(rl_env.ticks_ms(), start) < 1000
    assert chip.rx_words(1) == [0, 1] * 4
    stats = box.stats()
    assert stats["deferred"] == 12 and stats["backlog"] == 3 and stats["wof"] == 0
    assert chip.wof == [0, 0]  # never written while full: RDY is checked first
    assert _writes(chip.core0.trace, FIFO_WR) == [0, 1] * 4
    fw.alive = False  # take the words without a link behind them
    for _ in range(8):
        chip.core1[FIFO_RD]
    box.service()  # the backlog goes out, oldest vector first
    assert chip.rx_words(1) == [0, 1] and box.stats()["backlog"] == 0
    for v in (7, 40):  # a big vector cannot be backlogged: counted as dropped
        for _ in range(8):
            box.notify(v)
    assert box.stats()["dropped"] >= 1


def test_sticky_wof_and_roe_are_counted_and_cleared():
    chip, fw, box, shm = _booted()
    fw.alive = False
    for i in range(9):  # someone else overfills core 0's TX FIFO: WOF
        chip.core0[FIFO_WR] = 0
    chip.core0[FIFO_RD]  # and reads it empty: ROE
    assert chip.core0[FIFO_ST] & (WOF | ROE) == WOF | ROE
    chip.core0.trace = []
    box.service()
    assert _writes(chip.core0.trace, FIFO_ST) == [WOF | ROE]
    assert chip.core0[FIFO_ST] & (WOF | ROE) == 0
    assert box.stats()["wof"] == 1 and box.stats()["roe"] == 1
    chip.core0.trace = []
    box.service()  # nothing sticky: no write
    assert _writes(chip.core0.trace, FIFO_ST) == []


def test_foreign_words_are_counted_not_delivered():
    chip, fw, box, shm = _booted()
    master = box.master(shm)
    inbox = Inbox()
    master.create_ept(40, inbox)
    chip.push_from(1, LOCKOUT_MAGIC_START)
    chip.push_from(1, 0x12345)
    box.service()
    stats = box.stats()
    assert stats["foreign"] == 2 and stats["last_foreign"] == 0x12345 and inbox.messages == []


def test_lockout_against_core0_works_again_after_deinit():
    chip, fw, box, shm = _booted()
    master = box.master(shm)
    _run(fw, box)
    # While the mailbox polls with the IRQ masked, a lockout of core 0
    # (only a MicroPython core 1 would try one) cannot be answered: this is
    # why _thread and this mode exclude each other.
    assert not chip.lockout(1)
    box.service()
    assert box.stats()["foreign"] == 1
    box.deinit()
    assert not master.is_link_up()
    assert chip.nvic[0].enabled == BIT15
    assert chip.lockout(1)  # MicroPython's handler answers again


def test_doorbells_are_swallowed_without_the_mask_and_delivered_with_it():
    chip, fw, box, shm = _booted()
    box.deinit()  # MicroPython's lockout handler has the FIFO IRQ again
    fw.notify(0)
    fw.notify(0)
    assert chip.swallowed[0] == 2 and chip.rx_words(0) == []  # lost: never seen by Python
    box2 = _box(chip)  # masked again
    fw.notify(0)
    assert chip.swallowed[0] == 2 and chip.rx_words(0) == [0]
    shm = bytearray(CONFIG.shm_size)
    # The rings as core 1's master formatted them (a remote refuses to come
    # up on a region formatted for other numbers, or not at all).
    from rpmsg_lite import rings
    from rpmsg_lite.layout import Layout
    import uctypes

    rings.format_master(shm, Layout(CONFIG, uctypes.addressof(shm)), CONFIG.vring_fill)
    link = box2.remote(shm)
    box2.service()
    assert link.is_link_up() and link.fault is None  # the kick reached the link


def test_mailbox_refuses_use_after_deinit():
    chip = RP2040()
    box = _box(chip)
    box.deinit()
    raises(ValueError, box.launch_core1, ENTRY, SP, VTOR)
    raises(ValueError, box.master, bytearray(CONFIG.shm_size))


def test_post_writes_a_raw_word_and_times_out_on_a_full_fifo():
    chip, fw, box, shm = _booted()
    fw.alive = False  # the firmware reads nothing meanwhile
    assert box.post(0x20030000)
    assert chip.rx_words(1) == [0x20030000]
    for _ in range(7):
        assert box.post(5, 0)
    assert not box.post(6, 10)


# -- mode (a): both cores run MicroPython --------------------------------------------------


def _dual(config=CONFIG, pio=True, links=1):
    chip = RP2040(core1="python")
    bell = PioDoorbell(1, 3, pio=chip.pio[1].rp2, regs=chip.core1) if pio else None
    chip.core0.trace = []
    chip.core1.trace = []
    dual = DualCore(config, links=links, pio=bell)
    return chip, dual


def test_dual_regions_are_aligned_and_distinct():
    import uctypes

    for align in (0x10, 0x80, 0x1000):
        cfg = Config(buffer_count=2, vring_align=align)
        dual = DualCore(cfg, links=3)
        addrs = [uctypes.addressof(dual.region(i)) for i in range(3)]
        for a in addrs:
            assert a % align == 0
        assert [len(dual.region(i)) for i in range(3)] == [cfg.shm_size] * 3
        assert addrs[0] == uctypes.addressof(dual.shm) and len(set(addrs)) == 3
        dual.deinit()


def test_dual_link_up_name_service_and_messages_both_ways():
    chip, dual = _dual()
    remote = dual.core1.remote()  # core 1 first, as the core-1 thread would
    r_inbox = Inbox()
    r_ept = remote.create_ept(30, r_inbox)
    master = dual.core0.master()
    seen = []
    NameService(master, lambda addr, name, flags: seen.append((addr, name, flags)))
    m_inbox = Inbox()
    m_ept = master.create_ept(40, m_inbox)
    assert not remote.is_link_up()
    assert dual.core1.service() == 1 and remote.is_link_up()
    remote.ns_announce(r_ept, "core1-svc")
    assert chip.scheduled() == 1  # core 1 raised the PIO flag; core 0 has a soft IRQ queued
    assert chip.run_scheduled() == 1 and seen == [(30, "core1-svc", 0)]
    for i in range(3 * CONFIG.buffer_count):
        master.send(m_ept, 30, pattern(10 + i, i), DONT_BLOCK)
        dual.core1.service()
        remote.send(r_ept, 40, pattern(20 + i, i), DONT_BLOCK)
        chip.run_scheduled()
    n = 3 * CONFIG.buffer_count
    assert r_inbox.messages == [(pattern(10 + i, i), 40) for i in range(n)]
    assert m_inbox.messages == [(pattern(20 + i, i), 30) for i in range(n)]
    assert dual.core0.stats()["pio_calls"] == n + 1


def test_dual_zero_copy_both_ways():
    chip, dual = _dual()
    remote = dual.core1.remote()
    r_inbox = Inbox(HOLD)
    r_ept = remote.create_ept(30, r_inbox)
    master = dual.core0.master()
    m_inbox = Inbox(HOLD)
    m_ept = master.create_ept(40, m_inbox)
    dual.core1.service()
    buf = master.alloc_tx_buffer(DONT_BLOCK)
    buf[:3] = b"abc"
    master.send_nocopy(m_ept, 30, buf, 3)
    dual.core1.service()
    assert bytes(r_inbox.views[0]) == b"abc"
    remote.release_rx_buffer(r_inbox.views[0])
    out = remote.alloc_tx_buffer(DONT_BLOCK)
    out[:3] = b"xyz"
    remote.send_nocopy(r_ept, 40, out, 3)
    chip.run_scheduled()
    assert m_inbox.messages == [(b"xyz", 30)]
    master.release_rx_buffer(m_inbox.views[0])


def test_dual_never_touches_the_fifo_nvic_or_psm_and_flash_lockouts_still_work():
    chip, dual = _dual()
    remote = dual.core1.remote()
    r_ept = remote.create_ept(30, Inbox())
    master = dual.core0.master()
    m_ept = master.create_ept(40, Inbox())
    for i in range(10):
        dual.core1.service()
        master.send(m_ept, 30, b"x", DONT_BLOCK)
        dual.core1.service()
        remote.send(r_ept, 40, b"y", DONT_BLOCK)
        chip.run_scheduled()
    dual.deinit()
    assert _fifo_or_nvic(chip.core0.trace) == [] and _fifo_or_nvic(chip.core1.trace) == []
    assert chip.core0.trace == []  # core 0 needs no register at all
    force = PIO_BASES[1] + 0x34
    assert set(chip.core1.trace) == {("w", force, 1 << 3)}
    # Both MicroPython lockout handlers are intact: a flash write on either
    # core gets its echoes.
    assert chip.nvic[0].enabled == BIT15 and chip.nvic[1].enabled == BIT16
    assert chip.lockout(0) and chip.lockout(1)
    assert chip.swallowed == [0, 0]


def test_dual_without_pio_core0_receives_by_polling():
    chip, dual = _dual(pio=False)
    remote = dual.core1.remote()
    r_ept = remote.create_ept(30, Inbox())
    master = dual.core0.master()
    inbox = Inbox()
    master.create_ept(40, inbox)
    dual.core1.service()
    remote.send(r_ept, 40, b"poll me", DONT_BLOCK)
    assert chip.scheduled() == 0 and inbox.messages == []
    dual.core0.wait(5)
    assert inbox.messages == [(b"poll me", 30)]
    assert chip.core1.trace == []  # no PIO configured: no register at all


def test_dual_two_links_use_their_own_regions_and_vectors():
    chip, dual = _dual(links=2)
    pairs = []
    for link_id in (0, 1):
        remote = dual.core1.remote(link_id=link_id)
        inbox = Inbox()
        r_ept = remote.create_ept(30, inbox)
        master = dual.core0.master(link_id=link_id)
        m_inbox = Inbox()
        m_ept = master.create_ept(40, m_inbox)
        pairs.append((master, m_ept, m_inbox, remote, r_ept, inbox))
    dual.core1.service()
    for link_id in (0, 1):
        master, m_ept, m_inbox, remote, r_ept, inbox = pairs[link_id]
        assert remote.is_link_up()
        master.send(m_ept, 30, b"to %d" % link_id, DONT_BLOCK)
        remote.send(r_ept, 40, b"from %d" % link_id, DONT_BLOCK)
    dual.core1.service()
    chip.run_scheduled()
    for link_id in (0, 1):
        master, m_ept, m_inbox, remote, r_ept, inbox = pairs[link_id]
        assert inbox.messages == [(b"to %d" % link_id, 40)]
        assert m_inbox.messages == [(b"from %d" % link_id, 30)]
    # Core 0 rang vectors 0-3 once each (init kicks 0, 2; sends 1, 3), core 1
    # vectors 0 and 2 (its sends).
    assert list(dual._bells) == [1, 1, 1, 1, 1, 0, 1, 0]


def test_dual_kicks_before_attach_are_kept():
    chip, dual = _dual()
    dual.core0.master()  # the init kick, before core 1 has a link
    dual.core1.service()
    remote = dual.core1.remote()
    assert not remote.is_link_up()
    assert dual.core1.service() == 1 and remote.is_link_up()


def test_dual_notify_wakes_core1_through_the_lock():
    chip, dual = _dual()
    lock = dual._wake
    assert lock.locked()  # no wake pending
    dual.core0.notify(1)
    assert not lock.locked()  # released: core 1's acquire() returns
    dual.core0.notify(1)  # already released: not released twice
    assert lock.acquire(0)  # what the loop does
    dual.core1.notify(0)  # core 1 -> core 0 does not touch the lock
    assert lock.locked()
    raises(ValueError, dual.core0.notify, 2)  # only link 0 exists


def test_dual_pio_doorbell_during_a_running_service_rescans_instead_of_reentering():
    chip, dual = _dual()
    remote = dual.core1.remote()
    r_ept = remote.create_ept(30, Inbox())
    master = dual.core0.master()
    order = []
    depth = [0]

    def on_message(payload, src):
        depth[0] += 1
        assert depth[0] == 1, "callback re-entered"
        order.append(bytes(payload))
        if payload == b"1":
            # Core 1 sends again while core 0 is inside this callback, and the
            # scheduler runs the PIO handler between two bytecodes.
            remote.send(r_ept, 40, b"2", DONT_BLOCK)
            chip.run_scheduled()
        depth[0] -= 1
        return 0

    master.create_ept(40, on_message)
    dual.core1.service()
    remote.send(r_ept, 40, b"1", DONT_BLOCK)
    chip.run_scheduled()
    assert order == [b"1", b"2"] and depth[0] == 0


def test_dual_checks_links_and_pio_settings():
    chip, dual = _dual()
    raises(ValueError, dual.core0.master, None, 1)  # link ids 0..links-1 (region(1) does not exist)
    dual2 = DualCore(CONFIG, links=2)
    other = RPMsgLite.master(bytearray(CONFIG.shm_size), _NoAttach(), CONFIG, 2)
    raises(ValueError, dual2.core0.attach, other)
    raises(ValueError, PioDoorbell, 1, 4, pio=chip.pio[1].rp2, regs=chip.core1)
    raises(ValueError, PioDoorbell, 2, 0, pio=chip.pio[1].rp2, regs=chip.core1)
    raises(ValueError, DualCore, CONFIG, 0)
    dual2.deinit()
    raises(ValueError, dual2.core0.master)


class _NoAttach(Port):
    def notify(self, v):
        pass


def test_dual_deinit_releases_the_pio_irq_and_links():
    chip, dual = _dual()
    remote = dual.core1.remote()
    master = dual.core0.master()
    dual.core1.service()
    assert chip.pio[1].handler is not None
    assert dual.deinit() is True
    assert chip.pio[1].handler is None and not master.is_link_up() and not remote.is_link_up()
    assert dual.deinit() is True  # idempotent


# -- mode (a): the core-1 loop ------------------------------------------------------------------


def _until(pred, ms=3000):
    start = rl_env.ticks_ms()
    while not pred():
        if rl_env.ticks_diff(rl_env.ticks_ms(), start) > ms:
            return False
        rl_env.sleep_ms(1)
    return True


def _echo_main(side):
    link = side.remote()
    box = []

    def echo(payload, src):
        link.send(box[0], src, payload, DONT_BLOCK)
        return 0

    box.append(link.create_ept(30, echo))


def test_core1_loop_serves_doorbells_and_stops_on_deinit():
    dual = DualCore(CONFIG)
    dual.start_core1(_echo_main)
    assert _until(lambda: dual.core1.attached() != [])
    master = dual.core0.master()
    inbox = Inbox()
    ept = master.create_ept(40, inbox)
    for i in range(5):
        master.send(ept, 30, bytes([i]), 1000)
        assert _until(lambda: dual.core0.service() >= 0 and len(inbox.messages) == i + 1), dual.stats()
    assert [m[0] for m in inbox.messages] == [bytes([i]) for i in range(5)]
    assert dual.core1_running()
    assert dual.deinit(2000) is True
    assert not dual.core1_running() and dual.core1_error is None
    # The thread returned: core 1 can be started again.
    dual2 = DualCore(CONFIG)
    dual2.start_core1()
    assert dual2.stop_core1(2000) and not dual2.core1_running()
    raises(ValueError, dual.start_core1)


def test_core1_loop_records_an_exception_and_stops():
    dual = DualCore(CONFIG)

    def broken(side):
        raise KeyError("setup failed")

    raises(KeyError, dual.core1.run, broken)  # what the thread would print
    assert isinstance(dual.core1_error, KeyError) and not dual.core1_running()
    raises(RuntimeError, dual.core0.run)


def test_core1_loop_returns_at_once_when_stopped_before_it_waits():
    dual = DualCore(CONFIG)
    dual._stopping = True
    ran = []
    dual.core1.run(lambda side: ran.append(side.core))
    assert ran == [1] and not dual.core1_running()


# -- RP2350 bonus: the SIO doorbells -------------------------------------------------------


def _bells(role="remote", config=CONFIG, app=None):
    chip = RP2040(rp2350=True, core1="halted")  # the firmware runs, started by other means
    raw, shm = rp.pinned_buffer(config.shm_size, config.vring_align)
    fw = CFirmware(chip, shm, config, role=role, app=app, transport="bell")
    chip.core0.trace = []
    chip.core1.trace = []
    box = BellMailbox(config, regs=chip.core0, idle=fw.step)
    fw.start()
    return chip, fw, box, shm


def test_bells_link_up_name_service_and_echo_without_fifo_or_nvic():
    chip, fw, box, shm = _bells()
    master = box.master(shm)
    seen = []
    NameService(master, lambda addr, name, flags: seen.append((addr, name, flags)))
    inbox = Inbox()
    ept = master.create_ept(40, inbox)
    assert chip.bells_in[1] == 1  # the init kick: vector 0 -> bit 0
    _run(fw, box)
    assert seen == [(30, "rp2040-echo", 0)]
    for i in range(2 * CONFIG.buffer_count):
        master.send(ept, 30, pattern(5 + i, i), 200)
    box.wait(20)
    assert inbox.messages == [(pattern(5 + i, i), 30) for i in range(2 * CONFIG.buffer_count)]
    box.deinit()
    for bus in (chip.core0, chip.core1):
        assert _fifo_or_nvic(bus.trace) == []
    assert [t for t in chip.core0.trace if t[0] == "w" and t[1] != SIO_BASE + 0x180 and t[1] != SIO_BASE + 0x18C] == []
    # The FIFO and MicroPython's lockout (IRQ 25 on the RP2350) are untouched.
    assert chip.nvic[0].enabled == 1 << 25 and chip.lockout(1)


def test_bells_are_cleared_before_delivery_and_kept_for_unattached_links():
    got = []

    def app(fw):
        fw.ept = fw.link.create_ept(30, lambda p, s: got.append(bytes(p)) or 0)

    chip, fw, box, shm = _bells(role="master", app=app)
    assert box.pending() == 1 and box.service() == 0  # the C master's kick, no link yet
    assert chip.bells_in[0] == 1  # still set: not acknowledged
    chip.core0.trace = []
    remote = box.remote(shm)
    assert box.service() == 1 and remote.is_link_up() and chip.bells_in[0] == 0
    # Acknowledge (write 1 to IN_CLR) before isr() runs.
    assert chip.core0.trace[:2] == [("r", SIO_BASE + 0x18C, 1), ("w", SIO_BASE + 0x18C, 1)]
    ept = remote.create_ept(40, Inbox())
    remote.send(ept, 30, b"bell", DONT_BLOCK)
    fw.step()
    assert got == [b"bell"]
    raises(ValueError, box.notify, 8)  # 8 bits: vectors 0..7
    other = RPMsgLite.master(bytearray(CONFIG.shm_size), _NoAttach(), CONFIG, 4)
    raises(ValueError, box.attach, other)


def test_fifo_mailbox_refuses_to_guess_on_an_rp2350():
    from rl_rp2040 import hw as rl_rp2040_hw

    real = rl_rp2040_hw.is_rp2350
    rl_rp2040_hw.is_rp2350 = lambda: True
    try:
        raises(NotImplementedError, FifoMailbox, CONFIG)
    finally:
        rl_rp2040_hw.is_rp2350 = real
    assert not real()  # not an RP2350 here


# -- no allocation on the hot paths (MicroPython) -----------------------------------------

ROUNDS = 200


class _Rig:
    def __init__(self, **parts):
        for key in parts:
            setattr(self, key, parts[key])


def _locked(step, rig):
    step(rig, 0)  # warm-up
    micropython.heap_lock()
    try:
        for i in range(1, ROUNDS + 1):
            step(rig, i)
    finally:
        micropython.heap_unlock()


def _mailbox_step(rig, i):
    rig.link.send(rig.ept, 30, rig.data, DONT_BLOCK)
    rig.fw.step()  # core 1 echoes
    rig.box.service()
    rig.box.notify(1)  # a kick with nothing new
    rig.fw.step()
    rig.box.wait(0)


def test_mailbox_notify_and_polling_allocate_nothing():
    if not IS_MICROPYTHON:
        skip("heap locking is only observable on MicroPython")
    chip, fw, box, shm = _booted()
    chip.core0.trace = None
    link = box.master(shm)
    back = Counter()
    ept = link.create_ept(40, back)
    _run(fw, box)
    rig = _Rig(link=link, ept=ept, fw=fw, box=box, data=bytes(range(64)))
    _locked(_mailbox_step, rig)
    assert back.count == ROUNDS + 1 and back.total == 64 * (ROUNDS + 1)


def _dual_step(rig, i):
    rig.master.send(rig.m_ept, 30, rig.data, DONT_BLOCK)
    rig.lock.acquire(0)  # core 1's loop takes the wake...
    rig.core1.service()  # ...and serves; its callback echoes (PIO doorbell)
    rig.chip.run_scheduled()  # core 0's scheduler runs the PIO handler
    rig.core0.wait(0)


def test_dual_notify_service_and_pio_doorbell_allocate_nothing():
    if not IS_MICROPYTHON:
        skip("heap locking is only observable on MicroPython")
    chip, dual = _dual()
    chip.core1.trace = None
    remote = dual.core1.remote()
    echo = _Rig(ept=None)

    def on_message(payload, src):
        remote.send(echo.ept, src, payload, DONT_BLOCK)
        return 0

    echo.ept = remote.create_ept(30, on_message)
    master = dual.core0.master()
    back = Counter()
    m_ept = master.create_ept(40, back)
    dual.core1.service()
    rig = _Rig(
        master=master, m_ept=m_ept, lock=dual._wake, core0=dual.core0, core1=dual.core1, chip=chip, data=bytes(32)
    )
    _locked(_dual_step, rig)
    assert back.count == ROUNDS + 1 and back.total == 32 * (ROUNDS + 1)
