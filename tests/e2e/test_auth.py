"""End-to-end: the slot's auth server and the API server's OIDC side.

1. `up a` (Kubernetes 1.31, kubeadm v1beta4) and `up b` (1.30, v1beta3)
   against the signature-checking emulator: boto3 finds under secret/auth/
   the auth CA, Keycloak's TLS pair for auth.SLOT.k8s.DNS_ZONE (checked with
   python3-cryptography: signed by that CA, the name, serverAuth) and the
   credentials, all with SSE; a second `up` changes none of them (ETag and
   body); no password is in any output at -vv; a lost TLS pair is re-issued
   and the credentials stay; the realm object parses and has the public
   `kubernetes` client with PKCE and the groups mapper; only the auth role
   may read the auth files.
2. The bootstrap of each slot's master and auth node with stub commands
   (tests/lib/node_run.py): the ClusterConfiguration parsed with
   python3-yaml carries every --oidc-* flag, as a v1beta4 list or a v1beta3
   map; the OIDC CA on the master is the auth CA; Keycloak runs `start` with
   the issuer's origin as its hostname, TLS and the realm import, and no
   password on any command line.
3. The stand-in API server started with --oidc-issuer-url accepts an RS256
   JWT minted here (username and groups prefixed as configured), refuses a
   wrong aud, a wrong iss, an expired token, another key and alg none;
   without the option the same token is 401. The real kubectl and paasctl
   (smoke's api and nodes checks) work with a kubeconfig whose user is that
   token, and fail against the stand-in without OIDC."""

import base64
import datetime
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import World, check, done, sample_config  # noqa: E402
from standin import KUBECTL, Standin  # noqa: E402
import node_run  # noqa: E402

NAME = "kc"
ZONE = f"{NAME}.paas.example.com"
AUTH_KEYS = ("secret/auth/ca.key", "secret/auth/ca.crt", "secret/auth/tls.key", "secret/auth/tls.crt",
             "secret/auth/keycloak.env")
FLAGS = {"oidc-issuer-url": None, "oidc-client-id": "kubernetes", "oidc-username-claim": "preferred_username",
         "oidc-username-prefix": "oidc:", "oidc-groups-claim": "groups", "oidc-groups-prefix": "oidc:",
         "oidc-ca-file": "/etc/kubernetes/pki/oidc-ca.crt"}

w = World()
s3, ec2, iam = w.moto.client("s3"), w.moto.client("ec2"), w.moto.client("iam")
b_section = "\n".join(l.replace("1.32.4", "1.30.6") for l in sample_config(NAME, zones=1).splitlines())
cfg = w.write_config(b_section)
env = w.env(PAASCTL_POLL_MS="50")
outputs = []


def paasctl(*args):
    rc, out, err = w.paasctl("-c", cfg, "-vv", *args, env=env)
    outputs.append(out + err)
    return rc, out, err


def objects(bucket):
    """{key: (ETag, body, SSE)} of the auth objects."""
    out = {}
    for k in AUTH_KEYS + ("auth/realm-paas.json",):
        o = s3.get_object(Bucket=bucket, Key=k)
        out[k] = (o["ETag"], o["Body"].read(), o.get("ServerSideEncryption"))
    return out


for args in (("up", "shell"), ("up", "a"), ("up", "b")):
    rc, out, err = paasctl(*args)
    check(" ".join(args), rc == 0, err[-800:])

# --- 1. the secrets in the bucket ------------------------------------------------------
first = {s: objects(f"{NAME}-{s}-config") for s in "ab"}
a = first["a"]
check("every auth object is stored with server-side encryption",
      all(v[2] in ("AES256", "aws:kms") for v in a.values()), {k: v[2] for k, v in a.items()})
