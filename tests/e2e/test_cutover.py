"""cutover, rollback and status against the signature-checking emulator
(SPEC.md "Cutover rules"): the whole A/B cycle with ELB members and
paasctl:traffic tags checked by boto3 at every step; each failure case; a
crash mid-cutover; drift. A poller (boto3, an independent client) watches
the live ELB during every swap: it must never see zero InService instances
once it had any."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, World, check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402

NAME = "swap"
w = World()
cfg = w.write_config(sample_config(NAME))
cfg_fast = w.write_config(sample_config(NAME, extra="\n[elb]\nswap_timeout = 3\n"), "fast.ini")
ec2 = w.moto.client("ec2")
elb = w.moto.client("elb")
LIVE, PRELIVE = f"{NAME}-live", f"{NAME}-prelive"


def run(*args, config=cfg, env=None):
    return w.paasctl("-c", config, *args, env=env)


def ingress(slot):
    """Ingress node ids of a slot (not terminated), by tags, with boto3."""
    r = ec2.describe_instances(Filters=[
        {"Name": "tag:paasctl:paas", "Values": [NAME]},
        {"Name": "tag:paasctl:slot", "Values": [slot]},
        {"Name": "tag:paasctl:role", "Values": ["ingress"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return sorted(i["InstanceId"] for res in r["Reservations"] for i in res["Instances"])


def traffic(ids):
    if not ids:
        return set()
    r = ec2.describe_instances(InstanceIds=ids)
    return {t["Value"] for res in r["Reservations"] for i in res["Instances"]
            for t in i.get("Tags", []) if t["Key"] == "paasctl:traffic"}


def members(lb):
    d = elb.describe_load_balancers(LoadBalancerNames=[lb])["LoadBalancerDescriptions"][0]
    return sorted(i["InstanceId"] for i in d["Instances"])


def world_state():
    return {"live": members(LIVE), "prelive": members(PRELIVE),
            "a": (ingress("a"), sorted(traffic(ingress("a")))),
            "b": (ingress("b"), sorted(traffic(ingress("b"))))}


def expect_roles(step, live_slot, prelive_slot):
    """Live holds exactly live_slot's ingress nodes, tagged live; pre-live
    exactly prelive_slot's (or nothing), tagged prelive."""
    live_ids = ingress(live_slot) if live_slot else []
    pre_ids = ingress(prelive_slot) if prelive_slot else []
    check(f"{step}/live-members", members(LIVE) == live_ids, f"{members(LIVE)} != {live_ids}")
    check(f"{step}/prelive-members", members(PRELIVE) == pre_ids, f"{members(PRELIVE)} != {pre_ids}")
    if live_slot:
        check(f"{step}/live-tags", traffic(live_ids) == {"live"}, traffic(live_ids))
    if prelive_slot:
        check(f"{step}/prelive-tags", traffic(pre_ids) == {"prelive"}, traffic(pre_ids))


class LivePoller:
    """Polls DescribeInstanceHealth on the live ELB while a swap runs."""

    def __init__(self):
        self.samples, self.stop_flag = [], False
        self.client = w.moto.client("elb")
        self.t = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop_flag:
            try:
                states = self.client.describe_instance_health(LoadBalancerName=LIVE)["InstanceStates"]
                self.samples.append(sum(s["State"] == "InService" for s in states))
            except Exception as ex:  # the ELB must exist all the time
                self.samples.append(f"error {ex}")
            time.sleep(0.02)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag = True
        self.t.join()


all_samples = []


def swap(step, *args, config=cfg, expect=0, env=None):
    with LivePoller() as p:
        rc, out, err = run(*args, config=config, env=env)
    all_samples.append((step, p.samples))
    check(f"{step}/exit-{expect}", rc == expect, f"rc={rc} out={out!r} err={err!r}")
    return rc, out, err


def invariant(step, samples):
    seen_any, zero = False, False
    for s in samples:
        if isinstance(s, str):
            zero = True
        elif s > 0:
            seen_any = True
        elif seen_any:
            zero = True
    return not zero


