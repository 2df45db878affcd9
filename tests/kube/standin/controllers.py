"""What a cluster does by itself, reduced to what clients can observe:
bootstrap objects, the namespace, service (endpoints, endpoint slices),
deployment, replicaset, statefulset, daemonset, job, CRD and garbage
collector controllers, plus a scheduler and a kubelet that only report
status.

Controllers react to store events on one worker thread and write through the
same API as clients.  They react to spec changes, owned objects and
membership changes, never to a bare status write: so a client that patches a
status (as a kubelet or controller would) sees it stick until something else
happens to the object, which keeps health scenarios easy to set up.

Health knobs (also reachable over HTTP under /_standin, see apiserver.py):
  pod_override[(ns, name)]        = {"phase": ..., "waiting": reason, "restarts": n, "ready": bool}
  deployment_available[(ns, name)] = n   (only the first n pods, by name, become Ready)
"""
import collections
import copy
import ipaddress
import threading
import time
import traceback

from . import util
from .api import INTERNAL
from .errors import ApiError

CORE = ""
POD_CIDR = ipaddress.ip_network("10.244.0.0/16")
KUBE_VERSION = "v1.32.0"


def _ref(obj, kind, api_version, controller=True):
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": True}


def _controller_uid(obj):
    for r in obj["metadata"].get("ownerReferences") or []:
        if r.get("controller"):
            return r.get("uid")
    return None


def _selector_match(sel, labels):
    from .admission import _selector_matches
    return _selector_matches(sel or {}, labels or {})


def _cond(typ, status, reason="", message="", now=None, old=None):
    """A condition, keeping lastTransitionTime when the status did not change."""
    now = now or util.now()
    c = {"type": typ, "status": status}
    prev = next((x for x in old or [] if x.get("type") == typ), None)
    c["lastProbeTime"] = None
    c["lastTransitionTime"] = prev["lastTransitionTime"] if prev and prev.get("status") == status \
        and prev.get("lastTransitionTime") else now
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def tolerates(pod, node):
    tols = util.dig(pod, "spec", "tolerations") or []
    for t in util.dig(node, "spec", "taints") or []:
        if t.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        ok = False
        for tol in tols:
            if tol.get("effect") and tol["effect"] != t.get("effect"):
                continue
            if tol.get("operator") == "Exists" and (not tol.get("key") or tol["key"] == t.get("key")):
                ok = True
            elif tol.get("key") == t.get("key") and tol.get("value", "") == t.get("value", ""):
                ok = True
        if not ok:
            return False
    return True


