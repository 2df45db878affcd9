"""End-to-end: the HA control plane (SPEC.md "Clusters", master_count = 3),
checked through boto3 against the signature-checking emulator: three masters
in three zones; the internal classic ELB NAME-a-api (TCP 6443 -> 6443,
health TCP:6443, scheme internal, the private subnets, tagged elb-api at
creation) with the masters as members and a security group that lets only
the slot's nodes and the bastion in; api.a.k8s.DNS_ZONE a Route53 alias of
that ELB's DNS name and CanonicalHostedZoneNameID. Then: a second `up a`
changes nothing; a 2-zone plan spreads the masters 2+1; master_count 1 -> 3
(and 3 -> 1) on a running slot is refused with exit 3 before any mutating
request; the kubeconfig and smoke check 1 go through api.a.k8s.DNS_ZONE;
the bootstrap's branch (which master runs kubeadm init, which wait and join
as control-plane nodes with the slot's CAs) run with stub commands; and
`teardown a` removes the ELB, its group and the record.

moto 5.2.1 leaves CanonicalHostedZoneNameID out of DescribeLoadBalancers
(AWS always returns it: the ELB API reference, LoadBalancerDescription), so
the fault proxy adds the value AWS gives classic ELBs in us-east-1 to that
answer; paasctl refuses to make an alias without it."""

import base64
import json
import os
import re
import subprocess
import sys
import tempfile

import boto3
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from harness import ROOT, World, check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402
from schemas import problems  # noqa: E402

NAME = "ha"
ZONE = f"{NAME}.paas.example.com"
PRIVATE = f"k8s.{ZONE}."
API = f"api.a.k8s.{ZONE}"
CANON = "Z35SXDOTRQ7X7K"   # us-east-1 classic ELBs; the checks compare with what DescribeLoadBalancers says
READ_ONLY = re.compile(r"^(Describe|List|Get|Head)")

w = World()
proxy = FaultProxy(w.moto.url)
proxy.server.handle_error = lambda *args: None


def add_canonical_zone(body):
    return re.sub(r"(<DNSName>[^<]*</DNSName>)",
                  rf"\1<CanonicalHostedZoneNameID>{CANON}</CanonicalHostedZoneNameID>", body)


proxy.rules.append(Rule(action="DescribeLoadBalancers", times=None, rewrite=add_canonical_zone))
ec2, elb = w.moto.client("ec2"), w.moto.client("elb")
r53 = w.r53.client("route53")


def config(a_masters=3, b_masters=1, zones=3, name=NAME):
    text = sample_config(name, zones=zones)
    head, tail = text.split("[cluster b]")
    head = head.replace("minion_count  = 3", f"minion_count  = 3\nmaster_count = {a_masters}")
    tail = tail.replace("minion_count  = 3", f"minion_count  = 3\nmaster_count = {b_masters}")
    return head + "[cluster b]" + tail + "\n[smoke]\ntimeout = 3\n"


CFG = w.write_config(config())


def run(*args, cfg=None, **extra):
    e = {"AWS_ENDPOINT_URL": proxy.url, "PAASCTL_POLL_MS": "50", "PAASCTL_DEPENDENCY_WAIT_S": "20"}
    e.update(extra)
    return w.paasctl("-c", cfg or CFG, "--yes", *args, env=w.env(**e), timeout=300)


def requests_of(err):
    m = re.search(r"aws requests=(\d+)", err)
    return int(m.group(1)) if m else -1


def tags_of(res):
    return {t["Key"]: t["Value"] for t in res.get("Tags", [])}


def instances(slot, role=None):
    out = []
    for r in ec2.describe_instances(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                             {"Name": "tag:paasctl:slot", "Values": [slot]}])["Reservations"]:
        for i in r["Instances"]:
            if i["State"]["Name"] in ("pending", "running") and (not role or tags_of(i)["paasctl:role"] == role):
                out.append(i)
    return out


def group(role, slot="a"):
    g = ec2.describe_security_groups(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                              {"Name": "tag:paasctl:role", "Values": [role]}] +
                                     ([{"Name": "tag:paasctl:slot", "Values": [slot]}] if slot else []))
    return g["SecurityGroups"]


def records():
    zones = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == PRIVATE and z["Config"]["PrivateZone"]]
    if not zones:
        return {}
    rr = r53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"]
    return {r["Name"].rstrip("."): r for r in rr}


