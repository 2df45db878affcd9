"""End-to-end: plan, up shell|a|b and teardown (SPEC.md "Commands") against the
signature-checking emulator, every result checked through boto3 (never
through paasctl): what `up` creates and how it is tagged, idempotence, plan
and --dry-run sending no mutating request (the fault proxy's request log),
count convergence both ways, a SIGKILL at a spread of points of `up b`
followed by a re-run, the interlocks, the lock, and teardown leaving nothing
tagged for the paas."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from harness import ROOT, PAASCTL, World, check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402

NAME = "life"
TAG_KEYS = ("Name", "paasctl:paas", "paasctl:slot", "paasctl:role")


def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def complete(tags, slot, role):
    return (tags.get("paasctl:paas") == NAME and tags.get("paasctl:slot") == slot and
            tags.get("paasctl:role") == role and tags.get("Name", "").startswith(f"{NAME}-{slot}-"))


def change_lines(out):
    """The +, ~ and - lines of a plan/up table."""
    return [l for l in out.splitlines() if l[:2] in ("+ ", "~ ", "- ")]


def config_text(b_minions=3, b_ingress=2):
    text = sample_config(NAME)
    head, tail = text.split("[cluster b]")
    tail = tail.replace("minion_count  = 3", f"minion_count  = {b_minions}")
    tail = tail.replace("ingress_count = 2", f"ingress_count = {b_ingress}")
    return head + "[cluster b]" + tail


class Env:
    """The world plus a proxy in front of each emulator, whose request logs
    show what paasctl sent."""

    def __init__(self):
        self.w = World()
        self.proxy = FaultProxy(self.w.moto.url)
        self.r53proxy = FaultProxy(self.w.r53.url)
        for p in (self.proxy, self.r53proxy):
            # A killed client leaves a broken pipe behind: not news.
            p.server.handle_error = lambda *args: None
        self.ec2 = self.w.moto.client("ec2")
        self.elb = self.w.moto.client("elb")
        self.s3 = self.w.moto.client("s3")
        self.r53 = self.w.r53.client("route53")
        self.cfg = self.w.write_config(config_text())

    def env(self, proxied=False):
        extra = {"PAASCTL_POLL_MS": "50", "PAASCTL_DEPENDENCY_WAIT_S": "20"}
        if proxied:
            extra["AWS_ENDPOINT_URL"] = self.proxy.url
            extra["AWS_ENDPOINT_URL_ROUTE_53"] = self.r53proxy.url
        return self.w.env(**extra)

    def run(self, *args, cfg=None, proxied=False):
        return self.w.paasctl("-c", cfg or self.cfg, *args, env=self.env(proxied))

    def requests(self):
        """Every request the proxies saw: (method, path, Action)."""
        return list(self.proxy.log) + list(self.r53proxy.log)

    def reset_log(self):
        self.proxy.log.clear()
        self.r53proxy.log.clear()

    # ---- the world as boto3 sees it ----

    def instances(self, slot, states=("pending", "running", "stopping", "stopped")):
        res = self.ec2.describe_instances(Filters=[
            {"Name": "tag:paasctl:paas", "Values": [NAME]},
            {"Name": "tag:paasctl:slot", "Values": [slot]},
            {"Name": "instance-state-name", "Values": list(states)}])
        return [i for r in res["Reservations"] for i in r["Instances"]]

    def lb(self, name):
        try:
            return self.elb.describe_load_balancers(LoadBalancerNames=[name])["LoadBalancerDescriptions"][0]
        except self.elb.exceptions.AccessPointNotFoundException:
            return None

    def members(self, name):
        lb = self.lb(name)
        return sorted(i["InstanceId"] for i in lb["Instances"]) if lb else []

    def zone(self):
        zs = self.r53.list_hosted_zones_by_name(DNSName=f"{NAME}.paas.example.com")["HostedZones"]
        return zs[0] if zs and zs[0]["Name"] == f"{NAME}.paas.example.com." else None

    def records(self):
        z = self.zone()
        if not z:
            return {}
        rr = self.r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
        return {r["Name"]: [v["Value"] for v in r.get("ResourceRecords", [])] for r in rr if r["Type"] == "A"}

    def private_records(self):
        """The A records of the private zone k8s.DNS_ZONE (SPEC.md "Clusters")."""
        name = f"k8s.{NAME}.paas.example.com."
        zs = [z for z in self.r53.list_hosted_zones()["HostedZones"]
              if z["Name"] == name and z["Config"]["PrivateZone"]]
        if not zs:
            return {}
        rr = self.r53.list_resource_record_sets(HostedZoneId=zs[0]["Id"])["ResourceRecordSets"]
        return {r["Name"]: [v["Value"] for v in r.get("ResourceRecords", [])] for r in rr if r["Type"] == "A"}

    def tagged(self):
        """Every EC2 resource tagged paasctl:paas=NAME that still exists
        (terminated instances and deleted NAT gateways stay listed for a
        while, on AWS too, and do not count)."""
        f = [{"Name": "tag:paasctl:paas", "Values": [NAME]}]
        ec2 = self.ec2
        ids = [v["VpcId"] for v in ec2.describe_vpcs(Filters=f)["Vpcs"]]
        ids += [s["SubnetId"] for s in ec2.describe_subnets(Filters=f)["Subnets"]]
        ids += [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=f)["InternetGateways"]]
        ids += [a["AllocationId"] for a in ec2.describe_addresses(Filters=f)["Addresses"]]
        ids += [n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filter=f)["NatGateways"]
                if n["State"] not in ("deleted", "deleting")]
        ids += [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=f)["RouteTables"]]
        ids += [g["GroupId"] for g in ec2.describe_security_groups(Filters=f)["SecurityGroups"]]
        ids += [i["InstanceId"] for s in ("shell", "a", "b") for i in self.instances(s)]
        return sorted(ids)

    def snapshot(self):
        """What exists, to compare before and after a run that must change nothing."""
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"]
        return {
            "tagged": self.tagged(),
            "alive": sorted(i["InstanceId"] for s in ("shell", "a", "b") for i in self.instances(s)),
            "elbs": [(n, self.members(n)) for n in (f"{NAME}-live", f"{NAME}-prelive")],
            "records": self.records(),
            "vpcs": sorted(v["VpcId"] for v in vpcs),
        }


def mutating(reqs):
    """Requests that could change something: Query actions other than
    Describe*/List*/Get*, and REST calls other than GET/HEAD (the lock and
    journal are not expected here: plan and --dry-run take no lock)."""
    bad = []
    for method, path, action in reqs:
        if action:
            if not action.startswith(("Describe", "List", "Get")):
                bad.append(action)
        elif method not in ("GET", "HEAD"):
            bad.append(f"{method} {path}")
    return bad


# ---- plan on an empty account, --dry-run ----------------------------------

def test_plan_empty(t):
    t.reset_log()
    rc, out, err = t.run("plan", "shell", proxied=True)
    lines = change_lines(out)
    kinds = [l.split()[2] for l in lines]
    want = {"bucket": 1, "vpc": 1, "subnet": 4, "internet-gateway": 1, "elastic-ip": 2,
            "nat-gateway": 2, "route-table": 3, "security-group": 3, "instance": 1,
            "dns-zone": 2, "elb": 2,   # the public zone and the private k8s. one
            "dns-record": 2,           # *.ZONE and *.prelive.ZONE (README "public DNS names")
            "vpc-endpoint": 1}         # S3 gateway endpoint (README "S3 gateway endpoint")
    check("plan shell on an empty account exits 0", rc == 0, err)
    check("plan shell on an empty account lists every shell resource as + create",
          {k: kinds.count(k) for k in want} == want and all(l.startswith("+ create") for l in lines),
          out)
    check("plan shell says '25 to create'", "25 to create" in out, out)
    rc, out, err = t.run("-o", "json", "plan", "a", proxied=True)
    doc = json.loads(out) if rc == 0 else {}
    kinds = [i["kind"] for i in doc.get("items", []) if i["op"] == "create"]
    check("plan a -o json on an empty account lists the slot's bucket, its PKI, the auth "
          "secrets, 6 files, 3 roles and profiles, 2 groups, 7 instances, 2 records and the ELB membership",
          rc == 0 and kinds.count("instance") == 7 and kinds.count("object") == 6 and
          kinds.count("dns-record") == 2 and kinds.count("bucket") == 1 and
          kinds.count("pki") == 1 and kinds.count("auth") == 1 and
          kinds.count("iam-role") == 3 and kinds.count("instance-profile") == 3 and
          kinds.count("security-group") == 2 and doc["totals"]["create"] == 26, out + err)
    check("plan a without the shell says that up needs 'up shell' first",
          "up shell" in doc.get("note", ""), out)
    rc, out, err = t.run("--dry-run", "up", "shell", proxied=True)
    check("up shell --dry-run exits 0 and prints the plan", rc == 0 and "25 to create" in out, out + err)
    bad = mutating(t.requests())
    check("plan and --dry-run sent no mutating request (proxy log)",
          not bad and len(t.requests()) > 10, f"{bad} of {len(t.requests())}")
    check("--dry-run created nothing", t.tagged() == [] and t.zone() is None, t.tagged())
    rc, out, err = t.run("up", "a")
    check("up a without the shell is refused with exit 3 naming 'up shell'",
          rc == 3 and "up shell" in err, f"rc={rc} {err}")
    only_a = t.w.write_config(sample_config(NAME).split("[cluster b]")[0], "only-a.ini")
    for args in (("plan", "b"), ("up", "b"), ("--dry-run", "up", "b")):
        rc, out, err = t.run(*args, cfg=only_a)
        check(f"{' '.join(args)} without a [cluster b] section: exit 2 naming the section",
              rc == 2 and "[cluster b]" in err, f"rc={rc} {err}")


# ---- up shell ---------------------------------------------------------------

def check_network(t):
    ec2 = t.ec2
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"]
    check("one VPC, 10.0.0.0/16, tagged NAME-shell-vpc",
          len(vpcs) == 1 and vpcs[0]["CidrBlock"] == "10.0.0.0/16" and
          tags_of(vpcs[0]).get("Name") == f"{NAME}-shell-vpc" and complete(tags_of(vpcs[0]), "shell", "vpc"),
          vpcs)
    vpc = vpcs[0]["VpcId"] if vpcs else ""
    dns = ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")
    check("the VPC has DNS hostnames on", dns["EnableDnsHostnames"]["Value"], dns)
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    got = sorted((tags_of(s).get("paasctl:role"), s["CidrBlock"], s["AvailabilityZone"]) for s in subnets)
    want = sorted([("subnet-public", "10.0.0.0/24", "us-east-1a"), ("subnet-public", "10.0.1.0/24", "us-east-1b"),
                   ("subnet-private", "10.0.16.0/20", "us-east-1a"),
                   ("subnet-private", "10.0.32.0/20", "us-east-1b")])
    check("one public and one private subnet per zone, as configured", got == want, got)
    pub = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets if tags_of(s).get("paasctl:role") == "subnet-public"}
    priv = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets if tags_of(s).get("paasctl:role") == "subnet-private"}
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["InternetGateways"]
    check("one internet gateway attached to the VPC",
          len(igws) == 1 and [a["VpcId"] for a in igws[0]["Attachments"]] == [vpc], igws)
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["NatGateways"]
    eips = ec2.describe_addresses(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Addresses"]
    check("one NAT gateway per zone, in the public subnets, each with its tagged elastic IP",
          sorted(n["SubnetId"] for n in nats) == sorted(pub.values()) and len(eips) == 2 and
          sorted(a["AllocationId"] for n in nats for a in n["NatGatewayAddresses"]) ==
          sorted(e["AllocationId"] for e in eips) and
          all(complete(tags_of(e), "shell", "eip") for e in eips), (nats, eips))
    rtbs = ec2.describe_route_tables(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["RouteTables"]
    by_name = {tags_of(r)["Name"]: r for r in rtbs}
    ok = f"{NAME}-shell-rtb-public" in by_name
    if ok:
        r = by_name[f"{NAME}-shell-rtb-public"]
        ok = (any(x.get("DestinationCidrBlock") == "0.0.0.0/0" and x.get("GatewayId") == igws[0]["InternetGatewayId"]
                  for x in r["Routes"]) and
              sorted(a.get("SubnetId") for a in r["Associations"] if a.get("SubnetId")) == sorted(pub.values()))
    for z, az in enumerate(("us-east-1a", "us-east-1b")):
        r = by_name.get(f"{NAME}-shell-rtb-private-{z + 1}")
        nat = [n["NatGatewayId"] for n in nats if n["SubnetId"] == pub.get(az)]
        ok = ok and r is not None and any(x.get("NatGatewayId") in nat for x in r["Routes"]) and \
            [a.get("SubnetId") for a in r["Associations"] if a.get("SubnetId")] == [priv[az]]
    check("route tables: public 0.0.0.0/0 via the IGW for both public subnets; each private "
          "subnet via its zone's NAT", ok, rtbs)
    return vpc, pub


def check_groups(t, vpc):
    sgs = t.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                  {"Name": "tag:paasctl:paas", "Values": [NAME]}])["SecurityGroups"]
    by_role = {tags_of(g)["paasctl:role"]: g for g in sgs}
    check("three security groups: bastion, ELB, nodes",
          sorted(by_role) == ["sg-bastion", "sg-elb", "sg-node"], sorted(by_role))

    def rules(g):
        out = set()
        for p in g.get("IpPermissions", []):
            for r in p.get("IpRanges", []):
                out.add((p["IpProtocol"], p.get("FromPort"), r["CidrIp"]))
            for r in p.get("UserIdGroupPairs", []):
                out.add((p["IpProtocol"], p.get("FromPort"), r["GroupId"]))
        return out
    elb_id = by_role.get("sg-elb", {}).get("GroupId")
    check("bastion: 22 from admin_cidr",
          rules(by_role.get("sg-bastion", {})) == {("tcp", 22, "203.0.113.0/24")},
          rules(by_role.get("sg-bastion", {})))
    check("ELB group: the listener port 80 from anywhere",
          rules(by_role.get("sg-elb", {})) == {("tcp", 80, "0.0.0.0/0")}, rules(by_role.get("sg-elb", {})))
    node = {(p, c) for p, _, c in rules(by_role.get("sg-node", {}))}
    check("nodes: everything from the VPC and port 80 from the ELB group",
          ("-1", "10.0.0.0/16") in node and ("tcp", elb_id) in node, rules(by_role.get("sg-node", {})))
    return by_role


def check_elbs(t, pub, groups):
    for kind in ("live", "prelive"):
        name = f"{NAME}-{kind}"
        lb = t.lb(name)
        if not check(f"ELB {name} exists", lb is not None, name):
            continue
        attrs = t.elb.describe_load_balancer_attributes(LoadBalancerName=name)["LoadBalancerAttributes"]
        tags = {x["Key"]: x["Value"] for x in
                t.elb.describe_tags(LoadBalancerNames=[name])["TagDescriptions"][0]["Tags"]}
        listeners = [(l["Listener"]["LoadBalancerPort"], l["Listener"]["InstancePort"])
                     for l in lb["ListenerDescriptions"]]
        check(f"ELB {name}: listener 80:80, health check HTTP:80/healthz, the public subnets, the ELB group",
              listeners == [(80, 80)] and lb["HealthCheck"]["Target"] == "HTTP:80/healthz" and
              lb["HealthCheck"]["Interval"] == 10 and sorted(lb["Subnets"]) == sorted(pub.values()) and
              lb["SecurityGroups"] == [groups["sg-elb"]["GroupId"]], lb)
        check(f"ELB {name}: cross-zone on, connection draining 300 s",
              attrs["CrossZoneLoadBalancing"]["Enabled"] and attrs["ConnectionDraining"]["Enabled"] and
              attrs["ConnectionDraining"]["Timeout"] == 300, attrs)
        check(f"ELB {name} tagged at creation", tags.get("paasctl:paas") == NAME and
              tags.get("paasctl:slot") == "shell", tags)


def instance_groups(i):
    """The instance's groups (the emulator lists those given through a
    network interface only on the interface)."""
    ids = [g["GroupId"] for g in i.get("SecurityGroups", [])]
    for n in i.get("NetworkInterfaces", []):
        ids += [g["GroupId"] for g in n.get("Groups", [])]
    return ids


def test_update_shell(t):
    """A changed [elb] setting is an `~ update` of both ELBs, applied in place."""
    cfg = t.w.write_config(config_text().replace("health_target   = HTTP:80/healthz",
                                                 "health_target   = HTTP:80/healthz\nhealth_interval = 20"),
                           "interval20.ini")
    rc, out, err = t.run("plan", "shell", cfg=cfg)
    lines = change_lines(out)
    check("a new health_interval: plan shell shows '~ update' for both ELBs and nothing else",
          rc == 0 and len(lines) == 2 and all(l.startswith("~ update") and " elb " in l for l in lines),
          out + err)
    rc, out, err = t.run("up", "shell", cfg=cfg)
    hc = t.lb(f"{NAME}-live")["HealthCheck"]
    check("up shell applies it (boto3: interval 20)", rc == 0 and hc["Interval"] == 20, (rc, hc, err[-500:]))
    rc, out, err = t.run("up", "shell")
    check("and back", rc == 0 and t.lb(f"{NAME}-live")["HealthCheck"]["Interval"] == 10, err[-500:])


def test_up_shell(t):
    rc, out, err = t.run("up", "shell")
    check("up shell exits 0", rc == 0, err[-2000:])
    vpc, pub = check_network(t)
    groups = check_groups(t, vpc)
    check_elbs(t, pub, groups)
    bastion = t.instances("shell")
    check("one bastion, running in a public subnet with a public IP, tagged",
          len(bastion) == 1 and bastion[0]["SubnetId"] in pub.values() and
          complete(tags_of(bastion[0]), "shell", "bastion") and
          groups["sg-bastion"]["GroupId"] in instance_groups(bastion[0]), bastion)
    check("the hosted zone exists", t.zone() is not None, t.zone())
    tags = {x["Key"]: x["Value"] for x in t.s3.get_bucket_tagging(Bucket=f"{NAME}-paasctl-state")["TagSet"]}
    check("the state bucket exists and is tagged", tags.get("paasctl:paas") == NAME, tags)
    res = t.ec2.describe_tags(Filters=[{"Name": "key", "Values": ["paasctl:paas"]},
                                       {"Name": "value", "Values": [NAME]}])["Tags"]
    by_id = {}
    for x in t.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [r["ResourceId"] for r in res]}])["Tags"]:
        by_id.setdefault(x["ResourceId"], set()).add(x["Key"])
    check("every EC2 resource of the shell carries all four paasctl tags",
          len(by_id) == 18 and all(set(TAG_KEYS) <= k for k in by_id.values()), by_id)


def test_idempotent(t, target):
    before = t.snapshot()
    rc, out, err = t.run("up", target)
    check(f"second up {target} changes nothing: no +/~/- line, '0 to create'",
          rc == 0 and not change_lines(out) and "0 to create, 0 to update, 0 to destroy" in out,
          out + err)
    check(f"second up {target}: the world is the same (boto3)", t.snapshot() == before, "")
    rc, out, err = t.run("plan", target)
    check(f"plan {target} after up prints only = lines", rc == 0 and not change_lines(out) and
          "= exists" in out, out + err)


# ---- slots ----------------------------------------------------------------------

def check_slot(t, slot, ingress=2, minions=3, traffic="prelive"):
    inst = [i for i in t.instances(slot) if i["State"]["Name"] == "running"]
    roles = {}
    for i in inst:
        roles.setdefault(tags_of(i).get("paasctl:role"), []).append(i)
    check(f"slot {slot}: exactly ingress_count + minion_count + 2 running instances",
          len(inst) == ingress + minions + 2, len(inst))
    check(f"slot {slot}: 1 auth, 1 master, {ingress} ingress, {minions} minions",
          {r: len(v) for r, v in roles.items()} ==
          {k: v for k, v in {"auth": 1, "master": 1, "ingress": ingress, "minion": minions}.items() if v},
          {r: len(v) for r, v in roles.items()})
    check(f"slot {slot}: every instance completely tagged (Name {NAME}-{slot}-ROLE-N)",
          all(complete(tags_of(i), slot, tags_of(i).get("paasctl:role")) for i in inst), [tags_of(i) for i in inst])
    for role in ("ingress", "minion"):
        zones = [i["Placement"]["AvailabilityZone"] for i in roles.get(role, [])]
        n = len(zones)
        check(f"slot {slot}: {role} nodes spread evenly over the zones",
              abs(zones.count("us-east-1a") - zones.count("us-east-1b")) <= 1 and
              zones.count("us-east-1a") >= zones.count("us-east-1b"), (n, zones))
    ing = roles.get("ingress", [])
    check(f"slot {slot}: ingress nodes tagged paasctl:traffic={traffic}",
          ing and all(tags_of(i).get("paasctl:traffic") == traffic for i in ing), [tags_of(i) for i in ing])
    lbname = f"{NAME}-{traffic}"
    check(f"slot {slot}: its ingress nodes are registered with {lbname}",
          set(i["InstanceId"] for i in ing) <= set(t.members(lbname)), (t.members(lbname), ing))
    recs = t.private_records()
    zone = f"k8s.{NAME}.paas.example.com."
    master = roles.get("master", [{}])[0].get("PrivateIpAddress")
    auth = roles.get("auth", [{}])[0].get("PrivateIpAddress")
    check(f"slot {slot}: api.{slot} and auth.{slot} point at the master's and auth's private IPs",
          recs.get(f"api.{slot}.{zone}") == [master] and recs.get(f"auth.{slot}.{zone}") == [auth], recs)
    return inst


def test_up_slots(t):
    for slot in ("a", "b"):
        rc, out, err = t.run("up", slot)
        check(f"up {slot} exits 0", rc == 0, err[-2000:])
        inst = check_slot(t, slot)
        bucket = f"{NAME}-{slot}-config"
        all_keys = sorted(o["Key"] for o in t.s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        keys = [k for k in all_keys if not k.startswith("secret/")]
        check(f"slot {slot}: its bucket holds bootstrap.sh, one env file per role and the realm",
              keys == ["auth/realm-paas.json", "bootstrap.sh", "env/auth.env", "env/ingress.env",
                       "env/master.env", "env/minion.env"], keys)
        check(f"slot {slot}: and the slot's PKI and auth secrets under secret/ (test_pki, test_auth check them)",
              len(all_keys) - len(keys) == 9 + 5, all_keys)
        body = t.s3.get_object(Bucket=bucket, Key="bootstrap.sh")["Body"].read()
        with open(os.path.join(ROOT, "scripts", "bootstrap", "bootstrap.sh"), "rb") as f:
            check(f"slot {slot}: bootstrap.sh is scripts/bootstrap/bootstrap.sh", body == f.read(), len(body))
        env = t.s3.get_object(Bucket=bucket, Key="env/master.env")["Body"].read().decode()
        check(f"slot {slot}: env/master.env names the slot, role and API host",
              f"PAASCTL_SLOT={slot}" in env and "PAASCTL_ROLE=master" in env and
              f"PAASCTL_API_HOST=api.{slot}.k8s.{NAME}.paas.example.com" in env and "@" not in env, env)
        ud = t.ec2.describe_instance_attribute(InstanceId=inst[0]["InstanceId"], Attribute="userData")
        import base64
        text = base64.b64decode(ud["UserData"].get("Value", "")).decode(errors="replace")
        check(f"slot {slot}: the user data fetches from the slot bucket",
              f"S3_BUCKET={bucket}\n" in text and "s3get bootstrap.sh" in text and "s3get env/" in text
              and "--aws-sigv4" in text, text)
        tags = {x["Key"]: x["Value"] for x in t.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        check(f"slot {slot}: its bucket is tagged", tags.get("paasctl:slot") == slot, tags)
    test_idempotent(t, "a")


def test_scaling(t):
    old = {i["InstanceId"] for i in t.instances("b") if tags_of(i)["paasctl:role"] == "minion"}
    time.sleep(1.1)   # launch times have one-second resolution: newest must be newer
    for n in (5, 2):
        cfg = t.w.write_config(config_text(b_minions=n), f"b{n}.ini")
        rc, out, err = t.run("up", "b", cfg=cfg)
        check(f"scaling b to {n} minions exits 0", rc == 0, err[-2000:])
        minions = [i for i in t.instances("b") if tags_of(i)["paasctl:role"] == "minion"]
        check(f"scaling b to {n} minions converges", len(minions) == n, len(minions))
        rc, out, err = t.run("plan", "b", cfg=cfg)
        check(f"plan b after scaling to {n} shows no change", rc == 0 and not change_lines(out), out)
    kept = {i["InstanceId"] for i in t.instances("b") if tags_of(i)["paasctl:role"] == "minion"}
    check("scaling down terminated the newest: the kept minions are original ones", kept <= old, (kept, old))
    ing = sorted(i["InstanceId"] for i in t.instances("b") if tags_of(i)["paasctl:role"] == "ingress")
    cfg = t.w.write_config(config_text(b_minions=3, b_ingress=1), "b-ing1.ini")
    rc, out, err = t.run("up", "b", cfg=cfg)
    now = sorted(i["InstanceId"] for i in t.instances("b") if tags_of(i)["paasctl:role"] == "ingress")
    gone = set(ing) - set(now)
    check("scaling ingress 2 -> 1: one ingress node gone, and it left the pre-live ELB first",
          rc == 0 and len(now) == 1 and len(gone) == 1 and not gone & set(t.members(f"{NAME}-prelive")),
          (rc, now, gone, err[-1000:]))
    rc, out, err = t.run("up", "b")
    check("back to the configuration (2 ingress, 3 minions)", rc == 0, err[-1000:])
    check_slot(t, "b")


# ---- crash test ---------------------------------------------------------------

def unlock_if_held(t):
    try:
        body = t.s3.get_object(Bucket=f"{NAME}-paasctl-state", Key=f"{NAME}/lock")["Body"].read()
    except t.s3.exceptions.NoSuchKey:
        return True
    rc, out, err = t.run("unlock", json.loads(body)["id"])
    return rc == 0


def crash_once(t, k, args=("up", "b")):
    """Runs paasctl ARGS through the proxy and SIGKILLs it when the proxy
    sees its k-th request (that request still reaches the emulator: the
    crash falls between sending and reading the answer)."""
    t.reset_log()
    proc = None
    state = {"killed": False}

    def killer(method, path, form):
        if not state["killed"] and len(t.proxy.log) >= k and proc is not None:
            state["killed"] = True
            proc.send_signal(signal.SIGKILL)
        return False
    rule = Rule(match=killer, times=None)
    t.proxy.rules.append(rule)
    proc = subprocess.Popen([PAASCTL, "-c", t.cfg, *args], env=t.env(proxied=True),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    proc.wait(timeout=120)
    t.proxy.rules.remove(rule)
    return state["killed"]


def test_crash(t):
    rc, out, err = t.run("--yes", "teardown", "b")
    check("crash test starts from no slot b", rc == 0 and not t.instances("b"), err[-1000:])
    # `up b` from nothing sends about 27 requests here: the state bucket
    # check and the lock (1-2), reads (3-9), the slot bucket and its files
    # (10-16), six parallel RunInstances (17-22), the wait (23), the ELB
    # registration (24), the journal and the unlock. k spreads over them.
    last = 24
    for k in (2, 9, 12, 17, 20, 22, 23, last):
        killed = crash_once(t, k)
        unlocked = unlock_if_held(t)
        rc, out, err = t.run("up", "b")
        inst = [i for i in t.instances("b") if i["State"]["Name"] == "running"]
        alive = t.instances("b")
        bad = [tags_of(i) for i in inst if not complete(tags_of(i), "b", tags_of(i).get("paasctl:role")) or
               (tags_of(i)["paasctl:role"] == "ingress" and "paasctl:traffic" not in tags_of(i))]
        check(f"SIGKILL after request {k} of up b, then up b again: exactly 7 running instances "
              f"of slot b, each completely tagged",
              killed and unlocked and rc == 0 and len(inst) == 7 and len(alive) == 7 and not bad,
              f"killed={killed} unlocked={unlocked} rc={rc} running={len(inst)} alive={len(alive)} "
              f"bad={bad} {err[-800:]}")
        check(f"after the crash at {k}: plan b shows nothing to do",
              not change_lines(t.run("plan", "b")[1]), "")
        if k != last:
            t.run("--yes", "teardown", "b")
    check_slot(t, "b")


# ---- interlocks and the lock ------------------------------------------------------

def set_traffic(t, slot, value):
    ids = [i["InstanceId"] for i in t.instances(slot) if tags_of(i)["paasctl:role"] == "ingress"]
    t.ec2.create_tags(Resources=ids, Tags=[{"Key": "paasctl:traffic", "Value": value}])


def test_interlocks(t):
    rc, out, err = t.run("--yes", "teardown", "shell")
    check("teardown shell while slots have instances: exit 3 with a reason and what to do",
          rc == 3 and "teardown a" in err and "slot" in err, f"rc={rc} {err}")
    set_traffic(t, "a", "live")
    rc, out, err = t.run("--yes", "teardown", "a")
    check("teardown of the live slot: exit 3 with a reason and what to do",
          rc == 3 and "live" in err and "cutover" in err, f"rc={rc} {err}")
    check("the live slot is untouched", len(t.instances("a")) == 7, len(t.instances("a")))
    set_traffic(t, "a", "prelive")
    rc, out, err = t.run("teardown", "b")
    check("teardown without --yes and without a terminal: exit 3, nothing destroyed",
          rc == 3 and "--yes" in err and len(t.instances("b")) == 7, f"rc={rc} {err}")
    t.reset_log()
    rc, out, err = t.run("--dry-run", "teardown", "b", proxied=True)
    check("teardown b --dry-run lists what would go and sends no mutating request",
          rc == 0 and len([l for l in out.splitlines() if l.startswith("- destroy")]) >= 10 and
          not mutating(t.requests()) and len(t.instances("b")) == 7, out + str(mutating(t.requests())))


def test_lock(t):
    holder = {"id": "0123456789abcdef0123456789abcdef", "command": "up", "user": "alice",
              "host": "ops-box", "pid": 4242, "started": "2026-11-25T06:00:00Z"}
    t.s3.put_object(Bucket=f"{NAME}-paasctl-state", Key=f"{NAME}/lock", Body=json.dumps(holder))
    before = t.snapshot()
    rc, out, err = t.run("up", "b")
    check("a second concurrent up exits 4 naming the holder and the unlock id",
          rc == 4 and "alice" in err and "ops-box" in err and holder["id"] in err, f"rc={rc} {err}")
    check("the refused up changed nothing", t.snapshot() == before, "")
    rc, out, err = t.run("unlock", holder["id"])
    check("unlock ID clears it", rc == 0, err)
    rc, out, err = t.run("up", "b")
    check("up works again after unlock", rc == 0, err[-1000:])


# ---- teardown -------------------------------------------------------------------

def k8s_leftovers(t, slot, vpc, pub, node_sg):
    """What a slot's Kubernetes makes on its own: a classic ELB and its
    security group, tagged kubernetes.io/cluster/NAME-SLOT, with a rule in
    the node group naming that group (as the cloud provider does)."""
    key = f"kubernetes.io/cluster/{NAME}-{slot}"
    sg = t.ec2.create_security_group(GroupName=f"k8s-elb-{slot}", Description="k8s", VpcId=vpc,
                                     TagSpecifications=[{"ResourceType": "security-group",
                                                         "Tags": [{"Key": key, "Value": "owned"}]}])["GroupId"]
    t.ec2.authorize_security_group_ingress(GroupId=node_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 30080, "ToPort": 30080, "UserIdGroupPairs": [{"GroupId": sg}]}])
    name = f"a{slot}k8s0123456789"
    t.elb.create_load_balancer(LoadBalancerName=name, Subnets=list(pub.values()), SecurityGroups=[sg],
                               Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 443, "InstancePort": 30080}],
                               Tags=[{"Key": key, "Value": "owned"}])
    return name, sg


def run_on_terminal(t, args, typed):
    """Runs paasctl with a terminal as stdin and types a line into it."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([PAASCTL, "-c", t.cfg, *args], env=t.env(), stdin=slave,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    os.write(master, (typed + "\n").encode())
    out, err = p.communicate(timeout=120)
    os.close(master)
    return p.returncode, out.decode(), err.decode()


