"""Interruptions at every request boundary (SPEC.md "Exit codes" 130/143 and
"Cutover rules": an interrupted cutover is finished by running it again).

A proxy in front of the emulator holds the k-th request of a run; the test
signals paasctl while that request is in flight, then lets it through. For
k = 0, 1, 2, ... until a run ends before its k-th request, for `up b` and
for `cutover`, it checks: exit 130 (or 0 when the signal came after the
last change and the run finished), the lock released, the journal truthful
(a record of this run says "interrupted" for 130 and "ok" for 0), and a
re-run of the same command finishing the job (for cutover: the traffic on
the slot the interrupted run was moving it to, never back). Then SIGKILL
around the swap marker and the journal write, and one SIGTERM (143).
Members and tags are read with boto3, an independent client.

One proxy carries every request, Route53's too (FaultProxy routes them to
the Route53 emulator), so "boundary k" is the k-th request the proxy sees,
parallel ones (the six RunInstances) in the order they arrive. `up b` is
interrupted at every one of its boundaries, every fifth with SIGTERM (143),
and after each re-run its world must equal a clean run's, resource by
resource (found by tag, ids mapped to names, so a duplicate or a stale DNS
answer shows).

Cost: the emulator keeps terminated instances, and moto's tag filters scan
every tag for every instance, so each teardown + `up b` cycle made the next
DescribeInstances slower (1.3 s for the first cycle, 8 s by the 20th); the
worlds run tests/lib/moto_indexed.py (the same server, tag lookups by id).
The boundaries are shared out among WORLDS independent worlds (emulators,
proxy, setup of their own; PAASCTL_TEST_WORLDS, default 4) run in threads,
each taking the next boundary not yet taken."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, World, check as _check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402

NAME = "intr"
BUCKET = f"{NAME}-paasctl-state"
LIVE, PRELIVE = f"{NAME}-live", f"{NAME}-prelive"
WORLDS = max(1, int(os.environ.get("PAASCTL_TEST_WORLDS") or 4))
_check_lock = threading.Lock()
t0 = time.time()


def check(name, cond, detail=""):
    """harness.check, one thread at a time (its counters are shared)."""
    with _check_lock:
        return _check(name, cond, detail)


def other(slot):
    return "b" if slot == "a" else "a"


def kind(method, path, action):
    """"RunInstances", "PUT /intr-b-config/secret", "PUT .../journal"."""
    if action:
        return action
    path = path.split("?")[0]
    tail = "/journal" if "/journal/" in path else "/lock" if path.endswith("/lock") else ""
    return f"{method} {'/'.join(path.split('/')[:3])}{tail}"


def tags_of(resource):
    return {x["Key"]: x["Value"] for x in resource.get("Tags") or []}


def differences(got, want):
    return {k: (got.get(k), want[k]) for k in want if got.get(k) != want[k]}


class Hold:
    """The proxy rule's match function: holds the k-th request (or the
    first matching `pred`) until released, then lets it through (or drops
    it, answering 503 to a client that is gone)."""

    def __init__(self, k=None, pred=None):
        self.k, self.pred, self.n = k, pred, 0
        self.mutex = threading.Lock()
        self.arrived, self.release = threading.Event(), threading.Event()
        self.drop, self.what, self.taken = False, None, False

    def __call__(self, method, path, form):
        with self.mutex:
            i = self.n
            self.n += 1
            if self.taken:
                return False
            hit = i == self.k if self.pred is None else self.pred(method, path, form)
            self.taken = hit
        if not hit:
            return False
        self.what = form.get("Action", [""])[0] or f"{method} {path.split('?')[0]}"
        self.arrived.set()
        self.release.wait(60)
        return self.drop


class Site:
    """One world (emulators, one proxy for all of its requests, a paas with
    shell, a live, b pre-live) and the ways to look at it. Built in the
    main thread: boto3 clients are safe to use from threads, not to make."""

    def __init__(self):
        self.w = World(indexed_tags=True)
        self.cfg = self.w.write_config(sample_config(NAME))
        self.ec2, self.elb = self.w.moto.client("ec2"), self.w.moto.client("elb")
        self.s3, self.iam = self.w.moto.client("s3"), self.w.moto.client("iam")
        self.r53 = self.w.r53.client("route53")
        self.proxy = FaultProxy(self.w.moto.url, route53=self.w.r53.url)
        self.env = self.w.env(AWS_ENDPOINT_URL=self.proxy.url,
                              AWS_ENDPOINT_URL_ROUTE_53=self.proxy.url, PAASCTL_POLL_MS="20")

    def setup(self, tag):
        """up shell, up a, cutover (a live), up b; the clean `up b`'s
        request kinds and world."""
        for step in (("up", "shell"), ("up", "a"), ("cutover",), ("up", "b")):
            self.proxy.log.clear()
            rc, out, err = self.run(*step)
            check(f"setup{tag}/{' '.join(step)}", rc == 0, err)
        self.up_b_kinds = [kind(*r) for r in self.proxy.log]
        self.lock_k = next(i for i, x in enumerate(self.up_b_kinds)
                           if x.startswith("PUT") and x.endswith("/lock"))
        self.clean = self.world_b()
        c = self.clean
        check(f"setup{tag}/a-live-b-complete", c["live"] == "a" and len(c["dns"]) >= 2
              and len(c["prelive"]) >= 1 and c["roles"] and c["security-groups"]
              and len(c["instances"]) >= 6, c)

    def run(self, *args):
        return self.w.paasctl("-c", self.cfg, *args, env=self.env)

    def instances(self, slot, role=None):
        filters = [{"Name": "tag:paasctl:paas", "Values": [NAME]},
                   {"Name": "tag:paasctl:slot", "Values": [slot]},
                   {"Name": "instance-state-name", "Values": ["pending", "running"]}]
        if role:
            filters.append({"Name": "tag:paasctl:role", "Values": [role]})
        r = self.ec2.describe_instances(Filters=filters)
        return sorted(i["InstanceId"] for res in r["Reservations"] for i in res["Instances"])

    def members(self, lb):
        d = self.elb.describe_load_balancers(LoadBalancerNames=[lb])["LoadBalancerDescriptions"][0]
        return sorted(i["InstanceId"] for i in d["Instances"])

    def live_slot(self):
        """The slot whose ingress nodes are exactly the live ELB's members."""
        m = self.members(LIVE)
        for slot in ("a", "b"):
            if m and m == self.instances(slot, "ingress"):
                return slot
        return None

    def keys(self, prefix):
        # No Prefix parameter: the emulator's signature check trips over its
        # encoded slash.
        r = self.s3.list_objects_v2(Bucket=BUCKET)
        return [o["Key"] for o in r.get("Contents", []) if o["Key"].startswith(prefix)]

    def journal_len(self):
        return len(self.keys(f"{NAME}/journal/"))

    def journal(self, newest=None):
        """The newest records (all by default), newest first (the keys sort
        that way)."""
        return [json.loads(self.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read())
                for k in self.keys(f"{NAME}/journal/")[:newest]]

    def lock_held(self):
        return self.keys(f"{NAME}/lock") != []

    def marker(self):
        return self.keys(f"{NAME}/swap") != []

    def held_run(self, args, k=None, pred=None, sig=signal.SIGINT, drop=False):
        """Runs paasctl ARGS, sends sig while request k (or the first pred
        one) is held, then lets that request go. Returns (reached, what,
        rc, err)."""
        hold = Hold(k, pred)
        self.proxy.rules[:] = [Rule(match=hold, times=None, status=503)]
        proc = subprocess.Popen([PAASCTL, "-c", self.cfg, *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
        while not hold.arrived.wait(0.02) and proc.poll() is None:
            pass
        if hold.arrived.is_set():
            proc.send_signal(sig)
            time.sleep(0.05)   # the handler runs before the answer comes back
            hold.drop = drop
        hold.release.set()
        try:
            out, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()   # ours, by its PID; the worker reports the exception
            proc.communicate()
            raise
        if hold.arrived.is_set() and sig == signal.SIGKILL:
            # The proxy passes (or drops) the held request on its own
            # thread, after paasctl is gone: let it finish before looking.
            time.sleep(0.5)
        self.proxy.rules.clear()
        return hold.arrived.is_set(), hold.what, proc.returncode, err

    def stale_unlock(self):
        """After a SIGKILL the lock stays; remove it by its id, as the
        operator would after reading the lock-held message."""
        if self.lock_held():
            body = json.loads(self.s3.get_object(Bucket=BUCKET, Key=f"{NAME}/lock")["Body"].read())
            self.run("unlock", body["id"])

    def check_stopped(self, step, rc, err, n_before, after_lock, code=130):
        """Exit 130/143 with a journal record saying "interrupted" (none
        when the signal came before the lock was taken), or 0 with "ok";
        lock released."""
        new = self.journal(self.journal_len() - n_before)
        check(f"{step}/exit-{code}-or-finished", rc in (0, code), f"rc={rc} err={err[-400:]!r}")
        check(f"{step}/lock-released", not self.lock_held(), "lock left")
        if rc == code:
            check(f"{step}/journal-interrupted",
                  (new and new[0]["outcome"] == "interrupted") or (not new and not after_lock),
                  [r["outcome"] for r in new])
        elif rc == 0:
            check(f"{step}/journal-ok", new and new[0]["outcome"] == "ok", new[:1])

    def world_b(self):
        """Slot b's resources without ids: instances (by tag), security
        groups (rules with group ids as names), IAM roles and instance
        profiles, the config bucket's keys and tags, the DNS records (as
        the instances they point at), the pre-live ELB's members (by name)
        and the live slot. Equal to the clean run's = nothing missing,
        nothing twice, nothing stale."""
        groups = self.ec2.describe_security_groups()["SecurityGroups"]
        sg_name = {g["GroupId"]: g["GroupName"] for g in groups}
        by_id, by_ip, rows = {}, {}, []
        for res in self.ec2.describe_instances(Filters=[
                {"Name": "tag:paasctl:paas", "Values": [NAME]},
                {"Name": "tag:paasctl:slot", "Values": ["b"]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]:
            for i in res["Instances"]:
                t = tags_of(i)
                by_id[i["InstanceId"]] = by_ip[i.get("PrivateIpAddress")] = t.get("Name")
                prof = i.get("IamInstanceProfile", {}).get("Arn", "-").rsplit("/", 1)[-1]
                rows.append((t.get("Name"), t.get("paasctl:role"), t.get("paasctl:traffic"),
                             i["InstanceType"], i["SubnetId"],
                             tuple(sorted(g["GroupName"] for g in i["SecurityGroups"])), prof))

        def perm(p):
            return (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"),
                    tuple(sorted(r["CidrIp"] for r in p["IpRanges"])),
                    tuple(sorted(sg_name.get(u["GroupId"], "?") for u in p["UserIdGroupPairs"])))
        sgs = sorted((g["GroupName"], tuple(sorted(perm(p) for p in g["IpPermissions"])))
                     for g in groups if tags_of(g).get("paasctl:paas") == NAME
                     and tags_of(g).get("paasctl:slot") == "b")
        roles = sorted((r["RoleName"],
                        tuple(self.iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]))
                       for r in self.iam.list_roles()["Roles"]
                       if r["RoleName"].startswith(f"{NAME}-b-"))
        profiles = sorted((p["InstanceProfileName"], tuple(r["RoleName"] for r in p["Roles"]))
                          for p in self.iam.list_instance_profiles()["InstanceProfiles"]
                          if p["InstanceProfileName"].startswith(f"{NAME}-b-"))
        bucket = f"{NAME}-b-config"
        try:
            objs = sorted(o["Key"] for o in
                          self.s3.list_objects_v2(Bucket=bucket).get("Contents", []))
            btags = sorted((t["Key"], t["Value"])
                           for t in self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
        except self.s3.exceptions.ClientError as e:
            objs, btags = str(e), None
        dns = sorted((r["Name"], r["Type"], tuple(sorted(by_ip.get(v["Value"], v["Value"])
                                                          for v in r.get("ResourceRecords", []))))
                     for z in self.r53.list_hosted_zones()["HostedZones"]
                     for r in self.r53.list_resource_record_sets(
                         HostedZoneId=z["Id"])["ResourceRecordSets"]
                     if ".b." in r["Name"])
        return {"instances": sorted(rows), "security-groups": sgs, "roles": roles,
                "profiles": profiles, "bucket": (objs, btags), "dns": dns,
                "prelive": sorted(by_id.get(i, i) for i in self.members(PRELIVE)),
                "live": self.live_slot()}

    def stop(self):
        self.proxy.stop()


# --- SIGINT at every request boundary of cutover --------------------------------
def cutover_sweep(site):
    t = time.time()
    k = 0
    while k < 60:
        frm = site.live_slot()
        to = other(frm)
        n_before = site.journal_len()
        reached, what, rc, err = site.held_run(["cutover"], k)
        step = f"cutover-sigint@{k}({what})"
        if not reached:
            check(f"cutover-sigint/clean-run-after-{k}-requests", rc == 0, err)
            break
        site.check_stopped(step, rc, err, n_before, k > 1)
        if what and what.startswith("PUT") and what.endswith("/lock"):
            check(f"{step}/lock-put-in-flight-130-released", rc == 130 and not site.lock_held(), rc)
        if rc == 130:
            rc2, out2, err2 = site.run("cutover")
            check(f"{step}/rerun-finishes", rc2 == 0, err2)
        check(f"{step}/traffic-on-{to}", site.live_slot() == to and site.members(PRELIVE) ==
              site.instances(frm, "ingress"),
              f"live={site.members(LIVE)} pre={site.members(PRELIVE)}")
        check(f"{step}/no-marker", not site.marker(), "swap marker left")
        k += 1
    check("cutover-sigint/boundaries-covered", k >= 12, k)
    print(f"# cutover: {k} boundaries in {time.time() - t:.0f} s", flush=True)


# --- SIGKILL around the marker and the journal record ----------------------------
def is_journal_put(m, p, f):
    return m == "PUT" and "/journal/" in p


def is_marker(method):
    return lambda m, p, f: m == method and p.endswith(f"/{NAME}/swap")


def cutover_kills(site):
    for name, pred, drop in (("marker-written", is_marker("PUT"), False),
                             ("before-journal", is_journal_put, True),
                             ("journal-written-marker-kept", is_marker("DELETE"), True)):
        to = other(site.live_slot())
        reached, what, rc, err = site.held_run(["cutover"], pred=pred, sig=signal.SIGKILL,
                                               drop=drop)
        step = f"cutover-sigkill/{name}"
        check(f"{step}/killed", reached and rc == -9, f"reached={reached} rc={rc}")
        check(f"{step}/marker-left", site.marker(), "no marker: a re-run would start a new swap")
        site.stale_unlock()
        rc, out, err = site.run("cutover")
        check(f"{step}/rerun-resumes", rc == 0 and out.startswith("resumed cutover"),
              f"{out!r} {err!r}")
        check(f"{step}/traffic-on-{to}-not-back", site.live_slot() == to, site.members(LIVE))
        recs = site.journal(1)
        check(f"{step}/journal-ok", recs[0]["command"] == "cutover" and
              recs[0]["outcome"] == "ok" and recs[0]["changes"]["to"] == to, recs[:1])
        check(f"{step}/no-marker", not site.marker(), "marker left")

    # Killed after the marker is gone: the record was written first, so
    # history says the cutover happened and status shows no unfinished swap.
    to = other(site.live_slot())
    reached, what, rc, err = site.held_run(["cutover"], pred=is_marker("DELETE"),
                                           sig=signal.SIGKILL)
    site.stale_unlock()
    recs = [r for r in site.journal(3) if r["command"] == "cutover"]
    check("cutover-sigkill/after-marker-delete/recorded", reached and not site.marker()
          and site.live_slot() == to and recs[0]["outcome"] == "ok"
          and recs[0]["changes"]["to"] == to, recs[:1])
    rc, out, err = site.run("status", "--check")
    check("cutover-sigkill/after-marker-delete/status-clean", rc == 0 and "UNFINISHED" not in out,
          f"rc={rc} {out!r}")


# --- SIGTERM: 143 ----------------------------------------------------------------
def cutover_term(site):
    to = other(site.live_slot())
    n_before = site.journal_len()
    reached, what, rc, err = site.held_run(
        ["cutover"], sig=signal.SIGTERM,
        pred=lambda m, p, f: f.get("Action", [""])[0] == "RegisterInstancesWithLoadBalancer")
    check("cutover-sigterm/exit-143", reached and rc == 143 and "interrupted" in err,
          f"rc={rc} {err!r}")
    site.check_stopped("cutover-sigterm", rc, err, n_before, True, code=143)
    rc, out, err = site.run("cutover")
    check("cutover-sigterm/rerun-finishes", rc == 0 and site.live_slot() == to,
          f"rc={rc} {err!r}")
    # Back to a live, b pre-live: b is torn down between up b's runs.
    if site.live_slot() == "b":
        site.run("cutover")
    check("cutover/a-live-again", site.world_b() == site.clean,
          differences(site.world_b(), site.clean))


# --- SIGINT/SIGTERM at every request boundary of up b -------------------------------
class Boundaries:
    """Hands out k = 0, 1, 2, ... to the worlds' threads until a run ends
    before its k-th request (then that k is the end)."""

    def __init__(self):
        self.mutex, self.next, self.end, self.seen = threading.Lock(), 0, None, {}

    def take(self):
        with self.mutex:
            if self.end is not None and self.next >= self.end:
                return None
            self.next += 1
            return self.next - 1

    def reached(self, k, what):
        with self.mutex:
            self.seen[k] = what

    def ended(self, k):
        with self.mutex:
            self.end = k if self.end is None else min(self.end, k)


def up_b_case(site, k, tag, ks):
    rc, out, err = site.run("teardown", "b", "--yes")
    if not check(f"up-b@{k}{tag}/teardown", rc == 0 and site.instances("b") == [], err):
        return False
    sig, code = (signal.SIGTERM, 143) if k % 5 == 4 else (signal.SIGINT, 130)
    n_before = site.journal_len()
    reached, what, rc, err = site.held_run(["up", "b"], k, sig=sig)
    if not reached:
        check(f"up-b/clean-run-before-boundary-{k}{tag}", rc == 0 and
              site.world_b() == site.clean, err)
        ks.ended(k)
        return True
    ks.reached(k, what)
    step = f"up-b-{sig.name.lower()}@{k}({what})"
    site.check_stopped(step, rc, err, n_before, k > site.lock_k, code=code)
    if what and what.startswith("PUT") and what.endswith("/lock"):
        check(f"{step}/lock-put-in-flight-{code}-released", rc == code and not site.lock_held(), rc)
    rc2, out2, err2 = site.run("up", "b")
    got = site.world_b() if rc2 == 0 else {}
    check(f"{step}/rerun-converges-to-clean-world", rc2 == 0 and got == site.clean,
          f"rc={rc2} {err2[-300:]!r} {differences(got, site.clean) if got else ''}")
    return True


def up_b_worker(site, tag, ks, first=()):
    """Runs `first` (the cutover cases) on this world, then up b cases."""
    try:
        site.setup(tag)
        for fn in first:
            fn(site)
        k = ks.take()
        while k is not None and up_b_case(site, k, tag, ks):
            k = ks.take()
    except Exception as e:   # a failed check, not a hung thread
        check(f"world{tag}/no-exception", False, repr(e))
        ks.ended(-1)


ks = Boundaries()
sites, threads = [], []
for n in range(WORLDS):
    # Made here, started at once: the next world's emulators start while
    # the earlier ones work.
    sites.append(Site())
    first = (cutover_sweep, cutover_kills, cutover_term) if n == 0 else ()
    # Daemon threads: a SIGTERM to this test (harness) stops the servers
    # and exits without waiting for them.
    threads.append(threading.Thread(target=up_b_worker, args=(sites[-1], f"[w{n}]", ks, first),
                                    daemon=True))
    threads[-1].start()
for t in threads:
    t.join()
for s in sites:
    s.stop()

kinds = sites[0].up_b_kinds
n_r53 = sum(1 for x in ks.seen.values() if x.split(" ", 1)[-1].startswith(FaultProxy.ROUTE53_PREFIX))
missing = [k for k in range(ks.end or 0) if k not in ks.seen]
check("up-b/every-boundary", ks.end is not None and ks.end >= len(kinds) - 1 and not missing
      and n_r53 >= 4, f"end={ks.end}, {len(kinds)} in a clean run, missing {missing}, "
      f"{n_r53} Route53")
print(f"# up b: {len(ks.seen)} boundaries ({n_r53} Route53) over {WORLDS} worlds; "
      f"program {time.time() - t0:.0f} s", flush=True)
done()
