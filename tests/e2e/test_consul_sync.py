"""consul-sync SRC DST (SPEC.md "Consul sync") against two stand-in Consuls
with ACL tokens, checked with Debian's python3-consul:

- direct path (address_a/address_b, token_file): --once over 5,000 keys
  (values up to 64 KiB, binary ones included) leaves DST byte-identical;
  a second --once reports everything unchanged and sends no write;
- a key changed on DST between read and write is a reported conflict, exit
  1, DST's value stays, the other keys of the transaction still go in;
- --delete, and without it DST's extra keys kept; --fail-rate 0.1 on DST
  and the end state is still exact;
- through each slot's stand-in API server (service proxy): continuous mode
  sees 100 creates/changes/deletes on DST, each measured (lag median/max
  printed for the README); an index going backwards (restore) is followed;
  SIGINT exits 130 promptly with a blocking query in flight; a change made
  while stopped arrives after a restart; SIGTERM exits 143;
- every run is at -vvv and none prints a token or a value."""

import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, check, cluster_section, done, sample_config  # noqa: E402
from consul_lib import ConsulStandin, KubeStandin  # noqa: E402
from schemas import problems  # noqa: E402

work = tempfile.mkdtemp(prefix="paasctl-consul-sync-")
TOKEN = "tok-" + os.urandom(12).hex()
SECRET_VALUES = [b"VALUE-NEVER-PRINTED-" + os.urandom(6).hex().encode() for _ in range(3)]
src = ConsulStandin(work, "src", token=TOKEN, extra=["--start-index", "100"])
dst = ConsulStandin(work, "dst", token=TOKEN, extra=["--start-index", "7000", "--seed", "11"])
sc, dc = src.client(), dst.client()
outputs = []     # every stdout/stderr paasctl printed, for the secret check

token_file = os.path.join(work, "consul-token")
with open(token_file, "w") as f:
    f.write(TOKEN + "\n")


def config(direct=True, kube=None, prefix=""):
    if direct:
        consul = (f"\n[consul]\naddress_a = {src.url}\naddress_b = {dst.url}\n"
                  f"token_file = {token_file}\nprefix = {prefix}\n")
        text = sample_config(name="cs", extra=consul)
    else:
        consul = f"\n[consul]\nservice = consul/consul:8500\ntoken_file = {token_file}\nprefix = {prefix}\n"
        text = sample_config(name="cs", slots=(), extra="".join(
            cluster_section(s, f"kubeconfig = {kube[s].kubeconfig}\ncontext = paas-{s}\n")
            for s in "ab") + consul)
    path = os.path.join(work, "direct.ini" if direct else "proxy.ini")
    with open(path, "w") as f:
        f.write(text)
    return path


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith(("CONSUL_", "PAASCTL_", "AWS_"))
         and k != "KUBECONFIG"}
    e.update({"PAASCTL_RETRY_BASE_MS": "20", "NO_COLOR": "1", "HOME": work})
    return e


