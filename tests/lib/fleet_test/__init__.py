"""fleet's Python test library: what every integration test, image check
and tools/startbench share. One concept per module:

  check     Failure, check, skip (exit 77), wait_until
  paths     where the binaries and the image catalog are (environment, else build/)
  procs     /proc facts (alive, start time), processes by environment marker,
            the launcher's records, killing by pid
  folder    a test's private folder on /dev/shm, its marker and its guard process
  fleet     Fleet: fleet-vmm against a private runtime folder; one_line_error
  router    Router: a private fleet-router per test; domain_xml
  virsh     the real virsh against a URI
  libvirt_client  python3-libvirt: import or skip, the default event loop
  terminal  a program on a pseudo-terminal (virsh console, virsh event)
  qmp       a QMP client (QEMU's monitor, as docs/interop/qmp-spec.rst says)
  rawwire   libvirt's wire protocol by hand: raw calls a real client never sends
  runner    the mini test runner (main, variant) and Tally for check scripts
  avahi     a private dbus-daemon and avahi-daemon in a network namespace

Every test imports it the same way: meson puts tests/lib on PYTHONPATH,
and each script appends it itself for a run by hand (HACKING.md).
"""
