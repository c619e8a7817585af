"""Configuration limits and shared-memory geometry (docs/protocol.md#layout), with
layouts computed by hand from RPMsg-Lite's rpmsg_platform.h and virtio_ring.h."""

from rpmsg_lite import Config, RPMsgLite
from rpmsg_lite.config import vring_bytes, computed_vring_size
from rpmsg_lite.layout import Layout
from rl_loopback import Loopback
from support import raises

B = 0x20200000


def test_defaults_are_rpmsg_lite_defaults():
    c = Config()
    assert (c.buffer_count, c.payload_size, c.vring_align) == (2, 496, 0x10)
    assert c.buffer_size == 512
    # Library default N=2, A=0x10 (rpmsg_default_config.h): VRING_SIZE 0x50, minimum 0x8A0.
    assert c.vring_size == 0x50
    assert c.shm_size == 0x8A0
    lay = Layout(c, B)
    assert lay.vrings[0].used == 0x30
    assert (lay.vrings[1].desc, lay.vrings[1].used) == (0x50, 0x80)
    assert [lay.buffer_offset(k) for k in range(4)] == [0xA0, 0x2A0, 0x4A0, 0x6A0]


def test_spec_table_n4_align_0x80():
    c = Config(buffer_count=4, vring_align=0x80)
    assert c.vring_size == 0x180 and vring_bytes(4, 0x80) == 0xAE
    assert c.shm_size == 0x1300
    lay = Layout(c, B)
    v0, v1 = lay.vrings
    assert (v0.desc, v0.avail, v0.used) == (0, 0x40, 0x80)
    assert (v1.desc, v1.avail, v1.used) == (0x180, 0x1C0, 0x200)
    assert lay.buffers == 0x300


def test_spec_table_n4_align_0x10_imxrt1170():
    c = Config(buffer_count=4, vring_align=0x10)
    assert c.vring_size == 0x80 and vring_bytes(4, 0x10) == 0x7E
    lay = Layout(c, B)
    assert lay.vrings[0].used == 0x50 and lay.vrings[1].used == 0xD0
    assert [lay.buffer_offset(k) for k in (0, 4, 7)] == [0x100, 0x900, 0xF00]
    assert c.shm_size == 0x1100


def test_spec_table_fixed_vring_size_linux_style():
    c = Config(buffer_count=4, vring_align=0x1000, vring_size=0x8000)
    assert vring_bytes(4, 0x1000) == 0x102E
    lay = Layout(c, B)
    assert lay.vrings[0].used == 0x1000
    assert (lay.vrings[1].desc, lay.vrings[1].avail, lay.vrings[1].used) == (0x8000, 0x8040, 0x9000)
    assert lay.buffers == 0x10000 and c.shm_size == 0x11000


def test_zephyr_style_computed_size():
    assert computed_vring_size(4, 0x1000) == 0x3000
    assert Config(buffer_count=256, vring_align=0x1000).vring_size == 12288


def test_used_ring_aligned_on_absolute_address():
    # Pitfall 2: with a base that is not aligned to VRING_ALIGN the used ring
    # moves relative to the base, as RPMsg-Lite's vring_init does.
    c = Config(buffer_count=4, vring_align=0x80)
    # avail.ring[4] ends at base + 0x4C: 0x2020008C rounds up to 0x20200100.
    assert Layout(c, B + 0x40).vrings[0].used == 0xC0
    assert Layout(c, B).vrings[0].used == 0x80


def test_used_ring_has_no_room_for_used_event():
    # Pitfall 3: N=2, A=8: RPMsg-Lite puts used at +40 (Linux would use +48).
    c = Config(buffer_count=2, vring_align=8)
    assert Layout(c, B).vrings[0].used == 40


def test_buffer_size_word_aligned_payload_any_size():
    c = Config(payload_size=100)
    assert c.buffer_size == 116
    c = Config(payload_size=101)
    assert c.buffer_size == 120