def paasctl(cfg, *args, timeout=600, extra_env=None):
    e = env()
    e.update(extra_env or {})
    p = subprocess.run([PAASCTL, "-c", cfg, "-vvv", "consul-sync", *args], capture_output=True,
                       text=True, timeout=timeout, env=e, stdin=subprocess.DEVNULL)
    outputs.append(p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def writes(cs):
    return cs.control("GET", "stats")["writes"]


# --- 5,000 keys on SRC -------------------------------------------------------------------------
rng = random.Random(13)
want = {}
for i in range(5000):
    if i % 250 == 0:
        size = 64 * 1024                                       # the largest
    elif i % 10 == 0:
        size = rng.randrange(1024, 64 * 1024)
    else:
        size = rng.randrange(0, 512)
    value = bytes(rng.getrandbits(8) for _ in range(size)) if i % 3 == 0 else \
        (b"text-%d-" % i) * (size // 8 + 1)
    value = value[:size]
    if i < len(SECRET_VALUES):
        value = SECRET_VALUES[i]
    key = f"svc/{i % 17}/key-{i:05d}"
    flags = rng.choice((0, 0, 1, 42, 2**40))
    sc.kv.put(key, value, flags=flags)
    want[key] = (flags, value)
sc.kv.put("svc/empty", b"")
want["svc/empty"] = (0, b"")
dc.kv.put("svc/only-on-dst", b"dst's own")
check("SRC holds 5,001 keys", src.dump() == want, len(src.dump()))

# --- direct: --once -------------------------------------------------------------------------------
cfg = config(direct=True)
t0 = time.time()
rc, out, err = paasctl(cfg, "a", "b", "--once")
once_s = time.time() - t0
got = dst.dump()
check("--once exits 0", rc == 0, f"rc {rc}: {err[-500:]}")
check("--once: DST byte-identical to SRC (python3-consul)",
      {k: v for k, v in got.items() if k != "svc/only-on-dst"} == want,
      f"{len(got)} keys; first difference: "
      f"{next((k for k in want if got.get(k) != want[k]), None)}")
check("--once report", re.search(r"5001 created, 0 updated, 0 deleted, 0 unchanged, 0 conflicts; "
                                  r"1 key only on b kept \(no --delete\); (\d+) transactions", out), out)
stats = dst.control("GET", "stats")
check("transactions of at most 64 operations", stats["txn"] >= 5001 / 64 and
      stats["txnOps"] == 5001, stats)
print(f"# --once over 5,001 keys: {once_s:.1f} s, {stats['txn']} transactions")

before = writes(dst)
rc, out, err = paasctl(cfg, "a", "b", "--once")
check("second --once: everything unchanged", rc == 0 and
      "0 created, 0 updated, 0 deleted, 5001 unchanged, 0 conflicts" in out, out + err[-300:])
check("second --once sends no write", writes(dst) == before and "0 transactions" in out,
      f"{before} -> {writes(dst)}")

# --- a conflict: DST changed between read and write ------------------------------------------------
sc.kv.put("svc/0/key-00017", b"new from src")
sc.kv.put("svc/1/key-00018", b"also new from src")
dst.control("POST", "interpose", {"key": "svc/0/key-00017", "value": "dGhlaXJz"})   # "theirs"
rc, out, err = paasctl(cfg, "a", "b", "--once")
check("conflict: exit 1", rc == 1, f"rc {rc}")
check("conflict: reported with the key", "conflict: svc/0/key-00017" in out and "1 conflict" in out
      and "index is stale" in out, out)
check("conflict: DST's value stays", dc.kv.get("svc/0/key-00017")[1]["Value"] == b"theirs")
check("conflict: the rest of the transaction went in",
      dc.kv.get("svc/1/key-00018")[1]["Value"] == b"also new from src")
rc, out, err = paasctl(cfg, "a", "b", "--once")
want["svc/0/key-00017"] = (0, b"new from src")       # a put without flags: 0
want["svc/1/key-00018"] = (0, b"also new from src")
check("a later run (a new decision) updates the key, reported as updated",
      rc == 0 and "1 updated" in out and dc.kv.get("svc/0/key-00017")[1]["Value"] == b"new from src",
      out + err[-300:])

# --- --delete and --fail-rate 0.1 on DST -------------------------------------------------------------
n_deleted = 1                     # svc/only-on-dst
for i in range(0, 5000, 3):
    k = f"svc/{i % 17}/key-{i:05d}"
    if i % 2:
        sc.kv.delete(k)
        want.pop(k)
        n_deleted += 1
    else:
        sc.kv.put(k, b"changed %d" % i, flags=3)
        want[k] = (3, b"changed %d" % i)
for i in range(40):
    sc.kv.put(f"svc/new/{i}", os.urandom(3000))
    want[f"svc/new/{i}"] = (0, sc.kv.get(f"svc/new/{i}")[1]["Value"])
dst.control("DELETE", "stats")
dst.control("POST", "faults", {"failRate": 0.1})
rc, out, err = paasctl(cfg, "a", "b", "--once", "--delete")
dst.control("POST", "faults", {"failRate": 0})
faults = dst.control("GET", "stats")["faults"]
check("--fail-rate 0.1 on DST: exit 0", rc == 0, f"rc {rc}: {err[-600:]}")
check("--fail-rate 0.1 on DST, --delete: DST exactly equal to SRC", dst.dump() == want,
      f"{len(dst.dump())} vs {len(want)}")
check("--delete removed DST's own key and SRC's deletions", "svc/only-on-dst" not in dst.dump()
      and re.search(r", (\d+) deleted", out) and int(re.search(r", (\d+) deleted", out).group(1)) == n_deleted,
      out)
check("faults were injected and retried", faults > 0 and "retry" in err, f"{faults} faults")
print(f"# --fail-rate 0.1 on DST: {faults} injected faults, end state exact")

# --- usage and refusals ------------------------------------------------------------------------------
rc, out, err = paasctl(cfg, "a", "a", "--once")
check("SRC = DST is a usage error", rc == 2, rc)
rc, out, err = paasctl(cfg, "a", "c", "--once")
check("unknown slot is a usage error", rc == 2 and "unknown slot" in err, err)
with open(token_file, "w") as f:
    f.write("wrong-token\n")
rc, out, err = paasctl(cfg, "a", "b", "--once")
check("a rejected token: exit 1 naming the token setting", rc == 1 and "token" in err and "403" in err,
      err[-400:])
with open(token_file, "w") as f:
    f.write(TOKEN + "\n")
e = env()
rc, out, err = paasctl(config(direct=True).replace("direct", "direct"), "a", "b", "--once",
                       "--prefix", "svc/1/")
check("--prefix limits the pass", rc == 0 and re.search(r"0 created, 0 updated, 0 deleted, \d+ unchanged",
                                                        out), out)
# SPEC.md "Output": the report as one document valid against docs/schema/consul-sync.json.
rc, out, err = paasctl(config(direct=True), "a", "b", "--once", "-o", "json")
check("-o json report matches its schema", rc == 0 and problems("consul-sync", out, rc) is None,
      problems("consul-sync", out, rc))

# --- through the API server proxy: continuous mode -----------------------------------------------------
kube = {"a": KubeStandin(work, "a", "consul/consul:8500", src.url),
        "b": KubeStandin(work, "b", "consul/consul:8500", dst.url)}
pcfg = config(direct=False, kube=kube)


class Runner:
    """consul-sync in continuous mode, its stdout lines collected."""

    def __init__(self, *args):
        self.lines = []
        self.p = subprocess.Popen([PAASCTL, "-c", pcfg, "-vvv", "consul-sync", "a", "b", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env(), stdin=subprocess.DEVNULL)
        self.err = []
        threading.Thread(target=self._read, args=(self.p.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.p.stderr, self.err), daemon=True).start()

    @staticmethod
    def _read(f, into):
        for line in f:
            into.append(line)

    def wait_line(self, n, timeout=60):
        deadline = time.time() + timeout
        while len(self.lines) < n and time.time() < deadline and self.p.poll() is None:
            time.sleep(0.02)
        return len(self.lines) >= n

    def stop(self, sig):
        self.p.send_signal(sig)
        t0 = time.time()
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        time.sleep(0.1)
        outputs.append("".join(self.lines) + "".join(self.err))
        return rc, time.time() - t0


def wait_on_dst(key, value, timeout=30):
    """Blocks on DST (blocking queries, no polling sleep) until key holds
    value (None = absent); returns when it does, or None on timeout."""
    deadline = time.time() + timeout
    idx = None
    while time.time() < deadline:
        idx, e = dc.kv.get(key, index=idx, wait="5s")
        now = e["Value"] or b"" if e else None
        if now == value:
            return time.time()
    return None


# The lag is measured with --prefix live/: each blocking query returns the
# whole prefix, so with all of svc/ (4,000+ keys, ~30 MB through the Python
# stand-ins) one round trip alone takes about a second (see README).
r = Runner("--delete", "--prefix", "live/")
check("continuous: the first pass prints a batch line",
      r.wait_line(1) and re.match(r"^\+\d+ ~\d+ -\d+, index \d+", r.lines[0]), r.lines[:2] + r.err[-5:])
check("continuous (proxy): DST equal to SRC after the first pass", dst.dump() == src.dump())
sc.kv.put("live/seed", b"s")
wait_on_dst("live/seed", b"s")
lags = []
keys = [f"live/{i}" for i in range(30)]
present = {}
for n in range(100):
    key = rng.choice(keys)
    if key in present and n % 3 == 2:
        t0 = time.time()
        sc.kv.delete(key)
        present.pop(key)
        t1 = wait_on_dst(key, None)
    else:
        value = os.urandom(rng.randrange(1, 2048))
        t0 = time.time()
        sc.kv.put(key, value)
        present[key] = value
        t1 = wait_on_dst(key, value)
    if t1 is None:
        check(f"change {n} reached DST", False, key)
        break
    lags.append((t1 - t0) * 1000)
check("continuous: 100 creates/changes/deletes each reached DST", len(lags) == 100, len(lags))
if lags:
    med, mx = statistics.median(lags), max(lags)
    print(f"# lag over {len(lags)} changes (proxy path, ASan build if PAASCTL says so): "
          f"median {med:.0f} ms, max {mx:.0f} ms")
    check("lag: median under 1 s (one blocking round trip + one transaction)", med < 1000, med)
batch_re = re.compile(r"^\+\d+ ~\d+ -\d+, index \d+(, \d+ conflicts?)?$")
check("one line per batch, in the documented shape", len(r.lines) > 50 and
      all(batch_re.match(x.rstrip("\n")) for x in r.lines), r.lines[:5])

# SRC's index goes backwards (a snapshot restore): followed, and SRC's state wins.
src.control("POST", "snapshot")
sc.kv.put("live/after-snapshot", b"x")
wait_on_dst("live/after-snapshot", b"x")
time.sleep(0.5)   # the next blocking query is in flight
src.control("POST", "restore")
check("index went backwards: noticed, DST read again, SRC's restored state wins",
      wait_on_dst("live/after-snapshot", None) is not None
      and any("index went back" in x for x in r.err), r.err[-5:])
sc.kv.put("live/after-restore", b"y")
check("index went backwards: still following", wait_on_dst("live/after-restore", b"y") is not None,
      r.err[-5:])

time.sleep(1.0)   # now a blocking query is in flight
rc, dt = r.stop(signal.SIGINT)
check("SIGINT: exit 130, promptly (the blocking query ends at once)", rc == 130 and dt < 5,
      f"rc {rc} in {dt:.1f}s: {r.err[-3:]}")
check("SIGINT: says how it stopped", any("stopped by SIGINT" in x for x in r.err), r.err[-3:])

sc.kv.put("live/while-stopped", b"made while stopped")
r = Runner("--delete", "--prefix", "live/")
check("restart converges: the change made while stopped arrives",
      wait_on_dst("live/while-stopped", b"made while stopped") is not None and r.wait_line(1))
check("restart: DST equal to SRC", dst.dump() == src.dump())
rc, dt = r.stop(signal.SIGTERM)
check("SIGTERM: exit 143", rc == 143 and dt < 5, f"rc {rc} in {dt:.1f}s")

# --- no token and no value in any output ------------------------------------------------------------
import base64  # noqa: E402
blob = "\n".join(outputs)
needles = [TOKEN] + [v.decode() for v in SECRET_VALUES] + [base64.b64encode(v).decode() for v in SECRET_VALUES]
check("-vvv output was produced (the check below can fail)", "debug: k8s PUT" in blob and len(blob) > 1000)
check("no token and no value in any output at -vvv", not any(n in blob for n in needles),
      [n[:6] for n in needles if n in blob])
done()
