"""smoke b (SPEC.md "Smoke") against the signature-checking AWS
emulator and the stand-in Kubernetes API server: slot b's instances and its
pre-live ELB are made with boto3, a Node joins for each instance as its
kubelet would, and a small HTTP server on loopback stands in for the slot's
ingress controller (reached through [smoke] connect_to). A healthy slot
passes; each of a missing node, a NotReady node, a crashing kube-system pod,
a deployment short of replicas, a stopped ingress instance and an ingress
host answering 503 fails, naming the check and the object."""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import World, check, done, sample_config  # noqa: E402
from standin import Standin  # noqa: E402
from schemas import problems  # noqa: E402

NAME = "smk"
w = World()
ec2, elb = w.moto.client("ec2"), w.moto.client("elb")

# --- AWS: slot b's nodes and the pre-live ELB, as `up b` leaves them ----------
PRELIVE = f"{NAME}-prelive"
elb.create_load_balancer(LoadBalancerName=PRELIVE, AvailabilityZones=["us-east-1a"],
                         Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}])
elb.create_load_balancer(LoadBalancerName=f"{NAME}-live", AvailabilityZones=["us-east-1a"],
                         Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}])
elb_dns = elb.describe_load_balancers(LoadBalancerNames=[PRELIVE])["LoadBalancerDescriptions"][0]["DNSName"]


