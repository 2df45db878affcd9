"""End-to-end: the slot's PKI (SPEC.md "Clusters") and `paasctl kubeconfig`.

`up a` against the signature-checking emulator must leave the CAs, the
service-account keys and the bootstrap token under secret/ in the slot
bucket, server-side encrypted, checked with boto3 and the openssl CLI (never
with paasctl's output); a re-run changes none of them; a lost CA certificate
is re-made from its key with the same join hash. `paasctl kubeconfig a`
writes a 0600 kubeconfig whose client certificate the openssl CLI verifies
against the slot CA, --merge keeps other entries, and a real kubectl lists
nodes on the stand-in API server serving with the slot's CA, until a short
--ttl certificate expires and is refused. No key or token on any output."""

import base64
import os
import re
import ssl
import stat
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from harness import ROOT, World, check, done, sample_config, start_process  # noqa: E402

NAME = "pki"
ZONE = f"{NAME}.paas.example.com"
API = f"api.a.k8s.{ZONE}"
PKI_KEYS = ["secret/pki/ca.key", "secret/pki/ca.crt", "secret/pki/etcd/ca.key",
            "secret/pki/etcd/ca.crt", "secret/pki/front-proxy-ca.key",
            "secret/pki/front-proxy-ca.crt", "secret/pki/sa.key", "secret/pki/sa.pub",
            "secret/bootstrap-token"]
# the auth server's (plans/auth_store.h; their content is test_auth's)
AUTH_KEYS = ["secret/auth/ca.key", "secret/auth/ca.crt", "secret/auth/tls.key", "secret/auth/tls.crt",
             "secret/auth/keycloak.env"]

w = World()
cfg = w.write_config(sample_config(NAME, zones=1, slots=("a",)))
env = w.env(PAASCTL_POLL_MS="50")
s3 = w.moto.client("s3")
BUCKET = f"{NAME}-a-config"
secrets_seen = []      # every secret text: none may appear on any output


def listing(prefix):
    # moto rejects boto3's signature of a Prefix query with a '/': filter here.
    return {o["Key"]: o for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            if o["Key"].startswith(prefix)}


def run(*args, extra_env=None):
    e = dict(env, **(extra_env or {}))
    return w.paasctl("-c", cfg, *args, env=e)


def openssl(*args, stdin=None):
    p = subprocess.run(["openssl", *args], input=stdin, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def no_secret(name, *texts):
    leaked = [s[:6] + "..." for s in secrets_seen for t in texts if s and s in t]
    check(name, not leaked, f"secret material on output: {leaked}")


def secret_lines(pem):
    """The base64 lines of a PEM key (any one of them on an output is a leak)."""
    return [l for l in pem.splitlines() if l and not l.startswith("-----")]


rc, out, err = run("up", "shell")
check("up shell", rc == 0, err[-800:])
rc, up_out, up_err = run("-vv", "up", "a")
check("up a", rc == 0, up_err[-800:])

# --- what is in the bucket (boto3 + openssl, not paasctl) -------------------------
listed = listing("secret/")
check("every PKI object stored", sorted(listed) == sorted(PKI_KEYS + AUTH_KEYS), sorted(listed))
sse = {k: s3.head_object(Bucket=BUCKET, Key=k).get("ServerSideEncryption") for k in listed}
check("secret/ objects are SSE AES256", all(v == "AES256" for v in sse.values()), sse)
for role in ("master", "ingress", "minion", "auth"):
    h = s3.head_object(Bucket=BUCKET, Key=f"env/{role}.env")
    check(f"env/{role}.env is SSE AES256", h.get("ServerSideEncryption") == "AES256", h)

d = tempfile.mkdtemp(prefix="pki-", dir=w.dir)
os.chmod(d, 0o700)
body = {}
for k in PKI_KEYS:
    body[k] = s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode()
    path = os.path.join(d, k.replace("/", "_"))
    with open(path, "w") as f:
        f.write(body[k])
    if k.endswith(".key") or k.endswith("token"):
        secrets_seen.extend(secret_lines(body[k]) if k.endswith(".key") else [body[k]])
P = lambda k: os.path.join(d, k.replace("/", "_"))  # noqa: E731

for ca, cn in (("secret/pki/ca", "kubernetes"), ("secret/pki/etcd/ca", "etcd-ca"),
               ("secret/pki/front-proxy-ca", "front-proxy-ca")):
    rc, o, e = openssl("verify", "-CAfile", P(ca + ".crt"), P(ca + ".crt"))
    check(f"openssl verify {cn} (self-signed CA)", rc == 0 and b": OK" in o, (o + e).decode())
    rc, text, _ = openssl("x509", "-in", P(ca + ".crt"), "-noout", "-text")
    text = text.decode()
    check(f"{cn}: CA:TRUE, keyCertSign, P-256",
          "CA:TRUE" in text and "Certificate Sign" in text and "prime256v1" in text, text[:600])
    check(f"{cn}: subject CN", re.search(rf"Subject: CN\s*=\s*{cn}\b", text) is not None, text[:400])
    rc, o, _ = openssl("x509", "-in", P(ca + ".crt"), "-noout", "-checkend", str(9 * 365 * 86400))
    check(f"{cn}: valid for 9 more years", rc == 0, o)
    m1 = openssl("x509", "-in", P(ca + ".crt"), "-noout", "-pubkey")[1]
    m2 = openssl("pkey", "-in", P(ca + ".key"), "-pubout")[1]
    check(f"{cn}: key matches certificate", m1 and m1 == m2, "public keys differ")

pub = openssl("pkey", "-in", P("secret/pki/sa.key"), "-pubout")[1].decode()
check("sa.pub is sa.key's public key", pub.strip() == body["secret/pki/sa.pub"].strip(), pub)
token = body["secret/bootstrap-token"]
check("bootstrap token shape", re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token), len(token))

