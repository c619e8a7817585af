"""NXP's C RPMsg-Lite (unmodified core, built by tools/cpeer.py) as a live
peer of this stack over the host port, in both roles.

The C side checks the length, sequence number and payload of every message
it receives (host_tests/cpeer/cpeer.c, traffic mode); this stack's side does
the same (host_tests/cores/traffic_core.py). Layouts cover 4, 16 and 256
buffers, VRING_ALIGN 0x10 / 0x80 / 0x1000 with a fixed VRING_SIZE of 0x8000,
and RL_ALLOW_CONSUMED_BUFFERS_NOTIFICATION on (as with a Linux peer) and off.
Skipped, with how to get it, where the library or gcc is missing.
"""

import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import cpeer  # noqa: E402
import hostcores  # noqa: E402

TRAFFIC = os.path.join(HERE, "cores", "traffic_core.py")
PA_BASE = 0x20200000
L4 = cpeer.Layout(count=4, align=0x10, vring_size=0x8000)
L16 = cpeer.Layout(count=16, align=0x80, vring_size=0x8000, consumed_notify=True)
L256 = cpeer.Layout(count=256, align=0x1000, vring_size=0x8000, consumed_notify=True)

_built = {}


def c_binary(layout):
    reason = cpeer.unavailable()
    if reason:
        pytest.skip(reason)
    if layout.key not in _built:
        _built[layout.key] = cpeer.build(layout)
    return _built[layout.key]


def _need(interpreter):
    if interpreter == "micropython" and hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")


