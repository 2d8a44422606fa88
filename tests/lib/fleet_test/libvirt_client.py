"""python3-libvirt for tests: import it or skip, and run its event loop."""
import sys
import threading

from .check import skip


def need_libvirt_python():
    """The libvirt module, with errors raised and not printed; skip (77)
    where python3-libvirt is missing."""
    try:
        import libvirt
    except ImportError:
        skip(f"python3-libvirt is not importable by {sys.executable} (apt-get install python3-libvirt)")
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return libvirt


def start_event_loop(libvirt):
    """libvirt's default event loop in a thread: before any connection opens
    (events, keepalive and stream callbacks need it). The thread never
    returns: a program that started it ends with os._exit."""
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()
    threading.Thread(target=run, name="libvirt-events", daemon=True).start()