# kubeadm's documented recipe for --discovery-token-ca-cert-hash
der = openssl("pkey", "-pubin", "-outform", "DER",
              stdin=openssl("x509", "-in", P("secret/pki/ca.crt"), "-noout", "-pubkey")[1])[1]
want_hash = "sha256:" + subprocess.run(["sha256sum"], input=der, capture_output=True).stdout.decode().split()[0]
envs = {r: s3.get_object(Bucket=BUCKET, Key=f"env/{r}.env")["Body"].read().decode()
        for r in ("master", "ingress", "minion", "auth")}
for r in ("master", "ingress", "minion"):
    check(f"env/{r}.env carries the token and the CA hash",
          f"PAASCTL_TOKEN={token}" in envs[r] and f"PAASCTL_CA_HASH={want_hash}" in envs[r],
          [l for l in envs[r].splitlines() if "TOKEN" in l or "HASH" in l])
check("env/auth.env carries no token", token not in envs["auth"], "token in auth env")
check("env carries kubernetes_version and CIDRs",
      "PAASCTL_K8S_VERSION=1.31.4" in envs["minion"] and "PAASCTL_POD_CIDR=10.244.0.0/16" in envs["minion"]
      and "PAASCTL_SERVICE_CIDR=10.96.0.0/12" in envs["minion"], envs["minion"])
no_secret("up -vv prints no key or token", up_out, up_err)

# --- a re-run changes nothing; a lost certificate is re-made from its key -----------
rc, out2, err2 = run("-vv", "up", "a")
again = listing("secret/")
check("re-run: up a exits 0", rc == 0, err2[-500:])
check("re-run: no secret object rewritten",
      all(again[k]["ETag"] == listed[k]["ETag"] and again[k]["LastModified"] == listed[k]["LastModified"]
          for k in PKI_KEYS), "an object changed")
check("re-run: plan line says the PKI exists", re.search(r"^= exists\s+pki\s+secret/", out2, re.M), out2)
no_secret("re-run prints no key or token", out2, err2)

s3.delete_object(Bucket=BUCKET, Key="secret/pki/ca.crt")      # as a crash between the two PUTs
rc, out3, err3 = run("up", "a")
check("lost ca.crt: up a mends it", rc == 0 and "ca.crt" in [k.split("/")[-1] for k in
      list(listing("secret/pki/"))],
      err3[-500:])
new_crt = s3.get_object(Bucket=BUCKET, Key="secret/pki/ca.crt")["Body"].read()
new_pub = openssl("x509", "-noout", "-pubkey", stdin=new_crt)[1]
check("lost ca.crt: same public key, so the same join hash",
      new_pub == openssl("x509", "-in", P("secret/pki/ca.crt"), "-noout", "-pubkey")[1], "differs")