def _c_core(layout, shm, role, mode, *args):
    argv = [c_binary(layout), shm, "--" + role, "--mode", mode, "--pa-base", str(PA_BASE)] + list(args)
    return hostcores.Core(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _py_core(interpreter, layout, shm, role, n, seed, extra=()):
    args = [shm, "--messages", str(n), "--seed", str(seed)] + layout.host_args() + list(extra)
    if role == "master":
        args.append("--master")
    argv, env = hostcores.core_command(interpreter, TRAFFIC, args)
    return hostcores.Core(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _result(core, timeout=180, check=True):
    out, err = core.proc.communicate(timeout=timeout)
    text = out.decode() + err.decode()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    assert lines and (core.proc.returncode == 0 or not check), "core %s failed:\n%s" % (core.argv[0], text)
    return json.loads(lines[-1])


def _traffic(c_role, other, layout, n, seed=11, other_seed=None, check=True, extra=()):
    """C in c_role against `other` ("micropython", "cpython" or "c") in the
    other role, n messages each way; returns (C result, other result).
    other_seed: a different stream on the other side (a corrupt peer)."""
    other_seed = seed if other_seed is None else other_seed
    py_role = "remote" if c_role == "master" else "master"
    with hostcores.Workdir("rpmsg-cpeer-") as wd:
        c_args = ["--messages", str(n), "--seed", str(seed), "--block-ms", "20000"]
        cores = []
        try:
            # Master first: the remote waits for its FILE.ready.
            for role in ("master", "remote"):
                if role == c_role:
                    cores.append(_c_core(layout, wd.shm, role, "traffic", *c_args))
                elif other == "c":
                    # Two C peers: non-blocking sends on this one, so both never
                    # wait inside a send at once with every buffer held.
                    args = ["--messages", str(n), "--seed", str(other_seed), "--linger-ms", "200"]
                    cores.append(_c_core(layout, wd.shm, role, "traffic", *args))
                else:
                    cores.append(_py_core(other, layout, wd.shm, py_role, n, other_seed, extra))
            results = [_result(core, check=check) for core in cores]
        finally:
            for core in cores:
                core.close()
    c_res = results[0] if c_role == "master" else results[1]
    other_res = results[1] if c_role == "master" else results[0]
    return c_res, other_res


def _assert_clean(c_res, other_res, n):
    for res in (c_res, other_res):
        assert res["errors"] == 0, res["first_error"]
        assert res["sent"] == n and res["received"] == n, res
        # Every other message went zero-copy, on both the send and the receive side.
        assert res["zero_copy_sent"] == n // 2 and res["zero_copy_received"] == n // 2, res
    # Name service both ways: each side found the other's "traffic" endpoint.
    assert [e["name"] for e in c_res["ns"]] == ["traffic"] and c_res["ns"][0]["flags"] == 0
    if "stats" in other_res:
        stats = other_res["stats"]
        assert stats["rx_bad_entries"] == 0 and stats["tx_bad_entries"] == 0 and stats["unknown_dst"] == 0, stats
        assert stats["callback_errors"] == 0, stats


@pytest.mark.parametrize("c_role", ["remote", "master"])
def test_micropython_and_c_100k_messages_each_way_checked_on_both_sides(c_role):
    # Linux-style consumed-buffer notifications, more messages in flight
    # than the ring holds on both sides (each sends as fast as it can).
    _need("micropython")
    n = 100000
    c_res, mp_res = _traffic(c_role, "micropython", L16, n)
    _assert_clean(c_res, mp_res, n)
    assert mp_res["interpreter"] == "micropython" and mp_res["role"] != c_res["role"]
    # Back-pressure both ways: each side found every buffer taken at times,
    # and the C side then waited inside rpmsg_lite_send/alloc_tx_buffer.
    assert c_res["backpressure"] > 0 and c_res["blocked_sends"] > 0, c_res
    assert mp_res["tx_full"] > 0, mp_res


@pytest.mark.parametrize("c_role", ["remote", "master"])
def test_doorbell_suppression_against_c_in_both_roles(c_role):
    # MicroPython sets NO_NOTIFY on the ring it drains (Config.
    # doorbell_suppression) and C's virtqueue_kick honours it: every message
    # still arrives, checked on both sides, with fewer doorbells from C than
    # messages (C never sets the flag, so MicroPython rings once per message).
    # Without consumed-buffer kicks, which go on the other ring.
    _need("micropython")
    n = 30000
    layout = cpeer.Layout(count=16, align=0x80, vring_size=0x8000)
    c_res, mp_res = _traffic(c_role, "micropython", layout, n, extra=["--doorbell-suppression"])
    _assert_clean(c_res, mp_res, n)
    stats = mp_res["stats"]
    assert stats["tx_doorbells"] == stats["tx_messages"] > 0, stats
    assert 0 < mp_res["doorbells_in"] < n, mp_res["doorbells_in"]


@pytest.mark.parametrize("layout", [L4, L256], ids=["4buf-align0x10", "256buf-align0x1000"])
@pytest.mark.parametrize("c_role", ["remote", "master"])
def test_micropython_and_c_other_layouts(c_role, layout):
    _need("micropython")
    n = 50000
    # Without doorbell suppression (the host board's default is on): one
    # doorbell per message both ways, as between two C cores.
    c_res, mp_res = _traffic(c_role, "micropython", layout, n, seed=5, extra=["--no-doorbell-suppression"])
    _assert_clean(c_res, mp_res, n)
    if layout is L4:
        assert c_res["backpressure"] > 0 and mp_res["tx_full"] > 0


@pytest.mark.parametrize("c_role", ["remote", "master"])
def test_cpython_and_c(c_role):
    n = 10000
    c_res, py_res = _traffic(c_role, "cpython", L16, n, seed=3)
    _assert_clean(c_res, py_res, n)
    assert py_res["interpreter"] == "cpython"


def test_the_c_side_reports_every_message_that_differs():
    # The other side sends a different (equally well-formed) stream: every
    # message the C side checks must be counted as an error, the first one
    # named, and the C peer must exit non-zero.
    n = 200
    c_res, py_res = _traffic("remote", "cpython", L4, n, seed=21, other_seed=22, check=False)
    assert c_res["received"] == n and c_res["errors"] == n, c_res
    assert c_res["first_error"].startswith("message 0"), c_res
    assert py_res["errors"] == n


def test_c_and_c_reference():
    # The C peer against itself: the environment and platform layers alone.
    n = 20000
    c_res, other = _traffic("master", "c", L4, n)
    _assert_clean(c_res, other, n)


@pytest.mark.parametrize("zero_copy", [False, True], ids=["copy", "zero-copy"])
@pytest.mark.parametrize("c_role", ["remote", "master"])
def test_c_echo_in_both_roles_with_name_service_both_ways(c_role, zero_copy):
    # This test process is the other side (CPython), with the 256-buffer
    # Linux-style layout.
    hostcores.use_firmware()
    from rpmsg_lite import RPMsgLite, Config, Queue, NameService, ADDR_ANY
    from rl_host import HostPort

    layout = L256
    cfg = Config(pa_base=PA_BASE, **layout.config_kwargs())
    with hostcores.Workdir("rpmsg-cpeer-") as wd:
        args = ["--zero-copy", "--timeout-ms", "30000"] if zero_copy else ["--timeout-ms", "30000"]
        port = core = None
        try:
            if c_role == "remote":
                port = HostPort.create(wd.shm, cfg.shm_size)
                link = RPMsgLite.master(port.shm, port, cfg)
                core = _c_core(layout, wd.shm, "remote", "echo", *args)
            else:
                core = _c_core(layout, wd.shm, "master", "echo", *args)
                port = HostPort.open(wd.shm, cfg.shm_size, 20000)
                link = RPMsgLite.remote(port.shm, port, cfg)
            seen = []
            NameService(link, lambda addr, name, flags: seen.append((name, addr, flags)))
            q = Queue(link)
            ept = link.create_ept(ADDR_ANY, q)
            assert link.wait_for_link_up(20000)
            link.ns_announce(ept, "py-client")
            deadline = time.monotonic() + 20
            while ("rpmsg-echo", 30, 0) not in seen:
                assert time.monotonic() < deadline, seen
                port.wait(5)
            buf = bytearray(cfg.payload_size)
            n = 300
            for i in range(n):
                size = 1 + (i * 37) % cfg.payload_size
                msg = bytes((i + k) & 0xFF for k in range(size))
                if i & 1:
                    out = link.alloc_tx_buffer(5000)
                    out[:size] = msg
                    link.send_nocopy(ept, 30, out, size)
                    view = q.recv_view(5000)
                    assert q.src == 30 and bytes(view) == msg, i
                    q.nocopy_free(view)
                else:
                    link.send(ept, 30, msg, 5000)
                    assert q.recv_into(buf, 5000) == size and q.src == 30 and buf[:size] == msg, i
            assert link.stats()["rx_bad_entries"] == 0 and link.stats()["unknown_dst"] == 0
            port.close()  # the C echo leaves once we are gone
            res = _result(core, 30)
        finally:
            if port is not None:
                port.close()
            if core is not None:
                core.close()
    assert res["echoed"] == n and res["errors"] == 0, res
    assert res["ns"] == [{"name": "py-client", "addr": ept.addr, "flags": 0}]


def test_c_bench_master_checks_echoes_of_micropython():
    # C -> MicroPython as tools/bench.py runs it: the C master checks every
    # echo (sequence, length, payload) and reports the bench record.
    _need("micropython")
    layout = cpeer.Layout(count=16)
    with hostcores.Workdir("rpmsg-cpeer-") as wd:
        m = _c_core(layout, wd.shm, "master", "bench", "--bench", "stream", "--messages", "2000", "--sizes", "16,496")
        argv, env = hostcores.core_command("micropython", hostcores.REMOTE_MAIN, [wd.shm, "--quiet"] + layout.host_args())
        r = hostcores.Core(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            out, err = m.proc.communicate(timeout=120)
        finally:
            m.close()
            r.close()
    records = [json.loads(line) for line in out.decode().splitlines()]
    assert m.proc.returncode == 0 and all("error" not in rec for rec in records), out.decode() + err.decode()
    assert [(rec["size"], rec["master"], rec["messages"]) for rec in records] == [(16, "c", 2000), (496, "c", 2000)]
    assert all(rec["rtt_p99_us"] >= rec["rtt_median_us"] > 0 for rec in records)


def test_the_layout_is_the_one_this_stack_computes():
    hostcores.use_firmware()
    from rpmsg_lite import Config

    for layout in (L4, L16, L256, cpeer.Layout(count=8, payload=100, align=0x40)):
        report = cpeer.layout_report(c_binary(layout))
        cfg = Config(**layout.config_kwargs())
        assert (report["count"], report["payload"], report["align"]) == (layout.count, layout.payload, layout.align)
        assert report["vring_size"] == cfg.vring_size and report["shm_size"] == cfg.shm_size, (report, cfg)
        assert report["consumed_notification"] == int(layout.consumed_notify)


def test_without_the_library_the_reason_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(cpeer, "candidates", lambda: [("$RPMSG_LITE_DIR", str(tmp_path))])
    monkeypatch.setattr(cpeer, "_fetch_tried", True)  # no network attempt here
    assert cpeer.find_library() is None
    reason = cpeer.unavailable()
    if cpeer.compiler() is not None:
        assert reason == cpeer.HOW_TO_GET
        assert "RPMSG_LITE_DIR" in reason and "tools/cpeer.py fetch" in reason and cpeer.COMMIT[:12] in reason
    with pytest.raises(RuntimeError):
        cpeer.build(cpeer.Layout())


def test_the_environment_variable_names_the_library(monkeypatch, tmp_path):
    lib = tmp_path / "rpmsg-lite"
    (lib / "lib" / "rpmsg_lite").mkdir(parents=True)
    (lib / "lib" / "rpmsg_lite" / "rpmsg_lite.c").write_text("")
    monkeypatch.setenv(cpeer.ENV_VAR, str(lib))
    assert cpeer.find_library() == str(lib)


def test_bench_tool_c_pairings_with_a_window_larger_than_the_ring():
    # tools/bench.py with the C pairings: C <-> C runs first as the reference
    # and the other records carry their ratios to it. Window 8 over 4 buffers
    # per direction: each sender keeps waiting for buffers (back-pressure),
    # in both directions; both bench masters check every echo.
    _need("micropython")
    c_binary(cpeer.Layout(count=4))  # skips with the reason when unavailable
    bench = os.path.join(hostcores.REPO, "tools", "bench.py")
    args = ["--pairs", "mp-c,c-mp", "--messages", "300", "--sizes", "16,496", "--count", "4", "--window", "8"]
    proc = subprocess.run([sys.executable, bench] + args + ["--consumed-notify"], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    records = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.startswith("{")]
    pairs = [(r["master"], r["remote"]) for r in records]
    assert pairs == [("c", "c")] * 8 + [("micropython", "c")] * 8 + [("c", "micropython")] * 8
    combos = {(r["mode"], r["zero_copy"], r["size"]) for r in records}
    assert combos == {(m, z, s) for m in ("pingpong", "stream") for z in (False, True) for s in (16, 496)}
    for r in records:
        assert r["messages"] == 300 and r["msgs_per_s"] > 0 and r["rtt_p99_us"] >= r["rtt_median_us"] > 0
        assert r["window"] == (8 if r["mode"] == "stream" else 1)
        if r["master"] == r["remote"] == "c":
            assert "msgs_per_s_vs_c" not in r
        else:
            ref = [x for x in records[:8] if (x["mode"], x["zero_copy"], x["size"]) == (r["mode"], r["zero_copy"], r["size"])][0]
            assert r.get("msgs_per_s_vs_c") == round(r["msgs_per_s"] / ref["msgs_per_s"], 3), (r, ref)
        if r["master"] == "micropython":
            assert r["alloc_bytes_per_msg"] == 0, r
