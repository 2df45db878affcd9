"""The objects a freshly installed (kubeadm-style) cluster already has, so
clients see what they would on a real one: the four namespaces, the
`kubernetes` service, CoreDNS and kube-proxy, the control-plane node with its
static pods, the bootstrap RBAC roles and the system priority classes."""
from . import util
from .api import INTERNAL
from .controllers import KUBE_VERSION

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

_CLUSTER_ROLES = {
    "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                      {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    "admin": [{"apiGroups": ["", "apps", "batch"], "resources": ["*"], "verbs": ["*"]}],
    "edit": [{"apiGroups": ["", "apps", "batch"], "resources": ["*"],
              "verbs": ["create", "delete", "deletecollection", "patch", "update", "get", "list", "watch"]}],
    "view": [{"apiGroups": ["", "apps", "batch"], "resources": ["*"], "verbs": ["get", "list", "watch"]}],
    "system:basic-user": [{"apiGroups": ["authorization.k8s.io"],
                           "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]}],
    "system:discovery": [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                              "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                          "verbs": ["get"]}],
    "system:public-info-viewer": [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                                   "verbs": ["get"]}],
    "system:node": [{"apiGroups": [""], "resources": ["nodes", "nodes/status", "pods", "pods/status"],
                     "verbs": ["get", "list", "watch", "create", "update", "patch"]}],
    "system:node-proxier": [{"apiGroups": ["", "discovery.k8s.io"], "resources": ["endpoints", "services", "endpointslices"],
                             "verbs": ["list", "watch"]}],
    "system:coredns": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                        "verbs": ["list", "watch"]},
                       {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}],
    "system:controller:deployment-controller": [{"apiGroups": ["apps"], "resources": ["deployments", "replicasets"],
                                                 "verbs": ["get", "list", "watch", "update", "create", "delete"]}],
    "system:kube-scheduler": [{"apiGroups": [""], "resources": ["pods/binding", "bindings"], "verbs": ["create"]}],
}
_CLUSTER_ROLE_BINDINGS = {
    "cluster-admin": ("cluster-admin", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]),
    "system:basic-user": ("system:basic-user", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]),
    "system:discovery": ("system:discovery", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]),
    "system:public-info-viewer": ("system:public-info-viewer", [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}]),
    "system:node-proxier": ("system:node-proxier", [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]),
    "system:coredns": ("system:coredns", [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]),
    "system:kube-scheduler": ("system:kube-scheduler", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-scheduler"}]),
    "kubeadm:cluster-admins": ("cluster-admin", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kubeadm:cluster-admins"}]),
}


def node_object(name, provider_id="", ready=True, labels=None, taints=None, internal_ip=None,
                instance_type="m5.xlarge", zone="us-east-1a"):
    """A Node as a kubelet registers it (status included)."""
    if internal_ip is None:
        # ip-10-0-16-5.ec2.internal -> 10.0.16.5
        parts = name.split(".")[0].split("-")
        internal_ip = ".".join(parts[1:5]) if len(parts) == 5 and parts[0] == "ip" else "10.0.0.100"
    lab = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
           "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
           "node.kubernetes.io/instance-type": instance_type, "topology.kubernetes.io/region": zone[:-1],
           "topology.kubernetes.io/zone": zone}
    lab.update(labels or {})
    now = util.now()
    spec = {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]}
    if provider_id:
        spec["providerID"] = provider_id
    if taints:
        spec["taints"] = taints
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": lab,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": spec,
            "status": {
                "addresses": [{"type": "InternalIP", "address": internal_ip}, {"type": "Hostname", "address": name},
                              {"type": "InternalDNS", "address": name}],
                "allocatable": {"cpu": "4", "ephemeral-storage": "95491648749", "hugepages-1Gi": "0",
                                "hugepages-2Mi": "0", "memory": "15807888Ki", "pods": "110"},
                "capacity": {"cpu": "4", "ephemeral-storage": "103609580Ki", "hugepages-1Gi": "0",
                             "hugepages-2Mi": "0", "memory": "15910288Ki", "pods": "110"},
                "conditions": node_conditions(ready, now),
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"architecture": "amd64", "bootID": util.new_uid(),
                             "containerRuntimeVersion": "containerd://1.7.24", "kernelVersion": "6.1.119-129.201.amzn2023.x86_64",
                             "kubeProxyVersion": KUBE_VERSION, "kubeletVersion": KUBE_VERSION,
                             "machineID": util.new_uid().replace("-", ""), "operatingSystem": "linux",
                             "osImage": "Ubuntu 24.04.1 LTS", "systemUUID": util.new_uid()}}}


