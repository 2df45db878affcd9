"""One node's bootstrap run with stub commands (tests/lib/node_stub.py), for
the tests of scripts/bootstrap/ (test_bootstrap, test_auth): a temporary
root with the stubs on PATH and an os-release, the role's user data as EC2
holds it, and the slot's bucket as a folder the stub curl serves."""

import hashlib
import json
import os
import subprocess
import tempfile

from harness import ROOT

STUB = os.path.join(ROOT, "tests", "lib", "node_stub.py")
STUB_NAMES = ("apt-get", "apt-mark", "dpkg-query", "curl", "gpg", "containerd", "modprobe",
              "sysctl", "systemctl", "kubeadm", "kubectl", "docker", "chown")


class Node:
    def __init__(self, parent_dir, role, distro, user_data, bucket_dir):
        self.role, self.distro, self.bucket_dir = role, distro, bucket_dir
        self.root = tempfile.mkdtemp(prefix=f"{role}-{distro}-", dir=parent_dir)
        self.bin = os.path.join(self.root, "stub-bin")
        os.makedirs(self.bin)
        for n in STUB_NAMES:
            os.symlink(STUB, os.path.join(self.bin, n))
        os.makedirs(os.path.join(self.root, "etc"))
        with open(os.path.join(self.root, "etc", "os-release"), "w") as f:
            f.write('ID=ubuntu\nVERSION_ID="24.04"\n' if distro == "ubuntu" else 'ID=debian\nVERSION_ID="12"\n')
        # Ubuntu's cloud image has gpg; Debian's genericcloud image does not.
        if distro == "ubuntu":
            os.makedirs(os.path.join(self.root, "var/lib/stub-dpkg"))
            open(os.path.join(self.root, "var/lib/stub-dpkg/gpg"), "w").write("2.4.4-2ubuntu17")
        self.ud = os.path.join(self.root, "user-data.sh")
        open(self.ud, "w").write(user_data)

    def run(self):
        """Runs the user data (which fetches and runs bootstrap.sh); returns
        (rc, stdout, stderr, the calls of this run)."""
        log = os.path.join(self.root, "calls.log")
        before = open(log).read().splitlines() if os.path.exists(log) else []
        e = {"PATH": self.bin + ":" + os.environ["PATH"], "PAASCTL_PREFIX": self.root,
             "STUB_ROOT": self.root, "STUB_S3": self.bucket_dir, "HOME": self.root, "LANG": "C"}
        p = subprocess.run(["sh", self.ud], env=e, capture_output=True, text=True, timeout=120)
        calls = [json.loads(l) for l in open(log).read().splitlines()[len(before):]]
        return p.returncode, p.stdout, p.stderr, calls

    def files(self):
        """Every file of the fake root (but the call log) with its digest."""
        out = {}
        for d, _, fs in os.walk(self.root):
            for f in fs:
                full = os.path.join(d, f)
                if f != "calls.log" and not os.path.islink(full):
                    out[os.path.relpath(full, self.root)] = hashlib.sha256(open(full, "rb").read()).hexdigest()
        return out

    def read(self, rel):
        return open(os.path.join(self.root, rel)).read()


def fetch_bucket(s3, bucket, into):
    """Every object of the bucket into the folder `into` (the stub's S3)."""
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        dst = os.path.join(into, o["Key"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        s3.download_file(bucket, o["Key"], dst)


def user_data_by_role(ec2, slot):
    """{role: user data} of the slot's instances, as EC2 keeps it."""
    import base64
    out = {}
    for r in ec2.describe_instances()["Reservations"]:
        for i in r["Instances"]:
            tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
            if tags.get("paasctl:slot") == slot and tags.get("paasctl:role") not in out:
                ud = ec2.describe_instance_attribute(InstanceId=i["InstanceId"], Attribute="userData")
                out[tags["paasctl:role"]] = base64.b64decode(ud["UserData"]["Value"]).decode()
    return out
