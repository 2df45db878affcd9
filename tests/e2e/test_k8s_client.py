"""The Kubernetes client layer (k8s/) against the stand-in API server
(tests/kube/apiserver.py), driven through the test-only k8s_probe program
(tests/unit/k8s_probe_main.c, built by `make unit` into build/test/probe/).
What SPEC.md "Smoke" and "Migration" rely on: discovery of every type, lists
that follow every page (and restart when a continue token expires), parallel
creates over kept-alive connections, retries of 429/500/503, a QPS bound,
CRUD, watches, and every way a kubeconfig's credentials can be wrong. The
world is checked with kubectl and the stand-in's control API."""

import atexit
import base64
import datetime
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ROOT, check, done, start_process  # noqa: E402

PROBE = os.path.join(os.environ.get("PROBE_DIR") or os.path.join(ROOT, "build", "test", "probe"),
                     "k8s_probe")
if not os.access(PROBE, os.X_OK):
    check("setup/probe-built", False, f"{PROBE} missing: run `make unit` first")
    done()

work = tempfile.mkdtemp(prefix="paasctl-k8s-")
atexit.register(shutil.rmtree, work, True)
state = os.path.join(work, "standin")
port_file = os.path.join(work, "port")
start_process([sys.executable, os.path.join(ROOT, "tests", "kube", "apiserver.py"),
               "--listen", "127.0.0.1:0", "--state-dir", state, "--context", "standin",
               "--port-file", port_file, "--seed", "7"],
              log_path=os.path.join(work, "apiserver.log"))
deadline = time.time() + 60
while time.time() < deadline and not (os.path.exists(port_file) and
                                      os.path.exists(os.path.join(state, "kubeconfig"))):
    time.sleep(0.1)
if not check("setup/standin-started", os.path.exists(port_file), f"see {work}/apiserver.log"):
    done()
PORT = int(open(port_file).read())
KUBECONFIG = os.path.join(state, "kubeconfig")
TOKEN = open(os.path.join(state, "token")).read().strip()
CA = os.path.join(state, "ca.crt")
BASE_ENV = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
BASE_ENV.update({"PAASCTL_RETRY_BASE_MS": "20", "HOME": work})


