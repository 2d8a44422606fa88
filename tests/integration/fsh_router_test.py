#!/usr/bin/python3
"""fsh finds and talks to fleet-router: the real fsh against a private
fleet-router (fleet_test/router.py) through FLEET_URI, fsh --connect and
the router's runtime folder; `ps -a` lists a domain started with the real
virsh; `routers` finds a router announced over mDNS by a private
avahi-daemon in a network namespace of its own (fleet_test/avahi.py);
no router anywhere, a bad URI and an unreachable one give one clear line
and a non-zero status.

Every fsh runs with DBUS_SYSTEM_BUS_ADDRESS pointing at nothing (except in
the mDNS test, where it is the private bus), so the host's avahi-daemon,
if it has one, is never asked.
"""
import os
import shutil
import subprocess
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test.avahi import AvahiEnv, Unavailable  # noqa: E402
from fleet_test.check import check, skip, wait_until  # noqa: E402
from fleet_test.router import PKI, Router, domain_xml, fixture, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.terminal import PtyProcess  # noqa: E402
from fleet_test.virsh import need_virsh, virsh_ok  # noqa: E402

NO_BUS = "unix:path=/nonexistent/fsh-test-no-bus"


def fsh_env(router, **extra):
    """The environment of a test's fsh: a runtime folder of its own (not the
    router's), no FLEET_URI, no system bus; extra on top."""
    e = dict(os.environ)
    e.pop("FLEET_URI", None)
    e.update({"FLEET_RUNTIME_DIR": os.path.join(router.root, "fsh-run"), "DBUS_SYSTEM_BUS_ADDRESS": NO_BUS,
              "HOME": router.root, **extra})
    os.makedirs(e["FLEET_RUNTIME_DIR"], exist_ok=True)
    return e


def fsh(router, *argv, env=None, timeout=60):
    """fsh ARGV in fsh_env(router, **env); text output."""
    return subprocess.run([paths.FSH, *argv], env=fsh_env(router, **(env or {})), capture_output=True, text=True,
                          timeout=timeout)


def create(router, name):
    path = os.path.join(router.root, name + ".xml")
    with open(path, "w") as f:
        f.write(domain_xml(name, image="hello", args=["hold"]))
    out = virsh_ok(router.uri_unix, "create", path)
    check(f"Domain '{name}' created" in out, f"virsh create {name}: {out!r}")


def ps_rows(out):
    """`ps -a` output -> {name: (id, state, image)}."""
    lines = out.splitlines()
    check(lines and lines[0].split() == ["NAME", "ID", "STATE", "IMAGE"], f"ps -a header: {out!r}")
    rows = {}
    for line in lines[1:]:
        f = line.split()
        rows[f[0]] = (f[1], " ".join(f[2:-1]), f[-1])
    return rows


def one_line_error(r, needle):
    err = r.stderr.strip()
    check(r.returncode != 0, f"status 0 (stdout {r.stdout!r})")
    check(needle in err, f"stderr without {needle!r}: {err!r}")
    check(len(err.splitlines()) == 1, f"more than one line: {err!r}")


# ---- tests -------------------------------------------------------------------

def test_ps_through_fleet_uri_and_connect(router):
    create(router, "web")
    for how, argv, env in [("FLEET_URI", ["-c", "ps -a"], {"FLEET_URI": router.uri_unix}),
                           ("--connect", ["--connect", router.uri_unix, "-c", "ps -a"], {}),
                           ("read-only socket", ["--connect", router.uri_ro, "-c", "ps -a"], {}),
                           ("read-only TCP", ["--connect", router.uri_tcp, "-c", "ps -a"], {}),
                           ("TLS", ["--connect", router.uri_tls, "-c", "ps -a"], {})]:
        r = fsh(router, *argv, env=env)
        check(r.returncode == 0, f"{how}: fsh -c 'ps -a': {r.returncode} {r.stderr!r}")
        rows = ps_rows(r.stdout)
        check(rows.get("web", ("",))[1:] == ("running", "hello"), f"{how}: ps -a: {r.stdout!r}")
        check(rows["web"][0].isdigit(), f"{how}: no id for a running domain: {r.stdout!r}")
        print(f"  {how}: {r.stdout.splitlines()[1]}")
    # The router's certificate is checked: with a CA that did not sign it,
    # fsh refuses in one line; ?no_verify=1 skips that check (and only it).
    other = os.path.join(router.root, "other-ca-pki")
    os.makedirs(other, exist_ok=True)
    for name, source in (("cacert.pem", "other-cacert.pem"), ("clientcert.pem", "clientcert.pem"),
                         ("clientkey.pem", "clientkey.pem")):
        shutil.copy(os.path.join(PKI, source), os.path.join(other, name))
    untrusted = f"qemu+tls://127.0.0.1:{router.info['tls_port']}/system?pkipath={other}"
    one_line_error(fsh(router, "--connect", untrusted, "-c", "ps -a"), "certificate")
    r = fsh(router, "--connect", untrusted + "&no_verify=1", "-c", "ps -a")
    check(r.returncode == 0 and "web" in ps_rows(r.stdout), f"no_verify=1: {r.returncode} {r.stderr!r}")
    # `--connect` wins over FLEET_URI; `router` names the one in use.
    r = fsh(router, "--connect", router.uri_ro, "-c", "router", env={"FLEET_URI": router.uri_unix})
    check(r.returncode == 0 and router.uri_ro in r.stdout and "read-only" in r.stdout, f"router: {r!r}")
    # A domain that ends is shown shut off, or gone from a transient list.
    virsh_ok(router.uri_unix, "destroy", "web")
    r = fsh(router, "-c", "ps -a", env={"FLEET_URI": router.uri_unix})
    check(r.returncode == 0 and "web" not in ps_rows(r.stdout), f"after destroy: {r.stdout!r}")


