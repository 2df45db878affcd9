"""The shell's edges against the signature-checking emulator, checked with
boto3 (SPEC.md "Configuration" [elb] listener/ssl_policy, "Clusters" DNS):
an HTTPS listener with its ACM certificate and the TLS policy on both ELBs;
an in-place listener change (plan `~ update`, up, re-run sends nothing);
plain HTTP on 443 refused with its line; the public alias records
`*.ZONE` -> live ELB and `*.prelive.ZONE` -> pre-live ELB, shown by status,
untouched by cutover, removed by teardown shell."""

import json
import os
import sys
import xml.dom.minidom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from harness import World, check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402
from schemas import problems  # noqa: E402

NAME = "edge"
ZONE = f"{NAME}.paas.example.com"
LIVE, PRELIVE = f"{NAME}-live", f"{NAME}-prelive"
POLICY = "ELBSecurityPolicy-TLS-1-2-2017-01"

w = World()
proxy, r53proxy = FaultProxy(w.moto.url), FaultProxy(w.r53.url)

# Two things moto 5 does not do as the ELB API reference says (API
# 2012-06-01, LoadBalancerDescription and Listener): it answers no
# CanonicalHostedZoneNameID, and reports InstanceProtocol = Protocol
# whatever was sent. The proxy in front of it answers as AWS does: it
# keeps the InstanceProtocol each listener was created with and adds the
# canonical zone id of classic ELBs in us-east-1 (Z35SXDOTRQ7X7K). paasctl
# and the boto3 checks both read through it; nothing else is changed.
ELB_ZONE_ID = "Z35SXDOTRQ7X7K"
sent_instance_protocol = {}     # (lb, port) -> InstanceProtocol sent


def remember_listeners(method, path, form):
    if form.get("Action", [""])[0] in ("CreateLoadBalancer", "CreateLoadBalancerListeners"):
        name = form["LoadBalancerName"][0]
        for k, v in form.items():
            if k.startswith("Listeners.member.") and k.endswith(".LoadBalancerPort"):
                pre = k[:-len("LoadBalancerPort")]
                sent_instance_protocol[(name, int(v[0]))] = form.get(pre + "InstanceProtocol", ["HTTP"])[0]
    return False


def text_of(node, tag):
    el = node.getElementsByTagName(tag)
    return el[0].firstChild.data if el and el[0].firstChild else ""


def as_aws_answers(body):
    doc = xml.dom.minidom.parseString(body)
    sets = doc.getElementsByTagName("LoadBalancerDescriptions")
    if not sets:            # an error answer
        return body
    for lbd in sets[0].childNodes:
        if lbd.nodeType != lbd.ELEMENT_NODE:
            continue
        name = text_of(lbd, "LoadBalancerName")
        if not lbd.getElementsByTagName("CanonicalHostedZoneNameID"):
            el = doc.createElement("CanonicalHostedZoneNameID")
            el.appendChild(doc.createTextNode(ELB_ZONE_ID))
            lbd.appendChild(el)
        for ln in lbd.getElementsByTagName("Listener"):
            port = int(text_of(ln, "LoadBalancerPort"))
            ip = ln.getElementsByTagName("InstanceProtocol")
            if ip and (name, port) in sent_instance_protocol:
                ip[0].firstChild.data = sent_instance_protocol[(name, port)]
    return doc.toxml()


# A third: moto deletes nothing (and duplicates the rest) when
# DeleteLoadBalancerListeners names several ports, which the API allows.
# The proxy sends such a call to moto one port at a time.
moto_elb = w.moto.client("elb")


def delete_ports_one_by_one(method, path, form):
    ports = [v[0] for k, v in form.items() if k.startswith("LoadBalancerPorts.member.")]
    if form.get("Action", [""])[0] != "DeleteLoadBalancerListeners" or len(ports) < 2:
        return False
    for port in ports:
        moto_elb.delete_load_balancer_listeners(LoadBalancerName=form["LoadBalancerName"][0],
                                                LoadBalancerPorts=[int(port)])
    return True


DELETED = ('<DeleteLoadBalancerListenersResponse xmlns="http://elasticloadbalancing.amazonaws.com/'
           'doc/2012-06-01/"><DeleteLoadBalancerListenersResult/><ResponseMetadata><RequestId>'
           'proxy</RequestId></ResponseMetadata></DeleteLoadBalancerListenersResponse>')