with open(P("secret/pki/ca.crt"), "wb") as f:
    f.write(new_crt)
body["secret/pki/ca.crt"] = new_crt.decode()
env_after = s3.get_object(Bucket=BUCKET, Key="env/minion.env")["Body"].read().decode()
check("lost ca.crt: env files keep the hash", f"PAASCTL_CA_HASH={want_hash}" in env_after, env_after)

# --- paasctl kubeconfig ----------------------------------------------------------------
kpath = os.path.join(w.home, ".kube", f"{NAME}-a.yaml".replace(f"{NAME}-a", f"paasctl-{NAME}-a"))
rc, kout, kerr = run("kubeconfig", "a")
check("kubeconfig a exits 0", rc == 0, kerr)
check("kubeconfig a prints the default path", kout.strip() == kpath, kout)
check("kubeconfig file is 0600", os.path.exists(kpath) and stat.S_IMODE(os.stat(kpath).st_mode) == 0o600,
      oct(os.stat(kpath).st_mode) if os.path.exists(kpath) else "missing")
kc = yaml.safe_load(open(kpath))
ctx = {c["name"]: c["context"] for c in kc["contexts"]}
clusters = {c["name"]: c["cluster"] for c in kc["clusters"]}
users = {u["name"]: u["user"] for u in kc["users"]}
check("context NAME-SLOT is current", kc["current-context"] == f"{NAME}-a" and f"{NAME}-a" in ctx, kc.get("current-context"))
check("server https://api.SLOT.k8s.DNS_ZONE:6443", clusters[f"{NAME}-a"]["server"] == f"https://{API}:6443",
      clusters)
check("certificate-authority-data is the slot CA",
      base64.b64decode(clusters[f"{NAME}-a"]["certificate-authority-data"]).decode() == body["secret/pki/ca.crt"],
      "another CA")
user = users[ctx[f"{NAME}-a"]["user"]]
crt = base64.b64decode(user["client-certificate-data"])
key = base64.b64decode(user["client-key-data"]).decode()
secrets_seen.extend(secret_lines(key))
with open(os.path.join(d, "client.crt"), "wb") as f:
    f.write(crt)
rc, o, e = openssl("verify", "-CAfile", P("secret/pki/ca.crt"), "-purpose", "sslclient",
                   os.path.join(d, "client.crt"))
check("openssl verify client cert against the slot CA (sslclient)", rc == 0, (o + e).decode())
subj = openssl("x509", "-noout", "-subject", "-in", os.path.join(d, "client.crt"))[1].decode()
check("client cert group O=kubeadm:cluster-admins", "O = kubeadm:cluster-admins" in subj, subj)
check("client cert valid ~12 h",
      openssl("x509", "-noout", "-checkend", str(11 * 3600), "-in", os.path.join(d, "client.crt"))[0] == 0 and
      openssl("x509", "-noout", "-checkend", str(13 * 3600), "-in", os.path.join(d, "client.crt"))[0] != 0,
      "not 12 h")
no_secret("kubeconfig prints no key", kout, kerr)

rc, o, e = run("kubeconfig", "a", "--ttl", "1h", "--file", os.path.join(d, "short.yaml"))
c1 = base64.b64decode(yaml.safe_load(open(os.path.join(d, "short.yaml")))["users"][0]["user"]["client-certificate-data"])
check("--ttl 1h --file: an hour",
      rc == 0 and openssl("x509", "-noout", "-checkend", "3500", stdin=c1)[0] == 0 and
      openssl("x509", "-noout", "-checkend", "3700", stdin=c1)[0] != 0, e)

# --merge keeps the file's other entries
merged = os.path.join(d, "merged.yaml")
with open(merged, "w") as f:
    yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "preferences": {"colors": True},
                    "clusters": [{"name": "other", "cluster": {"server": "https://other:6443"}},
                                 {"name": f"{NAME}-a", "cluster": {"server": "https://stale:1"}}],
                    "users": [{"name": "other-user", "user": {"token": "x"}}],
                    "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other-user"}}],
                    "current-context": "other"}, f)
