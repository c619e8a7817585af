"""CPython stand-ins for the asyncio names MicroPython has and CPython lacks:
``ThreadSafeFlag``, ``sleep_ms`` and ``wait_for_ms`` (MicroPython's
extmod/asyncio). ``rpmsg_lite.aio`` imports them from here when CPython's
asyncio has none of them.

``ThreadSafeFlag`` keeps MicroPython's semantics: ``set()`` may be called
from any thread (or a doorbell callback on the loop's own thread), one task
at a time awaits ``wait()``, which returns once the flag is set and clears
it.
"""

import asyncio
import threading


class ThreadSafeFlag:
    def __init__(self):
        self._state = False
        self._lock = threading.Lock()
        self._loop = None
        self._event = None

    def set(self):
        with self._lock:
            self._state = True
            loop, event = self._loop, self._event
        if event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass  # the loop is closed: nobody waits any more

    def clear(self):
        with self._lock:
            self._state = False

    async def wait(self):
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._state:
                    self._state = False
                    return
                if self._loop is not loop or self._event is None:
                    self._loop, self._event = loop, asyncio.Event()
                event = self._event
                event.clear()
            await event.wait()


def sleep_ms(ms):
    return asyncio.sleep(max(0, ms) / 1000)


def wait_for_ms(aw, ms):
    return asyncio.wait_for(aw, ms / 1000)