def test_local_router_from_runtime_folder(router):
    create(router, "db")
    r = fsh(router, "-c", "routers; router; ps -a", env={"FLEET_RUNTIME_DIR": router.runtime})
    check(r.returncode == 0, f"fsh: {r.returncode} {r.stderr!r}")
    lines = r.stdout.splitlines()
    check(lines[0].split() == ["NAME", "URI", "FROM"], f"routers header: {r.stdout!r}")
    local = [l for l in lines if "runtime folder " + router.runtime in l]
    check(local and router.socket_path in local[0] and local[0].split()[0] in ("*", "local"),
          f"routers without the local router: {r.stdout!r}")
    check(any(l.startswith("local ") and router.socket_path in l for l in lines), f"router: {r.stdout!r}")
    check("db" in r.stdout.split("NAME  ID")[-1], f"ps -a without db: {r.stdout!r}")
    # Once a router is chosen, `routers` marks it.
    r = fsh(router, "-c", "router local; routers", env={"FLEET_RUNTIME_DIR": router.runtime})
    check(r.returncode == 0 and any(l.startswith("*") and "local" in l for l in r.stdout.splitlines()),
          f"routers after `router local`: {r.stdout!r} {r.stderr!r}")


def test_none_found(router):
    router.stop()  # nothing listens; fsh's runtime folder has no router.json
    for cmd in ["routers", "router"]:
        r = fsh(router, "-c", cmd)
        one_line_error(r, "no fleet-router found")
        check("FLEET_URI" in r.stderr and "--connect" in r.stderr, f"{cmd}: no hint: {r.stderr!r}")
    r = fsh(router, "-c", "routers")
    check(r.returncode == 1, f"routers with none: status {r.returncode}")
    # ps -a without any router lists the local launcher's VMs (none here).
    r = fsh(router, "-c", "ps -a")
    check(r.returncode == 0 and r.stdout.split() == ["NAME", "PID", "STATE", "IMAGE"], f"ps -a: {r!r}")
    # A router.json left by a dead router is not a router.
    r = fsh(router, "-c", "routers", env={"FLEET_RUNTIME_DIR": router.runtime})
    check(r.returncode == 1 and "no fleet-router found" in r.stderr, f"stale router.json: {r!r}")


def test_bad_and_unreachable_uris(router):
    r = fsh(router, "--connect", "libvirt-sock", "-c", "true")
    one_line_error(r, "bad router URI 'libvirt-sock'")
    check(r.returncode == 2, f"--connect with a bad URI: status {r.returncode}")
    r = fsh(router, "-c", "ps -a", env={"FLEET_URI": "qemu+tcp://[::1/system"})
    one_line_error(r, "bad router URI")
    r = fsh(router, "-c", "ps -a", env={"FLEET_URI": "qemu+unix:///system?socket=/nonexistent/sock"})
    one_line_error(r, "cannot reach")
    r = fsh(router, "-c", "router 'qemu+tcp://127.0.0.1:1/system'; echo $?", env={"FLEET_URI": router.uri_unix})
    check(r.stdout.strip() == "1" and "cannot reach" in r.stderr, f"router to a closed port: {r!r}")
    r = fsh(router, "-c", "router nosuch")
    one_line_error(r, "no router named 'nosuch'")


