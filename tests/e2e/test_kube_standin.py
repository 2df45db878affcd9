#!/usr/bin/env python3
"""End-to-end check of the stand-in Kubernetes API server (tests/kube/apiserver.py)
against the real kubectl: if kubectl is happy with it, paasctl's tests can
trust it.  Prints `PASS: name` / `FAIL: name: why` per check and exits
non-zero on any failure.  Run: python3 -u tests/e2e/test_kube_standin.py
"""
import atexit
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import http.client
import ipaddress

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SERVER = os.path.join(REPO, "tests", "kube", "apiserver.py")
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
DEADLINE = time.time() + 120          # hard stop for the whole run

# stderr lines that mean the server misbehaved, whatever the command
BAD_STDERR = ("couldn't get resource list", "Unhandled Error", "memcache.go", "the server could not find the requested resource",
              "unable to retrieve the complete list", "panic", "failed to download openapi",
              "the server was unable to respond with a content type")

results = []
tmp = tempfile.mkdtemp(prefix="kube-standin-test-")
state = os.path.join(tmp, "state")
home = os.path.join(tmp, "home")
os.makedirs(home)
procs = []


def stop_all():
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(5)
            except Exception:
                p.kill()
                p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


atexit.register(stop_all)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda s, f: sys.exit(1))


def check(name, cond, why=""):
    results.append((name, bool(cond)))
    print(f"PASS: {name}" if cond else f"FAIL: {name}: {why}", flush=True)
    return bool(cond)


class Failed(Exception):
    pass


def run_check(name, fn):
    if time.time() > DEADLINE:
        return check(name, False, "time budget exhausted")
    t0 = time.time()
    try:
        r = fn()
        if os.environ.get("STANDIN_TEST_TIMING"):
            print(f"  ({name}: {time.time() - t0:.2f}s)", flush=True)
        return check(name, r is None or r is True, r if isinstance(r, str) else "")
    except Failed as e:
        return check(name, False, str(e))
    except Exception as e:
        return check(name, False, f"{type(e).__name__}: {e}")


def need(cond, why):
    if not cond:
        raise Failed(why)


# -- the server ---------------------------------------------------------------------
def start_server(extra=()):
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    log = open(os.path.join(tmp, "server.log"), "ab")
    p = subprocess.Popen([sys.executable, SERVER, "--listen", "127.0.0.1:0", "--state-dir", state,
                          "--context", "standin-test", "--port-file", port_file, "--persist", *extra],
                         stdout=log, stderr=log)
    procs.append(p)
    end = time.time() + 20
    while time.time() < end and not os.path.exists(port_file):
        if p.poll() is not None:
            raise Failed(f"server exited with {p.returncode}: {server_log()}")
        time.sleep(0.05)
    need(os.path.exists(port_file), "no port file within 20 s")
    port = int(open(port_file).read())
    end = time.time() + 10
    while time.time() < end:
        try:
            code, _, _ = raw("GET", "/_standin/health", port=port)
            if code == 200:
                return p, port
        except OSError:
            pass
        time.sleep(0.05)
    raise Failed("server did not answer /_standin/health within 10 s")


def server_log():
    try:
        return open(os.path.join(tmp, "server.log"), "rb").read().decode(errors="replace")[-2000:]
    except OSError:
        return ""


PORT = None


def raw(method, path, body=None, headers=None, port=None, auth="token", ctype="application/json"):
    """One HTTPS request with an independent client; returns (status, headers, body)."""
    ctx = ssl.create_default_context(cafile=os.path.join(state, "ca.crt"))
    if auth == "cert":
        ctx.load_cert_chain(os.path.join(state, "client.crt"), os.path.join(state, "client.key"))
    c = http.client.HTTPSConnection("127.0.0.1", port or PORT, context=ctx, timeout=30)
    h = dict(headers or {})
    if auth == "token":
        h["Authorization"] = "Bearer " + open(os.path.join(state, "token")).read().strip()
    elif auth and auth.startswith("Bearer "):
        h["Authorization"] = auth
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", ctype)
    c.request(method, path, data, h)
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, dict(r.getheaders()), out


def rawj(method, path, body=None, **kw):
    code, hdr, out = raw(method, path, body, **kw)
    try:
        return code, hdr, json.loads(out)
    except ValueError:
        return code, hdr, out


stderr_seen = []