rc, o, e = run("kubeconfig", "a", "--merge", extra_env={"KUBECONFIG": merged + ":/nonexistent"})
m = yaml.safe_load(open(merged))
check("--merge prints the merged file", rc == 0 and o.strip() == merged, (o, e))
check("--merge keeps other entries and replaces ours",
      [c["name"] for c in m["clusters"]] == ["other", f"{NAME}-a"] and
      m["clusters"][1]["cluster"]["server"] == f"https://{API}:6443" and
      [u["name"] for u in m["users"]] == ["other-user", f"{NAME}-a-admin"] and
      m["preferences"] == {"colors": True} and m["current-context"] == f"{NAME}-a", m)
check("--merge leaves the file 0600", stat.S_IMODE(os.stat(merged).st_mode) == 0o600, oct(os.stat(merged).st_mode))

for args, code, words in ((("kubeconfig", "b"), 2, "no [cluster b]"),
                          (("kubeconfig", "a", "--ttl", "soon"), 2, "--ttl"),
                          (("kubeconfig", "a", "--merge", "--file", "x"), 2, "exclude"),
                          (("kubeconfig",), 2, "usage")):
    rc, o, e = run(*args)
    check(f"{' '.join(args)}: exit {code}", rc == code and words in e, (rc, e))

# --- a real kubectl against the stand-in serving with the slot's CA ----------------
kdir = tempfile.mkdtemp(prefix="standin-", dir=w.dir)
port_file = os.path.join(kdir, "port")
start_process([sys.executable, os.path.join(ROOT, "tests", "kube", "apiserver.py"), "--listen",
               "127.0.0.1:0", "--port-file", port_file, "--state-dir", kdir,
               "--ca-cert", P("secret/pki/ca.crt"), "--ca-key", P("secret/pki/ca.key"),
               "--server-name", API], log_path=os.path.join(w.dir, "standin.log"))
deadline = time.time() + 30
while not (os.path.exists(port_file) and open(port_file).read().strip()) and time.time() < deadline:
    time.sleep(0.1)
kport = int(open(port_file).read().strip())


def kubectl(kubeconfig, *args):
    # The kubeconfig names api.a.k8s.ZONE, which only resolves inside the VPC:
    # point kubectl at the loopback port as a bastion tunnel would, and keep
    # checking the serving certificate for that name (--tls-server-name).
    p = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--server", f"https://127.0.0.1:{kport}",
                        "--tls-server-name", API, "--request-timeout", "10s", *args],
                       capture_output=True, text=True, env={k: v for k, v in env.items() if k != "KUBECONFIG"})
    return p.returncode, p.stdout, p.stderr


for _ in range(100):
    if kubectl(kpath, "get", "--raw", "/version")[0] == 0:
        break
    time.sleep(0.2)
rc, o, e = kubectl(kpath, "get", "nodes", "-o", "name")
check("kubectl with `paasctl kubeconfig a` lists nodes", rc == 0 and "node/" in o, (rc, o, e))
rc, o, e = kubectl(kpath, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}")
check("the API sees group kubeadm:cluster-admins", rc == 0 and "kubeadm:cluster-admins" in o, (rc, o, e))

# A certificate from another CA is refused (the stand-in trusts the slot CA only).
own = os.path.join(kdir, "kubeconfig")
p = subprocess.run(["kubectl", "--kubeconfig", own, "--server", f"https://127.0.0.1:{kport}",
                    "--insecure-skip-tls-verify", "--request-timeout", "10s", "get", "nodes"],
                   capture_output=True, text=True)
check("a client cert of another CA is refused", p.returncode != 0, p.stdout)

exp = os.path.join(d, "expiring.yaml")
rc, o, e = run("kubeconfig", "a", "--ttl", "2s", "--file", exp)
check("--ttl 2s written", rc == 0, e)
rc_before = kubectl(exp, "get", "nodes", "-o", "name")[0]
time.sleep(3)
rc, o, e = kubectl(exp, "get", "nodes", "-o", "name")
check("an expired --ttl certificate is refused", rc_before == 0 and rc != 0, (rc_before, rc, o, e))
check("the 12 h one still works", kubectl(kpath, "get", "nodes", "-o", "name")[0] == 0, "refused")

# teardown takes the PKI with the bucket.
rc, o, e = run("--yes", "teardown", "a")
buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
check("teardown a leaves no key object (the bucket is gone)", rc == 0 and BUCKET not in buckets, (rc, e[-500:]))
rc, o, e = run("kubeconfig", "a")
check("kubeconfig a after teardown: exit 1 naming up a", rc == 1 and "up a" in e, (rc, e))
done()
