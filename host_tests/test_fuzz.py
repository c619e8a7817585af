"""Hypothesis drives the hostile-peer fuzzer (host_tests/portable/fuzzer.py)
on CPython: at least 100 000 steps of traffic, master restarts and random
corruption of rings, descriptors, headers and any other bytes of the
region. The shim's pointers are bounds checked, so an access outside the
shared region would raise out of a delivery and fail the example; the
fuzzer also checks that callbacks only ever get the link's own buffers,
that drop counters only grow, and that a master restart always ends in a
clean link with no buffer leaked.

Derandomized so CI runs the same cases every time; set RPMSG_FUZZ_EXAMPLES
to run more, RPMSG_FUZZ_RANDOM=1 to explore new ones.
"""

import os

from hypothesis import HealthCheck, given, settings, strategies as st

import fuzzer

STEPS = 50
EXAMPLES = int(os.environ.get("RPMSG_FUZZ_EXAMPLES", "2000"))
_ran = {"steps": 0, "damage": 0, "recoveries": 0, "restarts_seen": 0}

step = st.tuples(
    st.sampled_from(fuzzer.OPS),
    st.integers(0, (1 << 20) - 1),
    st.integers(0, 0xFFFFFFFF),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("RPMSG_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=STEPS, max_size=STEPS))
def test_hostile_peer_never_breaks_the_stack(steps):
    f = fuzzer.Fuzzer()
    for op, a, b in steps:
        f.step(op, a, b)
    _ran["steps"] += f.steps
    _ran["damage"] += f.damage()
    _ran["recoveries"] += f.recoveries
    _ran["restarts_seen"] += f.p.remote.peer_restarts


def test_the_fuzz_run_was_big_enough_and_saw_damage():
    # Runs after the property above (pytest keeps file order).
    assert _ran["steps"] >= EXAMPLES * STEPS >= 100000 or EXAMPLES < 2000, _ran
    assert _ran["damage"] > 0 and _ran["recoveries"] > 0 and _ran["restarts_seen"] > 0, _ran
