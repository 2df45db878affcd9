"""Cutover notices health at the ELB's own pace (SPEC.md "Cutover rules"
step 2): a live ELB that marks the incoming nodes InService T seconds after
their registration must see cutover move on within health_interval/2 + 1 s
of T. The doubling backoff (2, 4, 8, 15 s) used to notice it up to 15 s
late. The fault proxy answers the live ELB's DescribeInstanceHealth with
OutOfService until T has passed; its log gives the times."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import World, check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402

NAME, T, INTERVAL = "pace", 8.0, 5
w = World()
cfg = w.write_config(sample_config(NAME, extra=f"\n[elb]\nhealth_interval = {INTERVAL}\n"))
for args in (["up", "shell"], ["up", "a"], ["cutover"], ["up", "b"]):
    rc, out, err = w.paasctl("-c", cfg, *args)
    check("setup/" + "-".join(args), rc == 0, err[-500:])

registered = []       # when the incoming nodes were registered with live
seen_in_service = []  # when an unrewritten (InService) answer went out


def is_live(form):
    return form.get("LoadBalancerName", [""])[0] == f"{NAME}-live"


def mark_register(method, path, form):
    if form.get("Action", [""])[0] == "RegisterInstancesWithLoadBalancer" and is_live(form):
        registered.append(time.monotonic())
    return False          # only watches


def health_late(method, path, form):
    if form.get("Action", [""])[0] != "DescribeInstanceHealth" or not is_live(form) or not registered:
        return False
    if time.monotonic() - registered[0] < T:
        return True
    seen_in_service.append(time.monotonic())
    return False


proxy = FaultProxy(w.moto.url)
proxy.rules.append(Rule(match=mark_register, times=None))
proxy.rules.append(Rule(match=health_late, times=None,
                        rewrite=lambda body: body.replace(">InService<", ">OutOfService<")))
env = w.env(AWS_ENDPOINT_URL=proxy.url)
env.pop("PAASCTL_POLL_MS")            # the real pacing, not the tests' fast one
t0 = time.monotonic()
rc, out, err = w.paasctl("-c", cfg, "cutover", env=env)
elapsed = time.monotonic() - t0
proxy.stop()
check("cutover/exit-0", rc == 0, err[-500:])
late = seen_in_service[0] - registered[0] - T if registered and seen_in_service else None
check("cutover/noticed-within-half-interval",
      late is not None and late <= INTERVAL / 2 + 1,
      f"noticed {late} s after the ELB turned InService (limit {INTERVAL / 2 + 1})")
print(f"# InService after {T:.0f} s noticed {late:.1f} s later; cutover took {elapsed:.1f} s")
done()
