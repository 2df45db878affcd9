"""What kube-apiserver does to an object between decoding and storage:
schema checks (unknown fields per fieldValidation, JSON types, required
fields), defaulting (the values `kubectl get -o yaml` shows on a real
cluster), and the validation rules of the commonly used kinds, with the
messages of k8s.io/kubernetes/pkg/apis/*/validation.
"""
import re

from .errors import (ApiError, duplicate, forbidden_field, invalid_value, required, unsupported)

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
MSG_LABEL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
MSG_1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
            "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")



# -- schema walk: unknown fields and JSON types ----------------------------------------
class SchemaCheck:
    """Walks an object against its OpenAPI v3 schema, collecting unknown fields
    (removed from the object, as Go's decoder drops them) and type errors."""

    def __init__(self, resolver):
        self.r = resolver
        self.unknown = []
        self.type_errors = []

    def _free_form(self, s):
        return (not s or "oneOf" in s or "anyOf" in s or s.get("format") == "int-or-string"
                or s.get("x-kubernetes-int-or-string") or s.get("x-kubernetes-preserve-unknown-fields")
                or ("type" not in s and "properties" not in s and "additionalProperties" not in s))

    def walk(self, obj, schema, path=""):
        s = self.r.resolve(schema)
        if self._free_form(s):
            return
        t = s.get("type")
        if t == "object" or "properties" in s:
            if not isinstance(obj, dict):
                if obj is not None:
                    self.type_errors.append((path, "object", obj))
                return
            props = s.get("properties")
            addl = s.get("additionalProperties")
            for k in list(obj):
                sub_path = f"{path}.{k}" if path else k
                if props is not None and k in props:
                    self.walk(obj[k], props[k], sub_path)
                elif isinstance(addl, dict):
                    self.walk(obj[k], addl, sub_path)
                elif props is not None and addl is not True:
                    self.unknown.append(sub_path)
                    del obj[k]
        elif t == "array":
            if not isinstance(obj, list):
                if obj is not None:
                    self.type_errors.append((path, "array", obj))
                return
            for i, e in enumerate(obj):
                self.walk(e, s.get("items"), f"{path}[{i}]")
        elif t == "string":
            if obj is not None and not isinstance(obj, str):
                self.type_errors.append((path, "string", obj))
        elif t in ("integer", "number"):
            if obj is not None and (isinstance(obj, bool) or not isinstance(obj, (int, float))):
                self.type_errors.append((path, t, obj))
        elif t == "boolean":
            if obj is not None and not isinstance(obj, bool):
                self.type_errors.append((path, "bool", obj))


def required_fields(obj, schema, resolver, path=""):
    """Fields the schema marks required that are absent (one level per object)."""
    out = []
    s = resolver.resolve(schema)
    if not s or not isinstance(obj, dict):
        return out
    for k in s.get("required", []):
        if k not in obj or obj[k] is None:
            out.append(f"{path}.{k}" if path else k)
    for k, v in obj.items():
        sub = (s.get("properties") or {}).get(k)
        if sub is None:
            continue
        rs = resolver.resolve(sub)
        p = f"{path}.{k}" if path else k
        if isinstance(v, dict):
            out += required_fields(v, sub, resolver, p)
        elif isinstance(v, list) and rs and rs.get("type") == "array":
            for i, e in enumerate(v):
                out += required_fields(e, rs.get("items"), resolver, f"{p}[{i}]")
    return out


# -- defaulting ---------------------------------------------------------------------------
def _default_container(c):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    img = c.get("image", "")
    tag = img.rsplit("/", 1)[-1]
    latest = "@" not in img and (":" not in tag or tag.endswith(":latest"))
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            pr.setdefault("timeoutSeconds", 1)
            pr.setdefault("periodSeconds", 10)
            pr.setdefault("successThreshold", 1)
            pr.setdefault("failureThreshold", 3)
            if isinstance(pr.get("httpGet"), dict):
                pr["httpGet"].setdefault("scheme", "HTTP")
                pr["httpGet"].setdefault("path", "/")