proxy.rules.append(Rule(match=remember_listeners, times=None))
proxy.rules.append(Rule(match=delete_ports_one_by_one, times=None, status=200, body=DELETED))
proxy.rules.append(Rule(action="DescribeLoadBalancers", times=None, rewrite=as_aws_answers))


def boto(service, url):
    import boto3
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=w.moto.key_id, aws_secret_access_key=w.moto.secret)


elb = boto("elb", proxy.url)
ec2 = w.moto.client("ec2")
acm = w.moto.client("acm")
r53 = w.r53.client("route53")

# ACM certificates the ELB can use (moto, like AWS, refuses an unknown one).
CERT1 = acm.request_certificate(DomainName=f"*.{ZONE}")["CertificateArn"]
CERT2 = acm.request_certificate(DomainName=f"*.prelive.{ZONE}")["CertificateArn"]


def config(listener, policy=POLICY):
    text = sample_config(NAME, slots=("a",))
    text = text.replace("listener        = 80:80\n",
                        f"listener        = {listener}\n" + (f"ssl_policy = {policy}\n" if policy else ""))
    return w.write_config(text, "paasctl.ini")


def run(*args, proxied=True):
    """paasctl, through the proxies (see as_aws_answers)."""
    extra = {"PAASCTL_POLL_MS": "50"}
    if proxied:
        extra.update(AWS_ENDPOINT_URL=proxy.url, AWS_ENDPOINT_URL_ROUTE_53=r53proxy.url)
    return w.paasctl("-c", os.path.join(w.dir, "paasctl.ini"), *args, env=w.env(**extra))


def changes_sent():
    """ELB and Route53 requests that change something (the lock and the
    journal in S3 are expected on every up)."""
    elb_acts = [a for _, _, a in proxy.log if a and not a.startswith(("Describe", "List", "Get"))
                and a in ELB_ACTIONS]
    r53_posts = [f"{m} {p}" for m, p, _ in r53proxy.log if m not in ("GET", "HEAD")]
    return elb_acts + r53_posts


ELB_ACTIONS = {"CreateLoadBalancer", "CreateLoadBalancerListeners", "DeleteLoadBalancerListeners",
               "SetLoadBalancerListenerSSLCertificate",
               "CreateLoadBalancerPolicy", "SetLoadBalancerPoliciesOfListener",
               "DeleteLoadBalancerPolicy", "ConfigureHealthCheck", "ModifyLoadBalancerAttributes"}


def lb(name):
    return elb.describe_load_balancers(LoadBalancerNames=[name])["LoadBalancerDescriptions"][0]


def listeners(name):
    return sorted((d["Listener"]["LoadBalancerPort"], d["Listener"]["Protocol"].upper(),
                   d["Listener"]["InstancePort"], d["Listener"]["InstanceProtocol"].upper(),
                   d["Listener"].get("SSLCertificateId"), tuple(d.get("PolicyNames", [])))
                  for d in lb(name)["ListenerDescriptions"])


def public_zone():
    zs = [z for z in r53.list_hosted_zones()["HostedZones"]
          if z["Name"] == ZONE + "." and not z["Config"]["PrivateZone"]]
    return zs[0]["Id"] if zs else None


def alias_records():
    """{record name with '*': (alias DNS name, alias zone id)} of the public zone."""
    zid = public_zone()
    if not zid:
        return {}
    out = {}
    for r in r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]:
        if r["Type"] == "A" and "AliasTarget" in r:
            name = r["Name"].replace("\\052", "*")
            out[name] = (r["AliasTarget"]["DNSName"].rstrip(".").lower(), r["AliasTarget"]["HostedZoneId"])
    return out


def expected_alias(name):
    d = lb(name)
    return (d["DNSName"].rstrip(".").lower(), d["CanonicalHostedZoneNameID"])


# ---- plain HTTP on 443 is refused, with the line -----------------------------
path = config("80:80, 443:80", policy=None)
line = next(i for i, l in enumerate(open(path).read().splitlines(), 1) if l.startswith("listener"))
rc, out, err = run("plan", "shell")
check("plain-443/exit-2", rc == 2, f"rc={rc} {err!r}")
check("plain-443/names file, line and key", f"paasctl.ini:{line}: listener: '443:80'" in err and
      "plain HTTP on port 443" in err, err)
