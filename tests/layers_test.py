#!/usr/bin/python3
"""The layering of docs/ARCHITECTURE.md, checked on every #include.

Each C/C++ file belongs to a layer by its folder; each `#include <fleet/X/...>`
names the layer of X. A file may include only its own layer's headers and
those of the layers it is allowed to use, and a quoted include may not reach
into another folder ("../x.hpp"). meson's dependencies enforce the same
edges at build time for the libraries; this test also covers tests, tools
and guests, and says exactly which line breaks the rule.

usage: layers_test.py SOURCE_ROOT        exit 0 when every include is allowed
"""
import os
import re
import subprocess
import sys

# Who may use whom (DESIGN.md: base -> vmm, wire, netfilter -> router -> shell;
# the guest ABI header is shared by the launcher and every guest).
ALLOWED = {
    "base": {"base"},
    "abi": {"abi"},
    "vmm": {"base", "vmm", "abi"},
    # fleet-vmm the program (not libfleet-vmm): --net makes its tap through
    # netfilter's links, the code the router uses, or asks the router for it
    # over the wire.
    "vmm-cli": {"base", "vmm", "abi", "netfilter", "wire"},
    "wire": {"base", "wire"},
    "netfilter": {"base", "netfilter"},
    "router": {"base", "vmm", "wire", "netfilter", "abi", "router"},
    # fsh also runs inside a guest (linux-fsh): it knows the guest ABI's
    # hypervisor socket.
    "shell": {"base", "vmm", "wire", "netfilter", "router", "shell", "abi"},
    "guest": {"abi"},
    "test": {"base", "vmm", "wire", "netfilter", "router", "shell", "abi", "test"},
    "tool": {"base", "vmm", "wire", "netfilter", "router", "shell", "abi"},
}

# Folder prefix -> layer; the longest prefix wins.
FOLDERS = {
    "base/": "base",
    "images/abi/": "abi",
    "images/": "guest",
    "vmm/": "vmm",
    "vmm/cli/": "vmm-cli",
    "wire/": "wire",
    "netfilter/": "netfilter",
    "router/": "router",
    "shell/": "shell",
    "tests/": "test",
    "tools/": "tool",
}

# The public include folder of each layer: <fleet/NAME/...> -> layer.
HEADER_LAYER = {
    "base": "base",
    "vmm": "vmm",
    "wire": "wire",
    "netfilter": "netfilter",
    "router": "router",
    "shell": "shell",
    "test": "test",
    "abi": "abi",
}

SOURCE = re.compile(r"\.(c|cc|cpp|h|hpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(path):
    best = None
    for prefix, layer in FOLDERS.items():
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def check(root, files):
    problems = []
    for rel in files:
        layer = layer_of(rel)
        if layer is None:
            continue
        # A layer's own fuzzers and tests belong to it, but may use the test support.
        allowed = set(ALLOWED[layer])
        if re.search(r"/(tests|fuzz)/", "/" + rel):
            allowed.add("test")
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                if kind == '"' and ".." in target.split("/"):
                    problems.append(f"{rel}:{n}: quoted include reaches outside its folder: {target}")
                    continue
                parts = target.split("/")
                if kind == "<" and parts[0] == "fleet" and len(parts) > 2:
                    used = HEADER_LAYER.get(parts[1])
                    if used is None:
                        problems.append(f"{rel}:{n}: <{target}> names no layer")
                    elif used not in allowed:
                        problems.append(f"{rel}:{n}: layer '{layer}' may not use layer '{used}' (<{target}>)")
    return problems


def tracked_files(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True)
    if out.returncode != 0:  # not a git checkout (a release tarball): walk the tree
        found = []
        for dirpath, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not d.startswith("build")]
            found += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
        return found
    return out.stdout.split()


def self_test():
    """The checker itself must catch what it is for."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        bad = {
            "base/src/x.cpp": "#include <fleet/vmm/vm.hpp>\n",
            "wire/src/y.cpp": '#include "../../vmm/src/elf.hpp"\n',
            "images/runtime/z.cpp": "#include <fleet/base/fd.hpp>\n",
            "vmm/src/ok.cpp": "#include <fleet/base/fd.hpp>\n#include <fleet/abi/guest.h>\n",
        }
        for rel, text in bad.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        found = check(d, list(bad))
        assert len(found) == 3, found
        assert not any(p.startswith("vmm/src/ok.cpp") for p in found), found


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = sys.argv[1]
    self_test()
    files = [f for f in tracked_files(root) if SOURCE.search(f)]
    problems = check(root, files)
    for p in problems:
        print(p)
    print(f"layers: {len(files)} files checked, {len(problems)} includes across a layer they may not use")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
