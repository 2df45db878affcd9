"""Server-side printing (meta.k8s.io/v1 Table), which `kubectl get` asks for
with Accept: application/json;as=Table;g=meta.k8s.io;v=v1.  Without it kubectl
falls back to NAME/AGE only, so the columns here follow
pkg/printers/internalversion/printers.go for the kinds people look at.
"""
import datetime

from . import util


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return f"{h // 24 // 365}y" if dy == 0 else f"{h // 24 // 365}y{dy}d"
    return f"{h // 24 // 365}y"


def age(obj):
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())


def col(name, typ="string", fmt="", priority=0, desc=""):
    return {"name": name, "type": typ, "format": fmt, "description": desc or name, "priority": priority}


NAME = col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = col("Age", desc="CreationTimestamp is a timestamp representing the server time when this object was created.")


def _name(o):
    return o["metadata"].get("name", "")


def _containers(o, spec_path=("spec", "template", "spec")):
    s = util.dig(o, *spec_path) or {}
    cs = s.get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _selector(sel):
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(e["key"])
        else:
            parts.append("!" + e["key"])
    return ",".join(parts) or "<none>"


def pod_status(o):
    st = o.get("status") or {}
    reason = st.get("reason") or st.get("phase") or "Unknown"
    ready = total = restarts = 0
    cs = st.get("containerStatuses") or []
    total = len((o.get("spec") or {}).get("containers") or [])
    for c in cs:
        restarts += c.get("restartCount", 0)
        if c.get("ready"):
            ready += 1
        w = (c.get("state") or {}).get("waiting")
        t = (c.get("state") or {}).get("terminated")
        if w and w.get("reason"):
            reason = w["reason"]
        elif t and t.get("reason"):
            reason = t["reason"]
    if o["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return ready, total, reason, restarts


def _node_status(o):
    conds = {c.get("type"): c.get("status") for c in (o.get("status") or {}).get("conditions") or []}
    s = "Ready" if conds.get("Ready") == "True" else ("NotReady" if "Ready" in conds else "Unknown")
    if (o.get("spec") or {}).get("unschedulable"):
        s += ",SchedulingDisabled"
    return s


def _roles(o):
    roles = [k.split("/", 1)[1] for k in (o["metadata"].get("labels") or {})
             if k.startswith("node-role.kubernetes.io/") and "/" in k]
    return ",".join(sorted(roles)) or "<none>"


def _svc_ports(o):
    out = []
    for p in (o.get("spec") or {}).get("ports") or []:
        s = f"{p.get('port')}"
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _svc_external(o):
    spec = o.get("spec") or {}
    ing = [i.get("ip") or i.get("hostname") for i in
           ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
    if spec.get("type") == "ExternalName":
        return spec.get("externalName", "")
    if spec.get("type") == "LoadBalancer":
        return ",".join(ing + (spec.get("externalIPs") or [])) or "<pending>"
    return ",".join(spec.get("externalIPs") or []) or "<none>"


def _endpoints(o):
    addrs = []
    for s in o.get("subsets") or []:
        ports = s.get("ports") or [{}]
        for a in s.get("addresses") or []:
            for p in ports:
                addrs.append(f"{a.get('ip')}:{p['port']}" if p.get("port") else a.get("ip"))
    if not addrs:
        return "<none>"
    return ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")


def _i(v):
    return v if isinstance(v, int) else 0


PRINTERS = {
    ("", "Namespace"): ([NAME, col("Status"), AGE],
                        lambda o: [_name(o), (o.get("status") or {}).get("phase", ""), age(o)]),
    ("", "Pod"): ([NAME, col("Ready"), col("Status"), col("Restarts", "string"), AGE,
                   col("IP", priority=1), col("Node", priority=1), col("Nominated Node", priority=1),
                   col("Readiness Gates", priority=1)],
                  lambda o: (lambda r, t, s, rs: [_name(o), f"{r}/{t}", s, str(rs), age(o),
                                                  (o.get("status") or {}).get("podIP") or "<none>",
                                                  (o.get("spec") or {}).get("nodeName") or "<none>",
                                                  "<none>", "<none>"])(*pod_status(o))),
    ("", "Node"): ([NAME, col("Status"), col("Roles"), AGE, col("Version"),
                    col("Internal-IP", priority=1), col("External-IP", priority=1),
                    col("OS-Image", priority=1), col("Kernel-Version", priority=1),
                    col("Container-Runtime", priority=1)],
                   lambda o: [_name(o), _node_status(o), _roles(o), age(o),
                              util.dig(o, "status", "nodeInfo", "kubeletVersion") or "",
                              next((a["address"] for a in util.dig(o, "status", "addresses") or []
                                    if a.get("type") == "InternalIP"), "<none>"),
                              next((a["address"] for a in util.dig(o, "status", "addresses") or []
                                    if a.get("type") == "ExternalIP"), "<none>"),
                              util.dig(o, "status", "nodeInfo", "osImage") or "<unknown>",
                              util.dig(o, "status", "nodeInfo", "kernelVersion") or "<unknown>",
                              util.dig(o, "status", "nodeInfo", "containerRuntimeVersion") or "<unknown>"]),
    ("", "Service"): ([NAME, col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), AGE,
                       col("Selector", priority=1)],
                      lambda o: [_name(o), util.dig(o, "spec", "type") or "ClusterIP",
                                 util.dig(o, "spec", "clusterIP") or "<none>", _svc_external(o), _svc_ports(o),
                                 age(o), ",".join(f"{k}={v}" for k, v in sorted(
                                     (util.dig(o, "spec", "selector") or {}).items())) or "<none>"]),
    ("", "ConfigMap"): ([NAME, col("Data", "integer"), AGE],
                        lambda o: [_name(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]),
    ("", "Secret"): ([NAME, col("Type"), col("Data", "integer"), AGE],
                     lambda o: [_name(o), o.get("type", ""), len(o.get("data") or {}), age(o)]),
    ("", "ServiceAccount"): ([NAME, col("Secrets", "integer"), AGE],
                             lambda o: [_name(o), len(o.get("secrets") or []), age(o)]),
    ("", "Endpoints"): ([NAME, col("Endpoints"), AGE], lambda o: [_name(o), _endpoints(o), age(o)]),
    ("", "Event"): ([col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")],
                    lambda o: [age(o), o.get("type", ""), o.get("reason", ""),
                               f"{(util.dig(o, 'involvedObject', 'kind') or '').lower()}/{util.dig(o, 'involvedObject', 'name') or ''}",
                               o.get("message", "")]),
    ("", "PersistentVolumeClaim"): ([NAME, col("Status"), col("Volume"), col("Capacity"), col("Access Modes"),
                                     col("StorageClass"), col("VolumeAttributesClass"), AGE],
                                    lambda o: [_name(o), util.dig(o, "status", "phase") or "",
                                               util.dig(o, "spec", "volumeName") or "",
                                               (util.dig(o, "status", "capacity") or {}).get("storage", ""),
                                               ",".join({"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX",
                                                         "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}.get(m, m)
                                                        for m in util.dig(o, "status", "accessModes") or []),
                                               util.dig(o, "spec", "storageClassName") or "<unset>", "<unset>", age(o)]),
    ("apps", "Deployment"): ([NAME, col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), AGE,
                              col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
                             lambda o: [_name(o),
                                        f"{_i(util.dig(o, 'status', 'readyReplicas'))}/{_i(util.dig(o, 'spec', 'replicas'))}",
                                        _i(util.dig(o, "status", "updatedReplicas")),
                                        _i(util.dig(o, "status", "availableReplicas")), age(o),
                                        *_containers(o), _selector(util.dig(o, "spec", "selector"))]),
    ("apps", "ReplicaSet"): ([NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), AGE,
                              col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
                             lambda o: [_name(o), _i(util.dig(o, "spec", "replicas")),
                                        _i(util.dig(o, "status", "replicas")),
                                        _i(util.dig(o, "status", "readyReplicas")), age(o),
                                        *_containers(o), _selector(util.dig(o, "spec", "selector"))]),
    ("apps", "StatefulSet"): ([NAME, col("Ready"), AGE, col("Containers", priority=1), col("Images", priority=1)],
                              lambda o: [_name(o),
                                         f"{_i(util.dig(o, 'status', 'readyReplicas'))}/{_i(util.dig(o, 'spec', 'replicas'))}",
                                         age(o), *_containers(o)]),
    ("apps", "DaemonSet"): ([NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"),
                             col("Up-to-date", "integer"), col("Available", "integer"), col("Node Selector"), AGE,
                             col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
                            lambda o: [_name(o)] + [_i(util.dig(o, "status", f)) for f in (
                                "desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                                "updatedNumberScheduled", "numberAvailable")] +
                            [",".join(f"{k}={v}" for k, v in sorted(
                                (util.dig(o, "spec", "template", "spec", "nodeSelector") or {}).items())) or "<none>",
                             age(o), *_containers(o), _selector(util.dig(o, "spec", "selector"))]),
    ("batch", "Job"): ([NAME, col("Status"), col("Completions"), col("Duration"), AGE],
                       lambda o: [_name(o), _job_status(o),
                                  f"{_i(util.dig(o, 'status', 'succeeded'))}/{util.dig(o, 'spec', 'completions') or 1}",
                                  _job_duration(o), age(o)]),
    ("batch", "CronJob"): ([NAME, col("Schedule"), col("Timezone"), col("Suspend", "boolean"), col("Active", "integer"),
                           col("Last Schedule"), AGE],
                          lambda o: [_name(o), util.dig(o, "spec", "schedule") or "",
                                     util.dig(o, "spec", "timeZone") or "<none>",
                                     bool(util.dig(o, "spec", "suspend")),
                                     len(util.dig(o, "status", "active") or []), "<none>", age(o)]),
    ("networking.k8s.io", "Ingress"): ([NAME, col("Class"), col("Hosts"), col("Address"), col("Ports"), AGE],
                                       lambda o: [_name(o), util.dig(o, "spec", "ingressClassName") or "<none>",
                                                  ",".join(r.get("host", "*") for r in util.dig(o, "spec", "rules") or []) or "*",
                                                  ",".join(i.get("ip") or i.get("hostname", "") for i in
                                                           util.dig(o, "status", "loadBalancer", "ingress") or []),
                                                  "80, 443" if util.dig(o, "spec", "tls") else "80", age(o)]),
    ("discovery.k8s.io", "EndpointSlice"): ([NAME, col("AddressType"), col("Ports"), col("Endpoints"), AGE],
                                            lambda o: [_name(o), o.get("addressType", ""),
                                                       ",".join(str(p.get("port")) for p in o.get("ports") or []) or "<unset>",
                                                       ",".join(a for e in o.get("endpoints") or [] for a in e.get("addresses") or [])[:60] or "<unset>",
                                                       age(o)]),
    ("rbac.authorization.k8s.io", "RoleBinding"): ([NAME, col("Role"), AGE],
                                                   lambda o: [_name(o), f"{util.dig(o, 'roleRef', 'kind')}/{util.dig(o, 'roleRef', 'name')}", age(o)]),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ([NAME, col("Role"), AGE],
                                                          lambda o: [_name(o), f"{util.dig(o, 'roleRef', 'kind')}/{util.dig(o, 'roleRef', 'name')}", age(o)]),
}


def _job_status(o):
    for c in util.dig(o, "status", "conditions") or []:
        if c.get("status") == "True" and c.get("type") in ("Complete", "Failed", "Suspended"):
            return c["type"]
    return "Running"


def _job_duration(o):
    st, ct = util.dig(o, "status", "startTime"), util.dig(o, "status", "completionTime")
    if not st:
        return ""
    p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    end = p(ct) if ct else datetime.datetime.utcnow()
    return human_duration((end - p(st)).total_seconds())


def _default(rt):
    """apiserver's default TableConvertor: Name and Created At (RFC3339)."""
    return ([NAME, col("Created At", "date", desc="CreationTimestamp is a timestamp representing the server time when this object was created.")],
            lambda o: [_name(o), o["metadata"].get("creationTimestamp", "")])


def _crd_printer(rt, version):
    """apiextensions' convertor: additionalPrinterColumns (dates as ages)."""
    v = next((v for v in rt.crd["spec"].get("versions", []) if v["name"] == version), {})
    cols = v.get("additionalPrinterColumns")
    if cols is None:
        return [NAME, col("Age", "date")], lambda o: [_name(o), age(o)]
    defs = [NAME] + [col(c["name"], c.get("type", "string"), c.get("format", ""), c.get("priority", 0),
                         c.get("description", "")) for c in cols]

    def row(o):
        cells = [_name(o)]
        for c in cols:
            val = util.jsonpath_simple(o, c.get("jsonPath", ""))
            if c.get("type") == "date" and isinstance(val, str):
                val = age({"metadata": {"creationTimestamp": val}})
            cells.append(val)
        return cells
    return defs, row


def printer(rt, version):
    if rt.crd is not None:
        return _crd_printer(rt, version)
    if rt.kind == "CustomResourceDefinition":
        return _default(rt)
    return PRINTERS.get((rt.group, rt.kind)) or _default(rt)


def to_table(rt, version, objs, include_object, list_meta, headers=True):
    defs, row = printer(rt, version)
    rows = []
    for o in objs:
        r = {"cells": row(o)}
        if include_object == "Object":
            r["object"] = o
        elif include_object != "None":
            r["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o.get("metadata", {})}
        rows.append(r)
    t = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
         "columnDefinitions": defs if headers else [], "rows": rows}
    return t
