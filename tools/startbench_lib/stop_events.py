"""When a domain's stopped lifecycle event reaches a libvirt client: a
process of its own (python3 -m startbench_lib.stop_events URI), so that
libvirt's event loop, which every connection opened after it is registered
uses for its I/O, never runs in the process whose calls are timed.

Lines in:  `watch NAME`  (answered `watching NAME`, or `error TEXT`)
Lines out: `stopped NAME T`, T from CLOCK_MONOTONIC when the event came;
each watch is dropped once its event has come. Ends at end of input."""
import sys
import threading
import time


class Watcher:
    """The helper's side: a connection with lifecycle callbacks, served by
    libvirt's default event loop on a thread."""

    def __init__(self, libvirt, uri, out):
        self.lv, self.out = libvirt, out
        self.lock = threading.Lock()
        self.ids = {}
        libvirt.registerErrorHandler(lambda *_: None, None)
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=self._loop, daemon=True).start()
        self.conn = libvirt.open(uri)

    def _loop(self):
        while True:
            self.lv.virEventRunDefaultImpl()

    def _say(self, line):
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def _event(self, conn, dom, event, detail, opaque):
        if event != self.lv.VIR_DOMAIN_EVENT_STOPPED:
            return
        t = time.clock_gettime(time.CLOCK_MONOTONIC)
        name = dom.name()
        self._say(f"stopped {name} {t:.9f}")
        cb = self.ids.pop(name, None)
        if cb is not None:
            threading.Thread(target=self._drop, args=(cb,), daemon=True).start()  # not from inside the callback

    def _drop(self, cb):
        try:
            self.conn.domainEventDeregisterAny(cb)
        except self.lv.libvirtError:
            pass

    def watch(self, name):
        try:
            dom = self.conn.lookupByName(name)
            self.ids[name] = self.conn.domainEventRegisterAny(dom, self.lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                              self._event, None)
        except self.lv.libvirtError as e:
            self._say(f"error {e.get_error_message()}")
            return
        self._say(f"watching {name}")


def main():
    import libvirt
    w = Watcher(libvirt, sys.argv[1], sys.stdout)
    w._say("ready")
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "watch" and arg:
            w.watch(arg)
        else:
            w._say(f"error unknown request {line.strip()!r}")


if __name__ == "__main__":
    main()