kcenv = dict(l.split("=", 1) for l in a["secret/auth/keycloak.env"][1].decode().splitlines())
PASSWORDS = [kcenv.get("KC_BOOTSTRAP_ADMIN_PASSWORD", ""), kcenv.get("KC_DB_PASSWORD", "")]
check("keycloak.env: the admin and the database, 32-character random passwords",
      kcenv.get("KC_BOOTSTRAP_ADMIN_USERNAME") == "admin" and kcenv.get("POSTGRES_USER") == "keycloak" and
      kcenv.get("POSTGRES_DB") == "keycloak" and kcenv.get("POSTGRES_PASSWORD") == PASSWORDS[1] and
      all(len(p) == 32 and p.isalnum() for p in PASSWORDS) and PASSWORDS[0] != PASSWORDS[1], sorted(kcenv))
kcenv_b = dict(l.split("=", 1) for l in first["b"]["secret/auth/keycloak.env"][1].decode().splitlines())
check("each slot has its own credentials and CA",
      kcenv_b["KC_BOOTSTRAP_ADMIN_PASSWORD"] not in PASSWORDS and
      first["b"]["secret/auth/ca.crt"][1] != a["secret/auth/ca.crt"][1], "same")
PASSWORDS += [kcenv_b["KC_BOOTSTRAP_ADMIN_PASSWORD"], kcenv_b["KC_DB_PASSWORD"]]

HOST = f"auth.a.k8s.{ZONE}"
ca = x509.load_pem_x509_certificate(a["secret/auth/ca.crt"][1])
tls = x509.load_pem_x509_certificate(a["secret/auth/tls.crt"][1])
tls_key = serialization.load_pem_private_key(a["secret/auth/tls.key"][1], None)
ca.public_key().verify(tls.signature, tls.tbs_certificate_bytes, ec.ECDSA(tls.signature_hash_algorithm))
check("the auth CA is a CA", ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, ca.subject)
san = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
eku = list(tls.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
check("Keycloak's certificate: signed by the auth CA, for auth.a.k8s.DNS_ZONE, serverAuth, > 2 years",
      tls.issuer == ca.subject and san == [HOST] and eku == [ExtendedKeyUsageOID.SERVER_AUTH] and
      tls.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc) > datetime.timedelta(days=800),
      (san, eku, tls.not_valid_after_utc))
check("the TLS key is the certificate's", tls_key.public_key().public_numbers() ==
      tls.public_key().public_numbers(), "mismatch")

rc, out, err = paasctl("plan", "a")
check("plan a after up a: the auth secrets and realm exist", rc == 0 and "0 to create, 0 to update" in out,
      out[-600:])
rc, out, err = paasctl("up", "a")
again = objects(f"{NAME}-a-config")
check("a second up a changes no auth object (ETag and body)",
      rc == 0 and {k: v[:2] for k, v in again.items()} == {k: v[:2] for k, v in a.items()},
      [k for k in a if again[k][:2] != a[k][:2]])

# A lost TLS pair is re-issued by the next up; the credentials and the CA stay.
s3.delete_objects(Bucket=f"{NAME}-a-config", Delete={"Objects": [{"Key": "secret/auth/tls.crt"},
                                                                 {"Key": "secret/auth/tls.key"}]})
rc, out, err = paasctl("up", "a")
mended = objects(f"{NAME}-a-config")
new_tls = x509.load_pem_x509_certificate(mended["secret/auth/tls.crt"][1])
check("a lost TLS pair is made again, signed by the same CA; CA and credentials unchanged",
      rc == 0 and new_tls.issuer == ca.subject and new_tls.serial_number != tls.serial_number and
      all(mended[k][:2] == a[k][:2] for k in ("secret/auth/ca.key", "secret/auth/ca.crt",
                                              "secret/auth/keycloak.env")), err[-500:])
leaks = [i for i, o in enumerate(outputs) for p in PASSWORDS if p in o]
check(f"no password in any output of {len(outputs)} paasctl runs at -vv", not leaks, leaks)

realm = json.loads(a["auth/realm-paas.json"][1])
clients = {c["clientId"]: c for c in realm.get("clients", [])}
kc = clients.get("kubernetes", {})
mappers = {m["protocolMapper"]: m for m in kc.get("protocolMappers", [])}
gm = mappers.get("oidc-group-membership-mapper", {}).get("config", {})
check("realm paas, enabled, TLS required, no self-registration",
      realm.get("realm") == "paas" and realm.get("enabled") is True and realm.get("sslRequired") == "all" and
      realm.get("registrationAllowed") is False, {k: realm.get(k) for k in ("realm", "enabled", "sslRequired")})
