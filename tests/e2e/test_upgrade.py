"""upgrade (SPEC.md "Upgrade") end to end: the signature-checking AWS
emulator, two stand-in API servers (slots a and b) whose Nodes join as each
instance's kubelet would, two stand-in Consuls, and a loopback server for
the ingress controllers. Slot a is brought up, seeded and made live; then
--dry-run lists the seven steps and changes nothing; an Ingress host
answering 503 stops the upgrade at step 5 (smoke b after the migration)
with exit 1, naming the step and the command to continue, after steps 1-4
ran; once the host answers again, `upgrade` resumes at step 5 (the journal
says where: no object is written to b again, no instance is made) and
finishes: b is live, the journal holds each step's outcome and time and a
cutover record that `rollback` then undoes."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import check, done  # noqa: E402
from ab_world import ABWorld, HOST  # noqa: E402
from schemas import problems  # noqa: E402

ab = ABWorld("upg", smoke_timeout=6)
elb = ab.w.moto.client("elb")


def run(*args, **env):
    rc, out, err = ab.paasctl(*args, **env)
    try:
        doc = json.loads(out) if "-o" in args else None
    except ValueError:
        doc = None
    return rc, out, err, doc


def traffic(slot):
    return sorted({{t["Key"]: t["Value"] for t in i.get("Tags", [])}.get("paasctl:traffic", "")
                   for i in ab.instances(slot) if {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                   .get("paasctl:role") == "ingress"})


def members(lb):
    d = elb.describe_load_balancers(LoadBalancerNames=[lb])["LoadBalancerDescriptions"][0]
    return sorted(i["InstanceId"] for i in d["Instances"])


def ingress_ids(slot):
    return sorted(i["InstanceId"] for i in ab.instances(slot)
                  if {t["Key"]: t["Value"] for t in i.get("Tags", [])}.get("paasctl:role") == "ingress")


def paasctl_writes(slot):
    """Create/update requests paasctl sent to slot's API server."""
    recent = ab.kube[slot].requests()["recent"]
    return [r for r in recent if "paasctl" in (r.get("userAgent") or "") and
            r["method"] in ("POST", "PUT", "PATCH") and not r["path"].startswith("/_standin")]


for args in (("up", "shell"), ("up", "a"), ("cutover",)):
    rc, out, err, _ = run(*args)
    check(f"setup: {' '.join(args)} exits 0", rc == 0, err[-800:])
ab.seed()
check("setup: slot a is live", traffic("a") == ["live"], traffic("a"))

# --- refusals and usage ------------------------------------------------------------
rc, out, err, _ = run("upgrade", "--to", "a")
check("upgrade --to the live slot is refused, exit 3", rc == 3 and "live slot" in err, (rc, err[-400:]))
rc, out, err, _ = run("upgrade", "--from-step", "8")
check("upgrade --from-step 8 is a usage error, exit 2", rc == 2, (rc, err[-300:]))

# --- dry run: the steps, nothing changed ------------------------------------------------
rc, out, err, _ = run("--dry-run", "upgrade")
cmds = ["up b", "smoke b", "migrate a b", "consul-sync a b --once", "cutover"]
check("--dry-run exits 0 and lists every step with what it would do",
      rc == 0 and all(c in out for c in cmds) and out.count("would run") == 7 and "to create" in out,
      (rc, out, err[-400:]))
check("--dry-run made no instance of slot b", ab.instances("b") == [], len(ab.instances("b")))

# --- pre-flight in step 1 (README "Pre-flight"): the vCPU quota is too low -----------------
ab.w.moto.set_quotas(vcpus=1)
rc, out, err, _ = run("upgrade")
check("pre-flight stops step 1 (up b): exit 1 naming the vCPUs wanted and the quota",
      rc == 1 and "step 1/7 (up b)" in err and "pre-flight" in err and "quota 1 " in err,
      (rc, err[-1200:]))
check("pre-flight: no instance of slot b was made", ab.instances("b") == [], len(ab.instances("b")))
ab.w.moto.set_quotas()

# --- a failing gate: an Ingress host answers 503 after the migration -----------------------
ab.ingress.answers[HOST] = 503
rc, out, err, doc = run("-o", "json", "upgrade")
steps = (doc or {}).get("steps", [])
check("failing smoke gate: exit 1", rc == 1, (rc, err[-1200:]))
check("failing smoke gate: -o json matches docs/schema/upgrade.json", problems("upgrade", out, rc) is None,
      problems("upgrade", out, rc))
check("failing smoke gate: names the step and how to continue",
      "step 5/7 (smoke b)" in err and "'paasctl upgrade'" in err and "--from-step 5" in err and HOST in err,
      err[-1200:])
