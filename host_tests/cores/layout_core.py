# A test core for layout agreement over the host port, on MicroPython or
# CPython.
#
#     layout_core.py FILE [--master] [--plain-config] [layout options]
#
# The remote waits for link-up, sends "hello" to address 30 and waits for
# the echo; when its layout differs from the master's it reports the
# LayoutError instead. The master echoes what reaches address 30 until
# FILE.stop appears (the test creates it once the remote is done). --plain-config uses Config(buffer_count=..) with pa_base
# left None (the port supplies the contract's address). Each prints one
# JSON line.

import sys
import json
import os

import board
from rpmsg_lite import Config, Queue, LayoutError, DONT_BLOCK, RPMsgError


def main(argv):
    args, opts = board.parse(argv)
    master = opts.get("master", False)
    if opts.get("plain_config"):
        cfg = Config(buffer_count=opts["count"], payload_size=opts["payload"])
    else:
        cfg = board.config(opts)
    port, link = board.open_link(args[0], cfg, master)
    q = Queue(link)
    ept = link.create_ept(30 if master else 40, q)
    buf = bytearray(cfg.payload_size)
    out = {"role": "master" if master else "remote"}
    if master:
        echoed = 0
        for _ in range(3000):  # about 30 s at most
            port.wait(10)
            try:
                n = q.recv_into(buf, DONT_BLOCK)
                link.send(ept, q.src, buf[:n], DONT_BLOCK)
                echoed += 1
            except RPMsgError:
                pass
            try:
                os.stat(args[0] + ".stop")
                break
            except OSError:
                pass
        out["echoed"] = echoed
    else:
        try:
            out["up"] = link.wait_for_link_up(5000)
            link.send(ept, 30, b"hello", 1000)
            n = q.recv_into(buf, 2000)
            out["reply"] = bytes(buf[:n]).decode()
        except LayoutError as e:
            out["error"] = "LayoutError"
            out["message"] = str(e)
            try:
                link.send(ept, 30, b"hello", DONT_BLOCK)
            except LayoutError as e2:
                out["send_error"] = str(e2)
    out["fault"] = link.fault
    out["stats"] = link.stats()
    print(json.dumps(out))
    port.close()


main(sys.argv[1:])