def api_elb():
    # through the proxy, so the description carries what AWS would give
    c = boto3.client("elb", endpoint_url=proxy.url, region_name="us-east-1",
                     aws_access_key_id=w.moto.key_id, aws_secret_access_key=w.moto.secret)
    try:
        return c.describe_load_balancers(LoadBalancerNames=[f"{NAME}-a-api"])["LoadBalancerDescriptions"][0]
    except c.exceptions.AccessPointNotFoundException:
        return None


def mutating(actions):
    return [a for a in actions if a and not READ_ONLY.match(a)]


# ---- up shell, up a with master_count = 3 over three zones ---------------------------------------
rc, out, err = run("up", "shell")
check("up shell", rc == 0, err[-800:])
rc, out, err = run("plan", "a")
check("plan a lists the API ELB, its members and the alias record",
      re.search(rf"\+ .*elb.*{NAME}-a-api.*internal", out) and f"{NAME}-a-api" in out and
      re.search(rf"\+ .*dns-record.*{re.escape(API)}.*ALIAS", out), out[-1500:])
rc, out, err = run("-v", "up", "a", "--no-wait")
check("up a (master_count = 3)", rc == 0, err[-1500:])
REQ_3 = requests_of(err)

masters = instances("a", "master")
zones = sorted(i["Placement"]["AvailabilityZone"] for i in masters)
check("3 masters, one in each of the 3 zones", zones == ["us-east-1a", "us-east-1b", "us-east-1c"], zones)
check("masters carry the master security groups",
      all({g["GroupName"] for g in i["SecurityGroups"]} >= {f"{NAME}-a-sg-node", f"{NAME}-a-sg-master"}
          for i in masters), [i["SecurityGroups"] for i in masters])

lb = api_elb()
check("the API ELB exists", lb is not None, "not found")
lb = lb or {}
check("scheme internal", lb.get("Scheme") == "internal", lb.get("Scheme"))
lis = [d["Listener"] for d in lb.get("ListenerDescriptions", [])]
check("one TCP 6443 -> TCP 6443 listener",
      lis == [{"Protocol": "TCP", "LoadBalancerPort": 6443, "InstanceProtocol": "TCP", "InstancePort": 6443}], lis)
check("health check TCP:6443", lb.get("HealthCheck", {}).get("Target") == "TCP:6443", lb.get("HealthCheck"))
priv = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=[
    {"Name": "tag:paasctl:paas", "Values": [NAME]}, {"Name": "tag:paasctl:role", "Values": ["subnet-private"]}])["Subnets"])
check("in the shell's 3 private subnets", sorted(lb.get("Subnets", [])) == priv and len(priv) == 3,
      (lb.get("Subnets"), priv))
lbtags = {t["Key"]: t["Value"] for t in elb.describe_tags(LoadBalancerNames=[f"{NAME}-a-api"])
          ["TagDescriptions"][0]["Tags"]} if lb else {}
check("tagged role elb-api, slot a, paas, Name",
      lbtags == {"Name": f"{NAME}-a-api", "paasctl:paas": NAME, "paasctl:slot": "a", "paasctl:role": "elb-api"},
      lbtags)
members = sorted(m["InstanceId"] for m in lb.get("Instances", []))
check("the 3 masters are its members, nothing else", members == sorted(i["InstanceId"] for i in masters),
      (members, [i["InstanceId"] for i in masters]))
attrs = elb.describe_load_balancer_attributes(LoadBalancerName=f"{NAME}-a-api")["LoadBalancerAttributes"]
check("cross-zone balancing on", attrs["CrossZoneLoadBalancing"]["Enabled"] is True, attrs)

sg_api, sg_node, sg_master = group("sg-api"), group("sg-node"), group("sg-master")
bastion = group("sg-bastion", slot=None)
check("one sg-api group, the ELB's", len(sg_api) == 1 and lb.get("SecurityGroups") == [sg_api[0]["GroupId"]],
      (sg_api, lb.get("SecurityGroups")))
if sg_api and sg_node and sg_master and bastion:
    allowed = sorted((p["FromPort"], g["GroupId"]) for p in sg_api[0]["IpPermissions"] for g in p["UserIdGroupPairs"])
    cidrs = [r for p in sg_api[0]["IpPermissions"] for r in p.get("IpRanges", [])]
    check("sg-api lets in 6443 from the slot's nodes and the bastion only",
          allowed == sorted([(6443, sg_node[0]["GroupId"]), (6443, bastion[0]["GroupId"])]) and not cidrs,
          (allowed, cidrs))
    from_api = [(p["FromPort"], p["ToPort"]) for p in sg_master[0]["IpPermissions"]
                for g in p["UserIdGroupPairs"] if g["GroupId"] == sg_api[0]["GroupId"]]
    check("sg-master lets the API ELB reach 6443", from_api == [(6443, 6443)], sg_master[0]["IpPermissions"])