def default_pod_spec(spec):
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if spec.get("serviceAccountName") and not spec.get("serviceAccount"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            _default_container(c)
    for v in spec.get("volumes") or []:
        for src in ("configMap", "secret"):
            if isinstance(v.get(src), dict):
                v[src].setdefault("defaultMode", 420)
        if isinstance(v.get("projected"), dict):
            v["projected"].setdefault("defaultMode", 420)


def _template(spec):
    t = spec.get("template")
    if isinstance(t, dict):
        t.setdefault("metadata", {})
        default_pod_spec(t.get("spec"))


def apply_defaults(rt, obj):
    kind, spec = rt.kind, obj.get("spec")
    meta = obj.setdefault("metadata", {})
    if rt.crd is not None:
        return
    if kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
    elif kind == "Pod":
        obj.setdefault("spec", {})
        default_pod_spec(obj["spec"])
        if not obj["spec"].get("serviceAccountName"):
            obj["spec"]["serviceAccountName"] = "default"
            obj["spec"]["serviceAccount"] = "default"
        obj["spec"].setdefault("enableServiceLinks", True)
        obj["spec"].setdefault("priority", 0)
        obj["spec"].setdefault("preemptionPolicy", "PreemptLowerPriority")
        obj["spec"].setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}])
        st = obj.setdefault("status", {})
        st.setdefault("phase", "Pending")
        st.setdefault("qosClass", "BestEffort")
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController"):
        if not isinstance(spec, dict):
            return
        if kind != "DaemonSet":
            spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10) if kind != "ReplicaSet" else None
        if kind == "Deployment":
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
            spec.setdefault("progressDeadlineSeconds", 600)
        if kind == "StatefulSet":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
            spec.setdefault("persistentVolumeClaimRetentionPolicy",
                            {"whenDeleted": "Retain", "whenScaled": "Retain"})
        if kind == "DaemonSet":
            spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                               "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        _template(spec)
        obj.setdefault("status", {})
    elif kind == "Job":
        if isinstance(spec, dict):
            spec.setdefault("parallelism", 1)
            spec.setdefault("completions", 1)
            spec.setdefault("backoffLimit", 6)
            spec.setdefault("completionMode", "NonIndexed")
            spec.setdefault("suspend", False)
            spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
            _template(spec)
        obj.setdefault("status", {})
    elif kind == "CronJob":
        if isinstance(spec, dict):
            spec.setdefault("concurrencyPolicy", "Allow")
            spec.setdefault("suspend", False)
            spec.setdefault("successfulJobsHistoryLimit", 3)
            spec.setdefault("failedJobsHistoryLimit", 1)
            jt = spec.get("jobTemplate")
            if isinstance(jt, dict) and isinstance(jt.get("spec"), dict):
                jt.setdefault("metadata", {})
                _template(jt["spec"])
        obj.setdefault("status", {})
    elif kind == "Service":
        if not isinstance(spec, dict):
            return
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if "targetPort" not in p and "port" in p:
                    p["targetPort"] = p["port"]
        obj.setdefault("status", {"loadBalancer": {}})
    elif kind == "PersistentVolumeClaim":
        if isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {"phase": "Pending"})
    elif kind == "PersistentVolume":
        if isinstance(spec, dict):
            spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
            spec.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {"phase": "Available"})
    elif kind == "ServiceAccount":
        pass
    elif kind == "Ingress":
        obj.setdefault("status", {"loadBalancer": {}})
    elif kind == "CustomResourceDefinition":
        if isinstance(spec, dict):
            spec.setdefault("scope", "Namespaced")
            spec.setdefault("conversion", {"strategy": "None"})
            names = spec.get("names") or {}
            if names.get("kind"):
                names.setdefault("singular", names["kind"].lower())
                names.setdefault("listKind", names["kind"] + "List")
        obj.setdefault("status", {"acceptedNames": {"kind": "", "plural": ""}, "conditions": [],
                                  "storedVersions": []})
    elif kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif kind == "ClusterRole" or kind == "Role":
        pass
    elif kind == "PodDisruptionBudget":
        obj.setdefault("status", {})
    elif kind == "HorizontalPodAutoscaler":
        obj.setdefault("status", {})


# -- validation ---------------------------------------------------------------------------
def _name_causes(rt, name, generate_name):
    causes = []
    if not name:
        if not generate_name:
            causes.append(("metadata.name", "FieldValueRequired",
                           "metadata.name: Required value: name or generateName is required"))
        return causes
    if rt.key in (("", "services"),):
        if not DNS1035_LABEL.match(name) or len(name) > 63:
            causes.append(invalid_value("metadata.name", name, MSG_1035))
    elif rt.key in (("", "namespaces"),):
        if not DNS1123_LABEL.match(name) or len(name) > 63:
            causes.append(invalid_value("metadata.name", name, MSG_LABEL))
    elif rt.group == "rbac.authorization.k8s.io":
        if "/" in name or name in (".", ".."):
            causes.append(invalid_value("metadata.name", name, "may not contain '/'"))
    elif not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
        causes.append(invalid_value("metadata.name", name, MSG_SUBDOMAIN))
    return causes


