"""The A/B cycle outside us-east-1 (eu-west-1): S3 buckets need a
LocationConstraint and a proper Content-Type there, and every regional
endpoint and signature must use the configured region. Checked with boto3
clients of that region: where the buckets, VPC and ELBs live, and the ELB
membership after each swap."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import World, check, done, sample_config  # noqa: E402

NAME, REGION = "euro", "eu-west-1"
w = World()
cfg = w.write_config(sample_config(NAME).replace("us-east-1", REGION))
ec2 = w.moto.client("ec2", region=REGION)
elb = w.moto.client("elb", region=REGION)
s3 = w.moto.client("s3", region=REGION)
ec2_us = w.moto.client("ec2")


def members(lb):
    d = elb.describe_load_balancers(LoadBalancerNames=[lb])["LoadBalancerDescriptions"][0]
    return sorted(i["InstanceId"] for i in d["Instances"])


def ingress(slot):
    r = ec2.describe_instances(Filters=[
        {"Name": "tag:paasctl:paas", "Values": [NAME]},
        {"Name": "tag:paasctl:slot", "Values": [slot]},
        {"Name": "tag:paasctl:role", "Values": ["ingress"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return sorted(i["InstanceId"] for res in r["Reservations"] for i in res["Instances"])


def step(args, what):
    rc, out, err = w.paasctl("-c", cfg, "--yes", *args)
    check(f"{what}/exit-0", rc == 0, f"rc={rc} {err[-600:]!r}")


step(["up", "shell"], "up-shell")
loc = s3.get_bucket_location(Bucket=f"{NAME}-paasctl-state").get("LocationConstraint")
check("state-bucket-in-region", loc == REGION, loc)
vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"]
check("vpc-in-region", len(vpcs) == 1, vpcs)
check("nothing-in-us-east-1", ec2_us.describe_vpcs(
    Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"] == [], "VPC in us-east-1")

step(["up", "a"], "up-a")
step(["cutover"], "cutover-a")
check("a-live", members(f"{NAME}-live") == ingress("a") != [], members(f"{NAME}-live"))
step(["up", "b"], "up-b")
step(["cutover"], "cutover-b")
check("b-live-a-prelive", members(f"{NAME}-live") == ingress("b") != []
      and members(f"{NAME}-prelive") == ingress("a"), (members(f"{NAME}-live"), ingress("b")))
step(["rollback"], "rollback")
check("a-live-again", members(f"{NAME}-live") == ingress("a")
      and members(f"{NAME}-prelive") == ingress("b"), members(f"{NAME}-live"))
step(["teardown", "b"], "teardown-b")
check("b-gone", ingress("b") == [] and members(f"{NAME}-prelive") == [], ingress("b"))
rc, out, err = w.paasctl("-c", cfg, "status", "--check")
check("status-check-clean", rc == 0, f"rc={rc} {out!r} {err!r}")
done()