def node_ready(node):
    if node is None:
        return False
    for c in util.dig(node, "status", "conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


class Controllers:
    def __init__(self, api, registry, server_ip="127.0.0.1", server_port=6443):
        self.api = api
        self.reg = registry
        self.store = api.store
        self.lock = api.lock
        self.q = collections.deque()
        self.qcond = threading.Condition()
        self.busy = False
        self.stopped = False
        self.pod_override = {}
        self.deployment_available = {}
        self.owner_index = collections.defaultdict(set)   # owner uid -> {(key, ns, name)}
        self._pod_ips = set()
        self.server_ip, self.server_port = server_ip, server_port
        self.errors = []
        for rt in self.reg.all_storable():
            for o in self.store.items(rt.key):
                self._index(rt.key, o, None)
                if rt.key == (CORE, "pods") and util.dig(o, "status", "podIP"):
                    self._pod_ips.add(o["status"]["podIP"])
        self.store.listeners.append(self._on_event)
        self.thread = threading.Thread(target=self._run, name="controllers", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        with self.qcond:
            self.stopped = True
            self.qcond.notify_all()

    # -- event plumbing -----------------------------------------------------------
    def _index(self, key, obj, prev):
        if prev is not None:
            for r in prev["metadata"].get("ownerReferences") or []:
                self.owner_index[r.get("uid")].discard((key, prev["metadata"].get("namespace", ""),
                                                        prev["metadata"]["name"]))
        if obj is not None:
            for r in obj["metadata"].get("ownerReferences") or []:
                self.owner_index[r.get("uid")].add((key, obj["metadata"].get("namespace", ""),
                                                    obj["metadata"]["name"]))

    def _on_event(self, typ, key, obj, prev):
        # called with the store lock held: only record, work happens on our thread
        self._index(key, None if typ == "DELETED" else obj, prev)
        status_only = (typ == "MODIFIED" and prev is not None and
                       {k: v for k, v in prev.items() if k not in ("status", "metadata")} ==
                       {k: v for k, v in obj.items() if k not in ("status", "metadata")} and
                       prev["metadata"].get("deletionTimestamp") == obj["metadata"].get("deletionTimestamp") and
                       prev["metadata"].get("labels") == obj["metadata"].get("labels") and
                       prev["metadata"].get("finalizers") == obj["metadata"].get("finalizers"))
        self.enqueue((typ, key, obj, prev, status_only))

    def enqueue(self, item):
        with self.qcond:
            self.q.append(item)
            self.qcond.notify_all()

    def settle(self, timeout=10.0):
        """Wait until every queued reaction has been processed."""
        end = time.time() + timeout
        with self.qcond:
            while (self.q or self.busy) and time.time() < end:
                self.qcond.wait(0.05)
            return not (self.q or self.busy)

    def _run(self):
        while True:
            with self.qcond:
                while not self.q and not self.stopped:
                    self.qcond.wait()
                if self.stopped:
                    return
                item = self.q.popleft()
                self.busy = True
            try:
                with self.lock:
                    self.handle(*item)
            except Exception:
                self.errors.append(traceback.format_exc())
                traceback.print_exc()
            finally:
                with self.qcond:
                    self.busy = False
                    self.qcond.notify_all()

    # -- small API wrappers ---------------------------------------------------------
    def rt(self, group, resource):
        return self.reg.preferred(group, resource)

    def get(self, group, resource, ns, name):
        return self.store.get((group, resource), ns, name)

    def items(self, group, resource, ns=None):
        return [copy.deepcopy(o) for o in self.store.items((group, resource), ns)]

    def create(self, group, resource, obj):
        rt = self.rt(group, resource)
        try:
            return self.api.create(rt, obj["metadata"].get("namespace", ""), obj, INTERNAL)
        except ApiError as e:
            if e.code not in (409, 403, 404):
                raise
            return None

    def update(self, group, resource, obj, status=False):
        rt = self.rt(group, resource)
        try:
            return self.api.update(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], obj,
                                   INTERNAL, "status" if status else "")[0]
        except ApiError as e:
            if e.code not in (404, 409):
                raise
            return None

    def set_status(self, group, resource, obj, status):
        if obj.get("status") == status:
            return obj
        o = copy.deepcopy(obj)
        o["status"] = status
        o["metadata"].pop("resourceVersion", None)
        return self.update(group, resource, o, status=True)

    def delete(self, group, resource, ns, name, policy=None):
        rt = self.rt(group, resource)
        if rt is None:
            return
        try:
            self.api.delete(rt, ns, name, INTERNAL, {"propagationPolicy": policy} if policy else None)
        except ApiError:
            pass

    # -- dispatch -----------------------------------------------------------------
    def handle(self, typ, key, obj, prev, status_only):
        ns = obj["metadata"].get("namespace", "")
        name = obj["metadata"]["name"]
        if typ == "DELETED":
            self.collect_garbage(obj)
        group, resource = key
        if key == (CORE, "namespaces"):
            if typ == "ADDED":
                self.namespace_created(obj)
            elif typ != "DELETED" and obj["metadata"].get("deletionTimestamp"):
                self.namespace_terminate(obj)
        elif key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            if not self._crd_delayed(typ, key, obj, prev, status_only):
                self.sync_crd(typ, obj)
        elif key == (CORE, "services"):
            if typ == "DELETED":
                self.delete(CORE, "endpoints", ns, name)
            elif not status_only:
                self.sync_endpoints(ns, name)
        elif key == (CORE, "nodes"):
            if typ == "ADDED":
                self.node_added(obj)
            if not status_only or typ != "MODIFIED" or node_ready(obj) != node_ready(prev):
                self.node_changed(obj, typ)
        elif key == ("apps", "deployments"):
            if typ != "DELETED" and not status_only:
                self.sync_deployment(ns, name)
        elif key == ("apps", "replicasets"):
            if typ != "DELETED":
                if not status_only:
                    self.sync_replicaset(ns, name)
            self._sync_owner_of(obj, typ)
        elif key == ("apps", "statefulsets"):
            if typ != "DELETED" and not status_only:
                self.sync_statefulset(ns, name)
        elif key == ("apps", "daemonsets"):
            if typ != "DELETED" and not status_only:
                self.sync_daemonset(ns, name)
        elif key == ("batch", "jobs"):
            if typ != "DELETED" and not status_only:
                self.sync_job(ns, name)
        elif key == (CORE, "pods"):
            if typ == "ADDED":
                self.sync_pod(ns, name)
            if typ == "DELETED" and util.dig(obj, "status", "podIP"):
                self._pod_ips.discard(obj["status"]["podIP"])
            self._sync_owner_of(obj, typ)
            self.sync_endpoints_for_pod(obj, prev)

    def _sync_owner_of(self, obj, typ="MODIFIED"):
        """An owned object changed: the owner recounts; a lost pod is replaced."""
        ns = obj["metadata"].get("namespace", "")
        lost = typ == "DELETED"
        for r in obj["metadata"].get("ownerReferences") or []:
            if not r.get("controller"):
                continue
            k = r.get("kind")
            if k == "ReplicaSet":
                rs = self.get("apps", "replicasets", ns, r["name"])
                if rs and rs["metadata"]["uid"] == r["uid"]:
                    if lost:
                        self.sync_replicaset(ns, r["name"])
                    else:
                        self.replicaset_status(rs)
            elif k == "Deployment":
                self.deployment_status(ns, r["name"])
            elif k == "StatefulSet":
                self.sync_statefulset(ns, r["name"], pods_only=not lost)
            elif k == "DaemonSet":
                self.sync_daemonset(ns, r["name"], pods_only=not lost)
            elif k == "Job":
                self.sync_job(ns, r["name"], status_only=True)

    # -- garbage collector --------------------------------------------------------
    def collect_garbage(self, owner):
        uid = owner["metadata"].get("uid")
        for key, ns, name in list(self.owner_index.get(uid, ())):
            dep = self.store.get(key, ns, name)
            if dep is None:
                continue
            refs = dep["metadata"].get("ownerReferences") or []
            remaining = [r for r in refs if r.get("uid") != uid and self._owner_exists(r, ns)]
            if remaining:
                dep["metadata"]["ownerReferences"] = remaining
                self.update(key[0], key[1], dep)
            else:
                self.delete(key[0], key[1], ns, name, "Background")
        self.owner_index.pop(uid, None)

    def _owner_exists(self, ref, ns):
        group = ref.get("apiVersion", "v1").rsplit("/", 1)[0] if "/" in ref.get("apiVersion", "") else ""
        rt = self.reg.by_kind(group, ref.get("kind"))
        if rt is None:
            return False
        o = self.store.peek(rt.key, ns if rt.namespaced else "", ref.get("name"))
        return o is not None and o["metadata"].get("uid") == ref.get("uid")

    # -- namespaces ---------------------------------------------------------------
    def namespace_created(self, nso):
        ns = nso["metadata"]["name"]
        self.create(CORE, "serviceaccounts", {"metadata": {"name": "default", "namespace": ns}})
        ca = open(self.api.ca_path).read() if getattr(self.api, "ca_path", None) else ""
        self.create(CORE, "configmaps", {
            "metadata": {"name": "kube-root-ca.crt", "namespace": ns,
                         "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca}})

    def namespace_terminate(self, nso):
        ns = nso["metadata"]["name"]
        for rt in self.reg.all_storable():
            if not rt.namespaced:
                continue
            for o in list(self.store.items(rt.key, ns)):
                self.delete(rt.group, rt.resource, ns, o["metadata"]["name"], "Background")
                left = self.store.peek(rt.key, ns, o["metadata"]["name"])
                if left is not None and left["metadata"].get("finalizers"):
                    # a real namespace waits for finalizers; we force them off so
                    # tests don't hang on a stuck namespace
                    left = copy.deepcopy(left)
                    left["metadata"]["finalizers"] = []
                    self.update(rt.group, rt.resource, left)
        cur = self.store.get((CORE, "namespaces"), "", ns)
        if cur is not None:
            self.store.remove((CORE, "namespaces"), cur)

    # -- CRDs ---------------------------------------------------------------------
    establish_delay = 0.0   # --establish-delay-ms: a new CRD is Established (and served) this late

    def _crd_delayed(self, typ, key, obj, prev, status_only):
        """Holds a new CRD back for establish_delay seconds, as a real API
        server takes a moment to serve it: clients must wait for Established."""
        if typ != "ADDED" or not self.establish_delay:
            return False
        timer = threading.Timer(self.establish_delay, self.enqueue, [("MODIFIED", key, obj, prev, status_only)])
        timer.daemon = True
        timer.start()
        return True

    def sync_crd(self, typ, crd):
        if typ == "DELETED":
            self.reg.unregister_crd(crd)
            return
        meta = crd["metadata"]
        if meta.get("deletionTimestamp"):
            names, group = crd["spec"]["names"], crd["spec"]["group"]
            key = (group, names["plural"])
            for o in list(self.store.items(key)):
                self.store.remove(key, copy.deepcopy(o))
            self.reg.unregister_crd(crd)
            cur = self.get("apiextensions.k8s.io", "customresourcedefinitions", "", meta["name"])
            if cur:
                cur["metadata"]["finalizers"] = [f for f in cur["metadata"].get("finalizers") or []
                                                 if f != "customresourcecleanup.apiextensions.k8s.io"]
                self.update("apiextensions.k8s.io", "customresourcedefinitions", cur)
            return
        if "customresourcecleanup.apiextensions.k8s.io" not in (meta.get("finalizers") or []):
            cur = copy.deepcopy(crd)
            cur["metadata"]["finalizers"] = (meta.get("finalizers") or []) + ["customresourcecleanup.apiextensions.k8s.io"]
            crd = self.update("apiextensions.k8s.io", "customresourcedefinitions", cur) or crd
        self.reg.register_crd(crd)
        names = dict(crd["spec"]["names"])
        status = copy.deepcopy(crd.get("status") or {})
        old = status.get("conditions") or []
        status["acceptedNames"] = names
        status["conditions"] = [
            _cond("NamesAccepted", "True", "NoConflicts", "no conflicts found", old=old),
            _cond("Established", "True", "InitialNamesAccepted", "the initial names have been accepted", old=old)]
        for c in status["conditions"]:
            c.pop("lastProbeTime", None)
        storage = [v["name"] for v in crd["spec"].get("versions", []) if v.get("storage")]
        status["storedVersions"] = sorted(set((status.get("storedVersions") or []) + storage))
        self.set_status("apiextensions.k8s.io", "customresourcedefinitions", crd, status)

    # -- nodes, scheduler and kubelet ------------------------------------------------
    def node_added(self, node):
        name = node["metadata"]["name"]
        self.create("coordination.k8s.io", "leases", {
            "metadata": {"name": name, "namespace": "kube-node-lease",
                         "ownerReferences": [dict(_ref(node, "Node", "v1"), controller=False)]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                     "renewTime": util.now().replace("Z", ".000000Z")}})

    def node_changed(self, node, typ):
        for ds in self.items("apps", "daemonsets"):
            self.sync_daemonset(ds["metadata"]["namespace"], ds["metadata"]["name"])
        for pod in self.items(CORE, "pods"):
            nn = util.dig(pod, "spec", "nodeName")
            if nn == node["metadata"]["name"] or not nn:
                self.sync_pod(pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _alloc_pod_ip(self):
        import random
        for _ in range(10000):
            ip = str(POD_CIDR[random.randint(2, POD_CIDR.num_addresses - 2)])
            if ip not in self._pod_ips and not ip.endswith(".0") and not ip.endswith(".255"):
                self._pod_ips.add(ip)
                return ip
        return "10.244.255.254"

    def _schedule(self, pod):
        nodes = [n for n in self.items(CORE, "nodes") if node_ready(n) and not util.dig(n, "spec", "unschedulable")]
        sel = util.dig(pod, "spec", "nodeSelector") or {}
        fit = [n for n in nodes if tolerates(pod, n) and
               all((n["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]
        if not fit:
            return None, len(self.store.items((CORE, "nodes")))
        counts = collections.Counter(util.dig(p, "spec", "nodeName") for p in self.store.items((CORE, "pods")))
        fit.sort(key=lambda n: (counts[n["metadata"]["name"]], n["metadata"]["name"]))
        return fit[0]["metadata"]["name"], 0

    def _ready_allowed(self, pod):
        """The deployment_available knob: only its first n pods may be Ready."""
        ns = pod["metadata"]["namespace"]
        rs_ref = next((r for r in pod["metadata"].get("ownerReferences") or []
                       if r.get("kind") == "ReplicaSet" and r.get("controller")), None)
        if not rs_ref:
            return True
        rs = self.store.peek(("apps", "replicasets"), ns, rs_ref["name"])
        d_ref = next((r for r in (rs or {}).get("metadata", {}).get("ownerReferences") or []
                      if r.get("kind") == "Deployment"), None)
        if not d_ref or (ns, d_ref["name"]) not in self.deployment_available:
            return True
        limit = self.deployment_available[(ns, d_ref["name"])]
        if limit is None:
            return True
        d_pods = []
        for r in self.store.items(("apps", "replicasets"), ns):
            if any(x.get("uid") == d_ref["uid"] for x in r["metadata"].get("ownerReferences") or []):
                d_pods += [p["metadata"]["name"] for p in self.store.items((CORE, "pods"), ns)
                           if _controller_uid(p) == r["metadata"]["uid"]]
        d_pods.sort()
        return pod["metadata"]["name"] in d_pods[:limit]

    def sync_pod(self, ns, name):
        """Scheduler + kubelet: bind, then report the status a kubelet would."""
        pod = self.get(CORE, "pods", ns, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        spec = pod["spec"]
        old_status = pod.get("status") or {}
        now = util.now()
        if not spec.get("nodeName"):
            node_name, total = self._schedule(pod)
            if node_name is None:
                st = copy.deepcopy(old_status)
                st["phase"] = "Pending"
                st["conditions"] = [_cond("PodScheduled", "False", "Unschedulable",
                                          f"0/{total} nodes are available: {total} node(s) had untolerated taint or were not ready. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
                                          if total else "no nodes available to schedule pods", old=old_status.get("conditions"))]
                self.set_status(CORE, "pods", pod, st)
                return
            pod["spec"]["nodeName"] = node_name
            pod["metadata"].pop("resourceVersion", None)
            pod = self.update(CORE, "pods", pod)
            if pod is None:
                return
        node = self.get(CORE, "nodes", "", pod["spec"]["nodeName"])
        ov = self.pod_override.get((ns, name), {})
        ready_node = node_ready(node)
        host_ip = next((a["address"] for a in util.dig(node, "status", "addresses") or []
                        if a.get("type") == "InternalIP"), "10.0.0.1") if node else ""
        if spec.get("hostNetwork"):
            pod_ip = host_ip
        else:
            pod_ip = old_status.get("podIP") or self._alloc_pod_ip()
        completes = spec.get("restartPolicy") in ("Never", "OnFailure")
        phase = ov.get("phase") or ("Succeeded" if completes else "Running")
        if node is None:
            phase = ov.get("phase") or "Pending"
        waiting = ov.get("waiting")
        ready = (phase == "Running" and ready_node and not waiting and ov.get("ready", True)
                 and self._ready_allowed(pod))
        started = old_status.get("startTime") or now
        cstatuses = []
        old_cs = {c.get("name"): c for c in old_status.get("containerStatuses") or []}
        for c in spec.get("containers") or []:
            oc = old_cs.get(c["name"], {})
            cs = {"name": c["name"], "image": c.get("image", ""),
                  "imageID": oc.get("imageID") or f"docker.io/library/{c.get('image', '').split(':')[0]}@sha256:" + util.pod_template_hash(c.get("image")) * 6,
                  "containerID": oc.get("containerID") or "containerd://" + util.new_uid().replace("-", "") * 2,
                  "ready": bool(ready), "restartCount": ov.get("restarts", 5 if waiting == "CrashLoopBackOff" else 0),
                  "started": phase == "Running" and not waiting}
            running_since = util.dig(oc, "state", "running", "startedAt") or now
            if waiting:
                cs["state"] = {"waiting": {"reason": waiting, "message": f"back-off 5m0s restarting failed container={c['name']} pod={name}_{ns}({pod['metadata']['uid']})" if waiting == "CrashLoopBackOff" else waiting}}
                cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": running_since,
                                                  "finishedAt": now, "containerID": cs["containerID"]}}
            elif phase == "Running":
                cs["state"] = {"running": {"startedAt": running_since}}
                cs["lastState"] = {}
            elif phase in ("Succeeded", "Failed"):
                cs["state"] = {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1,
                                              "reason": "Completed" if phase == "Succeeded" else "Error",
                                              "startedAt": util.dig(oc, "state", "terminated", "startedAt") or running_since,
                                              "finishedAt": util.dig(oc, "state", "terminated", "finishedAt") or now,
                                              "containerID": cs["containerID"]}}
                cs["lastState"] = {}
            else:
                cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
                cs["lastState"] = {}
            cstatuses.append(cs)
        old_conds = old_status.get("conditions")
        initialized = phase != "Pending"
        status = {
            "phase": phase,
            "conditions": [
                _cond("PodReadyToStartContainers", "True" if initialized else "False", old=old_conds),
                _cond("Initialized", "True", "PodCompleted" if phase == "Succeeded" else "", old=old_conds),
                _cond("Ready", "True" if ready else "False",
                      "" if ready else ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady"),
                      "" if ready or phase == "Succeeded" else
                      f"containers with unready status: [{' '.join(c['name'] for c in spec.get('containers') or [])}]",
                      old=old_conds),
                _cond("ContainersReady", "True" if ready else "False",
                      "" if ready else ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady"),
                      "" if ready or phase == "Succeeded" else
                      f"containers with unready status: [{' '.join(c['name'] for c in spec.get('containers') or [])}]",
                      old=old_conds),
                _cond("PodScheduled", "True", old=old_conds)],
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}] if host_ip else [],
            "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": started, "containerStatuses": cstatuses,
            "qosClass": old_status.get("qosClass", "BestEffort"),
        }
        if ov.get("reason"):
            status["reason"] = ov["reason"]
        if ov.get("message"):
            status["message"] = ov["message"]
        self.set_status(CORE, "pods", pod, status)

    # -- endpoints ---------------------------------------------------------------
    def sync_endpoints_for_pod(self, pod, prev):
        ns = pod["metadata"]["namespace"]
        labels = [pod["metadata"].get("labels") or {}]
        if prev:
            labels.append(prev["metadata"].get("labels") or {})
        for svc in self.store.items((CORE, "services"), ns):
            sel = util.dig(svc, "spec", "selector")
            if sel and any(all(l.get(k) == v for k, v in sel.items()) for l in labels):
                self.sync_endpoints(ns, svc["metadata"]["name"])

    def sync_endpoints(self, ns, name):
        svc = self.get(CORE, "services", ns, name)
        if svc is None:
            return
        if ns == "default" and name == "kubernetes":
            return    # maintained by the apiserver itself (bootstrap)
        sel = util.dig(svc, "spec", "selector")
        if not sel:
            return    # a service without selector has user-managed endpoints
        pods = [p for p in self.items(CORE, "pods", ns)
                if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
                and util.dig(p, "status", "podIP") and not p["metadata"].get("deletionTimestamp")
                and util.dig(p, "status", "phase") not in ("Succeeded", "Failed")]
        pods.sort(key=lambda p: p["metadata"]["name"])

        def target_port(sp, pod):
            tp = sp.get("targetPort", sp.get("port"))
            if isinstance(tp, str):
                for c in util.dig(pod, "spec", "containers") or []:
                    for cp in c.get("ports") or []:
                        if cp.get("name") == tp:
                            return cp.get("containerPort")
                return None
            return tp

        def is_ready(p):
            return any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in util.dig(p, "status", "conditions") or [])

        def addr(p):
            return {"ip": p["status"]["podIP"], "nodeName": p["spec"].get("nodeName"),
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                  "uid": p["metadata"]["uid"]}}
        ports = []
        for sp in util.dig(svc, "spec", "ports") or []:
            port = target_port(sp, pods[0]) if pods else None
            if port is None:
                continue
            e = {"port": port, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                e["name"] = sp["name"]
            ports.append(e)
        ready = [addr(p) for p in pods if is_ready(p)]
        not_ready = [addr(p) for p in pods if not is_ready(p)]
        subset = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if ports:
            subset["ports"] = ports
        labels = dict(svc["metadata"].get("labels") or {})
        ep = {"apiVersion": "v1", "kind": "Endpoints",
              "metadata": {"name": name, "namespace": ns, "labels": labels} if labels else {"name": name, "namespace": ns},
              }
        if subset.get("addresses") or subset.get("notReadyAddresses"):
            ep["subsets"] = [subset]
        cur = self.get(CORE, "endpoints", ns, name)
        if cur is None:
            ep["metadata"]["annotations"] = {"endpoints.kubernetes.io/last-change-trigger-time": util.now()}
            self.create(CORE, "endpoints", ep)
        elif cur.get("subsets") != ep.get("subsets") or (cur["metadata"].get("labels") or {}) != labels:
            cur["subsets"] = ep.get("subsets")
            if cur["subsets"] is None:
                cur.pop("subsets")
            if labels:
                cur["metadata"]["labels"] = labels
            cur["metadata"].pop("resourceVersion", None)
            self.update(CORE, "endpoints", cur)
        self._sync_slice(svc, pods, ports, is_ready)

    def _sync_slice(self, svc, pods, ports, is_ready):
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        slices = [s for s in self.items("discovery.k8s.io", "endpointslices", ns)
                  if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
        eps = [{"addresses": [p["status"]["podIP"]],
                "conditions": {"ready": is_ready(p), "serving": is_ready(p), "terminating": False},
                "nodeName": p["spec"].get("nodeName"),
                "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                              "uid": p["metadata"]["uid"]}} for p in pods]
        sports = [{"name": p.get("name", ""), "port": p["port"], "protocol": p["protocol"]} for p in ports]
        labels = dict(svc["metadata"].get("labels") or {})
        labels.update({"kubernetes.io/service-name": name,
                       "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"})
        if not slices:
            self.create("discovery.k8s.io", "endpointslices", {
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": name + "-", "namespace": ns, "labels": labels,
                             "ownerReferences": [_ref(svc, "Service", "v1")]},
                "addressType": "IPv4", "endpoints": eps, "ports": sports or None})
            return
        s = slices[0]
        if s.get("endpoints") != eps or s.get("ports") != (sports or None):
            s["endpoints"] = eps
            s["ports"] = sports or None
            s["metadata"].pop("resourceVersion", None)
            self.update("discovery.k8s.io", "endpointslices", s)

    # -- workloads ------------------------------------------------------------------
    def _owned(self, group, resource, ns, owner):
        uid = owner["metadata"]["uid"]
        return [o for o in self.items(group, resource, ns) if _controller_uid(o) == uid]

    def _pod_from_template(self, owner, kind, api_version, name=None, generate=None, extra_labels=None,
                           node=None):
        t = copy.deepcopy(util.dig(owner, "spec", "template") or {})
        meta = t.get("metadata") or {}
        meta = {k: v for k, v in meta.items() if k in ("labels", "annotations")}
        meta["labels"] = dict(meta.get("labels") or {}, **(extra_labels or {}))
        meta["namespace"] = owner["metadata"]["namespace"]
        if name:
            meta["name"] = name
        else:
            meta["generateName"] = generate
        meta["ownerReferences"] = [_ref(owner, kind, api_version)]
        spec = t.get("spec") or {}
        if node:
            spec["nodeName"] = node
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}

    @staticmethod
    def _is_ready(p):
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in util.dig(p, "status", "conditions") or [])

    def sync_deployment(self, ns, name):
        d = self.get("apps", "deployments", ns, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        tmpl = util.dig(d, "spec", "template") or {}
        h = util.pod_template_hash(tmpl)[:10]
        rss = self._owned("apps", "replicasets", ns, d)
        new_rs = next((r for r in rss if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
        revs = [int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0") or 0) for r in rss]
        replicas = util.dig(d, "spec", "replicas")
        replicas = 1 if replicas is None else replicas
        max_surge = 1  # what the annotation reports for the default 25% on small counts
        if new_rs is None:
            rev = max(revs + [0]) + 1
            labels = dict((tmpl.get("metadata") or {}).get("labels") or {}, **{"pod-template-hash": h})
            t = copy.deepcopy(tmpl)
            t.setdefault("metadata", {})["labels"] = labels
            sel = copy.deepcopy(util.dig(d, "spec", "selector") or {})
            sel.setdefault("matchLabels", {})["pod-template-hash"] = h
            self.create("apps", "replicasets", {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{name}-{h}", "namespace": ns, "labels": labels,
                             "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                             "deployment.kubernetes.io/max-replicas": str(replicas + max_surge),
                                             "deployment.kubernetes.io/revision": str(rev)},
                             "ownerReferences": [_ref(d, "Deployment", "apps/v1")]},
                "spec": {"replicas": replicas, "selector": sel, "template": t,
                         "minReadySeconds": util.dig(d, "spec", "minReadySeconds") or 0}})
        else:
            rev = int((new_rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "1"))
            ann = new_rs["metadata"].setdefault("annotations", {})
            if new_rs["spec"].get("replicas") != replicas or ann.get("deployment.kubernetes.io/desired-replicas") != str(replicas):
                new_rs["spec"]["replicas"] = replicas
                ann["deployment.kubernetes.io/desired-replicas"] = str(replicas)
                ann["deployment.kubernetes.io/max-replicas"] = str(replicas + max_surge)
                new_rs["metadata"].pop("resourceVersion", None)
                self.update("apps", "replicasets", new_rs)
        # a rollout completes at once: old replica sets go to zero
        for r in rss:
            if r is not new_rs and (r["metadata"].get("labels") or {}).get("pod-template-hash") != h \
                    and r["spec"].get("replicas"):
                r["spec"]["replicas"] = 0
                r["metadata"].pop("resourceVersion", None)
                self.update("apps", "replicasets", r)
        ann = d["metadata"].setdefault("annotations", {})
        if ann.get("deployment.kubernetes.io/revision") != str(rev):
            ann["deployment.kubernetes.io/revision"] = str(rev)
            d["metadata"].pop("resourceVersion", None)
            self.update("apps", "deployments", d)
        self.deployment_status(ns, name)

    def deployment_status(self, ns, name):
        d = self.get("apps", "deployments", ns, name)
        if d is None:
            return
        h = util.pod_template_hash(util.dig(d, "spec", "template") or {})[:10]
        rss = self._owned("apps", "replicasets", ns, d)
        pods = []
        updated = 0
        for r in rss:
            rp = [p for p in self.items(CORE, "pods", ns) if _controller_uid(p) == r["metadata"]["uid"]
                  and not p["metadata"].get("deletionTimestamp")]
            pods += rp
            if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h:
                updated = len(rp)
        want = util.dig(d, "spec", "replicas")
        want = 1 if want is None else want
        ready = sum(1 for p in pods if self._is_ready(p))
        old = d.get("status") or {}
        oc = old.get("conditions")
        st = {"observedGeneration": d["metadata"].get("generation", 1)}
        if pods:
            st["replicas"] = len(pods)
            st["updatedReplicas"] = updated
        if ready:
            st["readyReplicas"] = ready
            st["availableReplicas"] = ready
        if len(pods) - ready > 0 or want > ready:
            st["unavailableReplicas"] = max(want, len(pods)) - ready
        new_rs = next((r for r in rss if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
        rs_name = new_rs["metadata"]["name"] if new_rs else f"{name}-{h}"
        # Available: at most maxUnavailable (default 25%, rounded down) missing
        max_unavail = (want * 25) // 100
        avail_ok = ready >= want - max_unavail
        complete = updated == want and ready == want and len(pods) == want
        st["conditions"] = [
            _cond("Available", "True" if avail_ok else "False",
                  "MinimumReplicasAvailable" if avail_ok else "MinimumReplicasUnavailable",
                  "Deployment has minimum availability." if avail_ok else "Deployment does not have minimum availability.",
                  old=oc),
            _cond("Progressing", "True", "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                  f'ReplicaSet "{rs_name}" has successfully progressed.' if complete
                  else f'ReplicaSet "{rs_name}" is progressing.', old=oc)]
        for c in st["conditions"]:
            c.pop("lastProbeTime", None)
            prev = next((x for x in oc or [] if x.get("type") == c["type"]), None)
            c["lastUpdateTime"] = prev.get("lastUpdateTime") if prev and prev.get("reason") == c.get("reason") \
                and prev.get("status") == c["status"] and prev.get("lastUpdateTime") else util.now()
        # keep the field order kubectl users expect (type first)
        st["conditions"] = [{"type": c["type"], "status": c["status"], "lastUpdateTime": c["lastUpdateTime"],
                             "lastTransitionTime": c["lastTransitionTime"], "reason": c["reason"],
                             "message": c["message"]} for c in st["conditions"]]
        self.set_status("apps", "deployments", d, st)

    def sync_replicaset(self, ns, name):
        rs = self.get("apps", "replicasets", ns, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        want = util.dig(rs, "spec", "replicas")
        want = 1 if want is None else want
        pods = [p for p in self._owned(CORE, "pods", ns, rs) if not p["metadata"].get("deletionTimestamp")]
        for _ in range(want - len(pods)):
            self.create(CORE, "pods", self._pod_from_template(rs, "ReplicaSet", "apps/v1", generate=name + "-"))
        if len(pods) > want:
            pods.sort(key=lambda p: (self._is_ready(p), p["metadata"]["creationTimestamp"]), reverse=False)
            for p in pods[:len(pods) - want]:
                self.delete(CORE, "pods", ns, p["metadata"]["name"])
        self.replicaset_status(self.get("apps", "replicasets", ns, name))

    def replicaset_status(self, rs):
        if rs is None:
            return
        ns = rs["metadata"]["namespace"]
        pods = [p for p in self._owned(CORE, "pods", ns, rs) if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in pods if self._is_ready(p))
        st = {"replicas": len(pods), "observedGeneration": rs["metadata"].get("generation", 1)}
        if pods:
            st["fullyLabeledReplicas"] = len(pods)
        if ready:
            st["readyReplicas"] = ready
            st["availableReplicas"] = ready
        self.set_status("apps", "replicasets", rs, st)
        for r in rs["metadata"].get("ownerReferences") or []:
            if r.get("kind") == "Deployment":
                self.deployment_status(ns, r["name"])

    def _revision(self, owner, kind, api_version):
        ns, name = owner["metadata"]["namespace"], owner["metadata"]["name"]
        h = util.pod_template_hash(util.dig(owner, "spec", "template") or {})[:10]
        rev_name = f"{name}-{h}"
        if self.get("apps", "controllerrevisions", ns, rev_name) is None:
            n = len(self._owned("apps", "controllerrevisions", ns, owner)) + 1
            self.create("apps", "controllerrevisions", {
                "metadata": {"name": rev_name, "namespace": ns,
                             "labels": dict((util.dig(owner, "spec", "template", "metadata", "labels") or {}),
                                            **{"controller-revision-hash": h}),
                             "ownerReferences": [_ref(owner, kind, api_version)]},
                "data": {"spec": {"template": util.dig(owner, "spec", "template")}}, "revision": n})
        return rev_name, h

    def sync_statefulset(self, ns, name, pods_only=False):
        ss = self.get("apps", "statefulsets", ns, name)
        if ss is None or ss["metadata"].get("deletionTimestamp"):
            return
        want = util.dig(ss, "spec", "replicas")
        want = 1 if want is None else want
        rev, h = self._revision(ss, "StatefulSet", "apps/v1")
        pods = {p["metadata"]["name"]: p for p in self._owned(CORE, "pods", ns, ss)}
        if not pods_only:
            for i in range(want):
                pn = f"{name}-{i}"
                if pn not in pods:
                    pod = self._pod_from_template(ss, "StatefulSet", "apps/v1", name=pn, extra_labels={
                        "controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": pn,
                        "apps.kubernetes.io/pod-index": str(i)})
                    pod["spec"]["hostname"] = pn
                    if util.dig(ss, "spec", "serviceName"):
                        pod["spec"]["subdomain"] = ss["spec"]["serviceName"]
                    self.create(CORE, "pods", pod)
            for pn, p in pods.items():
                idx = pn.rsplit("-", 1)[-1]
                if not idx.isdigit() or int(idx) >= want:
                    self.delete(CORE, "pods", ns, pn)
        pods = [p for p in self._owned(CORE, "pods", ns, ss) if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in pods if self._is_ready(p))
        st = {"observedGeneration": ss["metadata"].get("generation", 1), "replicas": len(pods),
              "currentReplicas": len(pods), "updatedReplicas": len(pods), "currentRevision": rev,
              "updateRevision": rev, "collisionCount": 0, "availableReplicas": ready}
        if ready:
            st["readyReplicas"] = ready
        self.set_status("apps", "statefulsets", ss, st)

    def sync_daemonset(self, ns, name, pods_only=False):
        ds = self.get("apps", "daemonsets", ns, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        rev, h = self._revision(ds, "DaemonSet", "apps/v1")
        sel = util.dig(ds, "spec", "template", "spec", "nodeSelector") or {}
        probe = {"spec": util.dig(ds, "spec", "template", "spec") or {}}
        nodes = [n for n in self.items(CORE, "nodes")
                 if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
                 and tolerates(probe, n)]
        names = {n["metadata"]["name"] for n in nodes}
        pods = [p for p in self._owned(CORE, "pods", ns, ds) if not p["metadata"].get("deletionTimestamp")]
        if not pods_only:
            have = {util.dig(p, "spec", "nodeName") for p in pods}
            for n in sorted(names - have):
                pod = self._pod_from_template(ds, "DaemonSet", "apps/v1", generate=name + "-",
                                              extra_labels={"controller-revision-hash": h,
                                                            "pod-template-generation": str(ds["metadata"].get("generation", 1))},
                                              node=n)
                self.create(CORE, "pods", pod)
            for p in pods:
                if util.dig(p, "spec", "nodeName") not in names:
                    self.delete(CORE, "pods", ns, p["metadata"]["name"])
            pods = [p for p in self._owned(CORE, "pods", ns, ds) if not p["metadata"].get("deletionTimestamp")]
        scheduled = [p for p in pods if util.dig(p, "spec", "nodeName") in names]
        ready = sum(1 for p in scheduled if self._is_ready(p))
        st = {"currentNumberScheduled": len(scheduled), "numberMisscheduled": len(pods) - len(scheduled),
              "desiredNumberScheduled": len(names), "numberReady": ready,
              "observedGeneration": ds["metadata"].get("generation", 1),
              "updatedNumberScheduled": len(scheduled)}
        if ready:
            st["numberAvailable"] = ready
        if len(names) - ready > 0:
            st["numberUnavailable"] = len(names) - ready
        self.set_status("apps", "daemonsets", ds, st)

    def sync_job(self, ns, name, status_only=False):
        job = self.get("batch", "jobs", ns, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        if util.dig(job, "spec", "suspend"):
            return
        completions = util.dig(job, "spec", "completions") or 1
        pods = self._owned(CORE, "pods", ns, job)
        if not status_only and not pods:
            for _ in range(min(completions, util.dig(job, "spec", "parallelism") or 1) or 1):
                labels = {"batch.kubernetes.io/controller-uid": job["metadata"]["uid"],
                          "batch.kubernetes.io/job-name": name, "controller-uid": job["metadata"]["uid"],
                          "job-name": name}
                self.create(CORE, "pods", self._pod_from_template(job, "Job", "batch/v1", generate=name + "-",
                                                                  extra_labels=labels))
            pods = self._owned(CORE, "pods", ns, job)
        succeeded = sum(1 for p in pods if util.dig(p, "status", "phase") == "Succeeded")
        failed = sum(1 for p in pods if util.dig(p, "status", "phase") == "Failed")
        active = len(pods) - succeeded - failed
        old = job.get("status") or {}
        st = {"startTime": old.get("startTime") or util.now(), "ready": 0, "terminating": 0,
              "uncountedTerminatedPods": {}}
        if active:
            st["active"] = active
            st["ready"] = sum(1 for p in pods if self._is_ready(p))
        if succeeded:
            st["succeeded"] = succeeded
        if failed:
            st["failed"] = failed
        if succeeded >= completions:
            st["completionTime"] = old.get("completionTime") or util.now()
            oc = old.get("conditions")
            st["conditions"] = [_cond("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods", old=oc),
                                _cond("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods", old=oc)]
            for c in st["conditions"]:
                c["lastProbeTime"] = c["lastTransitionTime"]
        elif succeeded < completions and not active and not status_only and pods:
            # more completions needed
            self.create(CORE, "pods", self._pod_from_template(job, "Job", "batch/v1", generate=name + "-"))
        self.set_status("batch", "jobs", job, st)
