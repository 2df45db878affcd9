"""Pieces the Consul tests share: the stand-in Consul (tests/consul/consul.py)
and the stand-in API server with a registered service proxy, each on a
loopback port chosen at run time and stopped by its PID (harness.py), and
Debian's python3-consul as the independent client."""

import http.client
import json
import os
import ssl
import sys
import time

from harness import ROOT, start_process

# Debian's package lives in the system python's dist-packages; python3 may
# be another interpreter, and the repository's C folder consul/ must not be
# mistaken for it (a namespace package when the working directory is the root).
sys.path = [p for p in sys.path if p not in ("", ".", ROOT)] + ["/usr/lib/python3/dist-packages"]
import consul  # noqa: E402

if not hasattr(consul, "Consul"):
    raise ImportError(f"python3-consul not found (got {consul.__path__})")


def _wait_port(port_file, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(port_file):
            txt = open(port_file).read().strip()
            if txt:
                return int(txt)
        time.sleep(0.05)
    raise RuntimeError(f"no port in {port_file}")


class ConsulStandin:
    """A stand-in Consul; .client() is a python3-consul client for it."""

    def __init__(self, workdir, name, token="", extra=()):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        port_file = os.path.join(self.dir, "port")
        argv = [sys.executable, os.path.join(ROOT, "tests", "consul", "consul.py"),
                "--listen", "127.0.0.1:0", "--port-file", port_file, *extra]
        if token:
            tf = os.path.join(self.dir, "acl-token")
            with open(tf, "w") as f:
                f.write(token + "\n")
            argv += ["--acl-token-file", tf]    # not on the command line (ps)
        self.token = token
        self.proc = start_process(argv, log_path=os.path.join(self.dir, "log"))
        self.port = _wait_port(port_file)
        self.url = f"http://127.0.0.1:{self.port}"

    def client(self):
        return consul.Consul(host="127.0.0.1", port=self.port, token=self.token or None)

    def control(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, "/_standin/" + path, body=json.dumps(body) if body is not None else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        return json.loads(data) if data else None

    def dump(self, prefix=""):
        """{key: (flags, value bytes)} as python3-consul reads it."""
        _, items = self.client().kv.get(prefix, recurse=True)
        return {i["Key"]: (i["Flags"], i["Value"] or b"") for i in (items or [])}


class KubeStandin:
    """The stand-in API server of one slot, serving `service` (NS/NAME:PORT)
    through its service proxy to target."""

    def __init__(self, workdir, slot, service, target):
        self.dir = os.path.join(workdir, f"kube-{slot}")
        os.makedirs(self.dir, exist_ok=True)
        port_file = os.path.join(self.dir, "port")
        self.context = f"paas-{slot}"
        self.proc = start_process([sys.executable, os.path.join(ROOT, "tests", "kube", "apiserver.py"),
                                   "--listen", "127.0.0.1:0", "--port-file", port_file,
                                   "--state-dir", self.dir, "--context", self.context],
                                  log_path=os.path.join(workdir, f"kube-{slot}.log"))
        self.port = _wait_port(port_file)
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.tls = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        self.tls.load_cert_chain(os.path.join(self.dir, "client.crt"), os.path.join(self.dir, "client.key"))
        ns, rest = service.split("/")
        name, port = rest.split(":")
        for _ in range(100):
            try:
                if self.call("GET", "/_standin/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        self.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": ns}})
        self.call("POST", f"/api/v1/namespaces/{ns}/services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"port": int(port), "name": "http"}]}})
        self.call("POST", "/_standin/service-proxy", {"namespace": ns, "service": name,
                                                      "port": port, "target": target})

    def call(self, method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=30)
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        try:
            return r.status, (json.loads(data) if data else None)
        except ValueError:
            return r.status, data