rec = records().get(API, {})
alias = rec.get("AliasTarget", {})
check("api record is an A alias of the API ELB's DNS name",
      rec.get("Type") == "A" and alias.get("DNSName", "").rstrip(".").lower() == lb.get("DNSName", "?").lower() and
      "ResourceRecords" not in rec, rec)
check("alias names the ELB's CanonicalHostedZoneNameID", alias.get("HostedZoneId") == lb.get("CanonicalHostedZoneNameID")
      == CANON, (alias, lb.get("CanonicalHostedZoneNameID")))
check("auth record stays an A record of the auth server",
      records().get(f"auth.a.k8s.{ZONE}", {}).get("ResourceRecords", [{}])[0].get("Value") ==
      instances("a", "auth")[0]["PrivateIpAddress"], records().get(f"auth.a.k8s.{ZONE}"))

# ---- re-run: nothing to do -------------------------------------------------------------------------
rc, out, err = run("plan", "a", "-o", "json")
doc = json.loads(out) if rc == 0 else {}
changes = [i for i in doc.get("items", []) if i["op"] != "exists"]
check("plan a after up a: nothing to do", rc == 0 and not changes, changes[:4])
n0 = len(proxy.log)
rc, out, err = run("up", "a", "--no-wait")
check("up a again: exit 0, no mutating request", rc == 0 and not mutating(a for _, _, a in proxy.log[n0:]),
      (rc, mutating(a for _, _, a in proxy.log[n0:]), err[-400:]))

# ---- status shows the API balancer of a slot with three masters ------------------------------------------
rc, out, err = run("-o", "json", "status")
check("status -o json matches docs/schema/status.json", not problems("status", out, rc),
      problems("status", out, rc))
st = json.loads(out) if rc == 0 else {}
api = ((st.get("elbs") or {}).get("api") or {})
check("status -o json: slot a's API balancer with the masters as members, b's null (one master)",
      (api.get("a") or {}).get("name") == f"{NAME}-a-api" and
      sorted((api.get("a") or {}).get("instances", [])) ==
      sorted(i["InstanceId"] for i in instances("a", "master")) and "b" in api and api["b"] is None,
      api)
rc, out, err = run("status")
check("status table has an 'api a' row naming the balancer",
      rc == 0 and re.search(rf"^api a\s+{NAME}-a-api\s", out, re.M) and "api b" not in out, out)

# ---- two zones: 2 + 1 --------------------------------------------------------------------------------
CFG2 = w.write_config(config(zones=2, name="hb"), "two-zones.ini")
rc, out, err = run("plan", "a", "-o", "json", cfg=CFG2)
doc = json.loads(out) if rc == 0 else {}
spread = sorted(i["detail"].split(" in ")[1] for i in doc.get("items", [])
                if i["kind"] == "instance" and i["detail"].startswith("master "))
check("with 2 zones the 3 masters spread 2 + 1", spread == ["us-east-1a", "us-east-1a", "us-east-1b"], spread)

# ---- slot b with one master; 1 -> 3 and 3 -> 1 are refused -----------------------------------------------
rc, out, err = run("-v", "up", "b", "--no-wait")
check("up b (master_count = 1)", rc == 0, err[-800:])
REQ_1 = requests_of(err)
rb = records().get(f"api.b.k8s.{ZONE}", {})
bmaster = instances("b", "master")
check("slot b: one master, api an A record of it, no API ELB",
      len(bmaster) == 1 and rb.get("ResourceRecords") == [{"Value": bmaster[0]["PrivateIpAddress"]}] and
      "AliasTarget" not in rb and
      not [d for d in elb.describe_load_balancers()["LoadBalancerDescriptions"]
           if d["LoadBalancerName"] == f"{NAME}-b-api"], rb)
check("slot b: no sg-api group", not group("sg-api", "b"), group("sg-api", "b"))

CFG13 = w.write_config(config(a_masters=1, b_masters=3), "flip.ini")
before = (records(), len(instances("b")), len(instances("a")))
n0 = len(proxy.log)
rc, out, err = run("up", "b", cfg=CFG13)
check("up b with master_count 1 -> 3: exit 3, says why and the A/B way",
      rc == 3 and "master_count = 3" in err and "other slot" in err and "not converted in place" in err,
      (rc, err[-600:]))
check("... before any mutating request", not mutating(a for _, _, a in proxy.log[n0:]),
      mutating(a for _, _, a in proxy.log[n0:]))