config(f"80:80, 443:80:https:arn:aws:acm:us-east-1:123456789012:key/x")
rc, out, err = run("plan", "shell")
check("bad-arn/exit-2", rc == 2 and "has no valid certificate ARN" in err, f"rc={rc} {err!r}")

# ---- up shell with an HTTPS listener and a TLS policy ---------------------------
config(f"80:80, 443:80:https:{CERT1}")
rc, out, err = run("plan", "shell")
check("plan/lists the public records",
      f"*.{ZONE}." in out and f"*.prelive.{ZONE}." in out, out)
proxy.log.clear()
r53proxy.log.clear()
rc, out, err = run("up", "shell", proxied=True)
check("up-shell/exit-0", rc == 0, f"rc={rc} {out[-2000:]!r} {err!r}")


def figure(label):
    """README figures: what an up sent to ELB and Route53."""
    acts = [a for _, _, a in proxy.log if a and (a in ELB_ACTIONS or a.startswith("Describe")) and
            ("LoadBalancer" in a or a in ELB_ACTIONS)]
    r53 = [f"{m} {p.split('?')[0].rsplit('/', 1)[-1]}" for m, p, _ in r53proxy.log]
    print(f"# figure {label}: ELB {len(acts)} {sorted(set((a, acts.count(a)) for a in acts))}; "
          f"Route53 {len(r53)} {sorted(set((x, r53.count(x)) for x in r53))}")


figure("first up shell")
want = [(80, "HTTP", 80, "HTTP", None, ()),
        (443, "HTTPS", 80, "HTTP", CERT1, (f"paasctl-{POLICY}",))]
for name in (LIVE, PRELIVE):
    check(f"{name}/listeners http 80 and https 443 with the certificate and the policy",
          listeners(name) == want, listeners(name))
    pols = elb.describe_load_balancer_policies(LoadBalancerName=name,
                                               PolicyNames=[f"paasctl-{POLICY}"])["PolicyDescriptions"]
    attrs = {a["AttributeName"]: a["AttributeValue"] for a in pols[0]["PolicyAttributeDescriptions"]}
    check(f"{name}/policy is SSLNegotiationPolicyType referencing {POLICY}",
          pols[0]["PolicyTypeName"] == "SSLNegotiationPolicyType" and
          attrs.get("Reference-Security-Policy") == POLICY, pols)
sg = ec2.describe_security_groups(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                           {"Name": "tag:paasctl:role", "Values": ["sg-elb"]}])
ports = sorted(p["FromPort"] for p in sg["SecurityGroups"][0]["IpPermissions"])
check("sg-elb opens 80 and 443", ports == [80, 443], ports)

recs = alias_records()
check("public *.ZONE aliases the live ELB (DNS name and zone id)",
      recs.get(f"*.{ZONE}.") == expected_alias(LIVE), (recs, expected_alias(LIVE)))
check("public *.prelive.ZONE aliases the pre-live ELB",
      recs.get(f"*.prelive.{ZONE}.") == expected_alias(PRELIVE), (recs, expected_alias(PRELIVE)))

# ---- re-run: nothing to do, nothing sent -----------------------------------------
proxy.log.clear()
r53proxy.log.clear()
rc, out, err = run("up", "shell", proxied=True)
check("rerun/exit-0", rc == 0, err)
figure("re-run up shell")
check("rerun/no ELB or Route53 change sent", changes_sent() == [], changes_sent())
rc, out, err = run("plan", "shell")
check("rerun/plan has no change line", not [l for l in out.splitlines() if l[:2] in ("+ ", "~ ")], out)

# ---- in-place listener change -----------------------------------------------------
config(f"80:80, 8080:8080, 443:80:https:{CERT2}")
rc, out, err = run("plan", "shell")
lb_lines = [l for l in out.splitlines() if l.startswith("~ ") and (LIVE in l or PRELIVE in l)]
check("change/plan shows ~ update of both ELBs with what changes",
      len(lb_lines) == 2 and all("~443 certificate (in place)" in l and "+8080 HTTP->8080" in l
                                 for l in lb_lines), out)