check("client kubernetes: public, code flow with PKCE S256, kubelogin's redirect URIs, no password grant",
      kc.get("publicClient") is True and kc.get("standardFlowEnabled") is True and
      kc.get("directAccessGrantsEnabled") is False and kc.get("implicitFlowEnabled") is False and
      kc.get("attributes", {}).get("pkce.code.challenge.method") == "S256" and
      "http://localhost:8000" in kc.get("redirectUris", []), kc)
check("a groups claim mapper in the ID token", gm.get("claim.name") == "groups" and
      gm.get("id.token.claim") == "true" and gm.get("full.path") == "false", gm)

pol = {}
for kind in ("auth", "node", "master"):
    doc = iam.get_role_policy(RoleName=f"{NAME}-a-{kind}", PolicyName="slot-bucket-read")["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    pol[kind] = {r.split(":::", 1)[1] for s in doc["Statement"] for r in
                 (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
B = f"{NAME}-a-config/"
check("the auth role reads exactly its files, the TLS pair and credentials, not the CA key",
      pol["auth"] == {B + k for k in ("bootstrap.sh", "env/auth.env", "secret/auth/tls.key",
                                      "secret/auth/tls.crt", "secret/auth/keycloak.env",
                                      "auth/realm-paas.json")}, sorted(pol["auth"]))
check("the ingress/minion role reads nothing of auth", not [r for r in pol["node"] if "auth" in r],
      sorted(pol["node"]))

# --- 2. the bootstrap: ClusterConfiguration and Keycloak -----------------------------------
def bootstrap(slot, role):
    d = tempfile.mkdtemp(prefix=f"bucket-{slot}-", dir=w.dir)
    node_run.fetch_bucket(s3, f"{NAME}-{slot}-config", d)
    n = node_run.Node(w.dir, role, "debian", node_run.user_data_by_role(ec2, slot)[role], d)
    rc, out, err, calls = n.run()
    leaked = [c for c in calls if any(p in " ".join(c) for p in PASSWORDS)]
    check(f"{slot}/{role}: bootstrap exits 0, no password on stdout/stderr or any argv",
          rc == 0 and not leaked and not [p for p in PASSWORDS if p in out + err], (err[-800:], leaked[:1]))
    return n, calls, d


for slot, api in (("a", "kubeadm.k8s.io/v1beta4"), ("b", "kubeadm.k8s.io/v1beta3")):
    n, calls, d = bootstrap(slot, "master")
    docs = {doc["kind"]: doc for doc in yaml.safe_load_all(n.read("etc/paasctl/kubeadm.yaml"))}
    cc = docs.get("ClusterConfiguration", {})
    extra = cc.get("apiServer", {}).get("extraArgs")
    args = {x["name"]: x["value"] for x in extra} if isinstance(extra, list) else (extra or {})
    want = dict(FLAGS, **{"oidc-issuer-url": f"https://auth.{slot}.k8s.{ZONE}/realms/paas"})
    check(f"{slot}: ClusterConfiguration {api}, extraArgs as {'a list' if slot == 'a' else 'a map'}",
          cc.get("apiVersion") == api and isinstance(extra, list if slot == "a" else dict), (cc.get("apiVersion"), extra))
    for flag, value in want.items():
        check(f"{slot}: --{flag}={value}", args.get(flag) == value, args.get(flag))
    check(f"{slot}: the OIDC CA file on the master is the slot's auth CA",
          n.read("etc/kubernetes/pki/oidc-ca.crt") == open(os.path.join(d, "secret/auth/ca.crt")).read(), "differs")
    rbac = yaml.safe_load(n.read("stub-applied/oidc-rbac.yaml"))
    check(f"{slot}: realm group paas-admins is cluster-admin as oidc:paas-admins",
          rbac["subjects"] == [{"kind": "Group", "name": "oidc:paas-admins",
                                "apiGroup": "rbac.authorization.k8s.io"}] and
          rbac["roleRef"]["name"] == "cluster-admin", rbac)

n, calls, d = bootstrap("a", "auth")
runs = [c for c in calls if c[:2] == ["docker", "run"]]
kcrun = runs[-1] if runs else []
issuer = f"https://{HOST}/realms/paas"
check("Keycloak in production mode (start, not start-dev) with the realm import",
      "start" in kcrun and "start-dev" not in kcrun and "--import-realm" in kcrun, kcrun)
check("its hostname is the issuer's origin and 443 is published to its https port 8443",
      f"--hostname=https://{HOST}" in kcrun and issuer.startswith(f"https://{HOST}/") and
      "443:8443" in kcrun and "--https-port=8443" in kcrun and "--http-enabled=false" in kcrun, kcrun)
check("TLS from the slot's pair, credentials by --env-file, PostgreSQL",
      "--https-certificate-file=/opt/keycloak/conf/tls.crt" in kcrun and
      "--https-certificate-key-file=/opt/keycloak/conf/tls.key" in kcrun and
      "--env-file" in kcrun and "--db=postgres" in kcrun, kcrun)
kc_dir = "etc/paasctl/keycloak"
check("the node holds the bucket's TLS pair, credentials (0600) and realm",
      n.read(f"{kc_dir}/tls.crt") == open(os.path.join(d, "secret/auth/tls.crt")).read() and
      n.read(f"{kc_dir}/import/paas.json") == open(os.path.join(d, "auth/realm-paas.json")).read() and
      oct(os.stat(os.path.join(n.root, kc_dir, "keycloak.env")).st_mode & 0o777) == "0o600" and
      ["chown", "1000", os.path.join(n.root, kc_dir, "tls.key")] in calls, "files")
shutil.rmtree(d, True)

# --- 3. OIDC bearer tokens at the stand-in API server -----------------------------------------
ISSUER = "https://auth.a.k8s.example.test/realms/paas"
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
other = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(k, kid):
    n = k.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": b64(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")), "e": b64(n.e.to_bytes(3, "big"))}


