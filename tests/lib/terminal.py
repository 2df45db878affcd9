"""A terminal for the tests (not named tty: that would shadow the standard
library module pty imports): a private tmux server (its own socket in a
temporary folder) running one program in a pane of a fixed size, keys typed
into it and the screen read back. The server is stopped by its own PID on
every exit path (harness.stop_all runs registered stoppers too)."""

import os
import signal
import subprocess
import tempfile
import time

import harness


class Tty:
    def __init__(self, argv, env, width=160, height=50):
        self.dir = tempfile.mkdtemp(prefix="paasctl-tty-")
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.pid = None
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height),
                   "--", *argv, env=env)
        self.pid = int(self._tmux("display-message", "-p", "#{pid}").strip())
        harness.on_exit(self.stop)

    def _tmux(self, *args, env=None):
        p = subprocess.run(["tmux", "-S", self.sock, *args], env=env, capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {p.stderr.strip()}")
        return p.stdout

    def type(self, text, enter=False):
        """Types text literally (then Enter)."""
        self._tmux("send-keys", "-t", "0", "-l", text)
        if enter:
            self._tmux("send-keys", "-t", "0", "Enter")

    def key(self, name):
        self._tmux("send-keys", "-t", "0", name)

    def screen(self, escapes=False):
        """The pane's text (with -e its colour and attribute sequences)."""
        return self._tmux("capture-pane", "-p", "-J", "-t", "0", *(["-e"] if escapes else []))

    def wait_for(self, text, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            if text in s:
                return s
            time.sleep(0.1)
        return None

    def stop(self):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pid = None