dns_before = alias_records()
lb_dns_before = (lb(LIVE)["DNSName"], lb(PRELIVE)["DNSName"])
proxy.log.clear()
rc, out, err = run("up", "shell", proxied=True)
check("change/exit-0", rc == 0, f"{out[-1500:]!r} {err!r}")
acts = [a for _, _, a in proxy.log if a in ELB_ACTIONS]
# A new certificate on 443 is swapped on the listener, which is never
# deleted (no moment without 443 on the live ELB); 8080 is added.
check("change/in place: 443's certificate swapped, 8080 created, nothing deleted, no ELB created",
      "CreateLoadBalancer" not in acts and "DeleteLoadBalancerListeners" not in acts and
      acts.count("SetLoadBalancerListenerSSLCertificate") == 2 and
      acts.count("CreateLoadBalancerListeners") == 2, acts)
want = [(80, "HTTP", 80, "HTTP", None, ()),
        (443, "HTTPS", 80, "HTTP", CERT2, (f"paasctl-{POLICY}",)),
        (8080, "HTTP", 8080, "HTTP", None, ())]
for name in (LIVE, PRELIVE):
    check(f"change/{name} has the new listeners, each TLS one with the policy",
          listeners(name) == want, listeners(name))
check("change/same ELBs, same public records",
      (lb(LIVE)["DNSName"], lb(PRELIVE)["DNSName"]) == lb_dns_before and alias_records() == dns_before)
proxy.log.clear()
r53proxy.log.clear()
rc, out, err = run("up", "shell", proxied=True)
check("change/rerun sends nothing", rc == 0 and changes_sent() == [], (rc, changes_sent()))

# ---- an ssl listener and a changed TLS policy: new policy set, the old one
# deleted, the listeners no longer wanted gone ---------------------------------------
NEW = "ELBSecurityPolicy-2016-08"
config(f"80:80, 8443:8443:ssl:{CERT1}", policy=NEW)
rc, out, err = run("up", "shell")
check("policy-change/exit-0", rc == 0, err)
for name in (LIVE, PRELIVE):
    check(f"policy-change/{name}: 80 http and 8443 ssl (TCP to the instances) only",
          [l[:5] for l in listeners(name)] == [(80, "HTTP", 80, "HTTP", None),
                                               (8443, "SSL", 8443, "TCP", CERT1)], listeners(name))
sg = ec2.describe_security_groups(Filters=[{"Name": "tag:paasctl:paas", "Values": [NAME]},
                                           {"Name": "tag:paasctl:role", "Values": ["sg-elb"]}])
ports = sorted(p["FromPort"] for p in sg["SecurityGroups"][0]["IpPermissions"])
check("policy-change/sg-elb opens 80 and 8443, no longer 443 and 8080", ports == [80, 8443], ports)
for name in (LIVE, PRELIVE):
    pols = [p["PolicyName"] for p in elb.describe_load_balancer_policies(LoadBalancerName=name)["PolicyDescriptions"]
            if p["PolicyName"].startswith("paasctl-")]
    check(f"policy-change/{name}: listeners use the new policy, the old one is gone",
          all(l[5] == (f"paasctl-{NEW}",) for l in listeners(name) if l[4]) and pols == [f"paasctl-{NEW}"],
          (listeners(name), pols))

# ---- status shows the records ---------------------------------------------------
rc, out, err = run("status")
check("status/table shows both public names", rc == 0 and f"*.{ZONE}" in out and
      f"*.prelive.{ZONE}" in out, out)
rc, out, err = run("-o", "json", "status")
check("status/json matches docs/schema/status.json with the records", not problems("status", out, rc),
      problems("status", out, rc))
st = json.loads(out) if rc == 0 else {}
pd = st.get("public_dns") or {}
check("status/json public_dns live and prelive point at their ELBs",
      (pd.get("live") or {}).get("alias_dns", "").rstrip(".").lower() == expected_alias(LIVE)[0] and
      (pd.get("prelive") or {}).get("alias_dns", "").rstrip(".").lower() == expected_alias(PRELIVE)[0] and
      pd["live"].get("ok") is True and pd["prelive"].get("ok") is True, pd)