def test_teardown(t):
    vpc = t.ec2.describe_vpcs(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]}])["Vpcs"][0]["VpcId"]
    subnets = t.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    pub = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets if tags_of(s)["paasctl:role"] == "subnet-public"}
    sgs = t.ec2.describe_security_groups(Filters=[{"Name": "tag:paasctl:role", "Values": ["sg-node"]},
                                                  {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    node_sg = sgs[0]["GroupId"]
    lbs_before = [t.lb(f"{NAME}-{k}") for k in ("live", "prelive")]
    for slot in ("b", "a"):
        k8s_lb, k8s_sg = k8s_leftovers(t, slot, vpc, pub, node_sg)
        if slot == "b":
            rc, out, err = run_on_terminal(t, ("teardown", "b"), "yes")
            check("teardown b on a terminal: typing 'yes' instead of the slot's name refuses (exit 3)",
                  rc == 3 and "typed 'yes'" in err and len(t.instances("b")) == 7, f"rc={rc} {err}")
            rc, out, err = run_on_terminal(t, ("teardown", "b"), "b")
            check("teardown b on a terminal: typing 'b' confirms; the plan was shown first",
                  rc == 0 and "Type 'b' to confirm" in err and "- destroy" in out, f"rc={rc} {err[-1500:]}")
        else:
            # A teardown killed half-way is finished by running it again.
            killed = crash_once(t, 12, ("--yes", "teardown", "a"))
            check("teardown a killed after its 12th request", killed and unlock_if_held(t), "")
            rc, out, err = t.run("--yes", "teardown", slot)
        check(f"teardown {slot} exits 0", rc == 0, err[-1500:])
        check(f"teardown {slot}: no instance of slot {slot} is left running", not t.instances(slot),
              t.instances(slot))
        check(f"teardown {slot}: its DNS records and bucket are gone",
              not any(f".{slot}.{NAME}" in r for r in t.records()) and
              f"{NAME}-{slot}-config" not in [b["Name"] for b in t.s3.list_buckets()["Buckets"]], t.records())
        left = t.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
        node = [g for g in left if g["GroupId"] == node_sg][0]
        check(f"teardown {slot}: the load balancer and security group its Kubernetes made are gone, "
              f"and no rule names that group any more",
              t.lb(k8s_lb) is None and k8s_sg not in [g["GroupId"] for g in left] and
              k8s_sg not in json.dumps(node["IpPermissions"]), (t.lb(k8s_lb), [g["GroupId"] for g in left]))
    lbs_after = [t.lb(f"{NAME}-{k}") for k in ("live", "prelive")]
    strip = lambda lb: {k: v for k, v in lb.items() if k not in ("Instances",)}  # noqa: E731
    check("teardown b then a left the ELBs untouched (same config, no members)",
          all(a and b and strip(a) == strip(b) for a, b in zip(lbs_before, lbs_after)) and
          all(not lb["Instances"] for lb in lbs_after), lbs_after)
    # What a slot teardown cut short can leave behind: the slot's bucket and
    # a group its Kubernetes made (which would hold the VPC).
    t.s3.create_bucket(Bucket=f"{NAME}-a-config")
    t.s3.put_bucket_tagging(Bucket=f"{NAME}-a-config", Tagging={"TagSet": [
        {"Key": "paasctl:paas", "Value": NAME}, {"Key": "paasctl:slot", "Value": "a"}]})
    t.s3.put_object(Bucket=f"{NAME}-a-config", Key="bootstrap.sh", Body=b"#!/bin/sh\n")
    t.ec2.create_security_group(GroupName="k8s-left", Description="k8s", VpcId=vpc, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": f"kubernetes.io/cluster/{NAME}-a", "Value": "owned"}]}])
    killed = crash_once(t, 22, ("--yes", "teardown", "shell"))
    check("teardown shell killed after its 22nd request", killed and unlock_if_held(t), "")
    rc, out, err = t.run("--yes", "teardown", "shell")
    check("teardown shell, run again, exits 0", rc == 0, err[-1500:])
    left = t.tagged()
    buckets = [b["Name"] for b in t.s3.list_buckets()["Buckets"] if b["Name"].startswith(NAME)]
    lbs = [x["LoadBalancerName"] for x in t.elb.describe_load_balancers()["LoadBalancerDescriptions"]]
    nats = [n for n in t.ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"]
    vpcs = t.ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"]
    check("teardown shell leaves nothing tagged paasctl:paas=NAME (EC2, ELB, S3, Route53), "
          "leftovers of a slot included",
          not left and not buckets and not lbs and t.zone() is None and not nats and not vpcs and
          not t.instances("shell"), (left, buckets, lbs, t.zone(), nats, vpcs))
    rc, out, err = t.run("plan", "shell")
    check("plan shell after teardown lists everything to create again", rc == 0 and "25 to create" in out, out)


def main():
    t = Env()
    test_plan_empty(t)
    test_up_shell(t)
    test_idempotent(t, "shell")
    test_update_shell(t)
    test_up_slots(t)
    test_scaling(t)
    test_crash(t)
    test_interlocks(t)
    test_lock(t)
    test_teardown(t)
    t.proxy.stop()
    t.r53proxy.stop()
    done()


if __name__ == "__main__":
    main()
