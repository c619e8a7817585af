# The QEMU board demo: both ends of a link in one firmware (loopback
# platform), driven from the REPL. Run it from the host with
#     python3 tools/qemu.py demo            (or: mpremote connect PTY run main.py)
# It brings the link up, shows the name service, runs a checked echo
# ping-pong and a zero-copy send, and prints the results. The stack is
# frozen into the firmware; this file is sent by mpremote.

from rpmsg_lite import RPMsgLite, Config, Queue, NameService, ADDR_ANY, DONT_BLOCK
from rpmsg_lite.echo import EchoService
from rl_loopback import Loopback


def run(messages=32):
    cfg = Config(buffer_count=4)
    shm = bytearray(cfg.shm_size)
    loop = Loopback()
    master = RPMsgLite.master(shm, loop.master, cfg)
    remote = RPMsgLite.remote(shm, loop.remote, cfg)
    echo = EchoService(remote)  # address 30, before link-up
    names = []
    NameService(master, lambda addr, name, flags: names.append((name, addr)))
    loop.deliver()  # the remote takes the master's init kick
    print("link up: master", master.is_link_up(), "remote", remote.is_link_up())
    echo.announce()
    loop.deliver()
    print("name service:", names)
    q = Queue(master)
    ept = master.create_ept(ADDR_ANY, q)
    buf = bytearray(cfg.payload_size)
    matched = 0
    sent = 0
    for i in range(messages):
        data = bytes([i & 0xFF]) * (1 + (i * 37) % cfg.payload_size)
        if i & 1:
            # The calls as users write them, default timeouts included
            # (a default argument takes another entry path into the code).
            ept.send(30, data)
            loop.deliver()
            n = q.recv_into(buf)
        else:
            master.send(ept, 30, data, DONT_BLOCK)
            loop.deliver()
            n = q.recv_into(buf, DONT_BLOCK)
        sent += len(data)
        if q.src == 30 and bytes(buf[:n]) == data:
            matched += 1
    print("echo ping-pong: %d/%d echoes matched, %d bytes each way" % (matched, messages, sent))
    out = master.alloc_tx_buffer(DONT_BLOCK)
    out[:9] = b"zero-copy"
    master.send_nocopy(ept, 30, out, 9)
    loop.deliver()
    src, view = q.recv_nocopy(DONT_BLOCK)
    print("zero-copy echo from %d: %s" % (src, bytes(view).decode()))
    q.nocopy_free(view)
    s = master.stats()
    print("dropped entries: %d, free tx buffers: %d" % (s["rx_bad_entries"] + s["tx_bad_entries"], master.free_tx_buffers()))
    print("demo done")


run()