def node_conditions(ready, now, old=None):
    def c(t, status, reason, msg):
        prev = next((x for x in old or [] if x.get("type") == t), None)
        ltt = prev["lastTransitionTime"] if prev and prev.get("status") == status else now
        return {"type": t, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": ltt,
                "reason": reason, "message": msg}
    return [c("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            c("Ready", "True", "KubeletReady", "kubelet is posting ready status") if ready else
            c("Ready", "False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")
            if ready is False else
            c("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")]


def bootstrap(api, ctl, server_ip, server_port, control_plane_node):
    reg = api.reg

    def create(group, resource, obj):
        rt = reg.preferred(group, resource)
        return api.create(rt, obj["metadata"].get("namespace", ""), obj, INTERNAL)

    for ns in SYSTEM_NAMESPACES:
        create("", "namespaces", {"metadata": {"name": ns}})
    ctl.settle()
    create("", "services", {"metadata": {"name": "kubernetes", "namespace": "default",
                                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
                            "spec": {"clusterIP": "10.96.0.1", "type": "ClusterIP",
                                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
    create("", "endpoints", {"metadata": {"name": "kubernetes", "namespace": "default",
                                          "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                             "subsets": [{"addresses": [{"ip": server_ip}],
                                          "ports": [{"name": "https", "port": server_port, "protocol": "TCP"}]}]})
    create("discovery.k8s.io", "endpointslices", {
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [server_ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": server_port, "protocol": "TCP"}]})
    for name, rules in _CLUSTER_ROLES.items():
        labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
        create("rbac.authorization.k8s.io", "clusterroles", {
            "metadata": {"name": name, "labels": labels,
                         "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "rules": rules})
    for name, (role, subjects) in _CLUSTER_ROLE_BINDINGS.items():
        create("rbac.authorization.k8s.io", "clusterrolebindings", {
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                         "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects})
    for name, value in (("system-cluster-critical", 2000000000), ("system-node-critical", 2000001000)):
        create("scheduling.k8s.io", "priorityclasses", {
            "metadata": {"name": name}, "value": value, "globalDefault": False, "preemptionPolicy": "PreemptLowerPriority",
            "description": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."
            if name == "system-cluster-critical" else "Used for system critical pods that must not be moved from their current node."})
    create("", "configmaps", {"metadata": {"name": "cluster-info", "namespace": "kube-public"},
                              "data": {"kubeconfig": f"apiVersion: v1\nclusters:\n- cluster:\n    server: https://{server_ip}:{server_port}\n  name: \"\"\nkind: Config\n"}})
    create("", "configmaps", {"metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
                              "data": {"ClusterConfiguration": f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: {KUBE_VERSION}\nnetworking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n"}})
    create("", "configmaps", {"metadata": {"name": "coredns", "namespace": "kube-system"},
                              "data": {"Corefile": ".:53 {\n    errors\n    health\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n}\n"}})
    create("", "configmaps", {"metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"app": "kube-proxy"}},
                              "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n"}})
    for sa in ("coredns", "kube-proxy"):
        create("", "serviceaccounts", {"metadata": {"name": sa, "namespace": "kube-system"}})
    crit = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    create("", "services", {"metadata": {"name": "kube-dns", "namespace": "kube-system",
                                         "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                                    "kubernetes.io/name": "CoreDNS"},
                                         "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
                            "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"},
                                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                                               {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}})
    create("apps", "deployments", {
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                              "spec": {"priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                                       "dnsPolicy": "Default", "tolerations": crit,
                                       "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                                                       "args": ["-conf", "/etc/coredns/Corefile"],
                                                       "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                                                 {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                                                 {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}]}]}}}})
    create("apps", "daemonsets", {
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
        "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                 "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                              "spec": {"priorityClassName": "system-node-critical", "serviceAccountName": "kube-proxy",
                                       "hostNetwork": True, "nodeSelector": {"kubernetes.io/os": "linux"},
                                       "tolerations": [{"operator": "Exists"}],
                                       "containers": [{"name": "kube-proxy", "image": f"registry.k8s.io/kube-proxy:{KUBE_VERSION}",
                                                       "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                                                   "--hostname-override=$(NODE_NAME)"]}]}}}})
    if control_plane_node:
        node = create("", "nodes", node_object(
            control_plane_node, labels={"node-role.kubernetes.io/control-plane": "",
                                        "node.kubernetes.io/exclude-from-external-load-balancers": ""},
            taints=[{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}],
            instance_type="m5.large"))
        ip = node["status"]["addresses"][0]["address"]
        for comp, image in (("etcd", "registry.k8s.io/etcd:3.5.16-0"),
                            ("kube-apiserver", f"registry.k8s.io/kube-apiserver:{KUBE_VERSION}"),
                            ("kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{KUBE_VERSION}"),
                            ("kube-scheduler", f"registry.k8s.io/kube-scheduler:{KUBE_VERSION}")):
            create("", "pods", {
                "metadata": {"name": f"{comp}-{control_plane_node}", "namespace": "kube-system",
                             "labels": {"component": comp, "tier": "control-plane"},
                             "annotations": {"kubernetes.io/config.source": "file",
                                             "kubernetes.io/config.mirror": util.new_uid().replace("-", "")},
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": control_plane_node,
                                                  "uid": node["metadata"]["uid"], "controller": True}]},
                "spec": {"nodeName": control_plane_node, "hostNetwork": True, "priorityClassName": "system-node-critical",
                         "priority": 2000001000,
                         "tolerations": [{"effect": "NoExecute", "operator": "Exists"}],
                         "containers": [{"name": comp, "image": image, "command": [comp]}]}})
        for lease in ("kube-controller-manager", "kube-scheduler"):
            create("coordination.k8s.io", "leases", {
                "metadata": {"name": lease, "namespace": "kube-system"},
                "spec": {"holderIdentity": f"{control_plane_node}_{util.new_uid()}", "leaseDurationSeconds": 15,
                         "leaseTransitions": 0}})
    ctl.settle()