def launch(role, n):
    tags = [{"Key": k, "Value": v} for k, v in (("paasctl:paas", NAME), ("paasctl:slot", "b"),
                                                ("paasctl:role", role), ("Name", f"{NAME}-b-{role}"))]
    if role == "ingress":
        tags.append({"Key": "paasctl:traffic", "Value": "prelive"})
    r = ec2.run_instances(ImageId="ami-0abcdef1234567890", MinCount=n, MaxCount=n,
                          Placement={"AvailabilityZone": "us-east-1a"},
                          TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
    return r["Instances"]


ingress, minions = launch("ingress", 2), launch("minion", 3)
master = launch("master", 1)  # not a kubelet the smoke suite requires
elb.register_instances_with_load_balancer(LoadBalancerName=PRELIVE,
                                          Instances=[{"InstanceId": i["InstanceId"]} for i in ingress])

# --- the stand-in API server -------------------------------------------------------
standin = Standin(w.dir, "paas-b").wait()
kdir = standin.dir
kube = standin.call


def join(inst):
    return kube("POST", "/_standin/nodes", {
        "name": inst["PrivateDnsName"], "providerID": f"aws:///us-east-1a/{inst['InstanceId']}",
        "ready": True, "zone": "us-east-1a"})


for inst in ingress + minions:
    join(inst)
kube("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
kube("POST", "/apis/apps/v1/namespaces/shop/deployments", {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
kube("POST", "/apis/networking.k8s.io/v1/namespaces/shop/ingresses", {
    "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
kube("POST", "/_standin/settle", {})

# --- the slot's ingress controller: a loopback HTTP server ----------------------------
answers = {"shop.example.com": 200}
seen_paths = []


class Ingress(BaseHTTPRequestHandler):
    def do_GET(self):
        seen_paths.append((self.headers.get("Host"), self.path))
        code = answers.get(self.headers.get("Host", "").split(":")[0], 404)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


ing_srv = ThreadingHTTPServer(("127.0.0.1", 0), Ingress)
threading.Thread(target=ing_srv.serve_forever, daemon=True).start()
connect_to = f"{elb_dns}:80:127.0.0.1:{ing_srv.server_address[1]}"


def config(timeout):
    return w.write_config(sample_config(NAME, zones=1, slots=("b",), cluster_extra=f"""kubeconfig    = {kdir}/kubeconfig
context       = paas-b
""", extra=f"""
[smoke]
timeout    = {timeout}
namespaces = shop
path       = /healthz
connect_to = {connect_to}
"""), f"smoke-{timeout}.ini")


# The failing cases need one round of checks, not retries: a timeout below
# a second ends each of them after a round or two of 200 ms polls.
fast, slow = config(0.5), config(60)


schema_problems = []   # SPEC.md "Output": every report against docs/schema/smoke.json


def smoke(cfg=fast):
    rc, out, err = w.paasctl("-c", cfg, "-o", "json", "smoke", "b")
    schema_problems.append(problems("smoke", out, rc))
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {"checks": []}
    return rc, {c["check"]: c for c in doc.get("checks", [])}, err, doc


rc, checks, err, doc = smoke()
check("healthy/exit-0", rc == 0, f"rc={rc} err={err!r} checks={checks}")
check("healthy/six-checks-pass", len(checks) == 6 and all(c["pass"] for c in checks.values()), checks)
check("healthy/ingress-probed-with-host-and-path", ("shop.example.com", "/healthz") in seen_paths, seen_paths)
rc, out, err = w.paasctl("-c", fast, "smoke", "b")
check("healthy/table", rc == 0 and "CHECK" in out and "smoke b: passed" in out, out)


def failing(case, check_name, needle, undo, also=()):
    rc, checks, err, doc = smoke()
    c = checks.get(check_name, {})
    check(f"{case}/exit-1", rc == 1, f"rc={rc} err={err!r}")
    check(f"{case}/names-check-and-object", c and not c["pass"] and needle in c["reason"]
          and check_name in err and needle in err, f"{c} / {err!r}")
    others = [n for n, v in checks.items() if n != check_name and n not in also and not v["pass"]]
    check(f"{case}/other-checks-pass", others == [], others)
    undo()
    # The next case starts from a healthy slot: wait until the suite passes
    # again (pods of a node that left are rescheduled, for one).
    kube("POST", "/_standin/settle", {})
    rc, checks, err, doc = smoke(slow)
    check(f"{case}/recovers-after-undo", rc == 0, f"rc={rc} {checks}")


victim = minions[1]
kube("DELETE", f"/_standin/nodes/{victim['PrivateDnsName']}")
# A node that leaves takes its pods along, so workloads may fail with it.
failing("missing-node", "nodes", victim["InstanceId"], lambda: join(victim), also=("workloads",))

kube("POST", f"/_standin/nodes/{minions[0]['PrivateDnsName']}/ready", {"ready": False})
# Pods on a NotReady node turn unready too, so workloads may fail with it,
# depending on where the scheduler put them.
failing("notready-node", "nodes", f"{minions[0]['PrivateDnsName']} is NotReady",
        lambda: kube("POST", f"/_standin/nodes/{minions[0]['PrivateDnsName']}/ready", {"ready": True}),
        also=("workloads",))

pod = kube("GET", "/api/v1/namespaces/kube-system/pods")[1]["items"][0]["metadata"]["name"]
kube("POST", f"/_standin/pods/kube-system/{pod}/phase", {"waiting": "CrashLoopBackOff"})
failing("crashing-system-pod", "kube-system", f"kube-system/{pod} is CrashLoopBackOff",
        lambda: kube("POST", f"/_standin/pods/kube-system/{pod}/phase", {}))

kube("POST", "/_standin/deployments/shop/web/available", {"available": 1})
failing("deployment-short", "workloads", "deployment shop/web has 1/2 available",
        lambda: kube("POST", "/_standin/deployments/shop/web/available", {"available": None}))

stopped = ingress[0]["InstanceId"]
ec2.stop_instances(InstanceIds=[stopped])
failing("stopped-ingress-instance", "elb", stopped,
        lambda: ec2.start_instances(InstanceIds=[stopped]))

answers["shop.example.com"] = 503
failing("ingress-host-503", "ingress", "shop.example.com", lambda: answers.update({"shop.example.com": 200}))

# Failing checks are retried until the timeout: a node that becomes Ready
# two seconds in lets the suite pass in a later round.
kube("POST", f"/_standin/nodes/{minions[2]['PrivateDnsName']}/ready", {"ready": False})
threading.Timer(2.0, lambda: kube("POST", f"/_standin/nodes/{minions[2]['PrivateDnsName']}/ready",
                                  {"ready": True})).start()
rc, checks, err, doc = smoke(slow)
check("retry/passes-after-recovery", rc == 0 and doc.get("rounds", 0) > 1, f"rc={rc} doc={doc}")

# Credentials and trust: a CA that did not sign the server, and a bearer
# token the server rejects, each fail with exit 1 and say so - never a
# silent retry without verification.
import base64  # noqa: E402
import subprocess  # noqa: E402
import yaml  # noqa: E402  (PyYAML comes with moto)

other_ca = os.path.join(w.dir, "other-ca")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=not-the-cluster-ca",
                "-keyout", other_ca + ".key", "-out", other_ca + ".crt", "-days", "2"],
               check=True, capture_output=True)
kc = yaml.safe_load(open(os.path.join(kdir, "kubeconfig")))
bad_ca = json.loads(json.dumps(kc))
bad_ca["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
    open(other_ca + ".crt", "rb").read()).decode()
bad_token = json.loads(json.dumps(kc))
bad_token["users"][0]["user"] = {"token": "not-a-valid-token-0123456789"}
for case, doc, needle in (("wrong-ca", bad_ca, "TLS"), ("bad-token", bad_token, "401")):
    path = os.path.join(w.dir, f"{case}.kubeconfig")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f)
    cfg_text = open(fast).read().replace(f"{kdir}/kubeconfig", path)
    cfg_path = w.write_config(cfg_text, f"{case}.ini")
    rc, out, err = w.paasctl("-c", cfg_path, "-o", "json", "smoke", "b")
    api = {c["check"]: c for c in json.loads(out)["checks"]}.get("api", {}) if out else {}
    check(f"{case}/exit-1-says-so", rc == 1 and needle in api.get("reason", "") and needle in err,
          f"rc={rc} api={api} err={err!r}")
    check(f"{case}/no-secret-in-output", "not-a-valid-token" not in out + err, "token printed")

# A wrong slot and a slot without its section are usage errors.
rc, out, err = w.paasctl("-c", fast, "smoke", "c")
check("usage/unknown-slot-exit-2", rc == 2, f"rc={rc} {err!r}")
rc, out, err = w.paasctl("-c", fast, "smoke", "a")
check("usage/no-cluster-section-exit-2", rc == 2 and "[cluster a]" in err, f"rc={rc} {err!r}")
ing_srv.shutdown()
check("output/every-json-report-matches-schema", schema_problems and not any(schema_problems),
      [x for x in schema_problems if x][:3])
done()
