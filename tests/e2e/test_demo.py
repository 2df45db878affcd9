"""`make demo` runs scripts/demo; this runs the same script so the demo
cannot rot: exit 0, every step of the story in the summary as ok, under two
minutes here, and no server it started left running (the PIDs it prints).
Then again with Ctrl-C in the middle: exit 130 and every server stopped."""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, ROOT, check, done  # noqa: E402

STEPS = ["up shell", "up a", "smoke a", "cutover", "upgrade", "status", "rollback", "cutover",
         "teardown a", "status", "history"]
env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PAASCTL_"))}
env["PAASCTL"] = PAASCTL


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def pids_of(out):
    m = re.search(r"^demo: server PIDs ([\d ]+)$", out, re.M)
    return [int(p) for p in m.group(1).split()] if m else []


t0 = time.time()
p = subprocess.run([os.path.join(ROOT, "scripts", "demo")], env=env, capture_output=True, text=True,
                   timeout=600, stdin=subprocess.DEVNULL)
took = time.time() - t0
out = p.stdout
check("demo exits 0", p.returncode == 0, (p.returncode, out[-2000:], p.stderr[-2000:]))
rows = re.findall(r"^(\S+(?: \S+)?)\s+([\d.]+) s  (\S+)", out.split("\nSTEP")[-1], re.M)
check("the summary has every step of the story, in order, each ok",
      [r[0] for r in rows if r[0] != "total"] == STEPS and all(r[2] == "ok" for r in rows if r[0] != "total"),
      rows)
check("the upgrade narrates its seven steps", len(re.findall(r"^\s+step \d/7 .* ok ", out, re.M)) == 7, out[-2500:])
check("the demo runs in under two minutes", took < 120, took)
pids = pids_of(out)
check("the demo names the servers it started (moto x2, API servers x2, Consuls x2)", len(pids) == 6, pids)
check("no server the demo started is left running", pids and not any(alive(x) for x in pids),
      [x for x in pids if alive(x)])

# Ctrl-C while `up a` runs: every server stopped, exit 130.
d = subprocess.Popen([os.path.join(ROOT, "scripts", "demo")], env=env, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
seen = ""
for line in d.stdout:
    seen += line
    if line.startswith("[ 2/11]"):
        break
time.sleep(1)
d.send_signal(signal.SIGINT)
try:
    rest, _ = d.communicate(timeout=120)
except subprocess.TimeoutExpired:
    d.kill()
    rest, _ = d.communicate()
seen += rest or ""
pids = pids_of(seen)
check("Ctrl-C: the demo exits 130", d.returncode == 130, (d.returncode, seen[-1500:]))
check("Ctrl-C: no server the demo started is left running", pids and not any(alive(x) for x in pids),
      (pids, [x for x in pids if alive(x)]))
done()