# ---- teardown shell removes them (before the ELBs) ---------------------------------
rc, out, err = run("teardown", "shell", "--yes")
check("teardown-shell/exit-0", rc == 0, err[-1500:])
order = [l for l in out.splitlines() if l.startswith("- ")]
first_elb = next((i for i, l in enumerate(order) if " elb " in f" {l} "), len(order))
check("teardown-shell/the records come before the ELBs",
      [i for i, l in enumerate(order) if "dns-record" in l and "*." in l] == [0, 1] and first_elb > 1, order)
check("teardown-shell/records gone", alias_records() == {}, alias_records())
check("teardown-shell/the zone paasctl made is gone", public_zone() is None, public_zone())

# ---- an operator's own public zone survives teardown shell ----------------------------
# The zone DNS_ZONE existed before paasctl (no paasctl:paas tag) and holds a
# record of the operator's: teardown shell deletes only the two public names.
own = r53.create_hosted_zone(Name=ZONE, CallerReference="operator-zone")["HostedZone"]["Id"]
r53.change_resource_record_sets(HostedZoneId=own, ChangeBatch={"Changes": [{
    "Action": "CREATE", "ResourceRecordSet": {
        "Name": f"www.{ZONE}", "Type": "A", "TTL": 300,
        "ResourceRecords": [{"Value": "192.0.2.10"}]}}]})
rc, out, err = run("up", "shell")
check("own-zone/up shell uses the existing zone", rc == 0 and public_zone() == own and
      len(alias_records()) == 2, err[-1500:])
rc, out, err = run("teardown", "shell", "--yes")
check("own-zone/teardown shell exits 0", rc == 0, err[-1500:])
check("own-zone/says the zone is kept and why", "kept: not made by this paas" in out, out)
check("own-zone/the zone is still there", public_zone() == own, public_zone())
left = {(r["Name"], r["Type"]) for r in r53.list_resource_record_sets(HostedZoneId=own)
        ["ResourceRecordSets"]} if public_zone() else set()
check("own-zone/the operator's record is kept, the two names are gone",
      (f"www.{ZONE}.", "A") in left and alias_records() == {}, left)

# A record someone added to the zone paasctl made keeps that zone too.
WWW = {"Name": f"www.{ZONE}", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.10"}]}
r53.change_resource_record_sets(HostedZoneId=own, ChangeBatch={"Changes": [
    {"Action": "DELETE", "ResourceRecordSet": WWW}]})
r53.delete_hosted_zone(Id=own)
rc, out, err = run("up", "shell")
made = public_zone()
check("foreign-record/up shell makes the zone", rc == 0 and made and made != own, err[-1500:])
r53.change_resource_record_sets(HostedZoneId=made, ChangeBatch={"Changes": [
    {"Action": "CREATE", "ResourceRecordSet": WWW}]})
rc, out, err = run("teardown", "shell", "--yes")
check("foreign-record/teardown shell keeps the zone and names the record",
      rc == 0 and public_zone() == made and "kept: holds 1 record(s) paasctl did not make" in out
      and f"www.{ZONE}." in out, out + err[-1500:])
# The shell is gone (the state bucket too), the zone stays for its owner.
r53.change_resource_record_sets(HostedZoneId=made, ChangeBatch={"Changes": [
    {"Action": "DELETE", "ResourceRecordSet": WWW}]})
r53.delete_hosted_zone(Id=made)

# ---- cutover leaves DNS alone (a fresh shell, slot a, first cutover) -----------------
rc, out, err = run("up", "shell")
check("again/up-shell", rc == 0, err[-1500:])
rc, out, err = run("up", "a")
check("up-a/exit-0", rc == 0, err[-1500:])
before = alias_records()
check("again/records made", len(before) == 2, before)
r53proxy.log.clear()
rc, out, err = run("cutover", proxied=True)
check("cutover/exit-0", rc == 0, err[-1500:])
check("cutover/sent nothing to Route53 that changes",
      not [m for m, _, _ in r53proxy.log if m not in ("GET", "HEAD")], r53proxy.log)
check("cutover/records unchanged", alias_records() == before, (before, alias_records()))
check("cutover/records still alias the ELBs",
      alias_records().get(f"*.{ZONE}.") == expected_alias(LIVE) and
      alias_records().get(f"*.prelive.{ZONE}.") == expected_alias(PRELIVE))

proxy.stop()
r53proxy.stop()
done()
