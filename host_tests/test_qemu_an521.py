"""Two real cores: QEMU's mps2-an521 (two Cortex-M33s, shared SRAM, MHU
doorbells) with MicroPython and NXP's unmodified C RPMsg-Lite on either
core (tools/qemu_an521.py, boards/qemu_mps2_an521/).

Each scenario boots the pair under -icount (one host thread, exact
instruction counts) and runs the master's script: link-up, the remote's
name-service announcement, a checked ping-pong, zero-copy both ways and a
stress of 20 000 messages each way, every message checked for sequence,
length and payload on both cores. (a) and (c) also run without -icount,
where both cores execute truly in parallel; C on both cores (the
benchmark reference) runs twice and must count the same instructions.
Skipped where the ARM toolchain and QEMU cannot be installed, and (the
scenarios with C) where NXP's RPMsg-Lite source cannot be found
(RPMSG_LITE_DIR, or ../shared/third_party/rpmsg-lite). About 70 s in all
on 2 cores; the longest, (c) under -icount, about 13 s."""

import ast
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import qemu  # noqa: E402
import qemu_an521  # noqa: E402

MESSAGES = 20000


def _run(core0, core1, icount=True):
    try:
        return qemu_an521.scenario(core0, core1, messages=MESSAGES, icount=icount)
    except qemu.Unavailable as e:
        pytest.skip("ARM toolchain / QEMU cannot be installed here: %s" % e)
    except qemu_an521.NoCLibrary as e:
        pytest.skip(str(e))


def _check_core1(report):
    # Read on core 1's own REPL (mpremote) after its serve() returned: what
    # the MicroPython remote itself counted.
    last = ast.literal_eval(report)
    assert last["checked"] == MESSAGES and last["bad"] == 0 and last["dropped"] == 0, last
    assert last["echoed"] == 100 + 100 + MESSAGES + 10 + 1000, last
    # Every wait slept: WFI returned about once per sleep (a doorbell or the
    # timeout), not thousands of times (a pending interrupt nobody clears,
    # e.g. a byte mpremote left in the UART, turns the sleep into a spin
    # that starves the other core under -icount).
    assert last["sleeps"] > 0 and last["wakeups"] <= 2 * last["sleeps"] + 10, last


def _check(result, lines):
    assert result["link_up"], result
    assert result.get("ns_addr", 30) == 30 and result.get("names", [["rpmsg-echo", 30]]) == [["rpmsg-echo", 30]]
    assert result["pingpong_ok"] == 100 and result["zero_copy_ok"] == 100, result
    # Each way: every message reached the remote's checking endpoint intact
    # and in order, and every echo came back intact and in order.
    assert result["stress_sent"] == MESSAGES and result["stress_received"] == MESSAGES, result
    assert result["stress_bad"] == 0 and result["peer_bad"] == 0, result
    assert result["peer_checked"] == MESSAGES, result
    # ping-pong + zero-copy + stress + warm-up + timed round trips
    assert result["peer_echoed"] == 100 + 100 + MESSAGES + 10 + 1000, result
    assert result["rt64_instructions"] > 0
    assert not [line for line in lines if "failed" in line or "exhausted" in line], lines


@pytest.mark.parametrize("icount", [True, False], ids=["icount", "parallel"])
def test_a_micropython_master_c_remote(icount):
    result, lines, _ = _run("micropython", "c", icount)
    _check(result, lines)
    assert result["dropped"] == 0
    assert "c-remote: link up" in lines


def test_b_c_master_micropython_remote():
    result, lines, report = _run("c", "micropython")
    _check(result, lines)
    _check_core1(report)
    assert "c-master: name service: rpmsg-echo at 30" in lines


@pytest.mark.parametrize("icount", [True, False], ids=["icount", "parallel"])
def test_c_micropython_on_both_cores(icount):
    # In parallel the remote also runs out of TX buffers and holds messages
    # (RL_HOLD, then echoed in order), which -icount's turn-taking never shows.
    result, lines, report = _run("micropython", "micropython", icount)
    _check(result, lines)
    _check_core1(report)
    assert result["dropped"] == 0


def test_repl_session_on_core_0_talks_to_core_1():
    # What `tools/qemu.py dual` hands the user, scripted: separate mpremote
    # calls on core 0's pty; "resume" keeps the session (no soft reset).
    try:
        qemu_an521.build("micropython", "c")
    except qemu.Unavailable as e:
        pytest.skip("ARM toolchain / QEMU cannot be installed here: %s" % e)
    except qemu_an521.NoCLibrary as e:
        pytest.skip(str(e))
    with qemu_an521.Pair("micropython", "c") as pair:
        steps = [
            ("exec", "import an521_master as m; c1 = m.Core1(); print(c1.names, c1.started)"),
            ("resume", "exec", "print(c1.ask(b'hello core 1'))"),
            ("resume", "eval", "c1.ask(bytes(range(200)), 30) == bytes(range(200))"),
            ("resume", "eval", "c1.peer_stats()"),
            ("resume", "exec", "import sys; print(sys.implementation._machine)"),
        ]
        outs = []
        for step in steps:
            code, out, err = pair.mpremote(0, *step, timeout=60)
            assert code == 0, out + err
            outs.append(out.strip())
    assert outs[0] == "[('rpmsg-echo', 30)] True"
    assert outs[1] == "b'hello core 1'"
    assert outs[2] == "True"
    assert outs[3] == "(0, 0, 2, 0)"  # two echoes so far, nothing checked or held
    assert outs[4] == "mps2-an521 with Cortex-M33 core 0"


def test_idle_cores_sleep_in_wfi():
    # Both cores MicroPython, link up, then two virtual seconds of nothing:
    # each core must sleep through them (WFI woke about once per wait), also
    # with host tools' bytes left in core 1's UART, which once kept its
    # sleep spinning on the pending RX interrupt.
    try:
        qemu_an521.build("micropython", "micropython")
    except qemu.Unavailable as e:
        pytest.skip("ARM toolchain / QEMU cannot be installed here: %s" % e)
    with qemu_an521.Pair("micropython", "micropython") as pair:
        pair.serve_on_core1()
        steps = [
            ("exec", "import an521_master as m; c1 = m.Core1(); print(c1.names)"),
            ("resume", "exec", "for _ in range(4): c1.port.wait(500)"),
            ("resume", "exec", "c1.link.send(c1.ept, m.STOP, b'stop', 100); print(c1.port.sleeps, c1.port.wakeups)"),
        ]
        outs = []
        for step in steps:
            code, out, err = pair.mpremote(0, *step, timeout=60)
            assert code == 0, out + err
            outs.append(out.strip())
        code, out, err = pair.mpremote(1, "resume", "eval", "an521_echo.last", timeout=60)
        assert code == 0, out + err
    assert outs[0] == "[('rpmsg-echo', 30)]"
    sleeps, wakeups = map(int, outs[2].split())
    assert sleeps >= 4 and wakeups <= 2 * sleeps + 10, outs
    last = ast.literal_eval(out.strip())
    assert last["sleeps"] > 0 and last["wakeups"] <= 2 * last["sleeps"] + 10, last


def test_c_on_both_cores_is_the_reference_and_repeats_exactly():
    # NXP's library on both cores, built the same way: the benchmark's
    # reference. Under -icount two boots count the same instructions.
    runs = [_run("c", "c") for _ in range(2)]
    for result, lines, _ in runs:
        _check(result, lines)
    assert runs[0][0] == runs[1][0]
    assert 500 < runs[0][0]["rt64_instructions"] < 10000, runs[0][0]