def mint(signer=key, alg="RS256", kid="k1", **over):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "kubernetes", "sub": "f3b1c2", "preferred_username": "alice",
              "groups": ["paas-admins", "dev"], "iat": now, "exp": now + 600}
    claims.update(over)
    head = b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = b"" if alg == "none" else signer.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(sig)}"


jwks = os.path.join(w.dir, "jwks.json")
with open(jwks, "w") as f:
    json.dump({"keys": [jwk(key, "k1")]}, f)
oidc_args = ["--oidc-issuer-url", ISSUER, "--oidc-jwks", jwks, "--oidc-client-id", "kubernetes",
             "--oidc-username-claim", "preferred_username", "--oidc-username-prefix", "oidc:",
             "--oidc-groups-claim", "groups", "--oidc-groups-prefix", "oidc:"]
with_oidc = Standin(w.dir, "oidc", *oidc_args)
without = Standin(w.dir, "plain")
with_oidc.wait()
without.wait()


def bearer(st, token, method="GET", path="/api/v1/namespaces", body=None):
    ctx = ssl.create_default_context(cafile=os.path.join(st.dir, "ca.crt"))
    c = http.client.HTTPSConnection("127.0.0.1", st.port, context=ctx, timeout=30)
    c.request(method, path, body=json.dumps(body) if body else None,
              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


good = mint()
st, _ = bearer(with_oidc, good)
check("configured: a valid ID token lists namespaces (200)", st == 200, st)
st, doc = bearer(with_oidc, good, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                 {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
ui = (doc or {}).get("status", {}).get("userInfo", {})
check("configured: the user is oidc:alice in oidc:paas-admins, oidc:dev, system:authenticated",
      ui.get("username") == "oidc:alice" and
      ui.get("groups") == ["oidc:paas-admins", "oidc:dev", "system:authenticated"], ui)
st, _ = bearer(without, good)
check("not configured: the same token is 401", st == 401, st)
for case, tok in (("wrong aud", mint(aud="account")), ("wrong iss", mint(iss=ISSUER + "x")),
                  ("expired", mint(exp=int(time.time()) - 3600)), ("another key", mint(signer=other)),
                  ("alg none", mint(alg="none")), ("no username claim", mint(preferred_username=None)),
                  ("not yet valid", mint(nbf=int(time.time()) + 3600)),
                  ("audience list without the client", mint(aud=["account", "other"]))):
    st, _ = bearer(with_oidc, tok)
    check(f"configured: {case} is 401", st == 401, st)
st, _ = bearer(with_oidc, mint(aud=["account", "kubernetes"]))
check("configured: an audience list with the client id is accepted", st == 200, st)


def token_kubeconfig(st, token, path):
    src = yaml.safe_load(open(st.kubeconfig))
    cluster = src["clusters"][0]
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "oidc",
           "clusters": [{"name": "c", "cluster": cluster["cluster"]}],
           "users": [{"name": "alice", "user": {"token": token}}],
           "contexts": [{"name": "oidc", "context": {"cluster": "c", "user": "alice"}}]}
    with open(path, "w") as f:
        yaml.safe_dump(doc, f)
    os.chmod(path, 0o600)
    return path


kc_with = token_kubeconfig(with_oidc, good, os.path.join(w.dir, "oidc-with.yaml"))
kc_without = token_kubeconfig(without, good, os.path.join(w.dir, "oidc-without.yaml"))
p = subprocess.run([KUBECTL, "--kubeconfig", kc_with, "auth", "whoami", "-o", "json"],
                   capture_output=True, text=True, timeout=60)
who = json.loads(p.stdout or "{}").get("status", {}).get("userInfo", {})
check("kubectl with the token: auth whoami says oidc:alice", p.returncode == 0 and
      who.get("username") == "oidc:alice", (p.stderr[-300:], who))
p = subprocess.run([KUBECTL, "--kubeconfig", kc_with, "get", "namespaces", "-o", "name"],
                   capture_output=True, text=True, timeout=60)
check("kubectl with the token: get namespaces", p.returncode == 0 and "namespace/default" in p.stdout,
      p.stderr[-300:])
p = subprocess.run([KUBECTL, "--kubeconfig", kc_without, "get", "namespaces"],
                   capture_output=True, text=True, timeout=60)
check("kubectl with the token against the stand-in without OIDC: not logged in (401)",
      p.returncode != 0 and "You must be logged in" in p.stderr, p.stderr[-300:])


def smoke(kubeconfig):
    c = w.write_config(sample_config(NAME, zones=1, slots=("a",),
                                     cluster_extra=f"kubeconfig = {kubeconfig}\ncontext = oidc\n",
                                     extra="\n[smoke]\ntimeout = 0.5\n"),
                       f"smoke-{os.path.basename(kubeconfig)}.ini")
    rc, out, err = w.paasctl("-c", c, "-vv", "-o", "json", "smoke", "a", env=env)
    outputs.append(out + err)
    try:
        return {x["check"]: x for x in json.loads(out).get("checks", [])}, err
    except ValueError:
        return {}, err


checks, err = smoke(kc_with)
nodes = json.dumps(checks.get("nodes", {}))
check("paasctl smoke with the token kubeconfig: api passes, nodes are read (not 401)",
      checks.get("api", {}).get("pass") is True and checks.get("nodes") and
      not re.search(r"\b401\b", nodes) and "nauthorized" not in nodes,   # not inside an instance id
      (checks.get("api"), nodes, err[-400:]))
checks, err = smoke(kc_without)
check("paasctl smoke with the token against the stand-in without OIDC: api fails (401)",
      checks.get("api", {}).get("pass") is False, (checks.get("api"), err[-400:]))
check("no token in paasctl's output", not [o for o in outputs[-2:] if good in o or good[-20:] in o], "leak")
done()