check("failing smoke gate: one JSON document with each step's outcome and time",
      [s["outcome"] for s in steps] == ["ok"] * 4 + ["failed", "pending", "pending"] and
      all(s["started"] and s["seconds"] >= 0 for s in steps[:5]) and doc.get("stopped_at") == 5,
      json.dumps(steps)[:1500])
check("failing smoke gate: traffic did not move (a live, b pre-live)",
      traffic("a") == ["live"] and traffic("b") == ["prelive"], (traffic("a"), traffic("b")))
check("steps 1-4 ran: b has a's stack and Consul keys",
      ab.kube["b"].call("GET", "/apis/example.com/v1/namespaces/shop/widgets/w1")[0] == 200 and
      ab.consul["b"].dump("shop/").keys() == ab.consul["a"].dump("shop/").keys(),
      ab.consul["b"].dump("shop/").keys())

s3 = ab.w.moto.client("s3")


def progress():
    """The progress object STATE_BUCKET/NAME/upgrade, or None."""
    try:
        return json.loads(s3.get_object(Bucket="upg-paasctl-state", Key="upg/upgrade")["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


left = progress()
check("failing smoke gate: the progress object holds the same steps (step 5 failed)",
      left and [s["outcome"] for s in left["steps"]] == [s["outcome"] for s in steps] and
      left["stopped_at"] == 5, json.dumps(left)[:800])

# --- fixed: resume at step 5 ------------------------------------------------------------------
ab.ingress.answers[HOST] = 200
writes_before = len(paasctl_writes("b"))
n_b = len(ab.instances("b"))
ab.ingress.seen.clear()
rc, out, err, doc = run("-o", "json", "upgrade")
steps = (doc or {}).get("steps", [])
check("resume: exit 0", rc == 0, (rc, err[-1200:]))
check("resume: -o json matches docs/schema/upgrade.json", problems("upgrade", out) is None,
      problems("upgrade", out))
check("resume: starts at the failed step 5, steps 1-4 from the earlier run",
      doc and doc["resumed"] and doc["first_step"] == 5 and [s["earlier"] for s in steps] == [True] * 4 + [False] * 3,
      json.dumps(doc)[:1500])
check("resume: every step ok", [s["outcome"] for s in steps] == ["ok"] * 7, [s["outcome"] for s in steps])
check("resume: nothing written to b's cluster again (migrate not re-run), no instance made",
      len(paasctl_writes("b")) == writes_before and len(ab.instances("b")) == n_b,
      (writes_before, len(paasctl_writes("b"))))
check("after upgrade: b is live, a pre-live; the live ELB holds exactly b's ingress nodes",
      traffic("b") == ["live"] and traffic("a") == ["prelive"] and members("upg-live") == ingress_ids("b") and
      members("upg-prelive") == ingress_ids("a"), (traffic("a"), traffic("b")))
check("step 5 smoked b through the pre-live ELB, step 7 through the live ELB, probing the Ingress host",
      len(steps) == 7 and "on upg-prelive" in steps[4]["detail"] and "on upg-live" in steps[6]["detail"] and
      (HOST, "/healthz") in ab.ingress.seen, [s["detail"] for s in steps[4:]])

check("a finished upgrade leaves no progress object", progress() is None, json.dumps(progress())[:400])

rc, out, err, hist = run("-o", "json", "history")
recs = hist if isinstance(hist, list) else (hist or {}).get("records", [])
ups = [r for r in recs if r.get("command") == "upgrade"]
cuts = [r for r in recs if r.get("command") == "cutover"]
check("the journal: the last upgrade record is ok with seven steps, each with outcome and time",
      ups and ups[0]["outcome"] == "ok" and len(ups[0]["changes"]["steps"]) == 7 and
      all(s["started"] for s in ups[0]["changes"]["steps"]), json.dumps(ups[:1])[:800])
check("the journal: the failed run is recorded too, stopped at step 5",
      len(ups) >= 2 and ups[1]["outcome"] == "failed" and ups[1]["changes"]["stopped_at"] == 5,
      json.dumps(ups[1:2])[:600])
check("the journal: the upgrade's cutover has its own record (what rollback reads)",
      cuts and cuts[0]["command_line"] == "cutover (upgrade)", json.dumps(cuts[:1])[:400])
rc, out, err, _ = run("--dry-run", "upgrade")
check("a finished upgrade is not resumed: the next one goes to a", rc == 0 and "upgrade b -> a" in out, out)

rc, out, err, _ = run("rollback")
check("rollback after upgrade: a live again", rc == 0 and traffic("a") == ["live"], (rc, err[-400:]))

ab.stop()
done()
