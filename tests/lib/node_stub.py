#!/usr/bin/env python3
"""Stand-in for the commands a node's bootstrap runs (apt-get, apt-mark,
dpkg-query, curl, gpg, containerd, modprobe, sysctl, systemctl, kubeadm,
kubectl, docker), for tests/e2e/test_bootstrap.py. Installed under each
command's name on PATH; each call appends one JSON line [name, args...] to
$STUB_ROOT/calls.log and acts on the fake root $STUB_ROOT the way the real
command would act on /, just enough for the bootstrap's checks to see it:
packages land in $STUB_ROOT/var/lib/stub-dpkg, kubeadm init writes
admin.conf, modprobe makes /sys/module/NAME, and so on. curl answers IMDSv2
(and insists on the token), S3 (from $STUB_S3, and only with --aws-sigv4
and credentials read from stdin via -K -), pkgs.k8s.io and the flannel
release from small fixtures."""

import json
import os
import shutil
import sys

ROOT = os.environ["STUB_ROOT"]
NAME = os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]
IMDS_TOKEN = "imds-session-token-0123"
CREDS = {"Code": "Success", "AccessKeyId": "ASIASTUBKEYID0000000",
         "SecretAccessKey": "stub/secret/access/key/0000000000000000",
         "Token": "stub-session-token-not-for-logs", "Expiration": "2099-01-01T00:00:00Z"}
NODE = {"local-hostname": os.environ.get("STUB_HOSTNAME", "ip-10-0-16-5.ec2.internal"),
        "instance-id": os.environ.get("STUB_INSTANCE", "i-0123456789abcdef0"),
        "placement/availability-zone": os.environ.get("STUB_ZONE", "us-east-1a"),
        "ami-launch-index": os.environ.get("STUB_LAUNCH_INDEX", "0")}


def log():
    with open(os.path.join(ROOT, "calls.log"), "a") as f:
        f.write(json.dumps([NAME, *ARGS]) + "\n")


def path(p):
    return os.path.join(ROOT, p.lstrip("/"))


def dpkg_dir():
    d = path("/var/lib/stub-dpkg")
    os.makedirs(d, exist_ok=True)
    return d


def apt_get():
    if "install" not in ARGS:
        return 0
    for a in ARGS[ARGS.index("install") + 1:]:
        if a.startswith("-"):
            continue
        pkg, _, ver = a.partition("=")
        with open(os.path.join(dpkg_dir(), pkg), "w") as f:
            f.write(ver.replace("*", "1.1") if ver else "1.0-1")
    return 0


def dpkg_query():
    f = os.path.join(dpkg_dir(), ARGS[-1])
    if not os.path.exists(f):
        return 1
    sys.stdout.write("install ok installed " + open(f).read())
    return 0


def curl_opts():
    out, url, method, headers, conf = None, None, "GET", [], None
    i = 0
    while i < len(ARGS):
        a = ARGS[i]
        if a in ("-o", "-X", "-H", "-K", "--aws-sigv4", "--retry", "--max-time"):
            v = ARGS[i + 1]
            if a == "-o":
                out = v
            elif a == "-X":
                method = v
            elif a == "-H":
                headers.append(v)
            elif a == "-K":
                conf = sys.stdin.read() if v == "-" else open(v).read()
            i += 2
            continue
        if not a.startswith("-"):
            url = a
        i += 1
    return out, url, method, headers, conf


def curl_body(url, method, headers, conf):
    """The response body, or an exit code (22 = HTTP error, 7 = no route)."""
    if url.startswith("http://169.254.169.254/latest/"):
        if url.endswith("/api/token"):
            return IMDS_TOKEN if method == "PUT" else 22
        if f"X-aws-ec2-metadata-token: {IMDS_TOKEN}" not in headers:
            return 22               # IMDSv2 only
        key = url.split("/latest/meta-data/", 1)[1]
        if key == "iam/security-credentials/":
            return "paasctl-node-role"
        if key == "iam/security-credentials/paasctl-node-role":
            return json.dumps(CREDS, indent=2)
        return NODE.get(key, 22)
    if ".s3." in url and url.startswith("https://"):
        want = f'user = "{CREDS["AccessKeyId"]}:{CREDS["SecretAccessKey"]}"'
        if "--aws-sigv4" not in ARGS or not conf or want not in conf or CREDS["Token"] not in conf:
            return 22               # unsigned, or credentials on argv
        key = url.split(".amazonaws.com/", 1)[1]
        f = os.path.join(os.environ["STUB_S3"], key)
        return open(f).read() if os.path.exists(f) else 22
    if url.startswith("https://api.") and url.endswith(":6443/livez"):
        return api_livez()
    if url.startswith("https://pkgs.k8s.io/") and url.endswith("/Release.key"):
        return "-----BEGIN PGP PUBLIC KEY BLOCK-----\nstub\n-----END PGP PUBLIC KEY BLOCK-----\n"
    if "flannel-io/flannel/releases/download/" in url:
        return open(os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                 "kube-flannel.fixture.yml")).read()
    return 7