def kubectl(*args, stdin=None, timeout=30, expect_rc=0):
    env = dict(os.environ, HOME=home, KUBECONFIG="")
    env.pop("KUBECTL_EXTERNAL_DIFF", None)
    p = subprocess.run([KUBECTL, "--kubeconfig", os.path.join(state, "kubeconfig"), *args],
                       input=stdin, capture_output=True, text=True, env=env, timeout=timeout)
    stderr_seen.append((args, p.stderr))
    if expect_rc is not None and p.returncode != expect_rc:
        raise Failed(f"kubectl {' '.join(args)} -> rc {p.returncode} (want {expect_rc}): {p.stderr.strip()[:400]}")
    for bad in BAD_STDERR:
        if bad in p.stderr:
            raise Failed(f"kubectl {' '.join(args)} stderr has {bad!r}: {p.stderr.strip()[:400]}")
    return p.returncode, p.stdout, p.stderr


def wait_for(fn, what, timeout=10.0):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise Failed(f"timed out waiting for {what}")


def settle():
    raw("POST", "/_standin/settle", {})


def manifest(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


APP = manifest("app.yaml", """\
apiVersion: v1
kind: Namespace
metadata:
  name: payments
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: payments
data:
  mode: blue
---
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
  namespace: payments
stringData:
  password: not-a-real-one
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: payments
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        env:
        - {name: MODE, value: blue}
        - {name: LOG, value: info}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: payments
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
""")

CRD = manifest("crd.yaml", """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
""")

WIDGET = manifest("widget.yaml", """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: payments}
spec: {size: 3}
""")


# -- checks ---------------------------------------------------------------------------
def t_files():
    for f in ("kubeconfig", "ca.crt", "client.crt", "client.key", "token"):
        need(os.path.exists(os.path.join(state, f)), f"missing {f}")
    kc = open(os.path.join(state, "kubeconfig")).read()
    need("certificate-authority-data:" in kc and "client-certificate-data:" in kc and
         "client-key-data:" in kc and "current-context: standin-test" in kc, "kubeconfig lacks inline data/context")


def t_auth():
    code, _, body = rawj("GET", "/api/v1/namespaces", auth=None)
    need(code == 401 and body.get("kind") == "Status" and body.get("reason") == "Unauthorized",
         f"anonymous: {code} {body}")
    code, _, _ = rawj("GET", "/api/v1/namespaces", auth="Bearer wrong")
    need(code == 401, f"wrong token: {code}")
    code, _, _ = rawj("GET", "/api/v1/namespaces", auth="cert")
    need(code == 200, f"client cert: {code}")
    code, _, body = rawj("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, auth="cert")
    need(code == 201 and body["status"]["userInfo"]["username"] == "paasctl-admin" and
         "system:masters" in body["status"]["userInfo"]["groups"], f"whoami: {code} {body}")


def t_version():
    _, out, _ = kubectl("version", "-o", "json")
    sv = json.loads(out)["serverVersion"]
    need(sv["major"] == "1" and sv["minor"] == "32" and sv["gitVersion"] == "v1.32.0", f"serverVersion {sv}")


def t_get_ns():
    _, out, _ = kubectl("get", "ns")
    lines = out.splitlines()
    need(lines[0].split() == ["NAME", "STATUS", "AGE"], f"header {lines[0]!r}")
    names = {l.split()[0]: l.split()[1] for l in lines[1:]}
    need(names == {"default": "Active", "kube-system": "Active", "kube-public": "Active",
                   "kube-node-lease": "Active"}, f"namespaces {names}")


def t_discovery():
    code, hdr, body = rawj("GET", "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    need(code == 200 and body.get("kind") == "APIGroupDiscoveryList", f"aggregated /apis: {code}")
    need("as=APIGroupDiscoveryList" in hdr.get("Content-Type", ""), f"content type {hdr.get('Content-Type')}")
    gvs = {(g["metadata"]["name"], v["version"]) for g in body["items"] for v in g["versions"]}
    need(("apps", "v1") in gvs and ("storage.k8s.io", "v1beta1") not in gvs, "group versions")
    code, _, body = rawj("GET", "/apis")
    need(code == 200 and body["kind"] == "APIGroupList", "legacy /apis")
    for g in body["groups"]:
        for v in g["versions"]:
            c, _, _ = raw("GET", f"/apis/{v['groupVersion']}")
            need(c == 200, f"advertised {v['groupVersion']} answers {c}")
    code, _, body = rawj("GET", "/apis/storage.k8s.io/v1beta1")
    need(code == 404 and body.get("reason") == "NotFound", f"storage.k8s.io/v1beta1: {code}")
    code, _, body = rawj("GET", "/api")
    need(code == 200 and body.get("kind") == "APIVersions" and body["versions"] == ["v1"], "/api")


def t_api_resources():
    _, out, _ = kubectl("api-resources")
    rows = {l.split()[0]: l.split() for l in out.splitlines()[1:]}
    need(rows.get("pods") == ["pods", "po", "v1", "true", "Pod"], f"pods row {rows.get('pods')}")
    need(rows.get("deployments") == ["deployments", "deploy", "apps/v1", "true", "Deployment"],
         f"deployments row {rows.get('deployments')}")
    need(rows.get("clusterroles") == ["clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"],
         f"clusterroles row {rows.get('clusterroles')}")


def t_create_multi():
    _, out, _ = kubectl("create", "-f", APP)
    want = ["namespace/payments created", "configmap/app-config created", "secret/app-secret created",
            "deployment.apps/web created", "service/web created"]
    need(out.splitlines() == want, f"output {out!r}")


def t_node_join():
    code, _, body = rawj("POST", "/_standin/nodes", {"name": "ip-10-0-16-5.ec2.internal",
                                                     "providerID": "aws:///us-east-1a/i-0123456789abcdef0"})
    need(code == 201, f"join: {code} {body}")
    _, out, _ = kubectl("get", "nodes", "-o", "wide")
    row = next((l.split() for l in out.splitlines() if l.startswith("ip-10-0-16-5.ec2.internal")), None)
    need(row and row[1] == "Ready" and row[2] == "<none>" and row[4] == "v1.32.0" and row[5] == "10.0.16.5",
         f"node row {row}")
    _, out, _ = kubectl("get", "node", "ip-10-0-16-5.ec2.internal", "-o", "jsonpath={.spec.providerID}")
    need(out == "aws:///us-east-1a/i-0123456789abcdef0", f"providerID {out!r}")


def t_get_all():
    def ready():
        _, out, _ = kubectl("get", "deploy", "web", "-n", "payments", "-o", "jsonpath={.status.availableReplicas}")
        return out == "2"
    wait_for(ready, "deployment web to become available")
    _, out, _ = kubectl("get", "all", "-A", "-o", "json")
    doc = json.loads(out)
    need(doc["kind"] == "List", "kind List")
    items = doc["items"]
    dep = next((i for i in items if i["kind"] == "Deployment" and i["metadata"]["name"] == "web"), None)
    need(dep is not None, "deployment missing")
    need(dep["spec"]["strategy"]["type"] == "RollingUpdate" and dep["metadata"]["generation"] == 1,
         "deployment defaults/generation")
    rss = [i for i in items if i["kind"] == "ReplicaSet" and any(
        r["uid"] == dep["metadata"]["uid"] and r.get("controller") for r in i["metadata"].get("ownerReferences", []))]
    need(len(rss) == 1, f"replicasets owned by web: {len(rss)}")
    pods = [i for i in items if i["kind"] == "Pod" and any(
        r["uid"] == rss[0]["metadata"]["uid"] for r in i["metadata"].get("ownerReferences", []))]
    need(len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods), f"pods {len(pods)}")
    svc = next((i for i in items if i["kind"] == "Service" and i["metadata"]["name"] == "web"), None)
    need(svc and ipaddress.ip_address(svc["spec"]["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
         and svc["spec"]["clusterIPs"] == [svc["spec"]["clusterIP"]], f"service clusterIP {svc and svc['spec']}")
    k = next((i for i in items if i["kind"] == "Service" and i["metadata"]["name"] == "kubernetes"), None)
    need(k and k["spec"]["clusterIP"] == "10.96.0.1", "kubernetes service")
    sys_pods = [i for i in items if i["kind"] == "Pod" and i["metadata"]["namespace"] == "kube-system"]
    need(sys_pods and all(p["status"]["phase"] == "Running" for p in sys_pods) and
         any(p["metadata"]["name"].startswith("coredns-") for p in sys_pods), "kube-system pods")
    _, out, _ = kubectl("get", "endpoints", "web", "-n", "payments", "-o", "json")
    addrs = json.loads(out)["subsets"][0]["addresses"]
    need(sorted(a["ip"] for a in addrs) == sorted(p["status"]["podIP"] for p in pods), "endpoints follow pods")
    _, out, _ = kubectl("get", "endpointslices", "-n", "payments", "-l", "kubernetes.io/service-name=web", "-o", "name")
    need(len(out.split()) == 1, f"endpointslices {out!r}")
    # the list wire format itself: built-in items carry no kind/apiVersion
    code, _, body = rawj("GET", "/api/v1/namespaces/payments/configmaps")
    need(code == 200 and body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1" and
         all("kind" not in i and "apiVersion" not in i for i in body["items"]), "list wire format")
    # every namespace got its default service account and root CA
    _, out, _ = kubectl("get", "sa,cm", "-n", "payments", "-o", "name")
    need("serviceaccount/default" in out.split() and "configmap/kube-root-ca.crt" in out.split(), out)


def t_apply():
    path = manifest("applied.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n"
                                    "  namespace: payments\ndata:\n  a: \"1\"\n")
    _, out, _ = kubectl("apply", "-f", path)
    need(out.strip() == "configmap/applied created", out)
    manifest("applied.yaml", open(path).read().replace('"1"', '"2"'))
    _, out, _ = kubectl("apply", "-f", path)
    need(out.strip() == "configmap/applied configured", out)
    _, out, _ = kubectl("apply", "-f", path)
    need(out.strip() == "configmap/applied unchanged", out)
    _, out, _ = kubectl("get", "cm", "applied", "-n", "payments", "-o", "json")
    cm = json.loads(out)
    need(cm["data"] == {"a": "2"} and "kubectl.kubernetes.io/last-applied-configuration" in cm["metadata"]["annotations"],
         f"applied object {cm['data']}")


def t_patch_strategic():
    _, out, _ = kubectl("patch", "deployment", "web", "-n", "payments", "-p",
                        '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"MODE","value":"green"}]},'
                        '{"name":"sidecar","image":"busybox:1.36"}]}}}}')
    need(out.strip() == "deployment.apps/web patched", out)
    _, out, _ = kubectl("get", "deployment", "web", "-n", "payments", "-o", "json")
    d = json.loads(out)
    cs = d["spec"]["template"]["spec"]["containers"]
    need([c["name"] for c in cs] == ["web", "sidecar"], f"containers {[c['name'] for c in cs]}")
    need(cs[0]["image"] == "nginx:1.27" and cs[0]["env"] == [{"name": "MODE", "value": "green"},
                                                             {"name": "LOG", "value": "info"}],
         f"merged container {cs[0]}")
    need(d["metadata"]["generation"] == 2, f"generation {d['metadata']['generation']}")

    def rolled():
        _, o, _ = kubectl("get", "rs", "-n", "payments", "-o", "json")
        rs = [r for r in json.loads(o)["items"] if r["metadata"]["name"].startswith("web-")]
        return len(rs) == 2 and sorted(r["spec"]["replicas"] for r in rs) == [0, 2] and \
            any(r["status"].get("readyReplicas") == 2 for r in rs)
    wait_for(rolled, "the rollout to a second replica set")
    # merge patch and JSON patch too
    kubectl("patch", "cm", "app-config", "-n", "payments", "--type=merge", "-p", '{"data":{"extra":"x"}}')
    kubectl("patch", "cm", "app-config", "-n", "payments", "--type=json",
            "-p", '[{"op":"replace","path":"/data/mode","value":"green"}]')
    _, out, _ = kubectl("get", "cm", "app-config", "-n", "payments", "-o", "jsonpath={.data}")
    need(json.loads(out) == {"mode": "green", "extra": "x"}, out)


def t_node_status():
    n = "ip-10-0-16-5.ec2.internal"
    _, out, _ = kubectl("patch", "node", n, "--subresource=status", "-p",
                        '{"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady",'
                        '"message":"PLEG is not healthy"}]}}')
    need(out.strip() == f"node/{n} patched", out)
    _, out, _ = kubectl("get", "node", n, "--no-headers")
    need(out.split()[1] == "NotReady", out)
    _, out, _ = kubectl("get", "node", n, "-o", "json")
    conds = {c["type"]: c["status"] for c in json.loads(out)["status"]["conditions"]}
    need(conds.get("Ready") == "False" and conds.get("MemoryPressure") == "False", f"conditions {conds}")
    code, _, _ = rawj("POST", f"/_standin/nodes/{n}/ready", {"ready": True})
    need(code == 200, "control ready")
    _, out, _ = kubectl("get", "node", n, "--no-headers")
    need(out.split()[1] == "Ready", out)


def t_health_controls():
    code, _, _ = rawj("POST", "/_standin/deployments/payments/web/available", {"available": 1})
    need(code == 200, "control available")
    _, out, _ = kubectl("get", "deploy", "web", "-n", "payments", "--no-headers")
    need(out.split()[1:4] == ["1/2", "2", "1"], f"deploy row {out!r}")
    rawj("POST", "/_standin/deployments/payments/web/available", {"available": None})
    _, out, _ = kubectl("get", "deploy", "web", "-n", "payments", "--no-headers")
    need(out.split()[1:4] == ["2/2", "2", "2"], f"deploy row after clear {out!r}")
    _, out, _ = kubectl("get", "pods", "-n", "payments", "-l", "app=web", "-o", "name")
    pod = out.split()[0].split("/")[1]
    rawj("POST", f"/_standin/pods/payments/{pod}/phase", {"waiting": "CrashLoopBackOff"})
    _, out, _ = kubectl("get", "pod", pod, "-n", "payments", "--no-headers")
    row = out.split()
    need(row[1:3] == ["0/2", "CrashLoopBackOff"] and int(row[3]) > 0, f"pod row {out!r}")
    rawj("POST", f"/_standin/pods/payments/{pod}/phase", {"phase": "Failed"})
    _, out, _ = kubectl("get", "pod", pod, "-n", "payments", "-o", "jsonpath={.status.phase}")
    need(out == "Failed", out)
    _, out, _ = kubectl("get", "deploy", "web", "-n", "payments", "-o", "jsonpath={.status.availableReplicas}")
    need(out == "1", f"available with a failed pod: {out!r}")
    rawj("POST", f"/_standin/pods/payments/{pod}/phase", {})


def t_paging():
    code, _, _ = rawj("POST", "/api/v1/namespaces", {"metadata": {"name": "bulk"}})
    need(code == 201, "bulk ns")
    ctx = ssl.create_default_context(cafile=os.path.join(state, "ca.crt"))
    c = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=30)
    h = {"Authorization": "Bearer " + open(os.path.join(state, "token")).read().strip(),
         "Content-Type": "application/json"}
    t0 = time.time()
    for i in range(1200):     # one keep-alive connection, as a client library would
        c.request("POST", "/api/v1/namespaces/bulk/configmaps",
                  json.dumps({"metadata": {"name": f"cm-{i:04d}", "labels": {"shard": str(i % 3)}},
                              "data": {"i": str(i)}}), h)
        r = c.getresponse()
        r.read()
        need(r.status == 201, f"create cm-{i}: {r.status}")
    c.close()
    need(time.time() - t0 < 20, f"1200 creates took {time.time() - t0:.1f}s")
    raw("DELETE", "/_standin/requests")
    _, out, err = kubectl("get", "cm", "-n", "bulk", "--chunk-size=100", "-o", "name", "-v=6")
    names = [l for l in out.splitlines() if l.startswith("configmap/cm-")]
    need(len(names) == 1200 and len(set(names)) == 1200, f"got {len(names)} names")
    _, _, stats = rawj("GET", "/_standin/requests")
    lists = sum(v for k, v in stats["byPath"].items() if k == "GET /api/v1/namespaces/bulk/configmaps")
    need(lists == 13, f"list requests {lists} (want 12 pages of 100 + the kube-root-ca.crt page)")
    _, out, _ = kubectl("get", "cm", "-n", "bulk", "-l", "shard in (1,2),shard!=2", "-o", "name")
    need(len(out.split()) == 400, f"label selector in/!= gave {len(out.split())}")
    _, out, _ = kubectl("get", "cm", "-n", "bulk", "--field-selector", "metadata.name=cm-0007", "-o", "name")
    need(out.split() == ["configmap/cm-0007"], out)


def t_continue_expired():
    code, _, page = rawj("GET", "/api/v1/namespaces/bulk/configmaps?limit=10")
    need(code == 200 and len(page["items"]) == 10 and page["metadata"].get("continue") and
         page["metadata"].get("remainingItemCount") == 1191, f"first page {page.get('metadata')}")
    tok = page["metadata"]["continue"]
    code, _, page2 = rawj("GET", f"/api/v1/namespaces/bulk/configmaps?limit=10&continue={tok}")
    need(code == 200 and page2["items"][0]["metadata"]["name"] == "cm-0010", "second page")
    code, _, body = rawj("POST", "/_standin/compact", {})
    need(code == 200, "compact")
    code, _, body = rawj("GET", f"/api/v1/namespaces/bulk/configmaps?limit=10&continue={tok}")
    need(code == 410 and body.get("reason") == "Expired" and body.get("kind") == "Status" and
         body.get("metadata", {}).get("continue"), f"expired continue: {code} {body}")
    code, _, body = rawj("GET", "/api/v1/namespaces/bulk/configmaps?limit=10&continue=garbage!")
    need(code == 400 and body.get("reason") == "BadRequest", f"malformed continue: {code} {body}")
    # a watch from before the compaction is told so in an ERROR event
    code, _, out = raw("GET", f"/api/v1/namespaces/bulk/configmaps?watch=1&resourceVersion=5&timeoutSeconds=2")
    ev = json.loads(out.splitlines()[0])
    need(code == 200 and ev["type"] == "ERROR" and ev["object"]["code"] == 410 and
         ev["object"]["reason"] == "Expired", f"watch too old: {out[:200]!r}")


def t_create_rv():
    code, _, body = rawj("POST", "/api/v1/namespaces/payments/configmaps",
                         {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "with-rv", "resourceVersion": "12345"}})
    need(code == 500 and body.get("message") == "resourceVersion should not be set on objects to be created"
         and body.get("status") == "Failure" and "reason" not in body, f"{code} {body}")
    # kubectl create clears metadata.resourceVersion itself before sending
    path = manifest("rv.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: with-rv\n  namespace: payments\n"
                               "  resourceVersion: \"12345\"\n")
    _, out, _ = kubectl("create", "-f", path)
    need(out.strip() == "configmap/with-rv created", out)


def t_already_exists():
    _, _, err = kubectl("create", "-f", APP, expect_rc=1)
    need('Error from server (AlreadyExists): error when creating' in err and
         'deployments.apps "web" already exists' in err, err)
    code, _, body = rawj("POST", "/api/v1/namespaces/payments/configmaps", {"metadata": {"name": "app-config"}})
    need(code == 409 and body["reason"] == "AlreadyExists" and body["details"] == {"name": "app-config", "kind": "configmaps"},
         f"{code} {body}")


def t_invalid():
    path = manifest("noname.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: payments\ndata: {a: b}\n")
    _, _, err = kubectl("create", "-f", path, expect_rc=1)
    need('The ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required' in err, err)
    code, _, body = rawj("POST", "/api/v1/namespaces/payments/configmaps", {"data": {"a": "b"}})
    need(code == 422 and body["reason"] == "Invalid" and body["details"]["causes"][0]["field"] == "metadata.name",
         f"{code} {body}")
    code, _, body = rawj("POST", "/apis/apps/v1/namespaces/payments/deployments",
                         {"metadata": {"name": "bad"}, "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}})
    fields = [c["field"] for c in body.get("details", {}).get("causes", [])]
    need(code == 422 and "spec.selector" in fields and "spec.template.spec.containers[0].image" in fields,
         f"deployment: {code} {fields}")
    code, _, body = rawj("POST", "/api/v1/namespaces/payments/services", {"metadata": {"name": "noports"}, "spec": {}})
    need(code == 422 and "spec.ports: Required value" in body["message"], f"service: {code} {body.get('message')}")
    code, _, body = rawj("POST", "/api/v1/namespaces/nope/configmaps", {"metadata": {"name": "x"}})
    need(code == 404 and body["message"] == 'namespaces "nope" not found', f"missing ns: {code} {body}")
    path = manifest("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unk, namespace: payments}\nbogus: 1\n")
    _, _, err = kubectl("create", "-f", path, expect_rc=1)
    need('strict decoding error: unknown field "bogus"' in err, err)
    code, _, body = rawj("GET", "/api/v1/namespaces/payments/configmaps/nothere")
    need(code == 404 and body["message"] == 'configmaps "nothere" not found' and body["details"]["kind"] == "configmaps",
         f"{code} {body}")


def t_conflict():
    code, _, cm = rawj("GET", "/api/v1/namespaces/payments/configmaps/applied")
    stale = dict(cm, data={"a": "3"})
    code, _, _ = rawj("PUT", "/api/v1/namespaces/payments/configmaps/applied", stale)
    need(code == 200, f"first put {code}")
    code, _, body = rawj("PUT", "/api/v1/namespaces/payments/configmaps/applied", dict(cm, data={"a": "4"}))
    need(code == 409 and body["reason"] == "Conflict" and "the object has been modified" in body["message"],
         f"stale put {code} {body}")


def t_dry_run():
    path = manifest("ghost.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ghost, namespace: payments}\n")
    _, out, _ = kubectl("create", "-f", path, "--dry-run=server")
    need(out.strip() == "configmap/ghost created (server dry run)", out)
    kubectl("get", "cm", "ghost", "-n", "payments", expect_rc=1)


def t_crd():
    _, out, _ = kubectl("apply", "-f", CRD)
    need(out.strip() == "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created", out)
    _, out, _ = kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s")
    need("condition met" in out, out)
    _, out, _ = kubectl("apply", "-f", WIDGET)
    need(out.strip() == "widget.example.com/w1 created", out)
    _, out, _ = kubectl("get", "widgets", "-n", "payments")
    lines = out.splitlines()
    # with additionalPrinterColumns given, only NAME is implicit (no AGE)
    need(lines[0].split() == ["NAME", "SIZE"] and lines[1].split() == ["w1", "3"], out)
    _, out, _ = kubectl("api-resources", "--api-group=example.com", "--no-headers")
    need(out.split() == ["widgets", "wd", "example.com/v1", "true", "Widget"], out)
    code, _, body = rawj("GET", "/apis/example.com/v1/widgets")
    need(code == 200 and body["kind"] == "WidgetList" and body["items"][0]["kind"] == "Widget", "CR list")
    _, _, err = kubectl("patch", "wd", "w1", "-n", "payments", "-p", '{"spec":{"size":4}}', expect_rc=1)
    need("UnsupportedMediaType" in err or "unknown format" in err or "strategic merge patch" in err, err)
    kubectl("patch", "wd", "w1", "-n", "payments", "--type=merge", "-p", '{"spec":{"size":4}}')
    _, out, _ = kubectl("get", "wd", "w1", "-n", "payments", "-o", "jsonpath={.spec.size} {.metadata.generation}")
    need(out == "4 2", out)


def t_watch():
    env = dict(os.environ, HOME=home)
    w = subprocess.Popen([KUBECTL, "--kubeconfig", os.path.join(state, "kubeconfig"), "get", "cm", "-n", "payments",
                          "-w", "--output-watch-events", "--request-timeout=0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    procs.append(w)
    try:
        time.sleep(1.0)
        path = manifest("watched.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched, namespace: payments}\n"
                                        "data: {a: '1'}\n")
        kubectl("apply", "-f", path)
        kubectl("label", "cm", "watched", "-n", "payments", "color=blue")
        kubectl("delete", "cm", "watched", "-n", "payments")
        time.sleep(1.0)
    finally:
        w.send_signal(signal.SIGTERM)
        out, err = w.communicate(timeout=5)
    events = [l.split()[:2] for l in out.splitlines()[1:]]
    mine = [e[0] for e in events if len(e) > 1 and e[1] == "watched"]
    need(mine == ["ADDED", "MODIFIED", "DELETED"], f"events {mine}; stderr {err[:200]}")
    need(out.splitlines()[0].split()[:2] == ["EVENT", "NAME"], out.splitlines()[:1])
    # raw watch from a resourceVersion, with a label selector
    code, _, lst = rawj("GET", "/api/v1/namespaces/payments/configmaps")
    rv = lst["metadata"]["resourceVersion"]
    rawj("POST", "/api/v1/namespaces/payments/configmaps", {"metadata": {"name": "rw", "labels": {"w": "1"}}})
    rawj("PATCH", "/api/v1/namespaces/payments/configmaps/rw", {"data": {"x": "y"}},
         headers={"Content-Type": "application/merge-patch+json"})
    rawj("DELETE", "/api/v1/namespaces/payments/configmaps/rw")
    code, hdr, out = raw("GET", f"/api/v1/namespaces/payments/configmaps?watch=true&resourceVersion={rv}"
                                f"&labelSelector=w%3D1&timeoutSeconds=1")
    evs = [json.loads(l) for l in out.splitlines()]
    need([e["type"] for e in evs] == ["ADDED", "MODIFIED", "DELETED"] and
         all(e["object"]["kind"] == "ConfigMap" for e in evs) and hdr.get("Transfer-Encoding") == "chunked",
         f"raw watch {[e['type'] for e in evs]}")


def t_delete():
    _, out, _ = kubectl("delete", "deployment", "web", "-n", "payments")
    need(out.strip() == 'deployment.apps "web" deleted', out)

    def gone():
        _, o, _ = kubectl("get", "rs,pods", "-n", "payments", "-l", "app=web", "-o", "name")
        return o.strip() == ""
    wait_for(gone, "garbage collection of replica sets and pods")
    code, _, body = rawj("DELETE", "/api/v1/namespaces/payments/configmaps/app-config")
    need(code == 200 and body["kind"] == "Status" and body["status"] == "Success" and
         body["details"]["name"] == "app-config", f"{code} {body}")
    _, out, _ = kubectl("delete", "ns", "payments")
    need(out.strip() == 'namespace "payments" deleted', out)
    code, _, _ = rawj("GET", "/api/v1/namespaces/payments")
    need(code == 404, f"namespace still there ({code})")
    code, _, body = rawj("GET", "/api/v1/namespaces/payments/services")
    need(code == 200 and body["items"] == [], "namespace contents remain")


def t_faults():
    code, _, _ = rawj("POST", "/_standin/faults", {"failRate": 1.0})
    need(code == 200, "set faults")
    try:
        codes = set()
        for _ in range(30):
            c, hdr, body = rawj("GET", "/api/v1/namespaces/default")
            codes.add(c)
            need(c in (500, 503, 429) and body["kind"] == "Status", f"fault {c}")
            need(c == 500 or hdr.get("Retry-After") == "1", "Retry-After missing")
        need(codes == {500, 503, 429}, f"codes {codes}")
        c, _, _ = rawj("GET", "/_standin/health")
        need(c == 200, "control surface must not fail")
    finally:
        rawj("POST", "/_standin/faults", {"failRate": 0.0})


def t_typed_commands():
    """kubectl's typed clients send protobuf bodies (create ns/cm/secret/deployment, auth can-i)."""
    _, out, _ = kubectl("create", "namespace", "typed")
    need(out.strip() == "namespace/typed created", out)
    kubectl("create", "configmap", "c", "-n", "typed", "--from-literal=a=b")
    kubectl("create", "secret", "generic", "s", "-n", "typed", "--from-literal=k=v")
    kubectl("create", "deployment", "d", "-n", "typed", "--image=nginx:1.27", "--replicas=2", "--port=80")
    kubectl("create", "service", "clusterip", "d", "-n", "typed", "--tcp=80:80")
    _, out, _ = kubectl("get", "cm,secret,deploy,svc", "-n", "typed", "-o", "json")
    items = {(i["kind"], i["metadata"]["name"]): i for i in json.loads(out)["items"]}
    need(items[("ConfigMap", "c")]["data"] == {"a": "b"}, "configmap data")
    need(items[("Secret", "s")]["data"] == {"k": "dg=="} and items[("Secret", "s")]["type"] == "Opaque", "secret")
    d = items[("Deployment", "d")]
    need(d["spec"]["replicas"] == 2 and d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80,
         "deployment spec")
    need(items[("Service", "d")]["spec"]["ports"][0]["port"] == 80, "service")
    _, out, _ = kubectl("auth", "can-i", "delete", "pods", "-n", "typed")
    need(out.strip() == "yes", out)
    _, out, _ = kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    need(out == "paasctl-admin", out)


def t_stderr_clean():
    bad = [(a, e) for a, e in stderr_seen if any(b in e for b in BAD_STDERR)]
    need(not bad, f"unexpected stderr: {bad[:2]}")


def t_restart(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(5)
    except subprocess.TimeoutExpired:
        raise Failed("no exit within 5 s of SIGTERM")
    need(rc == 0, f"exit code {rc}")
    global PORT
    _, PORT = start_server(["--latency-ms", "40"])
    _, out, _ = kubectl("get", "cm", "-n", "bulk", "cm-0042", "-o", "jsonpath={.data.i}")
    need(out == "42", f"object lost across restart: {out!r}")
    t = time.time()
    code, _, _ = raw("GET", "/api/v1/namespaces/bulk/configmaps/cm-0042")
    need(code == 200 and time.time() - t >= 0.04, f"--latency-ms not applied ({time.time() - t:.3f}s)")
    _, out, _ = kubectl("get", "crd", "widgets.example.com", "-o", "name")
    need(out.strip() == "customresourcedefinition.apiextensions.k8s.io/widgets.example.com", out)


def main():
    global PORT
    t0 = time.time()
    try:
        proc, PORT = start_server()
    except Failed as e:
        check("server_starts", False, str(e))
        return 1
    check("server_starts", True)
    settle()
    for name, fn in [("state_dir_files", t_files), ("authentication", t_auth), ("kubectl_version", t_version),
                     ("get_namespaces", t_get_ns), ("discovery", t_discovery), ("api_resources", t_api_resources),
                     ("create_multi_object_file", t_create_multi), ("node_join", t_node_join),
                     ("get_all_json", t_get_all), ("apply_create_configure", t_apply),
                     ("patch_strategic_merge", t_patch_strategic), ("patch_node_status", t_node_status),
                     ("health_controls", t_health_controls), ("paging_chunk_size", t_paging),
                     ("continue_expired_410", t_continue_expired), ("create_with_resourceversion", t_create_rv),
                     ("already_exists_409", t_already_exists), ("invalid_422_and_errors", t_invalid),
                     ("update_conflict_409", t_conflict), ("server_dry_run", t_dry_run),
                     ("crd_established_and_cr", t_crd), ("watch", t_watch), ("delete_and_gc", t_delete),
                     ("fault_injection", t_faults), ("kubectl_typed_protobuf", t_typed_commands),
                     ("kubectl_stderr_clean", t_stderr_clean)]:
        run_check(name, fn)
    run_check("sigterm_and_persistence", lambda: t_restart(proc))
    failed = [n for n, ok in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed ({time.time() - t0:.1f}s)", flush=True)
    if failed:
        print("server log tail:\n" + server_log(), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