def test_prompt_names_the_router(router):
    """An interactive fsh on a pty: the prompt names the router in use; with
    none, one line at start says how to point fsh at one."""
    t = PtyProcess([paths.FSH], env=fsh_env(router, FLEET_RUNTIME_DIR=router.runtime))
    try:
        t.expect(b"fsh [local]$ ", 20, "the prompt with the local router")
        t.write(b"router 'qemu+tcp://127.0.0.1:%d/system'\n" % router.info["tcp_port"])
        t.expect(b"fsh [127.0.0.1]$ ", 20, "the prompt after `router URI`")
        t.write(b"exit\n")
        check(t.wait(10) == 0, "fsh did not exit 0")
    finally:
        t.close()
    t = PtyProcess([paths.FSH], env=fsh_env(router))
    try:
        t.expect(b"no fleet-router found", 20, "the start-up line without a router")
        t.expect(b"fsh$ ", 20, "the plain prompt")
        t.write(b"exit\n")
        t.wait(10)
    finally:
        t.close()


def test_jobs_vms(router):
    """`ps` without -a: the VMs of fsh's own jobs (the local launcher's)."""
    # `ps` in the shell itself (a command substitution is a subshell, which
    # has no jobs, as in sh), into a file until the VM's record is there.
    out = os.path.join(router.root, "ps.txt")
    script = """sleep 30 &
i=0
while [ $i -lt 150 ]; do
  ps > "$OUT"
  host grep -q 'sleep' "$OUT" && break
  host sleep 0.1; i=$((i+1))
done
kill %1; wait
"""
    r = fsh(router, "-c", script, env={"OUT": out}, timeout=90)
    with open(out) as f:
        r.stdout = f.read()
    lines = r.stdout.splitlines()
    check(lines and lines[0].split() == ["JOB", "NAME", "STATE", "IMAGE"], f"ps: {r.stdout!r} {r.stderr!r}")
    check(any(l.split()[0] == "%1" and l.split()[-1] == "sleep" for l in lines[1:]), f"ps: {r.stdout!r}")


def test_routers_over_mdns(router):
    """A router announced in a private avahi environment; fsh inside it."""
    try:
        env = AvahiEnv().__enter__()
    except Unavailable as e:
        # Only this test: the others' results stand (skip() would end the run).
        print(f"  not run: {e}")
        return
    try:
        announced = Router(verbose=False, name="fsh-mdns", mdns_name="fleet on test", tls="0.0.0.0:0",
                           popen=lambda argv, extra, **kw: env.popen(argv, env=extra, **kw))
        try:
            announced.start()
            wait_until(lambda: "mdns: published" in announced.log_text(), 20, "the router's 'mdns: published'")
            env.wait_browse(lambda s: any(x["name"] == "fleet on test" for x in s))
            empty = os.path.join(router.root, "fsh-run")
            os.makedirs(empty, exist_ok=True)
            r = env.run([paths.FSH, "-c", "routers"], env={"FLEET_RUNTIME_DIR": empty, "FLEET_URI": None})
            check(r.returncode == 0, f"routers: {r.returncode} {r.stderr!r}")
            port = announced.info["tls_port"]
            rows = [l for l in r.stdout.splitlines() if "fleet on test" in l]
            check(rows and f"qemu+tls://127.0.0.1:{port}/system" in rows[0] and rows[0].endswith("mDNS"),
                  f"routers: {r.stdout!r}")
            print(f"  {rows[0].strip()}")
            # Switching to it by name needs a client certificate: the test
            # PKI is not in libvirt's system paths, so that fails in one
            # line; by URI with ?pkipath= it works (the test server
            # certificate names localhost, hence no_verify for 127.0.0.1).
            r = env.run([paths.FSH, "-c", "router 'fleet on test'"], env={"FLEET_RUNTIME_DIR": empty})
            one_line_error(r, "TLS")
            uri = f"qemu+tls://127.0.0.1:{port}/system?pkipath={PKI}&no_verify=1"
            r = env.run([paths.FSH, "-c", f"router '{uri}' && router && ps -a"], env={"FLEET_RUNTIME_DIR": empty})
            check(r.returncode == 0 and "NAME  ID  STATE  IMAGE" in r.stdout, f"router {uri}: {r!r}")
        finally:
            announced.cleanup()
    finally:
        env.__exit__(None, None, None)


def main_():
    need_router()
    need_virsh()
    if not os.access(paths.FSH, os.X_OK):
        skip(f"no fsh at {paths.FSH}")
    main([test_ps_through_fleet_uri_and_connect, test_local_router_from_runtime_folder, test_none_found,
          test_bad_and_unreachable_uris, test_prompt_names_the_router, test_jobs_vms, test_routers_over_mdns], fixture(verbose=False))


if __name__ == "__main__":
    main_()
