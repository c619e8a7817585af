"""Two real processes over the host port (CPython-driven, both interpreters
as cores): traffic in both directions, the console, the demo, a dead peer."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import hostcores  # noqa: E402

TRAFFIC = os.path.join(HERE, "cores", "traffic_core.py")
PAIRINGS = [
    ("micropython", "micropython"),
    ("cpython", "cpython"),
    ("cpython", "micropython"),
    ("micropython", "cpython"),
]


def _need(*interpreters):
    if "micropython" in interpreters and hostcores.find_micropython() is None:
        pytest.fail("MicroPython not found: run tools/setup.sh")


def _start(interpreter, script, args, **kw):
    argv, env = hostcores.core_command(interpreter, script, args)
    return hostcores.Core(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _host_master(wd, count):
    """A master link on the host port in wd, laid out as boards/host would
    with --count; returns (board options, config, port, link)."""
    _need("micropython")
    hostcores.use_firmware()
    import board
    from rpmsg_lite import RPMsgLite
    from rl_host import HostPort

    opts = board.parse(["--count", str(count)])[1]
    cfg = board.config(opts)
    port = HostPort.create(wd.shm, cfg.shm_size)
    return opts, cfg, port, RPMsgLite.master(port.shm, port, cfg)


def _result(core, timeout):
    out, err = core.proc.communicate(timeout=timeout)
    assert core.proc.returncode == 0, "core failed:\n" + out.decode() + err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("master,remote", PAIRINGS, ids=["-".join(p) for p in PAIRINGS])
def test_ten_thousand_messages_each_way_no_loss_no_reordering(master, remote):
    _need(master, remote)
    n = 10000
    layout = ["--count", "8"]
    with hostcores.Workdir() as wd:
        m = _start(master, TRAFFIC, [wd.shm, "--master", "--messages", str(n), "--seed", "7"] + layout)
        r = _start(remote, TRAFFIC, [wd.shm, "--messages", str(n), "--seed", "7"] + layout)
        try:
            results = [_result(m, 300), _result(r, 300)]
        finally:
            m.close()
            r.close()
    for res in results:
        assert res["sent"] == n and res["received"] == n, res
        assert res["errors"] == 0, res["first_error"]
        # Half of each direction went zero-copy, on both ends.
        assert res["zero_copy_sent"] == n // 2 and res["zero_copy_received"] == n // 2
        assert res["stats"]["rx_bad_entries"] == 0 and res["stats"]["unknown_dst"] == 0
    assert {res["interpreter"] for res in results} == {master, remote}


def test_console_runs_a_line_on_the_core_repl():
    _need("micropython")
    tool = os.path.join(hostcores.REPO, "tools", "console.py")
    proc = subprocess.run(
        [sys.executable, tool], input=b"1+1\nprint('via', 'rpmsg')\n", capture_output=True, timeout=120
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "MicroPython" in out  # the banner, sent before we wrote anything
    # The REPL echoes the typed line and prints the result (the unix port
    # ends result lines with a bare newline).
    assert re.search(r">>> 1\+1\r?\n2\r?\n", out), out
    assert re.search(r"\nvia rpmsg\r?\n", out), out


def test_demo_reports_every_echo_checked():
    _need("micropython")
    tool = os.path.join(hostcores.REPO, "tools", "demo.py")
    proc = subprocess.run([sys.executable, tool, "--messages", "300"], capture_output=True, timeout=120)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "name service: 'rpmsg-echo' created at address 30" in out
    assert "messages: 300 sent, 300 echoed back, 0 mismatched" in out
    assert "round trip: median" in out and "p99" in out


def test_a_dead_remote_does_not_hang_the_master():
    with hostcores.Workdir() as wd:
        port, link = _host_master(wd, 2)[2:]
        from rpmsg_lite import RPMsgError, ERR_NO_MEM, ADDR_ANY

        ept = link.create_ept(ADDR_ANY, lambda payload, src: None)
        core = _start("micropython", hostcores.REMOTE_MAIN, [wd.shm, "--count", "2"])
        deadline = time.monotonic() + 20
        while not port.peer_alive():
            assert time.monotonic() < deadline, "remote never started"
            port.wait(10)
        os.killpg(core.proc.pid, signal.SIGKILL)
        core.proc.wait()
        assert not port.peer_alive()
        # The dead core consumes nothing: once the buffers it had are gone,
        # a send with a timeout fails after that timeout instead of hanging.
        start = time.monotonic()
        with pytest.raises(RPMsgError) as info:
            for _ in range(10):
                link.send(ept, 30, b"anyone?", 50)
        assert info.value.code == ERR_NO_MEM
        assert time.monotonic() - start < 5
        port.close()


def test_doorbell_thread_hands_held_buffers_to_the_main_thread():
    # The doorbell thread runs isr and the Queue callback (which holds each
    # buffer); the main thread sends and releases those buffers concurrently,
    # with up to 8 echoes in flight. Every echo must come back intact, in
    # order, and every buffer must return to the peer.
    with hostcores.Workdir() as wd:
        opts, cfg, port, link = _host_master(wd, 8)
        import board
        from rpmsg_lite import Queue, ADDR_ANY, DONT_BLOCK

        q = Queue(link)
        ept = link.create_ept(ADDR_ANY, q)
        port.start_doorbell_thread(period_ms=5)
        core = _start("micropython", hostcores.REMOTE_MAIN, [wd.shm, "--quiet"] + board.layout_args(opts))
        try:
            n, sent, got = 3000, 0, 0
            buf = bytearray(cfg.payload_size)
            deadline = time.monotonic() + 60
            while got < n:
                assert time.monotonic() < deadline, "stalled at %d of %d" % (got, n)
                if sent < n and sent - got < 8 and link.free_tx_buffers():
                    size = 4 + sent % 400
                    link.send(ept, 30, sent.to_bytes(4, "little") * (size // 4), DONT_BLOCK)
                    sent += 1
                elif q.len():
                    k = q.recv_into(buf, DONT_BLOCK)
                    size = 4 + got % 400
                    assert k == size // 4 * 4 and buf[:k] == got.to_bytes(4, "little") * (size // 4)
                    got += 1
                else:
                    time.sleep(0.0002)
            assert link.stats()["callback_errors"] == 0 and link.stats()["rx_bad_entries"] == 0
        finally:
            port.close()
            core.close()


def _cpu_s(pid):
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc (Linux)")
def test_an_idle_core_sleeps_after_a_burst():
    # HostPort.wait spins on the rings for a bounded time after it found
    # work; once the peer goes quiet the core must sleep in poll, not spin.
    with hostcores.Workdir() as wd:
        opts, cfg, port, link = _host_master(wd, 8)
        import board
        from rpmsg_lite import Queue, ADDR_ANY

        q = Queue(link)
        ept = link.create_ept(ADDR_ANY, q)
        core = _start("micropython", hostcores.REMOTE_MAIN, [wd.shm, "--quiet"] + board.layout_args(opts))
        try:
            buf = bytearray(cfg.payload_size)
            for i in range(200):  # a burst: the echo core's wait goes hot
                link.send(ept, 30, i.to_bytes(4, "little"), 5000)
                q.recv_into(buf, 5000)
                assert buf[:4] == i.to_bytes(4, "little")
            time.sleep(0.2)
            before = _cpu_s(core.proc.pid)
            time.sleep(1.0)
            used = _cpu_s(core.proc.pid) - before
            # A busy loop would use ~1 s; a sleeping core ticks now and then
            # (its serve loop wakes every 10 ms).
            assert used < 0.1, "idle echo core used %.2f s of CPU in 1 s" % used
        finally:
            port.close()
            core.close()
