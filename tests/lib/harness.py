"""Shared pieces of the end-to-end tests: checks that print PASS:/FAIL:
lines (counted by tests/run), real servers on loopback ports chosen at run
time and stopped by their own PID, and running the paasctl binary.

The AWS emulator is moto_server with signature checking on: its first three
unauthenticated calls create an IAM user with an allow-all policy and an
access key; every later request is checked by moto (which recomputes the
signature with botocore). Route53 runs in a second moto without signature
checking, because moto 5.2.1 rejects correctly signed Route53 requests that
have no body (every GET and DELETE, the AWS CLI's too; bodied POSTs pass):
to recompute the signature it rebuilds the request with `data=body or
parsed query string` - and with no query string, the request headers
(moto/iam/access_control.py _create_aws_request, moto/core/responses.py
setup_class) - which botocore form-encodes as the body, so the payload hash
differs from the empty body's. S3 escapes this only because it signs
x-amz-content-sha256, which botocore takes as the payload hash (boto3's
Route53 GETs and DELETEs pass once that header is signed too; paasctl signs
it for S3 only, as AWS requires it nowhere else). Tests that
interrupt or fault Route53 calls put tests/lib/faultproxy.py in front of
both (FaultProxy(moto.url, route53=r53.url))."""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.environ.get("PAASCTL_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAASCTL = os.environ.get("PAASCTL") or os.path.join(ROOT, "paasctl")
MOTO_QUOTAS = os.path.join(ROOT, "tests", "lib", "moto_quotas.py")
# Images moto ships in every region (its amis.json), so pre-flight finds
# them: Ubuntu 16.04 amd64 for the nodes, Amazon Linux x86_64 for the
# bastion, and an arm64 one that pre-flight must refuse.
AMI_NODES = "ami-785db401"
AMI_BASTION = "ami-760aaa0f"
AMI_ARM64 = "ami-0e9271c829888680e"

_failed = 0
_passed = 0
_procs = []
_stoppers = []


def check(name, cond, detail=""):
    """One check: prints PASS/FAIL with the detail on failure."""
    global _failed, _passed
    if cond:
        _passed += 1
        print(f"PASS: {name}", flush=True)
    else:
        _failed += 1
        print(f"FAIL: {name}: {detail}", flush=True)
    return bool(cond)


def done():
    """Ends the test program: exit status 1 if any check failed."""
    stop_all()
    print(f"# {_passed} checks passed, {_failed} failed", flush=True)
    sys.exit(1 if _failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def on_exit(fn):
    """fn() runs in stop_all: for what is not a Popen of ours (a tmux
    server, which stops itself by its own PID in fn)."""
    _stoppers.append(fn)


def stop_all():
    """Stops every server this test started, each by its own PID."""
    while _stoppers:
        _stoppers.pop()()
    while _procs:
        stop_process(_procs[-1])


atexit.register(stop_all)


def _on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


def start_process(argv, env=None, log_path=None):
    log = open(log_path or os.devnull, "w")
    p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    _procs.append(p)
    return p


def stop_process(p):
    if p in _procs:
        _procs.remove(p)
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return True
        except Exception:
            time.sleep(0.1)
    return False


def _wait_own_listener(proc, log_path, line, timeout=30):
    """True once proc (alive) has written line to its log; False if it
    exits first or the timeout passes."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with open(log_path) as f:
                if line in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class Moto:
    """A moto_server on a free loopback port, started through
    tests/lib/moto_quotas.py (EC2's quotas for pre-flight). auth=True:
    signature checking on, with an IAM user whose key is in .key_id/.secret.
    indexed_tags=True: EC2 tag lookups by id as well (tests/lib/moto_indexed.py),
    for tests that pile up many EC2 resources."""

    def __init__(self, auth=True, record=False, workdir=None, extra_no_auth=0,
                 indexed_tags=False):
        self.argv = [sys.executable, MOTO_QUOTAS] + (["--indexed-tags"] if indexed_tags else [])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = auth
        self.workdir = workdir or tempfile.mkdtemp(prefix="paasctl-moto-")
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        if auth:
            # extra_no_auth: more unchecked calls after the three that make
            # the user (a test uses them to act as a second account).
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(3 + extra_no_auth)
        if record:
            env["MOTO_ENABLE_RECORDING"] = "True"
            env["MOTO_RECORDER_FILEPATH"] = os.path.join(self.workdir, "recording.jsonl")
        # EC2's quotas for paasctl's pre-flight (tests/lib/moto_quotas.py):
        # roomy by default, set_quotas() lowers them.
        self.quotas_path = os.path.join(self.workdir, f"quotas-{id(self)}.json")
        self.set_quotas()
        env["PAASCTL_TEST_QUOTAS"] = self.quotas_path
        self._start(env)
        self.key_id, self.secret = "testing", "testing"
        if auth:
            self._make_user()

    def _start(self, env, attempts=5):
        """Starts moto_server on a free port. Test programs run in parallel
        (tests/run), so another one may take the port between free_port()
        and the bind: then this server exits and an answer on the port
        would come from the other test's server. So the port counts as ours
        only once our own process logged that it runs there; else retry on
        another port."""
        for _ in range(attempts):
            log_path = os.path.join(self.workdir, f"moto-{self.port}.log")
            self.proc = start_process([*self.argv, "-H", "127.0.0.1", "-p", str(self.port)],
                                      env=env, log_path=log_path)
            if _wait_own_listener(self.proc, log_path, f"Running on {self.url}") and \
                    wait_http(self.url + "/moto-api/"):
                return
            stop_process(self.proc)
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"moto_server did not start on a free port ({attempts} tries)")

    def _make_user(self):
        import boto3
        iam = boto3.client("iam", endpoint_url=self.url, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="paasctl-test")
        iam.put_user_policy(UserName="paasctl-test", PolicyName="allow-all",
                            PolicyDocument=json.dumps({
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="paasctl-test")["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]

    def set_quotas(self, vcpus=100000, eips=1000, default_only=(), deny=False):
        """EC2's quotas as Service Quotas answers them from now on: vCPUs of
        On-Demand standard instances (L-1216C47A) and Elastic IPs
        (L-0263D0A3); default_only: codes only GetAWSDefaultServiceQuota
        knows; deny: AccessDeniedException."""
        with open(self.quotas_path + ".tmp", "w") as f:
            json.dump({"L-1216C47A": vcpus, "L-0263D0A3": eips,
                       "default_only": list(default_only), "deny": deny}, f)
        os.replace(self.quotas_path + ".tmp", self.quotas_path)

    def client(self, service, region="us-east-1"):
        """An independent client (boto3) to check the world with."""
        import boto3
        return boto3.client(service, endpoint_url=self.url, region_name=region,
                            aws_access_key_id=self.key_id,
                            aws_secret_access_key=self.secret)

    def stop(self):
        stop_process(self.proc)


class World:
    """The AWS side of a test: the signature-checking moto plus the Route53
    moto, a temp HOME, and the environment paasctl runs with."""

    def __init__(self, record=False, indexed_tags=False):
        self.dir = tempfile.mkdtemp(prefix="paasctl-e2e-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.moto = Moto(auth=True, record=record, workdir=self.dir, indexed_tags=indexed_tags)
        self.r53 = Moto(auth=False, workdir=self.dir)
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and not k.startswith("PAASCTL_")
               and k != "KUBECONFIG"}
        env.update({
            "HOME": self.home,
            "AWS_ACCESS_KEY_ID": self.moto.key_id,
            "AWS_SECRET_ACCESS_KEY": self.moto.secret,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_ENDPOINT_URL_ROUTE_53": self.r53.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PAASCTL_RETRY_BASE_MS": "20",
            "PAASCTL_POLL_MS": "200",
            "NO_COLOR": "1",
        })
        env.update(extra)
        return env

    def write_config(self, text, name="paasctl.ini"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def paasctl(self, *args, env=None, timeout=300, input=None):
        """Runs the binary; returns (exit code, stdout, stderr)."""
        p = subprocess.run([PAASCTL, *args], env=env or self.env(), capture_output=True,
                           text=True, timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr


def cluster_section(slot, extra=""):
    """A [cluster SLOT] section with the test sizes (2 ingress, 3 minions)."""
    return f"""
[cluster {slot}]
kubernetes_version = {"1.31.4" if slot == "a" else "1.32.4"}
ami           = {AMI_NODES}
auth_type     = t3.medium
master_type   = m5.large
ingress_type  = c5.large
ingress_count = 2
minion_type   = m5.xlarge
minion_count  = 3
{extra}"""


def sample_config(name="demo", bucket=None, extra="", zones=2, slots=("a", "b"),
                  cluster_extra=""):
    """A complete paasctl.ini for the tests: one public and one private
    subnet per zone, the given slots, then `extra` (more sections)."""
    bucket = bucket or f"{name}-paasctl-state"
    zone_names = ", ".join(f"us-east-1{z}" for z in "abcdef"[:zones])
    public = ", ".join(f"10.0.{i}.0/24" for i in range(zones))
    private = ", ".join(f"10.0.{16 * (i + 1)}.0/20" for i in range(zones))
    return f"""[paas]
name = {name}
region = us-east-1
state_bucket = {bucket}

[shell]
vpc_cidr        = 10.0.0.0/16
zones           = {zone_names}
public_subnets  = {public}
private_subnets = {private}
dns_zone        = {name}.paas.example.com
admin_cidr      = 203.0.113.0/24
bastion_ami     = {AMI_BASTION}
bastion_type    = t3.micro

[elb]
listener        = 80:80
health_target   = HTTP:80/healthz
""" + "".join(cluster_section(s, cluster_extra) for s in slots) + extra
