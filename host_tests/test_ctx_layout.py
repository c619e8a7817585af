"""vring.py's private ctx layout is repeated verbatim in ringops.py (const()
is per module); the two copies and the result codes link.py and slowpath.py
test must agree."""

import os
import re

FW = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "firmware", "rpmsg_lite")


def _read(name):
    with open(os.path.join(FW, name)) as f:
        return f.read()


def _block(text):
    start = text.index("# -- ctx layout (words)")
    return text[start : text.index("# -- end of the ctx layout", start)]


def test_ringops_repeats_the_ctx_layout_of_vring():
    assert _block(_read("ringops.py")) == _block(_read("vring.py"))


def test_result_codes_agree_with_vring():
    codes = dict(re.findall(r"^(_[A-Z_]+) = const\((-\d+)\)", _read("vring.py"), re.M))
    for name in ("link.py", "slowpath.py"):
        mine = re.findall(r"^(_(?:EMPTY|BAD|JUMP|RESTART|GONE|NOT_MINE|DOWN|TOO_BIG)) = (?:const\()?(-\d+)", _read(name), re.M)
        assert mine, name
        for k, v in mine:
            assert codes[k] == v, (name, k)
