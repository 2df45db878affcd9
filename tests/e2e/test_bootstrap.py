"""End-to-end: the node bootstrap (SPEC.md "Clusters", Bootstrap).

`up a` against the emulator renders and uploads the slot's files; this test
takes them from there with boto3 (the bootstrap.sh and env files from the
bucket, each role's user data from EC2) and runs them, for every role and
for both distributions, in a temporary root with stub commands on PATH
(tests/lib/node_stub.py) that record their arguments. It checks the pinned
versions, the repository line, the order (runtime before kubeadm, CNI after
init), node name and providerID, the rendered kubeadm/kubelet YAML parsed
field by field, that a second run changes nothing, that no secret reaches
stdout/stderr, and that the scripts are shellcheck clean."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from harness import ROOT, World, check, done, sample_config  # noqa: E402
import node_run  # noqa: E402

NAME = "boot"
VERSION = "1.31.4"
POD_CIDR = "10.200.0.0/16"
ZONE = f"{NAME}.paas.example.com"
VERSIONS = dict(l.split("=", 1) for l in open(os.path.join(ROOT, "scripts", "bootstrap", "versions.env"))
                .read().splitlines() if l and not l.startswith("#"))

# --- shellcheck --------------------------------------------------------------------
for f in ("bootstrap.sh", "user-data.sh.in"):
    text = open(os.path.join(ROOT, "scripts", "bootstrap", f)).read()
    p = subprocess.run(["shellcheck", "-s", "sh", "-"], input=re.sub(r"@[A-Z_0-9]+@", "x", text),
                       capture_output=True, text=True)
    check(f"shellcheck {f}", p.returncode == 0, p.stdout[-1500:])

# --- the slot's files, as `up a` made them ------------------------------------------
w = World()
cfg = w.write_config(sample_config(NAME, zones=1, slots=("a",),
                                   cluster_extra=f"pod_cidr = {POD_CIDR}\n"))
env = w.env(PAASCTL_POLL_MS="50")
for args in (("up", "shell"), ("up", "a")):
    rc, out, err = w.paasctl("-c", cfg, *args, env=env)
    check(" ".join(args), rc == 0, err[-800:])
s3 = w.moto.client("s3")
ec2 = w.moto.client("ec2")
BUCKET = f"{NAME}-a-config"
bucket_dir = tempfile.mkdtemp(prefix="bucket-", dir=w.dir)
node_run.fetch_bucket(s3, BUCKET, bucket_dir)
TOKEN = open(os.path.join(bucket_dir, "secret/bootstrap-token")).read()
SECRETS = [TOKEN, TOKEN.split(".")[1], "stub/secret/access/key", "stub-session-token-not-for-logs"]
for k in ("pki/ca.key", "pki/etcd/ca.key", "pki/front-proxy-ca.key", "pki/sa.key", "auth/ca.key",
          "auth/tls.key"):
    SECRETS += [l for l in open(os.path.join(bucket_dir, "secret", k)).read().splitlines()
                if l and not l.startswith("-----")]
SECRETS += [l.split("=", 1)[1] for l in open(os.path.join(bucket_dir, "secret/auth/keycloak.env"))
            .read().splitlines() if "PASSWORD=" in l]
CA_HASH = re.search(r"^PAASCTL_CA_HASH=(.*)$", open(os.path.join(bucket_dir, "env/minion.env")).read(),
                    re.M).group(1)

user_data = node_run.user_data_by_role(ec2, "a")
check("user data for every role", sorted(user_data) == ["auth", "ingress", "master", "minion"],
      sorted(user_data))
check("user data has no AWS CLI", all("aws " not in u and "aws s3" not in u for u in user_data.values()),
      "aws cli call")


# --- one node -----------------------------------------------------------------------
def Node(role, distro):
    return node_run.Node(w.dir, role, distro, user_data[role], bucket_dir)


def index(calls, pred):
    for n, c in enumerate(calls):
        if pred(c):
            return n
    return -1


def is_install(c, pkg):
    return c[0] == "apt-get" and "install" in c and any(a == pkg or a.startswith(pkg + "=") for a in c)


MUTATING = lambda c: (c[0] in ("apt-get", "apt-mark", "modprobe", "gpg") or c[:2] == ["sysctl", "--system"]  # noqa: E731
                      or (c[0] == "systemctl" and c[1] in ("restart", "enable"))
                      or (c[0] == "kubeadm" and c[1] in ("init", "join") or c[1:3] == ["token", "create"])
                      or c[:2] == ["kubectl", "apply"] or c[:2] == ["docker", "run"])


def check_node(role, distro):
    n = Node(role, distro)
    tag = f"{role}/{distro}"
    rc, out, err, calls = n.run()
    check(f"{tag}: bootstrap exits 0", rc == 0, (err[-1500:], calls[-5:]))
    if rc != 0:
        return
    leaked = [s[:8] for s in SECRETS if s in out or s in err]
    check(f"{tag}: no secret on stdout/stderr", not leaked, leaked)
    argv_leak = [c for c in calls if any(s in " ".join(c) for s in SECRETS[2:4])]
    check(f"{tag}: no AWS credential on any argv", not argv_leak, argv_leak[:1])
    # user data: IMDSv2 token first, then role credentials, then signed S3 GETs
    tok = index(calls, lambda c: c[0] == "curl" and "PUT" in c and
                any(a.endswith("/latest/api/token") for a in c))
    cred = index(calls, lambda c: c[0] == "curl" and c[-1].endswith("security-credentials/paasctl-node-role"))
    get = index(calls, lambda c: c[0] == "curl" and c[-1].endswith(f"/env/{role}.env"))
    check(f"{tag}: IMDSv2 token, then role credentials, then the env file", 0 <= tok < cred < get,
          (tok, cred, get))
    check(f"{tag}: S3 GETs signed with --aws-sigv4 aws:amz:us-east-1:s3",
          "aws:amz:us-east-1:s3" in calls[get] and f"https://{BUCKET}.s3.us-east-1.amazonaws.com/env/{role}.env"
          in calls[get], calls[get])
    check(f"{tag}: env file kept 0600", oct(os.stat(os.path.join(n.root, "etc/paasctl/env")).st_mode & 0o777)
          == "0o600", "mode")
    if role == "auth":
        run = [c for c in calls if c[:2] == ["docker", "run"]]
        check(f"{tag}: Keycloak and its database pinned",
              [VERSIONS["PAASCTL_KEYCLOAK_DB_IMAGE"] in c for c in run] == [True, False] and
              VERSIONS["PAASCTL_KEYCLOAK_IMAGE"] in run[1], run)
    else:
        check_k8s_node(n, tag, calls)
    before = n.files()
    rc2, out2, err2, calls2 = n.run()
    changed = [c for c in calls2 if MUTATING(c)]
    check(f"{tag}: second run exits 0 and calls nothing that changes the node", rc2 == 0 and not changed,
          (rc2, changed[:3], err2[-500:]))
    after = n.files()
    diff = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    check(f"{tag}: second run changes no file", not diff, diff[:5])
    check(f"{tag}: second run prints no secret", not [s for s in SECRETS if s in out2 or s in err2], "leak")


def check_k8s_node(n, tag, calls):
    minor = VERSION.rsplit(".", 1)[0]
    repo = n.read("etc/apt/sources.list.d/kubernetes.list").strip()
    check(f"{tag}: pkgs.k8s.io repository of the minor",
          repo == f"deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
                  f"https://pkgs.k8s.io/core:/stable:/v{minor}/deb/ /", repo)
    check(f"{tag}: the repository key fetched for the minor",
          any(c[0] == "curl" and c[-1] == f"https://pkgs.k8s.io/core:/stable:/v{minor}/deb/Release.key"
              for c in calls), "no key")
    check(f"{tag}: gpg installed only where the image lacks it",
          any(is_install(c, "gpg") for c in calls) == (n.distro == "debian"), n.distro)
    k8s = [c for c in calls if is_install(c, "kubeadm")]
    check(f"{tag}: kubeadm, kubelet, kubectl pinned to exactly {VERSION}",
          len(k8s) == 1 and all(f"{p}={VERSION}-*" in k8s[0] for p in ("kubeadm", "kubelet", "kubectl")), k8s)
    check(f"{tag}: held", ["apt-mark", "hold", "kubelet", "kubeadm", "kubectl"] in calls, "no hold")
    rt = index(calls, lambda c: is_install(c, "containerd"))
    ka = index(calls, lambda c: is_install(c, "kubeadm"))
    kinit = index(calls, lambda c: c[0] == "kubeadm" and c[1] in ("init", "join"))
    check(f"{tag}: runtime before kubeadm before init/join", 0 <= rt < ka < kinit, (rt, ka, kinit))
    check(f"{tag}: modules and sysctls",
          n.read("etc/modules-load.d/paasctl-k8s.conf").split() == ["overlay", "br_netfilter"] and
          "net.bridge.bridge-nf-call-iptables = 1" in n.read("etc/sysctl.d/99-paasctl-k8s.conf") and
          "net.ipv4.ip_forward = 1" in n.read("etc/sysctl.d/99-paasctl-k8s.conf") and
          ["modprobe", "br_netfilter"] in calls and ["sysctl", "--system"] in calls, "kernel")
    check(f"{tag}: containerd SystemdCgroup = true",
          "SystemdCgroup = true" in n.read("etc/containerd/config.toml"), n.read("etc/containerd/config.toml"))
    docs = list(yaml.safe_load_all(n.read("etc/paasctl/kubeadm.yaml")))
    kinds = {d["kind"]: d for d in docs}
    patch = yaml.safe_load(n.read("etc/paasctl/patches/kubeletconfiguration+merge.yaml"))
    check(f"{tag}: providerID aws:///ZONE/INSTANCE_ID in the kubelet patch",
          patch == {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                    "providerID": "aws:///us-east-1a/i-0123456789abcdef0"}, patch)
    api = f"api.a.k8s.{ZONE}:6443"   # SPEC.md "Clusters": the private zone k8s.DNS_ZONE
    if n.role == "master":
        init, cc, kc = kinds.get("InitConfiguration"), kinds.get("ClusterConfiguration"), kinds.get("KubeletConfiguration")
        check(f"{tag}: InitConfiguration", init and init["apiVersion"] == "kubeadm.k8s.io/v1beta4" and
              init["nodeRegistration"]["name"] == "ip-10-0-16-5.ec2.internal" and
              init["patches"]["directory"] == "/etc/paasctl/patches" and
              init["bootstrapTokens"][0]["token"] == TOKEN and init["bootstrapTokens"][0]["ttl"] == "0s", init)
        check(f"{tag}: ClusterConfiguration", cc and cc["kubernetesVersion"] == f"v{VERSION}" and
              cc["controlPlaneEndpoint"] == api and cc["networking"]["podSubnet"] == POD_CIDR and
              cc["networking"]["serviceSubnet"] == "10.96.0.0/12" and cc["clusterName"] == f"{NAME}-a", cc)
        check(f"{tag}: KubeletConfiguration systemd cgroups", kc and kc["cgroupDriver"] == "systemd", kc)
        pki = [f for f in ("ca.crt", "ca.key", "etcd/ca.key", "front-proxy-ca.crt", "sa.key", "sa.pub")
               if n.read(f"etc/kubernetes/pki/{f}") != open(os.path.join(bucket_dir, "secret/pki", f)).read()]
        check(f"{tag}: the slot's CAs from secret/ in /etc/kubernetes/pki", not pki, pki)
        check(f"{tag}: CA key 0600", oct(os.stat(os.path.join(n.root, "etc/kubernetes/pki/ca.key")).st_mode & 0o777)
              == "0o600", "mode")
        init_at = index(calls, lambda c: c[:2] == ["kubeadm", "init"])
        fl = index(calls, lambda c: c[:2] == ["kubectl", "apply"] and c[-1].endswith("flannel.yaml"))
        ng = index(calls, lambda c: c[:2] == ["kubectl", "apply"] and c[-1].endswith("nginx-ingress.yaml"))
        check(f"{tag}: CNI and ingress after init", 0 <= init_at < fl < ng, (init_at, fl, ng))
        flannel = yaml.safe_load(n.read("stub-applied/flannel.yaml"))
        net = json.loads(flannel["data"]["net-conf.json"])
        check(f"{tag}: flannel VXLAN over pod_cidr", net["Network"] == POD_CIDR and net["Backend"]["Type"] == "vxlan",
              net)
        check(f"{tag}: flannel pinned", any(c[0] == "curl" and f"/download/{VERSIONS['PAASCTL_FLANNEL_VERSION']}/"
                                            in c[-1] for c in calls), "no pinned URL")
        ds = [d for d in yaml.safe_load_all(n.read("stub-applied/nginx-ingress.yaml")) if d["kind"] == "DaemonSet"][0]
        spec = ds["spec"]["template"]["spec"]
        args = spec["containers"][0]["args"]
        check(f"{tag}: NGINX Ingress Controller: pinned, host network, on ingress nodes, health_target",
              spec["hostNetwork"] is True and spec["nodeSelector"] == {"paasctl.io/role": "ingress"} and
              spec["containers"][0]["image"] == VERSIONS["PAASCTL_NGINX_INGRESS_IMAGE"] and
              "-health-status" in args and "-health-status-uri=/healthz" in args and
              "-default-http-listener-port=80" in args, (spec["containers"][0]["image"], args))
        check(f"{tag}: token kept (ttl 0, not recreated when present)",
              not any(c[1:3] == ["token", "create"] for c in calls if c[0] == "kubeadm"), "recreated")
    else:
        j = kinds.get("JoinConfiguration")
        check(f"{tag}: JoinConfiguration with token and CA hash",
              j and j["discovery"]["bootstrapToken"] == {"apiServerEndpoint": api, "token": TOKEN,
                                                         "caCertHashes": [CA_HASH]} and
              j["nodeRegistration"]["name"] == "ip-10-0-16-5.ec2.internal" and "controlPlane" not in j, j)
        check(f"{tag}: no PKI on a worker", not os.path.exists(os.path.join(n.root, "etc/kubernetes/pki/ca.key")),
              "ca.key on a worker")
        check(f"{tag}: no add-ons applied from a worker", not any(c[:2] == ["kubectl", "apply"] for c in calls),
              "applied")
        labels = os.path.exists(os.path.join(n.root, "etc/default/kubelet")) and n.read("etc/default/kubelet")
        check(f"{tag}: node label for the ingress DaemonSet only on ingress nodes",
              bool(labels and "paasctl.io/role=ingress" in labels) == (n.role == "ingress"), labels)


for distro in ("ubuntu", "debian"):
    for role in ("master", "ingress", "minion", "auth"):
        check_node(role, distro)

# A deleted token is made again by the next bootstrap run on the master.
n = Node("master", "debian")
n.run()
os.remove(os.path.join(n.root, "var/lib/stub-tokens"))
rc, out, err, calls = n.run()
check("a deleted bootstrap token is recreated with ttl 0",
      rc == 0 and ["kubeadm", "token", "create", TOKEN, "--ttl", "0"] in calls and TOKEN not in out + err,
      [c for c in calls if c[0] == "kubeadm"])

shutil.rmtree(bucket_dir, True)   # the CA keys of this test
done()
