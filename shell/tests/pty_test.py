#!/usr/bin/python3
"""fsh on a pseudo-terminal, as a person uses it: job control with host
commands. An alias from ~/.fshrc, Ctrl-C at the prompt, Ctrl-C of a running pipeline (`yes | cat`),
Ctrl-Z and fg, a background job with jobs/wait/kill %1, and exit.

usage: pty_test.py FSH
"""
import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time

PROMPT = "PROMPT> "


class Terminal:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        self.seen = ""

    def send(self, text):
        os.write(self.fd, text.encode())

    def expect(self, pattern, timeout=10.0):
        """Read until pattern (a regex) appears in what came since the last match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.seen)
            if m:
                self.seen = self.seen[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; screen so far:\n{self.seen[-2000:]}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"fsh ended while waiting for {pattern!r}:\n{self.seen[-2000:]}")
                self.seen += data.decode("utf-8", "replace")

    def command(self, line, pattern, timeout=10.0):
        self.send(line + "\n")
        return self.expect(pattern, timeout)

    def wait_exit(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                os.read(self.fd, 65536)
            except OSError:
                pass
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("fsh did not exit")


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    fsh = os.path.abspath(sys.argv[1])
    home = tempfile.mkdtemp(prefix="fsh-pty-")
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "PS1": PROMPT, "TERM": "xterm", "LC_ALL": "C"}
    env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})  # a sanitizer build's
    with open(os.path.join(home, ".fshrc"), "w") as f:  # the startup file: run before the first prompt
        f.write("alias greet='echo from-fshrc'\n")
    t = Terminal([fsh, "--host-commands"], env)
    steps = 0
    try:
        t.expect(re.escape(PROMPT))
        t.command("greet", r"\r?\nfrom-fshrc")
        t.expect(re.escape(PROMPT))
        # Ctrl-C at the prompt: a fresh prompt, the shell lives on.
        t.send("echo half-typed\x03")
        t.expect(re.escape(PROMPT))
        t.command("echo alive", r"\r?\nalive")
        t.expect(re.escape(PROMPT))
        steps += 1
        # Ctrl-C ends a running pipeline; the shell gets the terminal back.
        t.command("yes | cat > /dev/null", r"yes \| cat > /dev/null")
        time.sleep(0.5)
        t.send("\x03")
        t.expect(re.escape(PROMPT))
        t.command("echo status $?", r"status 130")
        t.expect(re.escape(PROMPT))
        steps += 1
        # Ctrl-Z stops it; jobs lists it; fg continues it; Ctrl-C ends it.
        t.command("yes | cat > /dev/null", r"yes \| cat > /dev/null")
        time.sleep(0.5)
        t.send("\x1a")
        t.expect(r"\[1\]\+\s+Stopped")
        t.expect(re.escape(PROMPT))
        t.command("jobs", r"\[1\]\+ Stopped\s+yes \| cat")
        t.expect(re.escape(PROMPT))
        t.command("fg", r"yes \| cat")
        time.sleep(0.5)
        t.send("\x03")
        t.expect(re.escape(PROMPT))
        t.command("echo after fg $?", r"after fg 130")
        t.expect(re.escape(PROMPT))
        steps += 1
        # A background job, waited for; another one killed by job number.
        t.command("sleep 0.2 &", r"\[1\] \d+")
        t.expect(re.escape(PROMPT))
        t.command("wait; echo waited $?", r"waited 0")
        t.expect(re.escape(PROMPT))
        t.command("sleep 30 &", r"\[1\] \d+")
        t.expect(re.escape(PROMPT))
        t.command("jobs", r"\[1\]\+ Running\s+sleep 30")
        t.expect(re.escape(PROMPT))
        # One line: the job is not announced (and forgotten) between kill and
        # wait, as in sh; an unwaited job killed is announced before a prompt.
        t.command("kill %1; wait %1; echo killed $?", r"killed 143")
        t.expect(re.escape(PROMPT))
        t.command("sleep 30 &", r"\[1\] \d+")
        t.expect(re.escape(PROMPT))
        t.command("kill %1; sleep 0.5", r"kill %1; sleep 0.5")
        t.expect(r"\[1\]\+\s+Terminated\s+sleep 30")
        t.expect(re.escape(PROMPT))
        steps += 1
        # A stopped job resumed in the background with bg.
        t.command("sleep 1", r"sleep 1")
        time.sleep(0.3)
        t.send("\x1a")
        t.expect(r"Stopped")
        t.expect(re.escape(PROMPT))
        t.command("bg", r"\[1\] sleep 1 &")
        t.expect(re.escape(PROMPT))
        t.command("wait; echo bg done $?", r"bg done 0")
        t.expect(re.escape(PROMPT))
        steps += 1
        t.send("exit 3\n")
        code = t.wait_exit()
        assert code == 3, f"exit status {code}, not 3"
        steps += 1
    except AssertionError as e:
        print(f"FAIL after {steps} steps: {e}")
        try:
            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)
        except OSError:
            pass
        return 1
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"{steps} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
