#!/usr/bin/python3
"""virt-manager (Debian 12's 4.1) against a private fleet-router, on a
private X server (Xvfb): it connects with a custom URI, lists the VMs with
their states, follows a destroy made elsewhere, and its own toolbar starts
and shuts down a VM. virt-manager's debug log is its own account of its VM
list; the toolbar is driven with xdotool at the positions of its buttons
in the manager window (Debian's Adwaita theme, the default window size).
A screenshot of the list is kept in the test folder.
"""
import os
import shutil
import subprocess
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, skip, wait_until  # noqa: E402
from fleet_test.folder import MARKER  # noqa: E402
from fleet_test.router import domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh_ok  # noqa: E402

# Positions in the manager window (window-relative), rows sorted by name.
RUN_BUTTON = (178, 45)
SHUTDOWN_BUTTON = (265, 45)
FIRST_ROW = (66, 138)


def need_tools():
    for tool, package in (("virt-manager", "virt-manager"), ("Xvfb", "xvfb"), ("xdotool", "xdotool"),
                          ("import", "imagemagick")):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (apt-get install {package})")


class Desktop:
    """Xvfb and virt-manager of this test, started with its marker and
    stopped by pid."""

    def __init__(self, router):
        self.router = router
        self.env = {**os.environ, MARKER: router.root, "HOME": router.folder.path("home"),
                    "XDG_CONFIG_HOME": router.folder.path("home", ".config"),
                    "XDG_CACHE_HOME": router.folder.path("home", ".cache"), "GSETTINGS_BACKEND": "memory",
                    "NO_AT_BRIDGE": "1", "LC_ALL": "C.UTF-8"}
        os.makedirs(self.env["XDG_CONFIG_HOME"], exist_ok=True)
        self.procs = []
        r, w = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                pass_fds=(w,), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(xvfb)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        check(number.isdigit(), "Xvfb did not say its display")
        self.env["DISPLAY"] = ":" + number
        self.log_path = router.folder.path("virt-manager.log")

    def virt_manager(self, uri):
        log = open(self.log_path, "wb")
        self.procs.append(subprocess.Popen(["virt-manager", "--no-fork", "--debug", "--connect", uri], env=self.env,
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        log.close()
        self.window = wait_until(lambda: self.xdotool("search", "--name", "^Virtual Machine Manager$").split(),
                                 60, "virt-manager's window")[0]

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def xdotool(self, *args):
        p = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=10)
        return p.stdout if p.returncode == 0 else ""

    def click(self, at):
        self.xdotool("mousemove", "--window", self.window, str(at[0]), str(at[1]), "click", "1")

    def screenshot(self, path):
        subprocess.run(["import", "-window", "root", path], env=self.env, check=True, timeout=30,
                       capture_output=True)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def define(router, uri, name):
    path = router.folder.path(name + ".xml")
    with open(path, "w") as f:
        f.write(domain_xml(name, args=["hold"]))
    virsh_ok(uri, "define", path)


def test_virt_manager(router):
    uri = router.uri_unix
    define(router, uri, "db")
    define(router, uri, "web")
    virsh_ok(uri, "start", "web")
    desk = Desktop(router)
    try:
        desk.virt_manager(uri)
        # its VM list: both domains, each with its state
        wait_until(lambda: "domain=web status=Running added" in desk.log() and
                   "domain=db status=Shutoff added" in desk.log(), 60, "virt-manager listing web and db")
        check("changed to state=Active" in desk.log(), "virt-manager's connection is active")
        desk.screenshot(router.folder.path("virt-manager.png"))
        # a destroy made elsewhere reaches it as an event
        virsh_ok(uri, "destroy", "web")
        wait_until(lambda: "domain=web state=VIR_DOMAIN_EVENT_STOPPED reason=VIR_DOMAIN_EVENT_STOPPED_DESTROYED"
                   in desk.log(), 30, "virt-manager seeing web destroyed")
        # its toolbar starts db (the first row), then shuts it down
        desk.click(FIRST_ROW)
        desk.click(RUN_BUTTON)
        wait_until(lambda: virsh_ok(uri, "domstate", "db").strip() == "running", 30, "db started from virt-manager")
        # the button is enabled once virt-manager has seen db start
        wait_until(lambda: "domain=db state=VIR_DOMAIN_EVENT_STARTED" in desk.log(), 30, "virt-manager seeing db start")
        wait_until(lambda: desk.click(SHUTDOWN_BUTTON) or "Shutting down vm 'db'" in desk.log(), 30,
                   "virt-manager taking the shutdown click", interval=1)
        wait_until(lambda: virsh_ok(uri, "domstate", "db").strip() == "shut off", 60, "db shut down from virt-manager")
    except Failure as e:
        raise Failure(f"{e}\nvirt-manager's log (last lines):\n{desk.log()[-3000:]}") from None
    finally:
        desk.close()


if __name__ == "__main__":
    need_router()
    need_virsh()
    need_tools()
    main([test_virt_manager], routers.fixture(), timeout=routers.TEST_TIMEOUT)
