#!/usr/bin/python3
"""Every C and C++ file in the tree is in the project's style (.clang-format).

A file the formatter would change fails the test, named with clang-format's
first complaint; `clang-format -i FILE` fixes it. Before that, the checker
proves it can fail: a badly formatted snippet must be caught.

usage: format_test.py SOURCE_ROOT
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layers_test import tracked_files  # noqa: E402

SUFFIXES = (".c", ".h", ".cpp", ".hpp")


def unformatted(clang_format, root, files):
    """The files clang-format would change, each with its first complaint."""
    bad = []
    for i in range(0, len(files), 64):
        batch = files[i:i + 64]
        out = subprocess.run([clang_format, "--dry-run", "--Werror"] + [os.path.join(root, f) for f in batch],
                             capture_output=True, text=True)
        if out.returncode == 0:
            continue
        seen = set()
        for line in out.stderr.splitlines():
            if ": error: " in line:
                path = os.path.relpath(line.split(":", 1)[0], root)
                if path not in seen:
                    seen.add(path)
                    bad.append(f"{path}: {line.split(': error: ', 1)[1]}")
    return bad


def self_test(clang_format, root):
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(root, ".clang-format"), d)
        with open(os.path.join(d, "bad.cpp"), "w") as f:
            f.write("int  f( int x ){return x;}\n")
        with open(os.path.join(d, "good.cpp"), "w") as f:
            f.write("int f(int x)\n{\n    return x;\n}\n")
        got = unformatted(clang_format, d, ["bad.cpp", "good.cpp"])
        if len(got) != 1 or not got[0].startswith("bad.cpp"):
            sys.exit(f"format checker self-test: wanted bad.cpp alone, got {got}")


def main():
    root = os.path.abspath(sys.argv[1])
    clang_format = shutil.which("clang-format")
    if clang_format is None:
        print("SKIP: clang-format is not installed (tools/setup installs it)")
        sys.exit(77)
    self_test(clang_format, root)
    files = sorted(f for f in tracked_files(root) if f.endswith(SUFFIXES) and os.path.isfile(os.path.join(root, f)))
    bad = unformatted(clang_format, root, files)
    for b in bad:
        print(b)
    if bad:
        sys.exit(f"{len(bad)} of {len(files)} files are not in the project's style; run clang-format -i on them")
    print(f"{len(files)} files in the project's style")


if __name__ == "__main__":
    main()