def _labels(path, labels):
    causes = []
    if labels is None:
        return causes
    if not isinstance(labels, dict):
        return causes
    for k, v in labels.items():
        key = k.rsplit("/", 1)[-1]
        if not QUALIFIED_NAME.match(key) or len(key) > 63:
            causes.append(invalid_value(f"{path}", k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
        if not isinstance(v, str) or not LABEL_VALUE.match(v) or len(v) > 63:
            causes.append(invalid_value(f"{path}", v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
    return causes


def _containers(path, spec):
    causes = []
    cs = spec.get("containers") if isinstance(spec, dict) else None
    if not cs:
        causes.append(required(f"{path}.containers"))
        return causes
    seen = set()
    for i, c in enumerate(cs):
        if not isinstance(c, dict):
            continue
        p = f"{path}.containers[{i}]"
        n = c.get("name")
        if not n:
            causes.append(required(f"{p}.name"))
        elif not DNS1123_LABEL.match(n):
            causes.append(invalid_value(f"{p}.name", n, MSG_LABEL))
        elif n in seen:
            causes.append(duplicate(f"{p}.name", n))
        seen.add(n)
        if not c.get("image"):
            causes.append(required(f"{p}.image"))
        for j, port in enumerate(c.get("ports") or []):
            cp = port.get("containerPort") if isinstance(port, dict) else None
            if cp is None:
                causes.append(required(f"{p}.ports[{j}].containerPort"))
            elif isinstance(cp, int) and not 1 <= cp <= 65535:
                causes.append(invalid_value(f"{p}.ports[{j}].containerPort", cp,
                                            "must be between 1 and 65535, inclusive"))
    rp = spec.get("restartPolicy")
    if rp and rp not in ("Always", "OnFailure", "Never"):
        causes.append(unsupported(f"{path}.restartPolicy", rp, ["Always", "OnFailure", "Never"]))
    return causes


def _selector_matches(selector, labels):
    ml = (selector or {}).get("matchLabels") or {}
    labels = labels or {}
    if any(labels.get(k) != v for k, v in ml.items()):
        return False
    for e in (selector or {}).get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def _fmt_map(m):
    return "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted((m or {}).items())) + "}"


def _workload(kind, spec, template_required=True):
    causes = []
    if not isinstance(spec, dict):
        return [required("spec")]
    sel = spec.get("selector")
    if kind != "Job":
        if sel is None:
            causes.append(required("spec.selector"))
        elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
            causes.append(invalid_value("spec.selector", "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
                                        f"empty selector is invalid for {kind.lower()}"))
    t = spec.get("template")
    if not isinstance(t, dict):
        if template_required:
            causes.append(required("spec.template"))
        return causes
    tl = (t.get("metadata") or {}).get("labels")
    # a missing selector converts to labels.Nothing(), which matches no labels,
    # so apiserver reports the mismatch as well
    if kind != "Job" and (sel is None or ((sel.get("matchLabels") or sel.get("matchExpressions"))
                                          and not _selector_matches(sel, tl))):
        causes.append(("spec.template.metadata.labels", "FieldValueInvalid",
                       f"spec.template.metadata.labels: Invalid value: {_fmt_map(tl)}: `selector` does not match template `labels`"))
    causes += _containers("spec.template.spec", t.get("spec") or {})
    r = spec.get("replicas")
    if isinstance(r, int) and r < 0:
        causes.append(invalid_value("spec.replicas", r, "must be greater than or equal to 0"))
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        rp = (t.get("spec") or {}).get("restartPolicy")
        if rp and rp != "Always":
            causes.append(unsupported("spec.template.spec.restartPolicy", rp, ["Always"]))
    if kind == "Job":
        rp = (t.get("spec") or {}).get("restartPolicy")
        if rp not in ("OnFailure", "Never"):
            causes.append(unsupported("spec.template.spec.restartPolicy", rp or "", ["OnFailure", "Never"]))
    return causes


def _service(spec):
    causes = []
    if not isinstance(spec, dict):
        return [required("spec")]
    typ = spec.get("type", "ClusterIP")
    if typ not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(unsupported("spec.type", typ, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if typ == "ExternalName":
        if not spec.get("externalName"):
            causes.append(required("spec.externalName"))
    elif not ports and not headless:
        causes.append(required("spec.ports"))
    names = set()
    for i, p in enumerate(ports):
        if not isinstance(p, dict):
            continue
        if len(ports) > 1 and not p.get("name"):
            causes.append(required(f"spec.ports[{i}].name"))
        if p.get("name"):
            if p["name"] in names:
                causes.append(duplicate(f"spec.ports[{i}].name", p["name"]))
            names.add(p["name"])
        port = p.get("port")
        if isinstance(port, int) and not 1 <= port <= 65535:
            causes.append(invalid_value(f"spec.ports[{i}].port", port, "must be between 1 and 65535, inclusive"))
        proto = p.get("protocol", "TCP")
        if proto not in ("TCP", "UDP", "SCTP"):
            causes.append(unsupported(f"spec.ports[{i}].protocol", proto, ["SCTP", "TCP", "UDP"]))
    return causes


def _crd(obj):
    causes = []
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    if not group:
        causes.append(required("spec.group"))
    elif "." not in group:
        causes.append(invalid_value("spec.group", group, "should be a domain with at least one dot"))
    if not names.get("plural"):
        causes.append(required("spec.names.plural"))
    if not names.get("kind"):
        causes.append(required("spec.names.kind"))
    if group and names.get("plural") and obj["metadata"].get("name") != f"{names['plural']}.{group}":
        causes.append(invalid_value("metadata.name", obj["metadata"].get("name", ""),
                                    'must be spec.names.plural+"."+spec.group'))
    vers = spec.get("versions") or []
    if not vers:
        causes.append(required("spec.versions"))
    elif sum(1 for v in vers if v.get("storage")) != 1:
        causes.append(invalid_value("spec.versions", "[]apiextensions.CustomResourceDefinitionVersion{...}",
                                    "must have exactly one version marked as storage version"))
    for i, v in enumerate(vers):
        if not (v.get("schema") or {}).get("openAPIV3Schema"):
            causes.append(required(f"spec.versions[{i}].schema.openAPIV3Schema"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(unsupported("spec.scope", spec.get("scope", ""), ["Cluster", "Namespaced"]))
    return causes


def validate(rt, obj, old=None):
    """Causes for a create (old is None) or an update."""
    meta = obj.get("metadata") or {}
    causes = []
    if old is None:
        causes += _name_causes(rt, meta.get("name"), meta.get("generateName"))
    causes += _labels("metadata.labels", meta.get("labels"))
    kind, spec = rt.kind, obj.get("spec")
    if rt.crd is not None:
        pass
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        causes += _workload(kind, spec)
        if kind == "StatefulSet" and isinstance(spec, dict) and "serviceName" in spec and not isinstance(spec["serviceName"], str):
            causes.append(required("spec.serviceName"))
    elif kind == "Job":
        causes += _workload(kind, spec)
    elif kind == "CronJob":
        if not isinstance(spec, dict) or not spec.get("schedule"):
            causes.append(required("spec.schedule"))
        jt = (spec or {}).get("jobTemplate") if isinstance(spec, dict) else None
        if not jt:
            causes.append(required("spec.jobTemplate"))
        else:
            causes += [(f"spec.jobTemplate.{f}", t, f"spec.jobTemplate.{m}") for f, t, m in
                       _workload("Job", jt.get("spec") or {})]
    elif kind == "Pod":
        causes += _containers("spec", spec or {})
    elif kind == "Service":
        causes += _service(spec)
    elif kind in ("ConfigMap", "Secret"):
        for fld in ("data", "binaryData", "stringData"):
            for k in (obj.get(fld) or {}):
                if not CONFIG_KEY.match(k):
                    causes.append(invalid_value(f"{fld}[{k}]", k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
    elif kind == "CustomResourceDefinition":
        causes += _crd(obj)
    if old is not None:
        causes += _immutable(rt, old, obj)
    return causes


def _immutable(rt, old, new):
    causes = []
    kind = rt.kind
    os_, ns_ = old.get("spec") or {}, new.get("spec") or {}
    if kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet") and os_.get("selector") != ns_.get("selector"):
        causes.append(invalid_value("spec.selector", "v1.LabelSelector{...}", "field is immutable"))
    if kind == "Service":
        oc, nc = os_.get("clusterIP"), ns_.get("clusterIP")
        if oc and nc and oc != nc:
            causes.append(invalid_value("spec.clusterIPs[0]", nc, "may not change once set"))
    if kind in ("ConfigMap", "Secret") and old.get("immutable"):
        for fld in ("data", "binaryData"):
            if old.get(fld) != new.get(fld):
                causes.append(forbidden_field(fld, "field is immutable when `immutable` is set"))
    if kind == "CustomResourceDefinition" and os_.get("group") != ns_.get("group"):
        causes.append(invalid_value("spec.group", ns_.get("group"), "field is immutable"))
    return causes


def check_schema(obj, schema, resolver, field_validation, kind, version):
    """Apply fieldValidation (Strict/Warn/Ignore). Returns warnings; raises
    400 BadRequest on type errors or (Strict) unknown fields."""
    if schema is None:
        return []
    sc = SchemaCheck(resolver)
    sc.walk(obj, schema)
    if sc.type_errors:
        path, want, got = sc.type_errors[0]
        got_t = {str: "string", bool: "bool", int: "number", float: "number", list: "array",
                 dict: "object"}.get(type(got), "value")
        raise ApiError.bad_request(
            f'{kind} in version "{version}" cannot be handled as a {kind}: json: cannot unmarshal '
            f'{got_t} into Go struct field .{path} of type {want}')
    if sc.unknown and field_validation == "Strict":
        raise ApiError.bad_request("strict decoding error: " +
                                   ", ".join(f'unknown field "{u}"' for u in sc.unknown))
    if field_validation == "Ignore":
        return []
    return [f'unknown field "{u}"' for u in sc.unknown]
