#!/usr/bin/python3
"""A procedure in wire/procedures.def without its handler must not compile.

Compiles missing_handler.cpp (the `queries` group with no handlers) with the
project's compiler, only for syntax, and expects it to fail with the
dispatch's message naming the first row of the group; and the same command
on a group file that has its handlers (query_procs.cpp) to succeed, so the
failure is the missing handler and not the command.

usage: missing_handler_test.py SOURCE_ROOT COMPILER [ARGS...]
"""
import os
import subprocess
import sys


def main():
    root, compiler = sys.argv[1], sys.argv[2:]
    incs = ["router/src", "router/include", "router/domain/include", "base/include", "vmm/include", "wire/include"]
    flags = ["-std=c++2b", "-fsyntax-only", "-D_GNU_SOURCE", '-DFLEET_VERSION="0"']
    flags += ["-I" + os.path.join(root, i) for i in incs]

    def compile_(rel):
        return subprocess.run(compiler + flags + [os.path.join(root, rel)], capture_output=True, text=True)

    good = compile_("router/src/libvirt/query_procs.cpp")
    if good.returncode != 0:
        print("FAIL: the control (query_procs.cpp) does not compile with this command:\n" + good.stderr[-2000:])
        return 1
    bad = compile_("router/tests/missing_handler.cpp")
    if bad.returncode == 0:
        print("FAIL: a group without its handlers compiled")
        return 1
    want = "procedures.def: domain_get_xml_desc (group queries) has no handler"
    if want not in bad.stderr:
        print(f"FAIL: the compiler did not say {want!r}:\n" + bad.stderr[-3000:])
        return 1
    print("a row without its handler does not compile: " + want)
    return 0


if __name__ == "__main__":
    sys.exit(main())
