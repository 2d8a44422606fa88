"""Where the programs under test are: the environment meson sets for a test
(FLEET_VMM, FLEET_ROUTER, FLEET_IMAGES, FLEET_MDNS_PUBLISH, FLEET_FSH), else the build
folder `build/` of this checkout, as a run by hand finds them."""
import os
import shutil

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.path.join(SOURCE_ROOT, "build")


def _built(var, *parts):
    return os.environ.get(var) or os.path.join(BUILD, *parts)


VMM = _built("FLEET_VMM", "vmm", "fleet-vmm")
ROUTER = _built("FLEET_ROUTER", "router", "daemon", "fleet-router")
IMAGES = _built("FLEET_IMAGES", "images")
MDNS_PUBLISH = _built("FLEET_MDNS_PUBLISH", "router", "mdns", "mdns-publish")
FSH = _built("FLEET_FSH", "shell", "fsh")
VIRSH = shutil.which("virsh") or "/usr/bin/virsh"
PYTHON = "/usr/bin/python3"  # Debian's: the one python3-libvirt is installed for


def abi_version():
    """FLEET_ABI_VERSION from the guest ABI header: what an exec block says."""
    import re
    with open(os.path.join(SOURCE_ROOT, "images", "abi", "include", "fleet", "abi", "guest.h")) as f:
        return int(re.search(r"#define FLEET_ABI_VERSION[\s\\]+(\d+)", f.read()).group(1))


def built_or_path(name, *parts):
    """build/PARTS if it was built, else NAME on PATH, else the build path
    (for the error message): startbench's defaults."""
    built = os.path.join(BUILD, *parts)
    return built if os.access(built, os.X_OK) else (shutil.which(name) or built)
