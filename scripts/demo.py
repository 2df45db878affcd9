"""The demo (`make demo`): the whole A/B story of SPEC.md on loopback, with
nothing to set up: the AWS emulator (moto, signature checking on), two
stand-in Kubernetes API servers (slots a and b), two stand-in Consuls, a
demo paasctl.ini and kubeconfigs in a temporary folder, cluster a seeded
with a small application stack and Consul a with keys, Nodes joined for
each slot's instances as their kubelets would, and a loopback server
standing in for the ingress controllers. Narrates one line per step, ends
with a summary table, and stops every server it started (by PID) on every
exit path, Ctrl-C included. Exit 0 only if every step did what it should."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import harness  # noqa: E402

harness.PAASCTL = os.environ.get("PAASCTL") or os.path.join(harness.ROOT, "paasctl")
from ab_world import ABWorld  # noqa: E402

# (command, what it shows, the live slot afterwards as `status -o json`
# must report it: None = no slot live, "" = not checked)
STORY = [
    (("up", "shell"), "the VPC shell, both ELBs and the state bucket", None),
    (("up", "a"), "cluster a; its nodes join; ingress behind pre-live", None),
    (("smoke", "a"), "nodes Ready, workloads available, ingress answers", None),
    (("cutover",), "a becomes live (the first cutover)", "a"),
    (("upgrade",), "up b, smoke b, migrate a b, consul-sync a b --once, smoke b, cutover, smoke b", "b"),
    (("status",), "b live, a pre-live", "b"),
    (("rollback",), "a live again", "a"),
    (("cutover",), "b live again", "b"),
    (("teardown", "a"), "slot a is gone", "b"),
    (("status",), "only b remains", "b"),
    (("history",), "the journal, newest first", ""),
]


def verify(ab, args, live):
    """What the step should have left, read back: the live slot; after
    teardown a, no instance of a; after upgrade, a's stack and keys in b."""
    if live == "":
        return ""
    rc, out, err = ab.paasctl("-o", "json", "status")
    got = json.loads(out).get("live") if rc == 0 else "?"
    if got != live:
        return f"status says live slot {got!r}, expected {live!r}"
    if args == ("teardown", "a") and ab.instances("a"):
        return "slot a still has instances"
    if args == ("upgrade",):
        code, _ = ab.kube["b"].call("GET", "/apis/example.com/v1/namespaces/shop/widgets/w1")
        if code != 200 or ab.consul["b"].dump("shop/").keys() != ab.consul["a"].dump("shop/").keys():
            return "slot b lacks a's stack or Consul keys"
    return ""


def narrate(ab, i, args, what, live, results):
    cmd = " ".join(args)
    print(f"[{i:2d}/{len(STORY)}] paasctl {cmd:<10} {what}", flush=True)
    t0 = time.time()
    rc, out, err = ab.paasctl(*args)
    took = time.time() - t0
    wrong = verify(ab, args, live) if rc == 0 else ""
    results.append((cmd, took, "ok" if rc == 0 and not wrong else
                    f"FAILED (exit {rc})" if rc else f"FAILED: {wrong}"))
    if args[0] == "upgrade":
        for line in out.splitlines():
            if line.startswith("step "):
                print(f"          {line[:160]}", flush=True)
    if rc != 0 or wrong:
        sys.stdout.write(out[-2000:])
        sys.stdout.write(err[-2000:])
        return False
    return True


def summary(results, total):
    print("\nSTEP              TIME     OUTCOME")
    for cmd, took, outcome in results:
        print(f"{cmd:<16} {took:6.1f} s  {outcome}")
    print(f"{'total':<16} {total:6.1f} s")


def main():
    t0 = time.time()
    ab = ABWorld("demo", smoke_timeout=20)
    print(f"demo: AWS emulator {ab.w.moto.url}; API servers a :{ab.kube['a'].port}, b :{ab.kube['b'].port}; "
          f"Consuls a :{ab.consul['a'].port}, b :{ab.consul['b'].port}; ingress :{ab.ingress.port}")
    print(f"demo: paasctl.ini and kubeconfigs in {ab.w.dir} (removed at the end)")
    print("demo: server PIDs " + " ".join(str(p.pid) for p in harness._procs), flush=True)
    results = []
    ok = True
    try:
        for i, (args, what, live) in enumerate(STORY, 1):
            if args == ("up", "a"):
                ab.seed()   # the stack is in a's cluster before its nodes are waited for
            if not narrate(ab, i, args, what, live, results):
                ok = False
                break
    finally:
        ab.stop()
    summary(results, time.time() - t0)
    print("demo: the whole A/B story ran" if ok else "demo: a step failed (see above)", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    code = 130
    try:
        code = main()
    except KeyboardInterrupt:
        print("\ndemo: interrupted; stopping every server it started", flush=True)
    finally:
        harness.stop_all()
    sys.exit(code)
