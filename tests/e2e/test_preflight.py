"""Pre-flight and the shell's S3 gateway endpoint (README "Pre-flight",
"S3 gateway endpoint"), against the signature-checking moto through the
fault proxy, which logs every request: with quotas set too low `up` exits 1
naming what is wanted and the quota, having sent no mutating request (the
log is counted); with room it proceeds; a re-run that creates nothing
passes whatever the quotas; a missing or arm64 image is refused by name;
AccessDenied from Service Quotas points at --skip-preflight, which skips.
The S3 endpoint is checked with boto3: Gateway type, the private route
tables, the tags, kept in sync, and gone after teardown."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from faultproxy import FaultProxy  # noqa: E402
from harness import AMI_ARM64, AMI_NODES, World, check, done, sample_config  # noqa: E402

NAME = "pre"
w = World()
proxy = FaultProxy(w.moto.url)
env = w.env(AWS_ENDPOINT_URL=proxy.url)
cfg = w.write_config(sample_config(NAME))
ec2 = w.moto.client("ec2")
s3 = w.moto.client("s3")
READ_PREFIXES = ("Describe", "Get", "List")


def mutating(since):
    """The mutating requests logged since index `since`: EC2/ELB/IAM/STS
    actions that are not reads, S3 PUT/POST/DELETE, JSON targets not Get."""
    out = []
    for (method, path, action), (_, _, headers) in zip(proxy.log[since:],
                                                      proxy.headers_log[since:]):
        target = headers.get("x-amz-target", "")
        if target:
            if not target.split(".")[-1].startswith(READ_PREFIXES):
                out.append(target)
        elif action:
            if not action.startswith(READ_PREFIXES):
                out.append(action)
        elif method in ("PUT", "POST", "DELETE"):
            out.append(f"{method} {path}")
    return out


def quota_calls(since):
    return [h for (_, _, h) in proxy.headers_log[since:]
            if h.get("x-amz-target", "").startswith("ServiceQuotasV20190624.")]


def run(*args, config=cfg):
    return w.paasctl("-c", config, "--yes", *args, env=env)


def endpoints():
    r = ec2.describe_vpc_endpoints(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])
    return [e for e in r["VpcEndpoints"] if e["State"].lower() not in ("deleted", "deleting")]


def private_rtbs():
    r = ec2.describe_route_tables(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                           {"Name": "tag:paasctl:role", "Values": ["rtb-private"]}])
    return sorted(t["RouteTableId"] for t in r["RouteTables"])


# ---- up shell refused: both quotas too low, reported at once, nothing sent --
w.moto.set_quotas(vcpus=1, eips=1, default_only=["L-0263D0A3"])
mark = len(proxy.log)
rc, out, err = run("up", "shell")
check("shell-low-quotas/exit-1", rc == 1, (rc, err[-800:]))
check("shell-low-quotas/vcpus-named", "vCPUs: 2 wanted" in err and "quota 1 " in err, err[-800:])
check("shell-low-quotas/eips-named", "Elastic IPs: 2 wanted" in err and "quota 1 (EC2-VPC" in err,
      err[-800:])
check("shell-low-quotas/both-at-once", "2 checks failed" in err, err[-800:])
check("shell-low-quotas/zero-mutating-requests", mutating(mark) == [], mutating(mark))
calls = quota_calls(mark)
check("shell-low-quotas/json-protocol",
      calls and all(h.get("content-type") == "application/x-amz-json-1.1" and
                    "servicequotas" in h.get("authorization", "") for h in calls), calls)
check("shell-low-quotas/default-quota-fallback",
      any(h["x-amz-target"].endswith("GetAWSDefaultServiceQuota") for h in calls),
      [h["x-amz-target"] for h in calls])
PREFLIGHT_REQUESTS = len(proxy.log) - mark
print(f"# pre-flight of a fresh 'up shell': {PREFLIGHT_REQUESTS} requests, "
      f"{len(calls)} to Service Quotas", flush=True)
buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
check("shell-low-quotas/no-state-bucket", f"{NAME}-paasctl-state" not in buckets, buckets)
check("shell-low-quotas/no-lock-taken", not any("/lock" in p for (_, p, _) in proxy.log[mark:]),
      [p for (_, p, _) in proxy.log[mark:]])

# ---- AccessDenied from Service Quotas says --skip-preflight ----------------
w.moto.set_quotas(deny=True)
mark = len(proxy.log)
rc, out, err = run("up", "shell")
check("denied/exit-1", rc == 1, (rc, err[-600:]))
check("denied/says-skip-preflight", "--skip-preflight" in err and "AccessDenied" in err,
      err[-600:])
check("denied/zero-mutating-requests", mutating(mark) == [], mutating(mark))

# ---- quotas with room: up shell proceeds, with the S3 endpoint -------------
w.moto.set_quotas()
rc, out, err = run("up", "shell")
check("shell-up/exit-0", rc == 0, (rc, err[-800:]))
check("shell-up/lists-endpoint", "vpc-endpoint" in out, out[-1500:])
eps = endpoints()
check("endpoint/one", len(eps) == 1, eps)
ep = eps[0] if eps else {}
tags = {t["Key"]: t["Value"] for t in ep.get("Tags", [])}
check("endpoint/gateway-s3", ep.get("VpcEndpointType") == "Gateway" and
      ep.get("ServiceName") == "com.amazonaws.us-east-1.s3", ep)
check("endpoint/private-route-tables", sorted(ep.get("RouteTableIds", [])) == private_rtbs()
      and len(private_rtbs()) == 2, (ep.get("RouteTableIds"), private_rtbs()))
check("endpoint/tags", tags.get("paasctl:paas") == NAME and tags.get("paasctl:slot") == "shell"
      and tags.get("paasctl:role") == "vpce-s3" and tags.get("Name") == f"{NAME}-shell-vpce-s3",
      tags)
vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"]
check("endpoint/in-shell-vpc", vpc and ep.get("VpcId") == vpc[0]["VpcId"], (vpc, ep))

# ---- a re-run creates nothing: pre-flight passes at exactly full quotas ----
w.moto.set_quotas(vcpus=2, eips=2)
mark = len(proxy.log)
rc, out, err = run("up", "shell")
check("rerun-at-full-quotas/exit-0", rc == 0, (rc, err[-800:]))
check("rerun/no-second-endpoint", len(endpoints()) == 1, endpoints())
check("rerun/no-quota-asked", quota_calls(mark) == [], quota_calls(mark))
# Pre-flight reads no plan (README "Pre-flight"): of a no-op re-run's
# requests it adds one DescribeInstances and one DescribeAddresses, so the
# plan's own reads of the shell appear once (the locked pass) and the
# account-wide DescribeInstances is the first request.
acts = [a for (_, _, a) in proxy.log[mark:]]
print(f"# no-op 'up shell': {len(acts)} requests through the proxy", flush=True)
check("rerun/preflight-first-describe-instances", acts[:1] == ["DescribeInstances"], acts[:4])
check("rerun/plan-read-once", acts.count("DescribeVpcs") == 1 and
      acts.count("DescribeAddresses") == 2, acts)

# ---- route tables kept in sync; plan shell lists the endpoint --------------
ec2.modify_vpc_endpoint(VpcEndpointId=ep["VpcEndpointId"], RemoveRouteTableIds=[private_rtbs()[0]])
rc, out, err = run("plan", "shell")
line = [ln for ln in out.splitlines() if "vpc-endpoint" in ln]
check("plan/endpoint-update", rc == 0 and line and line[0].lstrip().startswith("~"), (rc, out))
rc, out, err = run("up", "shell")
eps = endpoints()
check("sync/route-tables-restored", rc == 0 and eps and
      sorted(eps[0]["RouteTableIds"]) == private_rtbs(), (rc, err[-500:], eps))
rc, out, err = run("plan", "shell")
line = [ln for ln in out.splitlines() if "vpc-endpoint" in ln]
check("plan/endpoint-exists", rc == 0 and line and line[0].lstrip().startswith("="), (rc, out))

# ---- slot a: vCPUs running + new against the quota -------------------------
# Running: the bastion (t3.micro, 2). New: auth t3.medium 2, master m5.large
# 2, 2 ingress c5.large 4, 3 minions m5.xlarge 12 = 20.
w.moto.set_quotas(vcpus=21)
mark = len(proxy.log)
rc, out, err = run("up", "a", "--no-wait")
check("slot-low-vcpus/exit-1", rc == 1, (rc, err[-800:]))
check("slot-low-vcpus/numbers", "vCPUs: 22 wanted (2 running" in err and "quota 21 " in err
      and "3 x m5.xlarge = 12" in err, err[-800:])
check("slot-low-vcpus/zero-mutating-requests", mutating(mark) == [], mutating(mark))
w.moto.set_quotas(vcpus=22)
rc, out, err = run("up", "a", "--no-wait")
check("slot-exact-vcpus/up-proceeds", rc == 0, (rc, err[-800:]))

# ---- the image: missing, arm64; --skip-preflight skips ---------------------
for ami, what, want in (("ami-12345678", "missing", "not found in us-east-1"),
                        (AMI_ARM64, "arm64", "architecture arm64")):
    bad = w.write_config(sample_config(NAME).replace(AMI_NODES, ami), f"{what}.ini")
    mark = len(proxy.log)
    rc, out, err = run("up", "b", "--no-wait", config=bad)
    check(f"image-{what}/exit-1", rc == 1, (rc, err[-600:]))
    check(f"image-{what}/named", f"image {ami}" in err and want in err, err[-600:])
    check(f"image-{what}/zero-mutating-requests", mutating(mark) == [], mutating(mark))
rc, out, err = run("up", "b", "--no-wait", "--skip-preflight", config=bad)
check("skip-preflight/proceeds", rc == 0 and "pre-flight checks skipped" in err,
      (rc, err[-600:]))

# ---- teardown removes the endpoint before the VPC --------------------------
for target in ("b", "a", "shell"):
    rc, out, err = run("teardown", target)
    check(f"teardown-{target}/exit-0", rc == 0, (rc, err[-600:]))
check("teardown/endpoint-gone", endpoints() == [], endpoints())
check("teardown/vpc-gone", ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas",
                                                        "Values": [NAME]}])["Vpcs"] == [])
proxy.stop()
done()
