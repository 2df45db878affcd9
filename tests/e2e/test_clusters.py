"""What `up shell|a|b` builds for a real cluster (SPEC.md "Clusters"), checked
through boto3 against the signature-checking emulator, never through
paasctl's output: the private zone k8s.DNS_ZONE and its VPC association;
per slot the IAM roles and instance profiles with least-privilege policies
(parsed: exact bucket ARNs, no `*` on S3), attached to the right instances;
IMDSv2 required; encrypted gp3 root volumes tagged at creation; the
paasctl:k8s-version tag; the slot's security groups (kubeadm, flannel, the
ELB and the bastion only, nothing between slot a and slot b); api/auth
records in the private zone only. Then the bucket-owner rules (a bucket
squatted by a second account is refused and nothing is uploaded to it; a
bucket in another region is a clear error; every S3 call names our account),
EC2's InvalidParameterValue for a just-made profile retried, `up a` waiting
for nodes to join the stand-in API server and `smoke a` passing, an
unreachable API reported with exit 0, and `teardown a` leaving no role,
profile, group or record behind."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import boto3  # noqa: E402
from harness import PAASCTL, Moto, World, check, done, free_port, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402
from standin import Standin  # noqa: E402

NAME = "clu"
ZONE = f"{NAME}.paas.example.com"
PRIVATE = f"k8s.{ZONE}"
ACCOUNT = "123456789012"

w = World()
# Two more unchecked calls after the test user's: an AssumeRole into a second
# account and that account's CreateBucket (moto 5.2.1 cannot authorise an
# assumed role whose role does not exist, so those two go unchecked).
w.moto.stop()
w.moto = Moto(auth=True, workdir=w.dir, extra_no_auth=2)
# A second account (111111111111) takes the name of paas "sq"'s slot bucket
# first: the squatter.
SQ = "sq"
raw = dict(endpoint_url=w.moto.url, region_name="us-east-1", aws_access_key_id="squatter", aws_secret_access_key="x")
cred = boto3.client("sts", **raw).assume_role(RoleArn="arn:aws:iam::111111111111:role/squatter",
                                              RoleSessionName="squatter")["Credentials"]
boto3.client("s3", endpoint_url=w.moto.url, region_name="us-east-1", aws_access_key_id=cred["AccessKeyId"],
             aws_secret_access_key=cred["SecretAccessKey"], aws_session_token=cred["SessionToken"]
             ).create_bucket(Bucket=f"{SQ}-a-config")
proxy = FaultProxy(w.moto.url)
proxy.server.handle_error = lambda *args: None
ec2, iam, s3 = w.moto.client("ec2"), w.moto.client("iam"), w.moto.client("s3")
r53 = w.r53.client("route53")


def cfg_text(name=NAME, b_minions=3, kubeconfig_a=None):
    text = sample_config(name)
    head, tail = text.split("[cluster b]")
    tail = tail.replace("minion_count  = 3", f"minion_count  = {b_minions}")
    if kubeconfig_a:
        head = head.replace("minion_count  = 3", f"minion_count  = 3\nkubeconfig = {kubeconfig_a}")
    return head + "[cluster b]" + tail + "\n[smoke]\ntimeout = 20\n"


CFG = w.write_config(cfg_text())


def env(**extra):
    e = {"AWS_ENDPOINT_URL": proxy.url, "PAASCTL_POLL_MS": "50",
         "PAASCTL_DEPENDENCY_WAIT_S": "20"}
    e.update(extra)
    return w.env(**e)


def run(*args, cfg=None, timeout=300, **extra):
    t0 = time.time()
    rc, out, err = w.paasctl("-c", cfg or CFG, "--yes", *args, env=env(**extra), timeout=timeout)
    return rc, out, err, time.time() - t0


def tags_of(res):
    return {t["Key"]: t["Value"] for t in res.get("Tags", [])}


def instances(slot):
    res = ec2.describe_instances(Filters=[
        {"Name": "tag:paasctl:paas", "Values": [NAME]}, {"Name": "tag:paasctl:slot", "Values": [slot]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return [i for r in res["Reservations"] for i in r["Instances"]]


def zone_by_name(name, private):
    for z in r53.list_hosted_zones()["HostedZones"]:
        if z["Name"] == name + "." and z["Config"]["PrivateZone"] == private:
            return z
    return None


def a_records(zone):
    if not zone:
        return {}
    rr = r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {r["Name"]: [v["Value"] for v in r.get("ResourceRecords", [])] for r in rr if r["Type"] == "A"}


def s3_requests():
    """(method, path, headers) of every S3 request the proxy saw: S3 is the
    REST calls that are not Query-protocol POSTs to /."""
    return [(m, p, h) for m, p, h in proxy.headers_log
            if not (m == "POST" and p == "/") and "authorization" in h]


# ---- up shell: the private zone -----------------------------------------------------------

rc, out, err, _ = run("up", "shell")
check("up shell exits 0", rc == 0, err[-800:])
vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"][0]["VpcId"]
pz = zone_by_name(PRIVATE, True)
check("up shell makes the private zone k8s.DNS_ZONE", pz is not None, [z["Name"] for z in r53.list_hosted_zones()["HostedZones"]])
if pz:
    got = r53.get_hosted_zone(Id=pz["Id"])
    vpcs = [(v["VPCId"], v["VPCRegion"]) for v in got.get("VPCs", [])]
    check("the private zone is associated with the shell's VPC", vpcs == [(vpc, "us-east-1")], vpcs)
    ztags = {t["Key"]: t["Value"] for t in r53.list_tags_for_resource(
        ResourceType="hostedzone", ResourceId=pz["Id"].split("/")[-1])["ResourceTagSet"]["Tags"]}
    check("the private zone is tagged role zone-private", ztags.get("paasctl:role") == "zone-private" and
          ztags.get("paasctl:paas") == NAME, ztags)

# ---- up a: IAM, instances, groups, DNS ----------------------------------------------------------

proxy.log.clear()
proxy.headers_log.clear()
# EC2 does not know a just-made instance profile for a few seconds (IAM is
# eventually consistent): the first two RunInstances calls get its answer.
not_yet = ('<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidParameterValue'
           '</Code><Message>Value (clu-a-node) for parameter iamInstanceProfile.name is invalid. Invalid '
           'IAM Instance Profile name</Message></Error></Errors><RequestID>x</RequestID></Response>')
proxy.rules.append(Rule(action="RunInstances", status=400, body=not_yet, times=2))
rc, out, err, took = run("up", "a")
proxy.rules.clear()
check("up a exits 0 without a kubeconfig", rc == 0, err[-1500:])
check("up a says it cannot reach the cluster and how to check from inside the VPC",
      "not waiting for slot a's cluster" in err and "no kubeconfig" in err and "bastion" in err, err[-800:])
check("without a kubeconfig up a does not wait", took < 60, took)
runs = [a for a in proxy.actions() if a == "RunInstances"]
check("RunInstances refused for a just-made profile is retried until EC2 knows it",
      len(instances("a")) == 7 and len(runs) >= 3, (len(instances("a")), len(runs)))

bucket = f"{NAME}-a-config"
roles = {r["RoleName"]: r for r in iam.list_roles(PathPrefix="/paasctl/")["Roles"]}
check("up a makes the roles NAME-a-auth, NAME-a-master and NAME-a-node under /paasctl/",
      sorted(roles) == [f"{NAME}-a-auth", f"{NAME}-a-master", f"{NAME}-a-node"], sorted(roles))
for rname, role in roles.items():
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    st = trust["Statement"]
    check(f"{rname} is trusted by EC2 only", len(st) == 1 and st[0]["Principal"] == {"Service": "ec2.amazonaws.com"}
          and st[0]["Action"] == "sts:AssumeRole", st)
    rt = tags_of(iam.get_role(RoleName=rname)["Role"])
    check(f"{rname} is tagged at creation, role iam-role", rt.get("paasctl:role") == "iam-role" and
          rt.get("paasctl:slot") == "a" and rt.get("paasctl:paas") == NAME and rt.get("Name") == rname, rt)
    names = iam.list_role_policies(RoleName=rname)["PolicyNames"]
    check(f"{rname} has exactly one inline policy and no managed one",
          len(names) == 1 and not iam.list_attached_role_policies(RoleName=rname)["AttachedPolicies"], names)
    doc = iam.get_role_policy(RoleName=rname, PolicyName=names[0])["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    resources, actions = [], []
    for s in doc["Statement"]:
        check(f"{rname}: every statement allows", s["Effect"] == "Allow", s)
        resources += s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        actions += s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    check(f"{rname}: only s3:GetObject", set(actions) == {"s3:GetObject"}, actions)
    check(f"{rname}: no '*' resource and nothing outside the slot bucket",
          all(r != "*" and r.startswith(f"arn:aws:s3:::{bucket}/") for r in resources), resources)
    base = {f"arn:aws:s3:::{bucket}/bootstrap.sh"}
    if rname.endswith("-master"):
        want = base | {f"arn:aws:s3:::{bucket}/env/master.env", f"arn:aws:s3:::{bucket}/secret/*"}
    elif rname.endswith("-auth"):
        want = base | {f"arn:aws:s3:::{bucket}/{k}" for k in (
            "env/auth.env", "secret/auth/tls.key", "secret/auth/tls.crt", "secret/auth/keycloak.env",
            "auth/realm-paas.json")}
    else:
        want = base | {f"arn:aws:s3:::{bucket}/env/{r}.env" for r in ("ingress", "minion")}
    check(f"{rname}: exactly the keys its nodes read", set(resources) == want, sorted(resources))

profiles = {p["InstanceProfileName"]: p for p in iam.list_instance_profiles(PathPrefix="/paasctl/")["InstanceProfiles"]}
check("up a makes the instance profiles, each holding its role",
      {k: [r["RoleName"] for r in v["Roles"]] for k, v in profiles.items()} ==
      {f"{NAME}-a-{k}": [f"{NAME}-a-{k}"] for k in ("auth", "master", "node")}, profiles.keys())
for pname, prof in profiles.items():
    pt = tags_of(prof)
    check(f"instance profile {pname} is tagged, role instance-profile",
          pt.get("paasctl:role") == "instance-profile" and pt.get("paasctl:slot") == "a", pt)

groups = {tags_of(g).get("paasctl:role"): g for g in ec2.describe_security_groups(Filters=[
    {"Name": "tag:paasctl:paas", "Values": [NAME]}, {"Name": "tag:paasctl:slot", "Values": ["a"]}])["SecurityGroups"]}
shell_groups = {tags_of(g).get("paasctl:role"): g["GroupId"] for g in ec2.describe_security_groups(Filters=[
    {"Name": "tag:paasctl:paas", "Values": [NAME]}, {"Name": "tag:paasctl:slot", "Values": ["shell"]}])["SecurityGroups"]}
check("up a makes the slot's groups sg-node and sg-master", set(groups) == {"sg-node", "sg-master"}, set(groups))
node_sg, master_sg = groups["sg-node"]["GroupId"], groups["sg-master"]["GroupId"]

volumes = {v["Attachments"][0]["InstanceId"]: v for v in ec2.describe_volumes()["Volumes"] if v["Attachments"]}
# moto 5.2.1 associates the profile of a RunInstances call with the first
# instance of its reservation only: the others are judged by that one (one
# call launches one role in one zone, so a reservation is one role).
res = ec2.describe_instances(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                      {"Name": "tag:paasctl:slot", "Values": ["a"]}])["Reservations"]
prof_of = {}
for r in res:
    arns = {(i.get("IamInstanceProfile") or {}).get("Arn", "") for i in r["Instances"]} - {""}
    for i in r["Instances"]:
        prof_of[i["InstanceId"]] = (i.get("IamInstanceProfile") or {}).get("Arn", "") or \
            (arns.pop() if len(arns) == 1 else "")
for i in instances("a"):
    t = tags_of(i)
    role = t["paasctl:role"]
    want_prof = f"{NAME}-a-{role}" if role in ("master", "auth") else f"{NAME}-a-node"
    prof = prof_of.get(i["InstanceId"], "")
    check(f"{t['Name']} ({i['InstanceId']}) has the {want_prof} profile", prof.endswith("/" + want_prof), prof)
    md = i.get("MetadataOptions", {})
    check(f"{i['InstanceId']} requires IMDSv2, hop limit 2", md.get("HttpTokens") == "required" and
          md.get("HttpPutResponseHopLimit") == 2 and md.get("HttpEndpoint") == "enabled", md)
    check(f"{i['InstanceId']} carries paasctl:k8s-version", t.get("paasctl:k8s-version") == "1.31.4", t)
    sgs = sorted(g["GroupId"] for g in i["SecurityGroups"])
    check(f"{i['InstanceId']} ({role}) is in the slot's groups only",
          sgs == sorted([node_sg, master_sg] if role == "master" else [node_sg]), sgs)
    v = volumes.get(i["InstanceId"], {})
    vt = tags_of(v)
    check(f"{i['InstanceId']}'s root volume is encrypted gp3, tagged at creation",
          v.get("Encrypted") is True and v.get("VolumeType") == "gp3" and vt.get("paasctl:slot") == "a" and
          vt.get("paasctl:role") == role and vt.get("paasctl:k8s-version") == "1.31.4", (v.get("Encrypted"), v.get("VolumeType"), vt))


def rules(group_id):
    g = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    out = set()
    for p in g["IpPermissions"]:
        for pair in p.get("UserIdGroupPairs", []):
            out.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), pair["GroupId"]))
        for r in p.get("IpRanges", []):
            out.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"]))
    return out


bastion, elbsg = shell_groups["sg-bastion"], shell_groups["sg-elb"]
want_node = {("tcp", 22, 22, bastion), ("tcp", 6443, 6443, bastion), ("tcp", 6443, 6443, node_sg),
             ("tcp", 10250, 10250, node_sg), ("udp", 8472, 8472, node_sg), ("tcp", 80, 80, elbsg),
             ("tcp", 443, 443, node_sg), ("tcp", 443, 443, bastion)}
check("slot a's node group allows exactly kubeadm, flannel, the ELB and the bastion",
      rules(node_sg) == want_node, sorted(rules(node_sg) ^ want_node))
check("slot a's master group allows etcd 2379-2380 between masters only",
      rules(master_sg) == {("tcp", 2379, 2380, master_sg)}, rules(master_sg))

rec = a_records(pz)
master = [i for i in instances("a") if tags_of(i)["paasctl:role"] == "master"][0]
auth = [i for i in instances("a") if tags_of(i)["paasctl:role"] == "auth"][0]
check("api.a and auth.a are in the private zone, with the private IPs",
      rec.get(f"api.a.{PRIVATE}.") == [master["PrivateIpAddress"]] and
      rec.get(f"auth.a.{PRIVATE}.") == [auth["PrivateIpAddress"]], rec)
pub = zone_by_name(ZONE, False)
check("no private address in the public zone", not any(".a." in n or n.startswith("a.") for n in a_records(pub)),
      a_records(pub))

reqs = s3_requests()
missing = [(m, p) for m, p, h in reqs if h.get("x-amz-expected-bucket-owner") != ACCOUNT]
check("every S3 call names our account as the expected bucket owner",
      reqs and not missing, (len(reqs), missing[:5]))
sts_calls = [a for a in proxy.actions() if a == "GetCallerIdentity"]
check("the account is asked once per run", len(sts_calls) == 1, len(sts_calls))
iam_a = [a for a in proxy.actions() if a in ("GetRole", "GetInstanceProfile", "GetRolePolicy", "CreateRole",
                                             "PutRolePolicy", "CreateInstanceProfile", "AddRoleToInstanceProfile")]

# ---- re-run: nothing changes ---------------------------------------------------------------------

rc, out, err, _ = run("plan", "a")
check("plan a after up a: nothing to do", rc == 0 and "0 to create, 0 to update" in out, out[-600:])
check("plan a shows kubernetes_version", "1.31.4" in out, out[-600:])

# AWS_ENDPOINT_URL_IAM sends IAM, and only IAM, elsewhere.
iam_proxy = FaultProxy(w.moto.url)
proxy.log.clear()
rc, out, err, _ = run("plan", "a", AWS_ENDPOINT_URL_IAM=iam_proxy.url)
iam_actions = ("GetRole", "GetInstanceProfile", "GetRolePolicy")
check("AWS_ENDPOINT_URL_IAM is honoured for IAM calls only",
      rc == 0 and iam_proxy.actions() and set(iam_proxy.actions()) <= set(iam_actions) and
      not set(proxy.actions()) & set(iam_actions), (rc, iam_proxy.actions(), proxy.actions()))
iam_proxy.stop()

# ---- up b (6 minions): nothing open between a and b; IAM calls do not grow ---------------------------

CFG = w.write_config(cfg_text(b_minions=6))
proxy.log.clear()
rc, out, err, _ = run("up", "b")
check("up b exits 0", rc == 0, err[-800:])
iam_b = [a for a in proxy.actions() if a in ("GetRole", "GetInstanceProfile", "GetRolePolicy", "CreateRole",
                                             "PutRolePolicy", "CreateInstanceProfile", "AddRoleToInstanceProfile")]
# 18, all up's own (three roles with auth's own): pre-flight reads no plan
# and no IAM (README "Pre-flight").
check("IAM calls of up do not grow with node count (3 minions vs 6)", len(iam_a) == len(iam_b) == 18,
      (len(iam_a), len(iam_b)))
groups_b = {tags_of(g).get("paasctl:role"): g["GroupId"] for g in ec2.describe_security_groups(Filters=[
    {"Name": "tag:paasctl:paas", "Values": [NAME]}, {"Name": "tag:paasctl:slot", "Values": ["b"]}])["SecurityGroups"]}
a_ids, b_ids = {node_sg, master_sg}, set(groups_b.values())
cross = [r for g in a_ids for r in rules(g) if r[3] in b_ids] + [r for g in b_ids for r in rules(g) if r[3] in a_ids]
cidr = [r for g in a_ids | b_ids for r in rules(g) if "/" in r[3]]
check("nothing is open between slot a and slot b", not cross and not cidr and a_ids.isdisjoint(b_ids), (cross, cidr))
b_in_a = [i["InstanceId"] for i in instances("b") if {g["GroupId"] for g in i["SecurityGroups"]} & a_ids]
check("slot b's instances are in none of slot a's groups", not b_in_a and len(instances("b")) == 10, b_in_a)
check("slot b's instances carry its own version", {tags_of(i)["paasctl:k8s-version"] for i in instances("b")} == {"1.32.4"},
      {tags_of(i)["paasctl:k8s-version"] for i in instances("b")})

# ---- buckets we do not own -----------------------------------------------------------------------------

# moto 5.2.1 lets every account use every bucket and ignores the expected
# owner; S3 answers 403 when the header names another account than the
# bucket's. The proxy gives that answer, and only when the header is sent:
# without it the squatted bucket would be adopted.
squat_path = f"/{SQ}-a-config"
proxy.rules.append(Rule(status=403, times=None,
                        body='<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                             '<Message>Access Denied</Message><RequestId>x</RequestId></Error>',
                        match=lambda m, p, f: p == squat_path or p.startswith(squat_path + "/") or
                        p.startswith(squat_path + "?"),
                        match_headers=lambda h: h.get("x-amz-expected-bucket-owner", "111111111111") != "111111111111"))
SQCFG = w.write_config(cfg_text(name=SQ), name="squat.ini")
rc, out, err, _ = run("up", "shell", cfg=SQCFG)
check("up shell of the second paas exits 0", rc == 0, err[-800:])
rc, out, err, _ = run("up", "a", cfg=SQCFG)
check("a slot bucket owned by another account is refused (exit 1)", rc == 1, (rc, err[-600:]))
check("the message names the bucket and says another account owns it",
      f"{SQ}-a-config" in err and "another account" in err, err[-600:])
objs = s3.list_objects_v2(Bucket=f"{SQ}-a-config").get("KeyCount", 0)
check("nothing was uploaded to the squatted bucket", objs == 0, objs)
check("no instance was launched for the refused slot", not ec2.describe_instances(Filters=[
    {"Name": "tag:paasctl:paas", "Values": [SQ]}, {"Name": "tag:paasctl:slot", "Values": ["a"]}])["Reservations"])
proxy.rules.clear()

# A state bucket that lives in another region: S3 answers 301.
proxy.rules.append(Rule(status=301, times=None, match=lambda m, p, f: p.startswith(f"/{SQ}-paasctl-state")))
rc, out, err, _ = run("status", cfg=SQCFG)
check("a bucket in another region is a clear error naming the fix",
      rc == 1 and "another region" in err and "[paas] region" in err, (rc, err[-600:]))
proxy.rules.clear()

# ---- up a waits for the cluster -------------------------------------------------------------------------

standin = Standin(w.dir, "paas-a").wait()
kdir, kport = standin.dir, standin.port


def kube(method, path, body=None):
    return standin.call(method, path, body)[0]


CFG = w.write_config(cfg_text(b_minions=6, kubeconfig_a=os.path.join(kdir, "kubeconfig")))
p = subprocess.Popen([PAASCTL, "-c", CFG, "--yes", "up", "a"], env=env(PAASCTL_CLUSTER_WAIT_S="120"),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
time.sleep(3)
check("up a waits while no node has joined", p.poll() is None, p.poll())
for i in instances("a"):
    if tags_of(i)["paasctl:role"] in ("ingress", "minion", "master"):
        kube("POST", "/_standin/nodes", {"name": i["PrivateDnsName"], "ready": True, "zone": i["Placement"]["AvailabilityZone"],
                                         "providerID": f"aws:///{i['Placement']['AvailabilityZone']}/{i['InstanceId']}"})
kube("POST", "/_standin/settle", {})
try:
    out, err = p.communicate(timeout=120)
except subprocess.TimeoutExpired:
    p.kill()
    out, err = p.communicate()
check("up a finishes its wait once every node joined, exit 0", p.returncode == 0, (p.returncode, err[-800:]))
check("up a did not report the cluster unreachable", "not waiting" not in err, err[-400:])
rc, out, err, _ = run("smoke", "a", cfg=CFG)
check("smoke a passes after up a", rc == 0, (out[-800:], err[-400:]))
rc, out, err, _ = run("-o", "json", "status", cfg=CFG)
doc = json.loads(out) if rc == 0 else {}
slots = doc.get("slots", {})
check("status shows slot a's version from its tags and its API's /version",
      rc == 0 and {i["k8s_version"] for i in slots["a"]["instances"]} == {"1.31.4"} and
      str(slots["a"].get("api_version", "")).startswith("v1."), (rc, json.dumps(slots)[:600], err[-300:]))
check("status shows slot b's version from its tags; its API is not reachable from here",
      {i["k8s_version"] for i in slots["b"]["instances"]} == {"1.32.4"} and slots["b"].get("api_version") is None,
      json.dumps(slots.get("b"))[:400])
rc, out, err, _ = run("status", cfg=CFG)
check("status table has a KUBERNETES column and slot a's API version",
      rc == 0 and "KUBERNETES" in out and "1.31.4" in out and "slot a API: Kubernetes v1." in out, out[-800:])
rc, out, err, took = run("up", "a", "--no-wait", cfg=CFG)
check("up a --no-wait exits 0", rc == 0 and "not waiting" not in err, err[-400:])

# Reached but never ready: a node goes NotReady; up a gives up naming the check.
node0 = [i for i in instances("a") if tags_of(i)["paasctl:role"] == "minion"][0]["PrivateDnsName"]
kube("POST", f"/_standin/nodes/{node0}/ready", {"ready": False})
rc, out, err, took = run("up", "a", cfg=CFG, PAASCTL_CLUSTER_WAIT_S="3")
check("up a fails (exit 1) when the reachable cluster does not become ready, naming the check and node",
      rc == 1 and "not ready" in err and "nodes" in err and node0 in err, (rc, err[-600:]))
kube("POST", f"/_standin/nodes/{node0}/ready", {"ready": True})

# Unreachable API: the kubeconfig names a port where nothing listens.
dead = os.path.join(w.dir, "dead.kubeconfig")
with open(os.path.join(kdir, "kubeconfig")) as f:
    text = f.read()
with open(dead, "w") as f:
    f.write(text.replace(f"127.0.0.1:{kport}", f"127.0.0.1:{free_port()}"))
DEADCFG = w.write_config(cfg_text(b_minions=6, kubeconfig_a=dead), name="dead.ini")
rc, out, err, took = run("up", "a", cfg=DEADCFG, PAASCTL_MAX_ATTEMPTS="1")
check("with the API unreachable, up a says so and exits 0",
      rc == 0 and "cannot be reached from here" in err and "bastion" in err, (rc, err[-800:]))
check("and does not wait for it", took < 60, took)

# ---- teardown a: nothing of it left ---------------------------------------------------------------------

rc, out, err, _ = run("teardown", "a", cfg=CFG)
check("teardown a exits 0", rc == 0, err[-800:])
left_roles = [r["RoleName"] for r in iam.list_roles(PathPrefix="/paasctl/")["Roles"] if r["RoleName"].startswith(f"{NAME}-a-")]
left_prof = [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/paasctl/")["InstanceProfiles"]
             if p["InstanceProfileName"].startswith(f"{NAME}-a-")]
check("teardown a leaves no role or instance profile of slot a", not left_roles and not left_prof, (left_roles, left_prof))
check("slot b's roles stay", sorted(r["RoleName"] for r in iam.list_roles(PathPrefix="/paasctl/")["Roles"]
                                    if r["RoleName"].startswith(f"{NAME}-b-")) == [f"{NAME}-b-{k}" for k in ("auth", "master", "node")])
left_sg = ec2.describe_security_groups(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                                {"Name": "tag:paasctl:slot", "Values": ["a"]}])["SecurityGroups"]
check("teardown a leaves no security group of slot a", not left_sg, [g["GroupId"] for g in left_sg])
check("teardown a leaves no slot bucket (no key object)",
      f"{NAME}-a-config" not in [b["Name"] for b in s3.list_buckets()["Buckets"]])
rec = a_records(zone_by_name(PRIVATE, True))
check("teardown a leaves no record of slot a", not any(".a." + PRIVATE in n for n in rec) and
      f"api.b.{PRIVATE}." in rec, rec)

done()