def probe(*args, kubeconfig=KUBECONFIG, env=None, timeout=120):
    e = dict(BASE_ENV)
    e.update(env or {})
    p = subprocess.run([PROBE, "--kubeconfig", kubeconfig, *args], capture_output=True,
                       text=True, env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def kubectl(*args):
    p = subprocess.run(["kubectl", "--kubeconfig", KUBECONFIG, *args], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def control(method, path, body=None):
    """The stand-in's /_standin API (independent of the client under test)."""
    ctx = ssl.create_default_context(cafile=CA)
    req = urllib.request.Request(f"https://127.0.0.1:{PORT}/_standin/{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {TOKEN}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        return json.loads(r.read() or b"null")


def kubeconfig_variant(name, cluster_extra="", user=None, ca_data=None, drop_ca=False):
    """A copy of the stand-in's kubeconfig with another CA, user or cluster fields."""
    text = open(KUBECONFIG).read()
    if ca_data is not None:
        text = re.sub(r"certificate-authority-data: \S+",
                      "certificate-authority-data: " + base64.b64encode(ca_data).decode(), text)
    if drop_ca:
        text = re.sub(r"    certificate-authority-data: \S+\n", "", text)
    if cluster_extra:
        text = re.sub(r"(    server: \S+\n)", r"\1" + cluster_extra, text)
    if user is not None:
        text = re.sub(r"  user:\n(    .*\n)+", "  user:\n" + user, text)
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def kv(out, key):
    m = re.search(rf"\b{key} (\S+)", out)
    return m.group(1) if m else None


# ---- reading ---------------------------------------------------------------

rc, out, err = probe("version")
check("version/answers", rc == 0 and out.strip() == "version v1.32.0", f"rc={rc} {out!r} {err!r}")

rc, out, err = probe("discover")
ours = sorted(l.split()[1] for l in out.splitlines()[:-1] if not l.startswith("failed"))
_, theirs, _ = kubectl("api-resources", "--no-headers", "-o", "name")
theirs = sorted(n.split(".")[0] for n in theirs.split())
_, listable, _ = kubectl("api-resources", "--no-headers", "-o", "name", "--verbs=list")
check("discover/ok", rc == 0, f"rc={rc} {err}")
check("discover/same-types-as-kubectl", ours == theirs,
      f"only ours {set(ours) - set(theirs)}, only kubectl's {set(theirs) - set(ours)}")
check("discover/listable-count", kv(out, "listable") == str(len(listable.split())),
      f"{out.splitlines()[-1]!r} vs kubectl {len(listable.split())}")
check("discover/aggregated", kv(out, "aggregated") == "1", out.splitlines()[-1])
check("discover/core-and-groups", "v1 configmaps ConfigMap namespaced listable" in out and
      "apps/v1 deployments Deployment namespaced listable" in out and
      "rbac.authorization.k8s.io/v1 clusterroles ClusterRole cluster listable" in out, out[:400])

agg_lines = sorted(l for l in out.splitlines() if not l.startswith(("types", "failed")))
rc, out, err = probe("-v", "--legacy-discovery", "discover")
legacy_lines = sorted(l for l in out.splitlines() if not l.startswith(("types", "failed")))
check("discover/legacy-same-as-aggregated", rc == 0 and legacy_lines == agg_lines and
      kv(out, "aggregated") == "0", f"rc={rc} differ: {set(legacy_lines) ^ set(agg_lines)}")
check("discover/legacy-reads-each-group-version", sum(l.startswith("debug: k8s GET /api") for l in err.splitlines()) > 20,
      err[-300:])

rc, out, err = probe("-v", "list-all")
counts = dict(l.rsplit(" ", 1) for l in out.splitlines() if not l.startswith("total"))
_, ns_json, _ = kubectl("get", "namespaces", "-o", "json")
check("list-all/ok", rc == 0 and kv(out, "failed") == "0", f"rc={rc} {err[-500:]}")
check("list-all/every-listable-type", kv(out, "types") == str(len(listable.split())),
      out.splitlines()[-1] if out else err)
check("list-all/namespaces-match-kubectl",
      counts.get("v1/namespaces") == str(len(json.loads(ns_json)["items"])), counts.get("v1/namespaces"))

# ---- parallel creates, paging ------------------------------------------------

rc, out, err = probe("create", "v1/namespaces", "-",
                     '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"probe"}}')
check("create/namespace", rc == 0 and '"name":"probe"' in out, f"rc={rc} {err}")

t0 = time.time()
rc, out, err = probe("-v", "--concurrency", "16", "create-configmaps", "probe", "cm", "2500")
check("parallel/created-2500", rc == 0 and kv(out, "created") == "2500" and kv(out, "failed") == "0",
      f"rc={rc} {out} {err[-300:]}")
conns = int(kv(out, "connections") or 9999)
check("parallel/connections-reused", conns <= 32, f"{conns} connections for 2500 requests")
inflight_lines = [l for l in err.splitlines() if l.startswith("debug: k8s POST")]
check("parallel/one-log-line-per-request", len(inflight_lines) == 2500, f"{len(inflight_lines)} lines")
rc2, names, _ = kubectl("get", "configmaps", "-n", "probe", "-l", "probe=cm", "-o", "name")
check("parallel/kubectl-sees-2500", len(names.split()) == 2500, f"kubectl sees {len(names.split())}")

rc, out, err = probe("-v", "list", "v1/configmaps", "probe", "--limit", "500", "-l", "probe=cm")
gets = [l for l in err.splitlines() if l.startswith("debug: k8s GET")]
check("paging/count-2500", rc == 0 and kv(out, "count") == "2500", f"rc={rc} {out} {err[-300:]}")
check("paging/five-pages", len(gets) == 5 and all("limit=500" in l for l in gets) and
      sum("continue=" in l for l in gets) == 4, "\n".join(gets))

# A continue token that expires mid-list (compaction) restarts the list.
control("POST", "faults", {"latencyMs": 150})


def compact_soon():
    time.sleep(0.6)
    control("POST", "compact")
    # move past the compaction point so a fresh list is not "too old" too
    probe("create", "v1/configmaps", "default", '{"metadata":{"name":"after-compact"}}')


th = threading.Thread(target=compact_soon)
th.start()
rc, out, err = probe("-v", "list", "v1/configmaps", "probe", "--limit", "100", "-l", "probe=cm")
th.join()
control("POST", "faults", {"latencyMs": 0})
check("paging/410-restarts-list", rc == 0 and kv(out, "count") == "2500" and
      "continue token expired, listing again" in err, f"rc={rc} {out} {err[-600:]}")

# ---- CRUD --------------------------------------------------------------------

cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"crud-1"},"data":{"a":"1"}}'
rc, out, err = probe("create", "v1/configmaps", "probe", cm)
check("crud/create", rc == 0 and json.loads(out)["metadata"].get("uid"), f"rc={rc} {err}")
rc, out, err = probe("create", "v1/configmaps", "probe", cm)
check("crud/create-again-already-exists", rc == 1 and "409 AlreadyExists" in err, f"rc={rc} {err}")
rc, out, err = probe("get", "v1/configmaps", "probe", "crud-1")
check("crud/get", rc == 0 and json.loads(out)["data"] == {"a": "1"}, f"rc={rc} {out} {err}")
rc, out, err = probe("patch", "v1/configmaps", "probe", "crud-1", '{"data":{"b":"2"}}')
_, kout, _ = kubectl("get", "configmap", "-n", "probe", "crud-1", "-o", "json")
check("crud/merge-patch", rc == 0 and json.loads(kout)["data"] == {"a": "1", "b": "2"}, f"rc={rc} {err} {kout}")
rc, out, err = probe("delete", "v1/configmaps", "probe", "crud-1")
krc, _, kerr = kubectl("get", "configmap", "-n", "probe", "crud-1")
check("crud/delete", rc == 0 and krc != 0 and "NotFound" in kerr, f"rc={rc} {err} kubectl: {kerr}")
rc, out, err = probe("get", "v1/configmaps", "probe", "crud-1")
check("crud/get-missing-404", rc == 1 and "404 NotFound" in err and "crud-1" in err, f"rc={rc} {err}")
rc, out, err = probe("create", "apps/v1/deployments", "probe",
                     '{"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},'
                     '"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":'
                     '[{"name":"c","image":"nginx"}]}}}}')
krc, _, _ = kubectl("get", "deployment", "-n", "probe", "web")
check("crud/group-resource", rc == 0 and krc == 0, f"rc={rc} {err}")

# ---- watch -------------------------------------------------------------------


class Watch:
    """A `k8s_probe watch` in the background; a thread collects its lines."""

    def __init__(self, *args):
        self.p = subprocess.Popen([PROBE, "--kubeconfig", KUBECONFIG, "watch", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=dict(BASE_ENV))
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pred, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if any(pred(l) for l in list(self.lines)):
                return True
            if self.p.poll() is not None and not self.reader.is_alive():
                return False
            time.sleep(0.05)
        return False

    def finish(self, timeout=30):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.reader.join(10)
        return self.p.returncode, "".join(l + "\n" for l in self.lines), self.p.stderr.read()


w = Watch("v1/configmaps", "probe", "w1", "30000")
check("watch/ready", w.wait_line(lambda l: l.startswith("ready ")), w.lines[:3])
probe("create", "v1/configmaps", "probe", '{"metadata":{"name":"w1"},"data":{"a":"1"}}')
probe("patch", "v1/configmaps", "probe", "w1", '{"data":{"a":"2"}}')
probe("delete", "v1/configmaps", "probe", "w1")
rc, out, err = w.finish()
events = [l for l in out.splitlines() if l.endswith(" w1")]
check("watch/added-modified-deleted", rc == 0 and events == ["ADDED w1", "MODIFIED w1", "DELETED w1"],
      f"rc={rc} {out!r} {err[-300:]}")

# A watch from a compacted resourceVersion gets ERROR 410 and lists again.
# (Pages of 500: the 2,500 configmaps above one per page took minutes when
# the test programs run in parallel.)
_, out, _ = probe("list", "v1/configmaps", "probe", "--limit", "500")
old_rv = kv(out, "rv")
probe("create", "v1/configmaps", "probe", '{"metadata":{"name":"w2"}}')
control("POST", "compact")
probe("create", "v1/configmaps", "default", '{"metadata":{"name":"after-compact-2"}}')
w = Watch("v1/configmaps", "probe", "w3", "30000", "--rv", old_rv)
w.wait_line(lambda l: l == "ADDED w2")    # the relist reported what exists
probe("create", "v1/configmaps", "probe", '{"metadata":{"name":"w3"}}')
probe("delete", "v1/configmaps", "probe", "w3")
rc, out, err = w.finish()
check("watch/410-relists", rc == 0 and "ADDED w2" in out and "DELETED w3" in out,
      f"rc={rc} {out[-300:]!r} {err[-300:]}")

t0 = time.time()
w = Watch("v1/configmaps", "probe", "never", "1500")
rc, out, err = w.finish(timeout=20)
check("watch/timeout-bounded", rc == 1 and "nothing stopped it" in err and time.time() - t0 < 10,
      f"rc={rc} {err[-300:]} after {time.time() - t0:.1f}s")

# ---- retries, QPS ------------------------------------------------------------

control("POST", "faults", {"failRate": 0.3})
rc, out, err = probe("create-configmaps", "default", "flaky", "200", env={"PAASCTL_MAX_ATTEMPTS": "12"})
control("POST", "faults", {"failRate": 0.0})
_, names, _ = kubectl("get", "configmaps", "-n", "default", "-l", "probe=flaky", "-o", "name")
check("retry/all-created-despite-faults", rc == 0 and kv(out, "created") == "200" and
      len(names.split()) == 200, f"rc={rc} {out} {err[-300:]} kubectl {len(names.split())}")
check("retry/retried", int(kv(out, "retries") or 0) > 0, out)

rc, out, err = probe("--qps", "20", "create-configmaps", "default", "qps", "60")
check("qps/bounded-rate", rc == 0 and int(kv(out, "ms") or 0) >= 1500, out + err[-200:])
# The best of three tries: the test programs run in parallel on a shared
# machine, and one slow moment must not read as a rate limit.
for attempt in ("noqps", "noqps2", "noqps3"):
    rc, out, err = probe("create-configmaps", "default", attempt, "60")
    if rc != 0 or int(kv(out, "ms") or 99999) < 1500:
        break
check("qps/unbounded-is-faster", rc == 0 and int(kv(out, "ms") or 99999) < 1500, out + err[-200:])

# ---- credentials and TLS -----------------------------------------------------


def make_cert(cn, issuer_crt=None, issuer_key=None, days_from=-1, days_to=365):
    """PEM (cert, key); signed by the issuer given, else self-signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    if issuer_crt:
        issuer = x509.load_pem_x509_certificate(open(issuer_crt, "rb").read())
        ikey = serialization.load_pem_private_key(open(issuer_key, "rb").read(), None)
        iname = issuer.subject
    else:
        ikey, iname = key, name
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(iname)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .sign(ikey, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def cert_user(crt, key):
    return ("    client-certificate-data: " + base64.b64encode(crt).decode() + "\n" +
            "    client-key-data: " + base64.b64encode(key).decode() + "\n")


other_ca, _ = make_cert("another-ca")
path = kubeconfig_variant("wrong-ca", ca_data=other_ca)
rc, out, err = probe("-v", "version", kubeconfig=path)
check("tls/wrong-ca-fails", rc == 1 and "TLS: server certificate not trusted" in err and
      "wrong-ca.yaml" in err, f"rc={rc} {err}")
check("tls/wrong-ca-not-retried", "0 retries" in err, err)

crt, key = make_cert("paasctl-admin", CA, os.path.join(state, "ca.key"), days_from=-30, days_to=-1)
path = kubeconfig_variant("expired-cert", user=cert_user(crt, key))
rc, out, err = probe("version", kubeconfig=path)
check("tls/expired-client-cert", rc == 1 and "TLS" in err and "expired" in err and
      "expired-cert.yaml" in err, f"rc={rc} {err}")

crt, key = make_cert("paasctl-admin")
path = kubeconfig_variant("foreign-cert", user=cert_user(crt, key))
rc, out, err = probe("version", kubeconfig=path)
check("tls/foreign-client-cert-rejected", rc == 1 and "TLS: the server rejected" in err, f"rc={rc} {err}")

crt, key = make_cert("paasctl-admin", CA, os.path.join(state, "ca.key"))
path = kubeconfig_variant("fresh-cert", user=cert_user(crt, key))
rc, out, err = probe("version", kubeconfig=path)
check("tls/fresh-client-cert-accepted", rc == 0, f"rc={rc} {err}")

path = kubeconfig_variant("bad-token", user="    token: not-the-token\n")
rc, out, err = probe("version", kubeconfig=path)
check("auth/bad-token-rejected", rc == 1 and "401 Unauthorized: credentials rejected" in err and
      "bad-token.yaml" in err, f"rc={rc} {err}")

with open(os.path.join(work, "token-file"), "w") as f:
    f.write(TOKEN + "\n")
path = kubeconfig_variant("token-file", user="    tokenFile: token-file\n")
rc, out, err = probe("-v", "list", "v1/configmaps", "probe", "--limit", "1000", kubeconfig=path)
_, names, _ = kubectl("get", "configmaps", "-n", "probe", "-o", "name")
check("auth/token-file-relative", rc == 0 and kv(out, "count") == str(len(names.split())),
      f"rc={rc} {out} {err[-300:]} kubectl {len(names.split())}")
check("auth/no-token-in-log", TOKEN not in err and "debug: k8s GET" in err, "token in -v output")

path = kubeconfig_variant("sni", cluster_extra="    tls-server-name: kubernetes.default\n")
rc, out, err = probe("version", kubeconfig=path)
check("tls/tls-server-name", rc == 0, f"rc={rc} {err}")
path = kubeconfig_variant("sni-wrong", cluster_extra="    tls-server-name: wrong.example\n")
rc, out, err = probe("version", kubeconfig=path)
check("tls/tls-server-name-mismatch", rc == 1 and "TLS: the server's certificate is not for wrong.example" in err,
      f"rc={rc} {err}")

path = kubeconfig_variant("insecure", cluster_extra="    insecure-skip-tls-verify: true\n", drop_ca=True)
rc, out, err = probe("version", kubeconfig=path)
check("tls/insecure-skip-verify", rc == 0, f"rc={rc} {err}")
path = kubeconfig_variant("no-ca", drop_ca=True)
rc, out, err = probe("version", kubeconfig=path)
check("tls/no-ca-uses-system-store", rc == 1 and "system CA store" in err, f"rc={rc} {err}")

rc, out, err = probe("--context", "nope", "version")
check("kubeconfig/unknown-context-usage", rc == 2 and 'context "nope" not found' in err and
      KUBECONFIG in err, f"rc={rc} {err}")


# A CONNECT proxy on loopback, for proxy-url.
class ConnectProxy:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connects = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.tunnel, args=(c,), daemon=True).start()

    def tunnel(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = c.recv(4096)
            if not chunk:
                return c.close()
            head += chunk
        target = head.split()[1].decode()
        host, port = target.rsplit(":", 1)
        self.connects += 1
        up = socket.create_connection((host, int(port)))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        socks = [c, up]
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                break
            for s in r:
                data = s.recv(65536)
                if not data:
                    c.close()
                    up.close()
                    return
                (up if s is c else c).sendall(data)


proxy = ConnectProxy()
path = kubeconfig_variant("proxy", cluster_extra=f"    proxy-url: http://127.0.0.1:{proxy.port}\n")
rc, out, err = probe("version", kubeconfig=path)
check("proxy/proxy-url-used", rc == 0 and proxy.connects >= 1, f"rc={rc} connects={proxy.connects} {err}")

# ---- exec credential plugins ---------------------------------------------------

plugin = os.path.join(work, "plugin.sh")
with open(plugin, "w") as f:
    f.write(f"""#!/bin/sh
n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$COUNTER"
case "$MODE" in
fail) echo "plugin: refusing" >&2; exit 4 ;;
bad-first) if [ $n = 1 ]; then tok=stale; else tok=$(cat '{state}/token'); fi ;;
*) tok=$(cat '{state}/token') ;;
esac
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s"}}}}\\n' "$tok"
""")


def exec_user(mode, counter):
    return ("    exec:\n"
            "      apiVersion: client.authentication.k8s.io/v1\n"
            "      command: sh\n"
            f"      args: ['{plugin}']\n"
            "      interactiveMode: Never\n"
            f"      env: [{{name: MODE, value: {mode}}}, {{name: COUNTER, value: '{counter}'}}]\n")


counter = os.path.join(work, "count-ok")
path = kubeconfig_variant("exec-ok", user=exec_user("ok", counter))
rc, out, err = probe("-v", "list-all", kubeconfig=path)
check("exec/token-works", rc == 0 and kv(out, "failed") == "0", f"rc={rc} {err[-300:]}")
check("exec/plugin-ran-once", open(counter).read().strip() == "1", open(counter).read())
check("exec/token-not-logged", TOKEN not in err, "token in -v output")

counter = os.path.join(work, "count-bad")
path = kubeconfig_variant("exec-bad-first", user=exec_user("bad-first", counter))
rc, out, err = probe("-v", "version", kubeconfig=path)
check("exec/401-reruns-plugin-once", rc == 0 and open(counter).read().strip() == "2" and
      "1 retry" in err, f"rc={rc} {err}")

counter = os.path.join(work, "count-fail")
path = kubeconfig_variant("exec-fail", user=exec_user("fail", counter))
rc, out, err = probe("version", kubeconfig=path)
check("exec/failing-plugin", rc == 1 and "exec plugin sh" in err and "exited with status 4" in err,
      f"rc={rc} {err}")

done()