rc, out, err = run("up", "a", cfg=CFG13)
check("up a with master_count 3 -> 1: exit 3", rc == 3 and "master_count = 1" in err, (rc, err[-600:]))
check("... nothing mutated (requests, records, instances)",
      not mutating(a for _, _, a in proxy.log[n0:]) and (records(), len(instances("b")), len(instances("a"))) == before,
      mutating(a for _, _, a in proxy.log[n0:]))
rc, out, err = run("plan", "b", cfg=CFG13)
check("plan b with the flip: exit 0, and it says up will refuse", rc == 0 and "will refuse" in out + err,
      (rc, out[-400:]))

# ---- the kubeconfig and smoke check 1 go through the api name ----------------------------------------------
kc = os.path.join(w.dir, "kc-a.yaml")
rc, out, err = run("kubeconfig", "a", "--file", kc)
server = yaml.safe_load(open(kc))["clusters"][0]["cluster"]["server"] if rc == 0 else ""
check("kubeconfig a: server https://api.a.k8s.DNS_ZONE:6443", server == f"https://{API}:6443", server)
CFGK = w.write_config(config().replace("master_count = 3", f"master_count = 3\nkubeconfig = {kc}", 1), "kc.ini")
rc, out, err = run("smoke", "a", "-o", "json", cfg=CFGK)
try:
    first = json.loads(out)["checks"][0]
except (ValueError, KeyError, IndexError):
    first = {}
check("smoke a check 1 goes to api.a.k8s.DNS_ZONE (not resolvable here: fails naming it)",
      rc == 1 and API in json.dumps(first), (rc, first, err[-300:]))

# ---- the bootstrap: who inits, who joins ----------------------------------------------------------------------
s3 = w.moto.client("s3")
bucket_dir = tempfile.mkdtemp(prefix="bucket-", dir=w.dir)
for o in s3.list_objects_v2(Bucket=f"{NAME}-a-config").get("Contents", []):
    dst = os.path.join(bucket_dir, o["Key"])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    s3.download_file(f"{NAME}-a-config", o["Key"], dst)
env_master = open(os.path.join(bucket_dir, "env/master.env")).read()
check("master env: PAASCTL_MASTER_COUNT=3 and PAASCTL_INIT_ZONE=us-east-1a",
      "PAASCTL_MASTER_COUNT=3\n" in env_master and "PAASCTL_INIT_ZONE=us-east-1a\n" in env_master, "env")
ud = base64.b64decode(ec2.describe_instance_attribute(InstanceId=masters[0]["InstanceId"], Attribute="userData")
                      ["UserData"]["Value"]).decode()
STUB = os.path.join(ROOT, "tests", "lib", "node_stub.py")
STUBS = ("apt-get", "apt-mark", "dpkg-query", "curl", "gpg", "containerd", "modprobe", "sysctl", "systemctl",
         "kubeadm", "kubectl", "docker")


def node(zone, launch_index, api_after=None, tries="180"):
    root = tempfile.mkdtemp(prefix="master-", dir=w.dir)
    os.makedirs(os.path.join(root, "stub-bin"))
    os.makedirs(os.path.join(root, "var/lib/stub-dpkg"))
    open(os.path.join(root, "var/lib/stub-dpkg/gpg"), "w").write("2.4.4")
    for n in STUBS:
        os.symlink(STUB, os.path.join(root, "stub-bin", n))
    open(os.path.join(root, "user-data.sh"), "w").write(ud)
    e = {"PATH": os.path.join(root, "stub-bin") + ":" + os.environ["PATH"], "PAASCTL_PREFIX": root,
         "STUB_ROOT": root, "STUB_S3": bucket_dir, "HOME": root, "LANG": "C", "STUB_ZONE": zone,
         "STUB_LAUNCH_INDEX": str(launch_index), "PAASCTL_API_WAIT_SLEEP": "0", "PAASCTL_API_WAIT_TRIES": tries}
    if api_after is not None:
        e["STUB_API_AFTER"] = str(api_after)

    def go():
        log = os.path.join(root, "calls.log")
        n = len(open(log).read().splitlines()) if os.path.exists(log) else 0
        p = subprocess.run(["sh", os.path.join(root, "user-data.sh")], env=e, capture_output=True, text=True,
                           timeout=120)
        calls = [json.loads(l) for l in open(log).read().splitlines()[n:]]
        return p.returncode, p.stderr, calls
    return root, go


def kubeadm_calls(calls):
    return [c[1] for c in calls if c[0] == "kubeadm" and c[1] in ("init", "join")]


def livez(calls):
    return len([c for c in calls if c[0] == "curl" and c[-1] == f"https://{API}:6443/livez"])