def api_livez():
    """The slot's API (through its name): answers "ok" from the
    STUB_API_AFTER-th call on (counted in the fake root); unset = no route."""
    after = os.environ.get("STUB_API_AFTER")
    f = path("/var/lib/stub-api-calls")
    n = int(open(f).read()) + 1 if os.path.exists(f) else 1
    open(f, "w").write(str(n))
    return "ok" if after is not None and n > int(after) else 7


def curl():
    out, url, method, headers, conf = curl_opts()
    body = curl_body(url or "", method, headers, conf)
    if isinstance(body, int):
        return body
    if out and out != "/dev/null":
        with open(out, "w") as f:
            f.write(body)
    elif not out:
        sys.stdout.write(body)
    return 0


def gpg():
    data = sys.stdin.read()
    with open(ARGS[ARGS.index("-o") + 1], "w") as f:
        f.write("dearmored:" + data)
    return 0


def kubeadm():
    if ARGS[:1] == ["init"]:
        cfg = open(ARGS[ARGS.index("--config") + 1]).read()
        os.makedirs(path("/etc/kubernetes"), exist_ok=True)
        open(path("/etc/kubernetes/admin.conf"), "w").write("stub admin.conf\n")
        tok = cfg.split('- token: "', 1)[1].split('"', 1)[0]
        open(path("/var/lib/stub-tokens"), "a").write(tok.split(".")[0] + ".<secret>\n")
    elif ARGS[:1] == ["join"]:
        os.makedirs(path("/etc/kubernetes"), exist_ok=True)
        open(path("/etc/kubernetes/kubelet.conf"), "w").write("stub kubelet.conf\n")
        # a control-plane join writes admin.conf, as kubeadm does
        if "controlPlane" in open(ARGS[ARGS.index("--config") + 1]).read():
            open(path("/etc/kubernetes/admin.conf"), "w").write("stub admin.conf\n")
    elif ARGS[:2] == ["token", "list"]:
        f = path("/var/lib/stub-tokens")
        sys.stdout.write(open(f).read() if os.path.exists(f) else "")
    elif ARGS[:2] == ["token", "create"]:
        open(path("/var/lib/stub-tokens"), "a").write(ARGS[2].split(".")[0] + ".<secret>\n")
    return 0


def kubectl():
    if ARGS[:2] == ["apply", "-f"]:
        d = path("/stub-applied")
        os.makedirs(d, exist_ok=True)
        shutil.copy(ARGS[2], os.path.join(d, os.path.basename(ARGS[2])))
    return 0


def docker():
    state = path("/var/lib/stub-docker-keycloak")
    if ARGS[:1] == ["inspect"]:
        return 0 if os.path.exists(state) else 1
    if ARGS[:1] == ["run"]:
        open(state, "w").write("running\n")
    return 0


def containerd():
    sys.stdout.write('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
                     '  SystemdCgroup = false\n')
    return 0


def modprobe():
    os.makedirs(path("/sys/module/" + ARGS[-1]), exist_ok=True)
    return 0


ACTIONS = {"apt-get": apt_get, "dpkg-query": dpkg_query, "curl": curl, "gpg": gpg,
           "kubeadm": kubeadm, "kubectl": kubectl, "docker": docker, "containerd": containerd,
           "modprobe": modprobe}

if __name__ == "__main__":
    log()
    sys.exit(ACTIONS.get(NAME, lambda: 0)())
