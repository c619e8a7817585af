"""The few POSIX calls the host port needs, on either interpreter.

CPython has os, mmap, select and fcntl; the MicroPython unix port has no
mmap, mkfifo, flock or fd-level I/O, so there the same calls go through
ffi into libc. Both classes offer the same methods; the flag values are
Linux's (asm-generic), the only host the port targets.
"""

import sys
import select
from array import array

O_RDWR = 0o2
O_CREAT = 0o100
O_NONBLOCK = 0o4000
LOCK_SH = 1
LOCK_EX = 2
LOCK_NB = 4
LOCK_UN = 8
EAGAIN = 11
EEXIST = 17
EINTR = 4
FIONREAD = 0x541B


class _Common:
    def poller(self, fd):
        p = select.poll()
        p.register(fd, select.POLLIN)
        return p

    def readable(self, poller, ms):
        """True if the polled fd became readable within ms."""
        return bool(poller.poll(ms))

    def exists(self, path):
        try:
            import os

            os.stat(path)
            return True
        except OSError:
            return False

    def remove(self, path):
        import os

        try:
            os.remove(path)
        except OSError:
            pass

    def touch(self, path):
        with open(path, "wb"):
            pass

    def file_size(self, path):
        import os

        return os.stat(path)[6]


class CPythonOS(_Common):
    def __init__(self):
        import os
        import mmap
        import fcntl

        self._os = os
        self._mmap = mmap
        self._fcntl = fcntl
        self.sched_yield = os.sched_yield

    def unread_counter(self, fd):
        """A function that returns the bytes waiting in pipe fd (FIONREAD;
        0 on error)."""
        ioctl = self._fcntl.ioctl
        count = array("i", [0])

        def unread():
            try:
                ioctl(fd, FIONREAD, count)
            except OSError:
                return 0
            return count[0]

        return unread

    def map_file(self, path, size, create):
        """Map ``size`` bytes of the file shared; with ``create`` the file is
        created if missing and cut or extended to exactly ``size`` (never
        truncated to 0 first: see HostPort.master). Returns (buffer, handle
        for unmap)."""
        flags = O_RDWR | (O_CREAT if create else 0)
        fd = self._os.open(path, flags, 0o600)
        try:
            if create:
                self._os.ftruncate(fd, size)
            elif self._os.fstat(fd).st_size < size:
                raise ValueError("%s is %d bytes, the configuration needs %d" % (path, self._os.fstat(fd).st_size, size))
            m = self._mmap.mmap(fd, size, self._mmap.MAP_SHARED, self._mmap.PROT_READ | self._mmap.PROT_WRITE)
        finally:
            self._os.close(fd)
        return m, m

    def unmap(self, handle):
        try:
            handle.close()
        except BufferError:
            pass  # a view is still exported; the mapping goes with the GC

    def make_fifo(self, path):
        try:
            self._os.mkfifo(path, 0o600)
        except FileExistsError:
            pass

    def open_fifo(self, path):
        # Read-write so that open() does not wait for the other end, and the
        # pipe keeps what is written while the peer is not listening yet.
        return self._os.open(path, O_RDWR | O_NONBLOCK)

    def close(self, fd):
        self._os.close(fd)

    def read_into(self, fd, buf):
        try:
            data = self._os.read(fd, len(buf))
        except BlockingIOError:
            return 0
        buf[: len(data)] = data
        return len(data)

    def write(self, fd, data):
        try:
            return self._os.write(fd, data)
        except BlockingIOError:
            return -1

    def notifier(self, fd):
        """A function that writes one 4-byte doorbell to fd: True if it
        went in, False if the pipe is full."""
        write = self._os.write

        def ring(word):
            try:
                return write(fd, word) == 4
            except BlockingIOError:
                return False

        return ring

    def flock(self, fd, op):
        try:
            self._fcntl.flock(fd, op)
            return True
        except BlockingIOError:
            return False