root, go = node("us-east-1a", 0)
rc, err, calls = go()
docs = {d["kind"]: d for d in yaml.safe_load_all(open(os.path.join(root, "etc/paasctl/kubeadm.yaml")))} if rc == 0 else {}
check("first zone, launch index 0, API silent: kubeadm init with controlPlaneEndpoint api...:6443",
      rc == 0 and kubeadm_calls(calls) == ["init"] and
      docs.get("ClusterConfiguration", {}).get("controlPlaneEndpoint") == f"{API}:6443", (rc, err[-600:], docs))

root, go = node("us-east-1a", 1, api_after=2)
rc, err, calls = go()
docs = {d["kind"]: d for d in yaml.safe_load_all(open(os.path.join(root, "etc/paasctl/kubeadm.yaml")))} if rc == 0 else {}
j = docs.get("JoinConfiguration", {})
check("first zone, launch index 1: waits for the API (3 probes), then joins as control plane, never inits",
      rc == 0 and kubeadm_calls(calls) == ["join"] and livez(calls) == 3 and "controlPlane" in j and
      j["discovery"]["bootstrapToken"]["apiServerEndpoint"] == f"{API}:6443", (rc, err[-600:], kubeadm_calls(calls), j))
pki = [f for f in ("ca.crt", "ca.key", "etcd/ca.crt", "etcd/ca.key", "front-proxy-ca.crt", "front-proxy-ca.key",
                   "sa.key", "sa.pub")
       if open(os.path.join(root, "etc/kubernetes/pki", f)).read() != open(os.path.join(bucket_dir, "secret/pki", f)).read()]
check("the joining master has the slot's CAs from secret/ (no --upload-certs)",
      not pki and not any("--upload-certs" in c or "--certificate-key" in c for c in calls), pki)
rc, err, calls = go()
check("a second run on the joined master changes nothing", rc == 0 and not kubeadm_calls(calls), kubeadm_calls(calls))

root, go = node("us-east-1b", 0, api_after=0)
rc, err, calls = go()
check("another zone, launch index 0, API up: joins as control plane",
      rc == 0 and kubeadm_calls(calls) == ["join"], (rc, err[-400:], kubeadm_calls(calls)))

root, go = node("us-east-1c", 0, tries="3")
rc, err, calls = go()
check("another zone, API never answers: gives up (exit != 0) without kubeadm init",
      rc != 0 and kubeadm_calls(calls) == [] and livez(calls) == 4 and "did not answer" in err,
      (rc, kubeadm_calls(calls), livez(calls), err[-300:]))

# ---- teardown ----------------------------------------------------------------------------------------
rc, out, err = run("teardown", "a")
check("teardown a", rc == 0, err[-800:])
check("the API ELB is gone", api_elb() is None, "still there")
check("the api record is gone", API not in records(), records().get(API))
check("sg-api is gone", not group("sg-api"), group("sg-api"))
rc, out, err = run("teardown", "b")
check("teardown b", rc == 0, err[-800:])

# ---- a crash after the masters launched, before the record: the re-run converges, not refuses ----------
CFG33 = w.write_config(config(a_masters=3, b_masters=3), "both-ha.ini")
FAIL = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidInstance</Code><Message>injected</Message>"
        "</Error><RequestId>fault-proxy</RequestId></ErrorResponse>")
proxy.rules.append(Rule(action="RegisterInstancesWithLoadBalancer", status=400, body=FAIL, times=None))
rc, out, err = run("up", "b", "--no-wait", cfg=CFG33)
proxy.rules.pop()
check("up b (3 masters) stopped before its masters joined the ELB: exit 1, no api record yet",
      rc == 1 and len(instances("b", "master")) == 3 and f"api.b.k8s.{ZONE}" not in records(), (rc, err[-400:]))
rc, out, err = run("up", "b", "--no-wait", cfg=CFG33)
rb = records().get(f"api.b.k8s.{ZONE}", {})
check("the re-run is not refused and finishes: alias record, 3 masters registered",
      rc == 0 and "AliasTarget" in rb and
      len(elb.describe_load_balancers(LoadBalancerNames=[f"{NAME}-b-api"])["LoadBalancerDescriptions"][0]
          ["Instances"]) == 3, (rc, err[-400:], rb))
rc, out, err = run("teardown", "b", cfg=CFG33)
check("teardown b (HA)", rc == 0 and f"api.b.k8s.{ZONE}" not in records(), err[-600:])

print(f"# requests: up a from nothing with master_count=3: {REQ_3}; up b with master_count=1: {REQ_1}")
done()
