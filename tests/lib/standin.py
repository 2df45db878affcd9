"""The stand-in Kubernetes API server (tests/kube/apiserver.py) as a test
fixture: started on a loopback port chosen at run time, stopped by its PID
(through harness.start_process), reached with its client certificate for
the test control API and raw requests, and with the real kubectl."""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

from harness import ROOT, start_process

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"

# A namespaced custom resource type (example.com/v1 Widget) the migration
# tests and the demo world use to show CRDs and their resources moving.
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}}


class Standin:
    def __init__(self, parent_dir, context, *args):
        """Starts one stand-in; call wait() before using it (several can
        start at once)."""
        self.dir = tempfile.mkdtemp(prefix=f"kube-{context}-", dir=parent_dir)
        self.context = context
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self._port_file = os.path.join(self.dir, "port")
        self.proc = start_process([sys.executable, os.path.join(ROOT, "tests", "kube", "apiserver.py"),
                                   "--listen", "127.0.0.1:0", "--port-file", self._port_file,
                                   "--state-dir", self.dir, "--context", context, *args],
                                  log_path=os.path.join(self.dir, "standin.log"))
        self.port = None

    def wait(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self._port_file) and open(self._port_file).read().strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"stand-in {self.context} exited: see {self.dir}/standin.log")
            time.sleep(0.1)
        self.port = int(open(self._port_file).read().strip())
        self._tls = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        self._tls.load_cert_chain(os.path.join(self.dir, "client.crt"), os.path.join(self.dir, "client.key"))
        while time.time() < deadline:
            try:
                if self.call("GET", "/_standin/health")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"stand-in {self.context} does not answer")

    def call(self, method, path, body=None):
        """A raw request; returns (status, decoded JSON or None)."""
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self._tls, timeout=60)
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else None)

    def create(self, obj):
        """POSTs obj to its collection; returns the status code."""
        group, _, version = obj["apiVersion"].rpartition("/")
        base = f"/apis/{group}/{version}" if group else f"/api/{version}"
        ns = obj["metadata"].get("namespace")
        plural = PLURALS.get(obj["kind"], obj["kind"].lower() + "s")
        path = f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"
        code, doc = self.call("POST", path, obj)
        if code >= 300:
            raise RuntimeError(f"create {obj['kind']} {obj['metadata']['name']}: {code} {doc}")
        return doc

    def kubectl(self, *args, stdin=None, timeout=120):
        p = subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, "--context", self.context, *args],
                           input=stdin, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def get_json(self, types, *extra):
        """Every object of the types (comma list), through kubectl."""
        rc, out, err = self.kubectl("get", types, "-A", "-o", "json", *extra)
        if rc != 0:
            raise RuntimeError(f"kubectl get {types}: {err}")
        return json.loads(out)["items"]

    def requests(self):
        return self.call("GET", "/_standin/requests")[1]

    def resource_version(self):
        return self.call("GET", "/_standin/health")[1]["resourceVersion"]


def key(o):
    """(kind, namespace, name) of an object."""
    return (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])


def comparable(o):
    """What a migration must keep equal on both sides: everything but status
    and what the server sets in metadata, and a Service's allocated
    addresses (SPEC.md "Migration" strips those)."""
    c = {k: v for k, v in o.items() if k not in ("metadata", "status")}
    c["labels"] = o["metadata"].get("labels") or {}
    c["annotations"] = o["metadata"].get("annotations") or {}
    if o["kind"] == "Service":
        c["spec"] = {k: v for k, v in c["spec"].items() if k not in ("clusterIP", "clusterIPs")}
    return c


PLURALS = {
    "NetworkPolicy": "networkpolicies", "PriorityClass": "priorityclasses", "StorageClass": "storageclasses",
    "Ingress": "ingresses", "PersistentVolumeClaim": "persistentvolumeclaims",
    "CustomResourceDefinition": "customresourcedefinitions", "PodDisruptionBudget": "poddisruptionbudgets",
    "ResourceQuota": "resourcequotas", "LimitRange": "limitranges", "Endpoints": "endpoints",
}