class MicroPythonOS(_Common):
    def __init__(self):
        import ffi
        import os

        libc = None
        for name in ("libc.so.6", "libc.so"):
            try:
                libc = ffi.open(name)
                break
            except OSError:
                pass
        if libc is None:
            raise OSError("libc not found for ffi")
        self._errno = os.errno
        self._open = libc.func("i", "open", "sii")
        self._close = libc.func("i", "close", "i")
        self._ftruncate = libc.func("i", "ftruncate", "il")
        self._mmap = libc.func("p", "mmap", "pLiiil")
        self._munmap = libc.func("i", "munmap", "pL")
        self._mkfifo = libc.func("i", "mkfifo", "si")
        self._read = libc.func("l", "read", "ipL")
        self._write = libc.func("l", "write", "ipL")
        self._flock = libc.func("i", "flock", "ii")
        self.sched_yield = libc.func("i", "sched_yield", "")
        self._ioctl = libc.func("i", "ioctl", "iLp")

    def unread_counter(self, fd):
        """A function that returns the bytes waiting in pipe fd (FIONREAD;
        0 on error). The ffi call is made directly: it runs per doorbell."""
        ioctl = self._ioctl
        count = array("i", [0])

        def unread():
            count[0] = 0
            ioctl(fd, FIONREAD, count)
            return count[0]

        return unread

    def readable(self, poller, ms):
        # ipoll yields a callee-owned tuple: unlike poll(), no list is built,
        # so waiting for a doorbell allocates nothing.
        for _ in poller.ipoll(ms):
            return True
        return False

    def _check(self, result, what):
        if result < 0:
            raise OSError(self._errno(), what)
        return result

    def map_file(self, path, size, create):
        import uctypes

        if not create and self.file_size(path) < size:
            raise ValueError("%s is %d bytes, the configuration needs %d" % (path, self.file_size(path), size))
        flags = O_RDWR | (O_CREAT if create else 0)
        fd = self._check(self._open(path, flags, 0o600), "open " + path)
        try:
            if create:
                self._check(self._ftruncate(fd, size), "ftruncate")
            addr = self._mmap(None, size, 3, 1, fd, 0)  # PROT_READ|WRITE, MAP_SHARED
            if addr == 0 or addr == -1 or addr == (1 << 64) - 1:
                raise OSError(self._errno(), "mmap " + path)
        finally:
            self._close(fd)
        return uctypes.bytearray_at(addr, size), (addr, size)

    def unmap(self, handle):
        self._munmap(handle[0], handle[1])

    def make_fifo(self, path):
        if self._mkfifo(path, 0o600) < 0 and self._errno() != EEXIST:
            raise OSError(self._errno(), "mkfifo " + path)

    def open_fifo(self, path):
        return self._check(self._open(path, O_RDWR | O_NONBLOCK, 0), "open " + path)

    def close(self, fd):
        self._close(fd)

    def read_into(self, fd, buf):
        n = self._read(fd, buf, len(buf))
        if n < 0:
            e = self._errno()
            if e == EAGAIN or e == EINTR:
                return 0
            raise OSError(e, "read")
        return n

    def write(self, fd, data):
        n = self._write(fd, data, len(data))
        if n < 0:
            e = self._errno()
            if e == EAGAIN or e == EINTR:
                return -1
            raise OSError(e, "write")
        return n

    def notifier(self, fd):
        """A function that writes one 4-byte doorbell to fd: True if it
        went in, False if the pipe is full. The ffi call is made directly:
        it runs for every message that rings."""
        raw = self._write
        slow = self.write

        def ring(word):
            # 4 bytes < PIPE_BUF: written whole or not at all.
            return raw(fd, word, 4) == 4 or slow(fd, word) > 0  # (slow raises real errors)

        return ring

    def flock(self, fd, op):
        if self._flock(fd, op) == 0:
            return True
        if self._errno() == EAGAIN:  # EWOULDBLOCK
            return False
        raise OSError(self._errno(), "flock")


def host_os():
    if sys.implementation.name == "micropython":
        return MicroPythonOS()
    return CPythonOS()
