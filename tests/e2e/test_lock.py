"""The lock and the journal (SPEC.md "Lock and journal"): a mutating command
exits 4 naming the holder while another run holds STATE_BUCKET/NAME/lock;
`unlock ID` removes only a lock with that id and prints who held it; the
journal records it and `history` lists records newest first. The state is
read back with boto3."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import World, check, done, sample_config  # noqa: E402

w = World()
cfg = w.write_config(sample_config("locktest"))
s3 = w.moto.client("s3")
bucket = "locktest-paasctl-state"


# moto 5.2.1's signature check rejects boto3's own ListObjectsV2 with a
# prefix holding '/', so the checks list the whole bucket and filter here.
def keys_under(prefix):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
            if o["Key"].startswith(prefix)]


rc, out, err = w.paasctl("-c", cfg, "history")
check("history/no-bucket-is-empty", rc == 0 and "journal is empty" in out, f"rc={rc} {out!r} {err!r}")

s3.create_bucket(Bucket=bucket)
holder = {"id": "0123456789abcdef0123456789abcdef", "command": "up b", "user": "alice",
          "host": "ops-1", "pid": 4242, "started": "2026-11-25T06:00:00Z"}
s3.put_object(Bucket=bucket, Key="locktest/lock", Body=json.dumps(holder).encode())

rc, out, err = w.paasctl("-c", cfg, "cutover")
check("lock/held-exit-4", rc == 4, f"rc={rc} err={err!r}")
check("lock/held-names-holder", all(x in err for x in ("alice@ops-1", "pid 4242", "'up b'",
      "2026-11-25T06:00:00Z", "unlock 0123456789abcdef0123456789abcdef")), err)
body = json.loads(s3.get_object(Bucket=bucket, Key="locktest/lock")["Body"].read())
check("lock/held-lock-untouched", body == holder, json.dumps(body))

rc, out, err = w.paasctl("-c", cfg, "unlock", "ffff")
check("unlock/wrong-id-exit-2", rc == 2 and "0123456789abcdef0123456789abcdef" in err, f"rc={rc} {err!r}")
check("unlock/wrong-id-keeps-lock",
      keys_under("locktest/lock") == ["locktest/lock"], "lock gone")

rc, out, err = w.paasctl("-c", cfg, "unlock", holder["id"])
check("unlock/exit-0-prints-holder", rc == 0 and "alice@ops-1" in out and "'up b'" in out,
      f"rc={rc} {out!r} {err!r}")
check("unlock/lock-removed",
      keys_under("locktest/lock") == [], "lock still there")
rc, out, err = w.paasctl("-c", cfg, "unlock", holder["id"])
check("unlock/no-lock-exit-1", rc == 1 and "no lock" in err, f"rc={rc} {err!r}")

keys = keys_under("locktest/journal/")
check("journal/one-record-for-unlock", len(keys) == 1 and keys[0].endswith("-unlock.json"), keys)
if keys:
    rec = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    check("journal/record-fields", rec["command"] == "unlock" and rec["outcome"] == "ok"
          and rec["command_line"] == "unlock " + holder["id"]
          and rec["changes"]["removed_lock"] == holder["id"] and re.match(r"\d{4}-\d\d-\d\dT", rec["time"]),
          json.dumps(rec))
    check("journal/no-secret", w.moto.secret not in json.dumps(rec), "secret in journal")

# An older record written by hand: history lists newest first.
s3.put_object(Bucket=bucket, Key="locktest/journal/20200101T000000Z-aaaaaaaa-cutover.json",
              Body=json.dumps({"time": "2020-01-01T00:00:00Z", "command": "cutover", "outcome": "ok",
                               "user": "bob", "host": "h", "message": "", "changes": None}).encode())
rc, out, err = w.paasctl("-c", cfg, "history", "-o", "json")
recs = json.loads(out) if rc == 0 else []
check("history/newest-first", [r["command"] for r in recs] == ["unlock", "cutover"], out)
rc, out, err = w.paasctl("-c", cfg, "history", "-n", "1")
check("history/table-limited", rc == 0 and "unlock" in out and "2020-01-01" not in out, out)

# Ctrl-C: `up a` gets SIGINT while its RunInstances is held at a proxy; it
# stops at its next wait, releases the lock, journals the failure, exits 130
# (SPEC.md "Exit codes"), and a re-run converges.
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from harness import PAASCTL  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402

rc, out, err = w.paasctl("-c", cfg, "up", "shell")
check("sigint/setup-up-shell", rc == 0, err)
proxy = FaultProxy(w.moto.url)
proxy.rules.append(Rule(action="RunInstances", delay=2, forward=True))
proc = subprocess.Popen([PAASCTL, "-c", cfg, "up", "a"], env=w.env(AWS_ENDPOINT_URL=proxy.url),
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
deadline = time.time() + 60
while "RunInstances" not in proxy.actions() and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
proc.send_signal(signal.SIGINT)
out, err = proc.communicate(timeout=120)
check("sigint/exit-130-says-interrupted", proc.returncode == 130 and "interrupted" in err,
      f"rc={proc.returncode} err={err!r}")
check("sigint/lock-released", keys_under("locktest/lock") == [], keys_under("locktest/lock"))
recs = json.loads(w.paasctl("-c", cfg, "history", "-o", "json")[1])
check("sigint/journal-says-interrupted", recs and recs[0]["command_line"] == "up a"
      and recs[0]["outcome"] == "interrupted" and "interrupted" in recs[0]["message"], recs[:1])
proxy.stop()
rc, out, err = w.paasctl("-c", cfg, "up", "a")
check("sigint/rerun-converges", rc == 0, err)
rc, out, err = w.paasctl("-c", cfg, "plan", "a")
check("sigint/plan-clean-after", rc == 0 and "0 to create" in out and "\n+ " not in out, out)

# Two runs taking the lock at the same moment: S3 answers the loser's
# conditional PUT with 409 ConditionalRequestConflict. That is "held" (4).
proxy = FaultProxy(w.moto.url)
proxy.rules.append(Rule(status=409, times=1, match=lambda m, p, f: m == "PUT" and p.endswith("/lock"),
                        body="<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting "
                             "conditional operation is currently in progress</Message></Error>"))
rc, out, err = w.paasctl("-c", cfg, "cutover", env=w.env(AWS_ENDPOINT_URL=proxy.url))
check("lock/409-conflict-exit-4", rc == 4 and "same moment" in err, f"rc={rc} {err!r}")
proxy.stop()

# A mutating command under --dry-run takes no lock and writes no journal.
n_records = len(keys_under("locktest/journal/"))
rc, out, err = w.paasctl("-c", cfg, "--dry-run", "unlock", "abc")
check("dry-run/unlock-changes-nothing", rc == 0 and len(keys_under("locktest/journal/")) == n_records,
      f"rc={rc} {out!r}")
# Anyone who can write the bucket could forge terminal output: control
# characters from the lock body and journal records are shown escaped.
s3.put_object(Bucket=bucket, Key="locktest/journal/20210101T000000Z-bbbbbbbb-cutover.json",
              Body=json.dumps({"time": "2021-01-01T00:00:00Z", "command": "cutover",
                               "outcome": "ok\x1b[2J\rforged", "user": "eve\x1b]0;x\x07",
                               "host": "h", "message": "", "changes": None}).encode())
rc, out, err = w.paasctl("-c", cfg, "history")
check("escape/history-table", rc == 0 and "\x1b" not in out and "\r" not in out
      and "ok\\x1b[2J\\x0dforged" in out and "eve\\x1b]0;x\\x07" in out, repr(out))
evil = dict(holder, user="mallory\x1b[1A\nforged: ok")
s3.put_object(Bucket=bucket, Key="locktest/lock", Body=json.dumps(evil).encode())
rc, out, err = w.paasctl("-c", cfg, "cutover")
check("escape/lock-held-message", rc == 4 and "\x1b" not in err
      and "mallory\\x1b[1A\\x0aforged: ok" in err, repr(err))
s3.delete_object(Bucket=bucket, Key="locktest/lock")
done()
