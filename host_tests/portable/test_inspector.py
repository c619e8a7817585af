"""The shared-memory inspector (rpmsg_lite.inspector): on images the stack
itself produces over the loopback, every anomaly a hostile peer can write
is named with the counter the stack then counts for it, and the layout is
read back from the descriptors."""

from rpmsg_lite import Config, Queue
from rpmsg_lite.inspector import inspect, guess
from rpmsg_lite.layout import Layout
from linkpair import Pair, small_config, PA_BASE


def _poke(shm, off, width, value):
    for k in range(width):
        shm[off + k] = (value >> (8 * k)) & 0xFF


def _peek(shm, off, width):
    v = 0
    for k in range(width):
        v |= shm[off + k] << (8 * k)
    return v


def _run(shm, cfg):
    lines = []
    anomalies = inspect(shm, cfg, out=lines.append)
    return [a[0] for a in anomalies], "\n".join(lines)


def _traffic(pair, to_remote=2, to_master=1):
    """Messages in flight both ways, none delivered yet."""
    q = Queue(pair.remote)
    pair.remote.create_ept(40, q)
    mq = Queue(pair.master)
    m_ept = pair.master.create_ept(30, mq)
    r_ept = pair.remote.create_ept(41, lambda p, s: None)
    for i in range(to_remote):
        pair.master.send(m_ept, 40, b"to remote %d" % i, 0)
    for i in range(to_master):
        pair.remote.send(r_ept, 30, b"to master %d" % i, 0)
    return q, mq


def test_clean_image_decodes_messages_and_owners():
    pair = Pair()
    _traffic(pair)
    names, text = _run(pair.shm, pair.config)
    assert names == [], text
    assert "anomalies: none" in text
    assert "src 30 -> dst 40, len 11" in text and "|to remote 1|" in text
    assert "src 41 -> dst 30, len 11" in text and "|to master 0|" in text
    # vring 0: buffer 0 carries the remote's message, 1..3 wait at the
    # remote; vring 1: the master's two sent (r), two free (M).
    assert "0:m 1..3:R 4..5:r 6..7:M" in text, text


def test_name_service_message_is_decoded():
    from rpmsg_lite import NS_CREATE

    pair = Pair()
    ept = pair.remote.create_ept(77, lambda p, s: None)
    pair.remote.ns_announce(ept, "rpmsg-tty", NS_CREATE)
    names, text = _run(pair.shm, pair.config)
    assert names == [] and "name service: create 'rpmsg-tty' at address 77" in text, text


def _vring1_slot0(pair):
    """(layout, offset of vring 1's avail.ring[0], descriptor it names)."""
    lay = Layout(pair.config, PA_BASE)
    geo = lay.vrings[1]
    return lay, geo, _peek(pair.shm, geo.avail + 4, 2)


def _remote_counts(pair, q):
    pair.to_remote()
    return pair.remote.stats()


def test_each_anomaly_is_named_as_the_stack_counts_it():
    cases = []

    def bad_desc(pair, lay, geo, d):
        _poke(pair.shm, geo.avail + 4, 2, 9)

    def bad_addr(pair, lay, geo, d):
        _poke(pair.shm, geo.desc + 16 * d, 4, _peek(pair.shm, geo.desc + 16 * d, 4) + 8)

    def bad_len(pair, lay, geo, d):
        _poke(pair.shm, geo.desc + 16 * d + 8, 4, 8)

    def bad_header(pair, lay, geo, d):
        _poke(pair.shm, lay.buffer_offset(4 + d) + 12, 2, 600)

    def duplicate(pair, lay, geo, d):
        _poke(pair.shm, geo.avail + 6, 2, d)  # slot 1 names slot 0's descriptor again

    def index_jumps(pair, lay, geo, d):
        _poke(pair.shm, geo.avail + 2, 2, _peek(pair.shm, geo.avail + 2, 2) + 7)

    cases = [bad_desc, bad_addr, bad_len, bad_header, duplicate, index_jumps]
    for corrupt in cases:
        pair = Pair()
        q, _ = _traffic(pair)
        lay, geo, d = _vring1_slot0(pair)
        corrupt(pair, lay, geo, d)
        names, text = _run(pair.shm, pair.config)
        name = corrupt.__name__
        assert name in names, (name, text)
        assert [n for n in names if n not in (name, "missing")] == [], (name, text)
        # The stack, receiving from that image, counts the same thing.
        stats = _remote_counts(pair, q)
        assert stats["rx_" + name] >= 1, (name, stats)


def test_master_side_index_jump_and_bad_desc_in_used_ring():
    pair = Pair()
    _traffic(pair, to_remote=0, to_master=1)
    geo = Layout(pair.config, PA_BASE).vrings[0]
    _poke(pair.shm, geo.used + 4, 4, 12)  # used.ring[0].id
    names, text = _run(pair.shm, pair.config)
    assert "bad_desc" in names and "vring 0 used.ring[0] names descriptor 12" in text, text
    pair.to_master()
    assert pair.master.stats()["rx_bad_desc"] == 1
    pair = Pair()
    _poke(pair.shm, geo.used + 2, 2, 9)  # used.idx 9 ahead of the master's 0
    names, text = _run(pair.shm, pair.config)
    assert "index_jumps" in names, text


def test_layout_is_guessed_from_the_descriptors():
    configs = [
        small_config(),
        small_config(buffer_count=1, payload_size=40),
        small_config(buffer_count=16, vring_align=0x1000),
        small_config(buffer_count=8, vring_align=0x80, payload_size=100),
        small_config(buffer_count=2, vring_size=0x400),
        Config(buffer_count=4, payload_size=496, vring_align=0x10, pa_base=0x30000000),
    ]
    for cfg in configs:
        pair = Pair(cfg)
        _traffic(pair, 1, 1)
        got = guess(pair.shm)
        for field in ("buffer_count", "payload_size", "vring_size", "pa_base", "shm_size"):
            assert getattr(got, field) == getattr(cfg, field), (field, cfg, got)
        # The same placement, whichever alignment produced it.
        assert Layout(got, got.pa_base).vrings[1].used == Layout(cfg, cfg.pa_base).vrings[1].used
        names, text = _run(pair.shm, got)
        assert names == [], text


def test_wrong_layout_and_empty_region_are_reported():
    pair = Pair()
    other = small_config(payload_size=240)
    lines = []
    inspect(pair.shm, other, out=lines.append)
    assert any(line.startswith("format: layout mismatch") for line in lines), lines
    try:
        guess(bytearray(4096))
    except ValueError as e:
        assert "no rings here" in str(e)
    else:
        raise AssertionError("guessed a layout in zeros")
