"""upgrade (SPEC.md "Upgrade") resumed after a run killed outright: the
world of test_upgrade.py (the signature-checking AWS emulator, stand-in API
servers for slots a and b, stand-in Consuls, a loopback ingress). Slot a is
brought up, seeded and made live. `upgrade` runs with slot a's API server
slowed down, and is SIGKILLed as soon as a's server answers paasctl's first
request: that is the migrate step (3), steps 1-2 (up b, smoke b) never talk
to a. No journal record is written then and the lock stays, so, as an
operator would, the next `upgrade` is refused with exit 4 naming the lock's
id, `unlock ID` removes it, and `upgrade` again resumes at step 3 with
steps 1-2 from the killed run (the progress object written after each gate
says where), finishes, and removes the progress object. `history` holds one
record per finished run: the resumed upgrade, whose steps 1-2 are the
killed run's."""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, check, done  # noqa: E402
from ab_world import ABWorld  # noqa: E402

NAME = "upr"
BUCKET = f"{NAME}-paasctl-state"
PROGRESS = f"{NAME}/upgrade"

ab = ABWorld(NAME, smoke_timeout=6)
s3 = ab.w.moto.client("s3")


def run(*args):
    rc, out, err = ab.paasctl(*args)
    try:
        doc = json.loads(out) if "-o" in args else None
    except ValueError:
        doc = None
    return rc, out, err, doc


def progress():
    """The progress object, or None when there is none."""
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=PROGRESS)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def paasctl_requests(slot):
    return [r for r in ab.kube[slot].requests()["recent"]
            if "paasctl" in (r.get("userAgent") or "") and not r["path"].startswith("/_standin")]


def upgrade_records():
    rc, out, err, hist = run("-o", "json", "history")
    recs = hist if isinstance(hist, list) else (hist or {}).get("records", [])
    return [r for r in recs if r.get("command") == "upgrade"]


for args in (("up", "shell"), ("up", "a"), ("cutover",)):
    rc, out, err, _ = run(*args)
    check(f"setup: {' '.join(args)} exits 0", rc == 0, err[-800:])
ab.seed()
check("setup: no progress object before any upgrade", progress() is None, progress())

# --- SIGKILL during step 3 (migrate a b) ------------------------------------------------------
ab.kube["a"].call("DELETE", "/_standin/requests")
ab.kube["a"].call("POST", "/_standin/faults", {"latencyMs": 400})   # migrate reads a slowly
env = ab.w.env(PAASCTL_POLL_MS="100", PAASCTL_CLUSTER_WAIT_S="60")
proc = subprocess.Popen([PAASCTL, "-c", ab.cfg, "--yes", "-o", "json", "upgrade"], env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                        text=True)
try:
    deadline = time.time() + 400
    while proc.poll() is None and not paasctl_requests("a") and time.time() < deadline:
        time.sleep(0.05)
    reached = proc.poll() is None and bool(paasctl_requests("a"))
finally:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)   # ours, by its PID, on every path
    out, err = proc.communicate(timeout=60)
ab.kube["a"].call("POST", "/_standin/faults", {"latencyMs": 0})
check("killed while step 3 (migrate, the first step to read slot a) ran",
      reached and proc.returncode == -signal.SIGKILL, (reached, proc.returncode, err[-800:]))
left = progress()
check("the progress object after the kill: steps 1-2 ok, 3 on pending, slots b <- a",
      left and left["idle"] == "b" and left["live"] == "a" and
      [s["outcome"] for s in left["steps"]] == ["ok", "ok"] + ["pending"] * 5,
      json.dumps(left)[:1200])
check("a killed run writes no journal record", upgrade_records() == [], upgrade_records()[:1])

# --- the stale lock, as an operator handles it --------------------------------------------------
rc, out, err, _ = run("upgrade")
m = re.search(r"paasctl unlock (\w+)", err)
check("upgrade after the kill: exit 4, the lock held by the killed upgrade, with its unlock id",
      rc == 4 and m and "upgrade" in err, (rc, err[-600:]))
rc, out, err, _ = run("unlock", m.group(1) if m else "none")
check("unlock ID removes the stale lock", rc == 0, (rc, err[-400:]))

# --- resumed at step 3 ----------------------------------------------------------------------------
n_b = len(ab.instances("b"))
rc, out, err, doc = run("-o", "json", "upgrade")
steps = (doc or {}).get("steps", [])
check("resume after the kill: exit 0", rc == 0, (rc, err[-1200:]))
check("resume after the kill: starts at step 3, steps 1-2 from the killed run",
      doc and doc["resumed"] and doc["first_step"] == 3 and
      [s["earlier"] for s in steps] == [True] * 2 + [False] * 5,
      json.dumps(doc)[:1500] if doc else out[-400:])
check("resume after the kill: steps 1-2 keep the killed run's start times",
      left and len(steps) == 7 and [s["started"] for s in steps[:2]] == [s["started"] for s in left["steps"][:2]],
      json.dumps(steps[:2])[:600])
check("resume after the kill: every step ok, no instance made again",
      [s["outcome"] for s in steps] == ["ok"] * 7 and len(ab.instances("b")) == n_b,
      ([s["outcome"] for s in steps], n_b, len(ab.instances("b"))))
check("a finished upgrade leaves no progress object", progress() is None, json.dumps(progress())[:400])

recs = upgrade_records()
check("history: one upgrade record (the resumed run, ok, steps 1-2 marked earlier)",
      len(recs) == 1 and recs[0]["outcome"] == "ok" and
      [s["earlier"] for s in recs[0]["changes"]["steps"]] == [True] * 2 + [False] * 5,
      json.dumps(recs)[:1200])
rc, out, err, _ = run("--dry-run", "upgrade")
check("the next upgrade is a fresh one, to a", rc == 0 and "upgrade b -> a" in out and "resuming" not in out,
      out[-600:])

ab.stop()
done()