def test_buffer_count_limits():
    for bad in (0, 3, 6, 65536, -2, 2.0, None):
        raises(ValueError, Config, buffer_count=bad)
    assert Config(buffer_count=32768).buffer_count == 32768
    e = raises(ValueError, Config, buffer_count=65536)
    assert "32768" in str(e) or "power of two" in str(e)


def test_payload_and_align_limits():
    for bad in (0, -1, 65536):
        raises(ValueError, Config, payload_size=bad)
    for bad in (0, 2, 3, 24, 131072):
        raises(ValueError, Config, vring_align=bad)
    assert Config(vring_align=65536).vring_align == 65536


def test_fixed_vring_size_must_hold_a_vring():
    raises(ValueError, Config, buffer_count=4, vring_align=0x10, vring_size=0x40)
    raises(ValueError, Config, buffer_count=4, vring_align=0x10, vring_size=0x82)  # not word aligned
    assert Config(buffer_count=4, vring_align=0x10, vring_size=0x7E + 2).vring_size == 0x80


def test_pa_base_must_be_a_word_aligned_u32():
    for bad in (B + 2, -4, 0x100000000):
        raises(ValueError, Config, pa_base=bad)


def test_too_small_region_is_refused_with_the_needed_size():
    c = Config(buffer_count=4, vring_align=0x10, pa_base=B)
    loop = Loopback()
    e = raises(ValueError, RPMsgLite.master, bytearray(c.shm_size - 4), loop.master, c)
    assert str(c.shm_size) in str(e)
    raises(ValueError, RPMsgLite.remote, bytearray(100), loop.remote, c)


def test_larger_region_leaves_the_extra_untouched():
    c = Config(buffer_count=2, pa_base=B)
    shm = bytearray(b"\xee" * (c.shm_size + 64))
    RPMsgLite.master(shm, Loopback().master, c)
    assert shm[c.shm_size :] == b"\xee" * 64


def test_master_zero_fills_only_what_rpmsg_lite_does():
    # vring_size() bytes from each vring start and each buffer; the padding
    # between the end of vring 0's fill and VRING_SIZE keeps its old value.
    c = Config(buffer_count=4, vring_align=0x80, pa_base=B)
    shm = bytearray(b"\xee" * c.shm_size)
    RPMsgLite.master(shm, Loopback().master, c)
    fill = vring_bytes(4, 0x80)
    assert shm[fill : c.vring_size] == b"\xee" * (c.vring_size - fill)
    assert shm[0x300 + 16 : 0x300 + 512] == bytes(512 - 16)


def test_default_pa_base_is_the_region_address():
    import uctypes

    c = Config(buffer_count=2)
    shm = bytearray(c.shm_size)
    m = RPMsgLite.master(shm, Loopback().master, c)
    assert m.layout.pa_base == uctypes.addressof(shm)
    first = shm[0] | shm[1] << 8 | shm[2] << 16 | shm[3] << 24
    assert first == (uctypes.addressof(shm) + m.layout.buffers) & 0xFFFFFFFF


def test_per_link_custom_config_from_the_platform():
    # RL_ALLOW_CUSTOM_SHMEM_CONFIG: with no Config given, the platform's
    # link_config(link_id) supplies one per link.
    loop = Loopback()
    configs = {0: Config(buffer_count=2, pa_base=B), 1: Config(buffer_count=8, payload_size=64, pa_base=B)}
    loop.master.link_config = lambda link_id: configs[link_id]
    m1 = RPMsgLite.master(bytearray(configs[1].shm_size), loop.master, None, 1)
    assert m1.config is configs[1] and m1.layout.count == 8
    m0 = RPMsgLite.master(bytearray(0x8A0), Loopback().master)
    assert m0.config.buffer_count == 2  # the library default


def test_link_id_range():
    c = Config(pa_base=B)
    for bad in (-1, 0x8000):
        raises(ValueError, RPMsgLite.master, bytearray(c.shm_size), Loopback().master, c, bad)
    m = RPMsgLite.master(bytearray(c.shm_size), Loopback().master, c, 0x7FFF)
    assert m.link_id == 0x7FFF