# --- before any slot ---------------------------------------------------------
rc, out, err = run("up", "shell")
check("setup/up-shell", rc == 0, err)
rc, out, err = run("cutover")
check("no-prelive-slot/exit-3", rc == 3 and "no slot is pre-live" in err, f"rc={rc} {err!r}")
rc, out, err = run("rollback")
check("rollback-no-history/exit-3", rc == 3 and "no cutover" in err, f"rc={rc} {err!r}")

# --- the cycle -----------------------------------------------------------------
rc, out, err = run("up", "a")
check("setup/up-a", rc == 0, err)
expect_roles("after-up-a", None, "a")
swap("first-cutover", "cutover")
expect_roles("first-cutover", "a", None)
rc, out, err = run("up", "b")
check("setup/up-b", rc == 0, err)
expect_roles("after-up-b", "a", "b")

rc, out, err = run("status", "-o", "json")
st = json.loads(out) if rc == 0 else {}
check("status/live-and-prelive", st.get("live") == "a" and st.get("prelive") == "b"
      and st.get("drift") == [], out)

# Unhealthy incoming on pre-live: one node stopped -> refused, nothing changed.
victim = ingress("b")[0]
ec2.stop_instances(InstanceIds=[victim])
before = world_state()
rc, out, err = swap("unhealthy-prelive", "cutover", expect=3)
check("unhealthy-prelive/names-instance", victim in err, err)
check("unhealthy-prelive/nothing-changed", world_state() == before, f"{before} -> {world_state()}")
ec2.start_instances(InstanceIds=[victim])

# Never healthy on live within swap_timeout: a proxy answers DescribeInstanceHealth
# for the live ELB with OutOfService (the emulator cannot do that on one ELB).
proxy = FaultProxy(w.moto.url)


def out_of_service(xml):
    return re.sub(r"<State>InService</State>", "<State>OutOfService</State>", xml)


proxy.rules.append(Rule(action="DescribeInstanceHealth", times=None, rewrite=out_of_service,
                        match=lambda m, p, f: f.get("LoadBalancerName", [""])[0] == LIVE))
before = world_state()
rc, out, err = swap("never-healthy-on-live", "cutover", config=cfg_fast, expect=1,
                    env=w.env(AWS_ENDPOINT_URL=proxy.url))
check("never-healthy-on-live/undone-message", "undone" in err and "deregistered" in err, err)
check("never-healthy-on-live/registration-undone", world_state() == before,
      f"{before} -> {world_state()}")
proxy.rules.clear()

# The real cutover, through the proxy to count the calls (O(1) in nodes).
proxy.log.clear()
swap("cutover-to-b", "cutover", env=w.env(AWS_ENDPOINT_URL=proxy.url))
expect_roles("cutover-to-b", "b", "a")
acts = proxy.actions()
check("cutover-to-b/one-register-per-side", acts.count("RegisterInstancesWithLoadBalancer") == 2, acts)
check("cutover-to-b/one-retag-per-side", acts.count("CreateTags") == 2, acts)
check("cutover-to-b/deregister-calls-bounded",
      acts.count("DeregisterInstancesFromLoadBalancer") <= 2, acts)

rc, out, err = run("teardown", "b", "--yes")
check("teardown-live-b/refused-exit-3", rc == 3, f"rc={rc} {err!r}")

swap("rollback-to-a", "rollback")
expect_roles("rollback-to-a", "a", "b")
# Swaps a moment apart keep their order in the journal (keys carry
# microseconds), which is what rollback reads.
rc, out, err = run("history", "-o", "json")
recs = [r for r in (json.loads(out) if rc == 0 else [])
        if r["command"] in ("cutover", "rollback") and r["outcome"] == "ok"]
check("journal/order-within-a-second", [(r["command"], r["changes"]["to"]) for r in recs[:2]]
      == [("rollback", "a"), ("cutover", "b")], out)
rc, out, err = run("rollback")
check("rollback-twice/exit-3", rc == 3 and "already live" in err, f"rc={rc} {err!r}")
rc, out, err = run("teardown", "a", "--yes")
check("teardown-live-a/refused-exit-3", rc == 3, f"rc={rc} {err!r}")

