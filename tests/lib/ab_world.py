"""The whole A/B world on loopback, shared by tests/e2e/test_upgrade.py and
the demo (scripts/demo.py): the signature-checking AWS emulator, two
stand-in Kubernetes API servers (slots a and b), two stand-in Consuls, a
"kubelet" thread that joins a Node to a slot's cluster for each of its
running instances (named by the private DNS name, providerID
aws:///ZONE/INSTANCE_ID, as the bootstrap's kubelet registers it), and one
loopback HTTP server standing in for the ingress controllers behind the
ELBs ([smoke] connect_to sends every ELB name to it: curl's CONNECT_TO
with an empty host). Every process is started through harness and stopped
by its own PID."""

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import World, sample_config
from standin import WIDGET_CRD as CRD, Standin
from consul_lib import ConsulStandin

HOST = "shop.example.com"


def _ns(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def _meta(name, ns=None, **labels):
    m = {"name": name, "labels": labels}
    if ns:
        m["namespace"] = ns
    return m



def shop_stack():
    """A small application stack: two namespaces labelled as stack shop,
    with secrets, config maps, RBAC, a quota, a deployment, a service, an
    ingress, and a custom resource of a CRD."""
    tpl = {"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
    return [
        _ns("shop", {"paasctl.io/stack": "shop"}), _ns("shop-db", {"paasctl.io/stack": "shop"}), CRD,
        {"apiVersion": "v1", "kind": "Secret", "metadata": _meta("db-pass", "shop"), "type": "Opaque",
         "data": {"password": "aHVudGVyMg=="}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": _meta("tls", "shop-db"), "type": "Opaque",
         "data": {"key": "c2VjcmV0"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("web-cfg", "shop", tier="web"),
         "data": {"greeting": "hello"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("db-cfg", "shop-db"), "data": {"size": "small"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("web", "shop")},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta("reader", "shop"),
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta("web-reader", "shop"),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
         "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]},
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta("shop-quota", "shop"),
         "spec": {"hard": {"pods": "20"}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("web", "shop"),
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": tpl}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("web", "shop"),
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta("web", "shop"),
         "spec": {"rules": [{"host": HOST, "http": {"paths": [{
             "path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": _meta("w1", "shop"), "spec": {"size": 3}},
    ]


class Ingress:
    """The ingress controllers' stand-in: answers each Host with the code in
    .answers (404 for unknown hosts), and records (Host, path)."""

    def __init__(self):
        self.answers = {HOST: 200}
        self.seen = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host = self.headers.get("Host", "").split(":")[0]
                outer.seen.append((host, self.path))
                self.send_response(outer.answers.get(host, 404))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ABWorld:
    def __init__(self, name, consul=True, smoke_timeout=20):
        self.name = name
        self.w = World()
        self.kube = {s: Standin(self.w.dir, f"paas-{s}") for s in "ab"}
        for k in self.kube.values():
            k.wait()
        self.consul = {s: ConsulStandin(self.w.dir, f"consul-{s}") for s in "ab"} if consul else {}
        self.ingress = Ingress()
        self.ec2 = self.w.moto.client("ec2")
        self.joined = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._kubelets, daemon=True)
        self._thread.start()
        self.cfg = self.w.write_config(self.config_text(smoke_timeout))

    def config_text(self, smoke_timeout):
        text = sample_config(self.name, zones=1)
        for s in "ab":
            text = text.replace(f"[cluster {s}]\n", f"[cluster {s}]\nkubeconfig = {self.kube[s].kubeconfig}\n"
                                f"context = paas-{s}\n")
        text += (f"\n[smoke]\ntimeout = {smoke_timeout}\nnamespaces = shop\npath = /healthz\n"
                 f"connect_to = ::127.0.0.1:{self.ingress.port}\n")
        if self.consul:
            text += f"\n[consul]\naddress_a = {self.consul['a'].url}\naddress_b = {self.consul['b'].url}\n"
        return text

    def instances(self, slot):
        res = self.ec2.describe_instances(Filters=[
            {"Name": "tag:paasctl:paas", "Values": [self.name]}, {"Name": "tag:paasctl:slot", "Values": [slot]},
            {"Name": "instance-state-name", "Values": ["running"]}])
        return [i for r in res["Reservations"] for i in r["Instances"]]

    def join(self, slot, inst):
        """Registers inst's Node in slot's cluster as its kubelet would."""
        az = inst["Placement"]["AvailabilityZone"]
        self.kube[slot].call("POST", "/_standin/nodes", {
            "name": inst["PrivateDnsName"], "ready": True, "zone": az,
            "providerID": f"aws:///{az}/{inst['InstanceId']}"})
        self.joined.add(inst["InstanceId"])

    def _kubelets(self):
        while not self._stop.wait(0.3):
            try:
                for s in "ab":
                    fresh = [i for i in self.instances(s) if i["InstanceId"] not in self.joined
                             and {t["Key"]: t["Value"] for t in i.get("Tags", [])}.get("paasctl:role")
                             in ("master", "ingress", "minion")]
                    for i in fresh:
                        self.join(s, i)
                    if fresh:
                        self.kube[s].call("POST", "/_standin/settle", {})
            except Exception:   # the emulator stopping under us at the end
                if self._stop.is_set():
                    return

    def seed(self):
        """Slot a's application stack and Consul keys."""
        for obj in shop_stack():
            self.kube["a"].create(obj)
            if obj["kind"] == "CustomResourceDefinition":
                time.sleep(0.5)   # Established before its resources
        self.kube["a"].call("POST", "/_standin/settle", {})
        if self.consul:
            c = self.consul["a"].client()
            for k, v in (("shop/config/greeting", "hello"), ("shop/config/currency", "EUR"),
                         ("shop/feature/checkout-v2", "on"), ("shop/db/pool", "10")):
                c.kv.put(k, v)

    def paasctl(self, *args, timeout=600, **env):
        e = {"PAASCTL_POLL_MS": "100", "PAASCTL_CLUSTER_WAIT_S": "60"}
        e.update(env)
        return self.w.paasctl("-c", self.cfg, "--yes", *args, env=self.w.env(**e), timeout=timeout)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.ingress.stop()