# --- crash mid-cutover, then re-run ---------------------------------------------
# Hold the first CreateTags (rule 4) at the proxy and SIGKILL paasctl there:
# incoming nodes are on live, tags are not changed yet.
proxy.rules[:] = [Rule(action="CreateTags", delay=30, forward=True)]
proxy.log.clear()
penv = w.env(AWS_ENDPOINT_URL=proxy.url)
with LivePoller() as poll:
    proc = subprocess.Popen([PAASCTL, "-c", cfg, "cutover"], env=penv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while "CreateTags" not in proxy.actions() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The proxy still holds the CreateTags; drop it rather than pass it on.
    proxy.rules[0].forward = False
    proc.stdout.close()
    proc.stderr.close()
    all_samples.append(("crash", poll.samples))
proxy.rules.clear()
check("crash/killed-mid-swap", "CreateTags" in proxy.actions(), proxy.actions())
check("crash/live-has-both-slots", set(ingress("a") + ingress("b")) == set(members(LIVE)), members(LIVE))
rc, out, err = run("status")
check("crash/status-shows-unfinished-swap", rc == 0 and "UNFINISHED cutover" in out, out)
rc, out, err = run("status", "--check")
check("crash/status-check-exit-1", rc == 1, f"rc={rc}")
rc, out, err = run("cutover")
m = re.search(r"unlock ([0-9a-f]{32})", err)
check("crash/stale-lock-exit-4", rc == 4 and m, f"rc={rc} {err!r}")
if m:
    run("unlock", m.group(1))
rc, out, err = swap("crash/rerun", "cutover")
check("crash/rerun-says-resumed", out.startswith("resumed cutover done: slot b is live"), out)
expect_roles("crash/rerun", "b", "a")
rc, out, err = run("status", "--check")
check("crash/status-clean-after", rc == 0 and "UNFINISHED" not in out, f"rc={rc} {out!r}")

# --- teardown a now that b is live; then rollback has nowhere to go -------------
rc, out, err = run("teardown", "a", "--yes")
check("teardown-a-after-cutover/exit-0", rc == 0, f"rc={rc} {err!r}")
check("teardown-a-after-cutover/live-untouched", members(LIVE) == ingress("b"), members(LIVE))
check("teardown-a-after-cutover/prelive-empty", members(PRELIVE) == [], members(PRELIVE))
rc, out, err = run("rollback")
check("rollback-after-teardown/exit-3", rc == 3 and "torn down" in err, f"rc={rc} {err!r}")

# --- drift behind paasctl's back ------------------------------------------------
rc, out, err = run("status", "--check")
check("drift/none-before", rc == 0 and "no drift" in out, f"rc={rc} {out!r}")
ec2.create_tags(Resources=[ingress("b")[0]], Tags=[{"Key": "paasctl:traffic", "Value": "prelive"}])
rc, out, err = run("status")
check("drift/retag-reported-exit-0", rc == 0 and "DRIFT" in out and ingress("b")[0] in out, out)
rc, out, err = run("status", "--check")
check("drift/retag-check-exit-1", rc == 1, f"rc={rc}")
ec2.create_tags(Resources=[ingress("b")[0]], Tags=[{"Key": "paasctl:traffic", "Value": "live"}])
stray = ec2.run_instances(ImageId="ami-0abcdef1234567890", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
elb.register_instances_with_load_balancer(LoadBalancerName=PRELIVE, Instances=[{"InstanceId": stray}])
rc, out, err = run("status", "-o", "json")
drift = json.loads(out).get("drift", []) if rc == 0 else []
check("drift/stray-member-reported", any(d["instance"] == stray for d in drift), out)
rc, out, err = run("status", "--check")
check("drift/stray-check-exit-1", rc == 1, f"rc={rc}")

# --- the invariant, over every swap above ----------------------------------------
for step, samples in all_samples:
    check(f"invariant/{step}/live-never-empty ({len(samples)} samples)",
          len(samples) > 0 and invariant(step, samples), samples[:50])
proxy.stop()
done()
