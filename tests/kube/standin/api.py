"""The REST semantics of kube-apiserver's generic registry, independent of
HTTP: create / get / list / update / patch / delete on a ResourceType, with
server-set metadata, admission, optimistic concurrency, subresources
(status, scale), finalizers and owner-reference garbage collection hooks.

Controllers call the same methods as HTTP clients, so whatever they write
goes through the same defaulting, resourceVersion bumps and watch events.
"""
import copy
import ipaddress
import json
import random

from . import admission, patch as patchlib, util
from .errors import ApiError
from .store import Store, parse_field_selector, parse_label_selector

# kinds whose registry strategy maintains metadata.generation
GENERATION_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Ingress",
                    "NetworkPolicy", "PodDisruptionBudget", "CustomResourceDefinition", "ReplicationController",
                    "FlowSchema", "PriorityLevelConfiguration", "ValidatingAdmissionPolicy",
                    "HorizontalPodAutoscaler", "StorageVersionMigration", "ServiceCIDR"}
# registries that answer DELETE with the object rather than a Status (ReturnDeletedObject)
RETURN_DELETED = {("", "pods"), ("", "services"), ("", "namespaces"), ("", "persistentvolumes"),
                  ("", "persistentvolumeclaims"), ("", "podtemplates"),
                  ("apiextensions.k8s.io", "customresourcedefinitions")}
# resources a PUT may create (AllowCreateOnUpdate)
CREATE_ON_UPDATE = {("", "nodes"), ("", "events"), ("coordination.k8s.io", "leases"),
                    ("events.k8s.io", "events"), ("", "endpoints"), ("", "limitranges"),
                    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"),
                    ("rbac.authorization.k8s.io", "rolebindings"),
                    ("rbac.authorization.k8s.io", "clusterrolebindings")}
CLUSTER_CIDR = ipaddress.ip_network("10.96.0.0/12")


class Request:
    """Options common to writes (from query parameters)."""

    def __init__(self, dry_run=False, field_manager="", field_validation="Warn", user="system:admin",
                 user_agent=""):
        self.dry_run = dry_run
        self.field_manager = field_manager
        self.field_validation = field_validation
        self.user = user
        self.user_agent = user_agent
        self.warnings = []

    def manager(self, default="unknown"):
        if self.field_manager:
            return self.field_manager
        ua = self.user_agent.split("/", 1)[0] if self.user_agent else ""
        return ua or default


INTERNAL = Request(field_manager="kube-controller-manager")


def _fields_v1(obj, top=True):
    """A FieldsV1 trie of the fields present (what managedFields records)."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if top and k in ("apiVersion", "kind", "status"):
                continue
            if top and k == "metadata":
                m = {kk: vv for kk, vv in v.items() if kk in ("labels", "annotations", "finalizers",
                                                                "ownerReferences")}
                if m:
                    out["f:metadata"] = _fields_v1(m, False)
                continue
            sub = _fields_v1(v, False) if isinstance(v, (dict, list)) else {}
            if isinstance(v, dict):
                sub["."] = {}
            out[f"f:{k}"] = sub
    elif isinstance(obj, list):
        for e in obj:
            if isinstance(e, dict):
                key = {k: e[k] for k in ("name", "containerPort", "port", "uid", "type", "key") if k in e}
                if key:
                    sub = _fields_v1(e, False)
                    sub["."] = {}
                    out["k:" + json.dumps(dict(sorted(key.items())), separators=(",", ":"))] = sub
            elif isinstance(e, (str, int)):
                out["v:" + json.dumps(e)] = {}
    return out


class API:
    def __init__(self, registry, store: Store):
        self.reg = registry
        self.store = store
        self.lock = store.lock
        self._ips = set()
        self._node_ports = set()
        self.pre_delete_hooks = []    # fn(rt, obj) called before an object is removed
        for o in self.store.items(("", "services")):
            for ip in util.dig(o, "spec", "clusterIPs") or []:
                self._ips.add(ip)

    # -- helpers ------------------------------------------------------------------
    def rt_for(self, group, resource):
        rt = self.reg.preferred(group, resource)
        if not rt:
            raise ApiError.not_found_path()
        return rt

    def out(self, rt, obj, with_type=True):
        """The object as served at rt's version."""
        if obj is None:
            return None
        o = copy.deepcopy(obj)
        if with_type:
            o = {"kind": rt.kind, "apiVersion": rt.api_version, **{k: v for k, v in o.items()
                                                                    if k not in ("kind", "apiVersion")}}
        else:
            o.pop("kind", None)
            o.pop("apiVersion", None)
        return o

    def _not_found(self, rt, name):
        return ApiError.not_found(rt.gr, name, rt.group, rt.resource)

    def check_namespace(self, rt, ns, creating=False):
        if not rt.namespaced:
            return
        nso = self.store.peek(("", "namespaces"), "", ns)
        if nso is None:
            raise ApiError.not_found("namespaces", ns, "", "namespaces")
        if creating and (nso.get("metadata", {}).get("deletionTimestamp") or
                         util.dig(nso, "status", "phase") == "Terminating"):
            raise ApiError.forbidden(rt.gr, "", f"unable to create new content in namespace {ns} because it is being terminated",
                                     rt.group, rt.resource)

    def _schema(self, rt):
        group = rt.group
        s, r = self.reg.openapi.schema(group, rt.version, rt.kind)
        return s, r

    def _admit(self, rt, obj, req, old=None, check_schema=True):
        if check_schema:
            s, r = self._schema(rt)
            if s is not None:
                req.warnings += admission.check_schema(obj, s, r, req.field_validation, rt.kind, rt.version)
        admission.apply_defaults(rt, obj)
        causes = admission.validate(rt, obj, old)
        if check_schema and rt.crd is None:
            s, r = self._schema(rt)
            if s is not None:
                known = {c[0] for c in causes}
                for path in admission.required_fields(obj, s, r):
                    if path not in known and not path.startswith("metadata") and not path.startswith("status"):
                        causes.append(admission.required(path))
        if causes:
            name = obj.get("metadata", {}).get("name", "")
            raise ApiError.invalid(rt.kind, rt.group, name, causes)

    def _managed(self, rt, obj, old, req, operation, subresource=""):
        mf = list((old or {}).get("metadata", {}).get("managedFields") or [])
        entry = {"manager": req.manager(), "operation": operation, "apiVersion": rt.api_version,
                 "time": util.now(), "fieldsType": "FieldsV1",
                 "fieldsV1": _fields_v1({"status": obj.get("status")} if subresource == "status" else obj)}
        if subresource == "status":
            entry["fieldsV1"] = {"f:status": _fields_v1(obj.get("status") or {}, False)}
            entry["subresource"] = "status"
        mf = [m for m in mf if not (m.get("manager") == entry["manager"] and m.get("operation") == operation
                                    and m.get("subresource", "") == subresource)]
        mf.append(entry)
        obj["metadata"]["managedFields"] = mf[-8:]

    # -- read ----------------------------------------------------------------------
    def get(self, rt, ns, name):
        with self.lock:
            self.check_namespace(rt, ns)
            o = self.store.get(rt.key, ns if rt.namespaced else "", name)
            if o is None:
                raise self._not_found(rt, name)
            return o

    def list(self, rt, ns, label_selector="", field_selector="", limit=0, cont=None):
        lr = parse_label_selector(label_selector)
        fr = parse_field_selector(field_selector, rt.key)
        with self.lock:
            if ns and rt.namespaced and self.store.peek(("", "namespaces"), "", ns) is None:
                # listing in a missing namespace is allowed and empty, like the real one
                pass
            sid = f"{label_selector}|{field_selector}"
            return self.store.list(rt.key, ns if rt.namespaced else None, lr, fr, limit, cont, sid)

    # -- create --------------------------------------------------------------------
    def create(self, rt, ns, obj, req=INTERNAL):
        if not isinstance(obj, dict):
            raise ApiError.bad_request("the body of the request was in an unknown format")
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise ApiError.bad_request("metadata must be an object")
            if rt.namespaced:
                if meta.get("namespace") and ns and meta["namespace"] != ns:
                    raise ApiError.bad_request("the namespace of the provided object does not match the namespace sent on the request")
                ns = ns or meta.get("namespace") or "default"
                meta["namespace"] = ns
            else:
                meta.pop("namespace", None)
                ns = ""
            self._check_type(rt, obj)
            self.check_namespace(rt, ns, creating=True)
            rv = meta.get("resourceVersion")
            if rv not in (None, "", "0"):
                try:
                    bad = int(rv) != 0
                except (TypeError, ValueError):
                    bad = False        # apiserver only rejects a parseable non-zero RV
                if bad:
                    raise ApiError.internal("resourceVersion should not be set on objects to be created")
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + util.rand_suffix()
            if "status" in rt.subresources and rt.kind != "Node":
                # PrepareForCreate: status is the controllers' to write
                obj.pop("status", None)
            self._admit(rt, obj, req)
            name = meta["name"]
            if self.store.peek(rt.key, ns, name) is not None:
                raise ApiError.already_exists(rt.gr, name, rt.group, rt.resource)
            # server-set fields (rest.BeforeCreate / FillObjectMetaSystemFields)
            for f in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(f, None)
            meta["uid"] = util.new_uid()
            meta["creationTimestamp"] = util.now()
            if rt.kind in GENERATION_KINDS or rt.crd is not None:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            self._registry_create(rt, obj, req)
            self._managed(rt, obj, None, req, "Update")
            if req.dry_run:
                return obj
            stored = self.store.put(rt.key, obj, "ADDED")
            return stored

    def _check_type(self, rt, obj):
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if av and av != rt.api_version:
            # the real server converts between served versions of a group
            grp = av.split("/")[0] if "/" in av else ""
            if grp != rt.group or av.split("/")[-1] not in self.reg.versions_of(rt.group):
                raise ApiError.bad_request(
                    f"the API version in the data ({av}) does not match the expected API version ({rt.api_version})")
        if kind and kind != rt.kind:
            raise ApiError.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")

    def _registry_create(self, rt, obj, req):
        """Per-registry work done synchronously at create time."""
        if rt.key == ("", "services"):
            self._alloc_service(obj, None)
        if rt.key == ("", "pods"):
            obj.setdefault("status", {}).setdefault("phase", "Pending")
        if rt.kind == "Secret" and "stringData" in obj:
            import base64
            data = obj.setdefault("data", {}) or {}
            for k, v in (obj.pop("stringData") or {}).items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj["data"] = data

    def _alloc_ip(self):
        for _ in range(10000):
            ip = str(CLUSTER_CIDR[random.randint(20, CLUSTER_CIDR.num_addresses - 2)])
            if ip not in self._ips:
                self._ips.add(ip)
                return ip
        raise ApiError.internal("failed to allocate a serviceIP: range is full")

    def _alloc_service(self, obj, old):
        spec = obj.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        if old is not None:
            for f in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"):
                if f in (old.get("spec") or {}) and not spec.get(f):
                    spec[f] = old["spec"][f]
            oports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                      for p in (old.get("spec") or {}).get("ports") or []}
            for p in spec.get("ports") or []:
                if not p.get("nodePort") and oports.get((p.get("port"), p.get("protocol", "TCP"))):
                    p["nodePort"] = oports[(p.get("port"), p.get("protocol", "TCP"))]
        if spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
        elif not spec.get("clusterIP"):
            ip = self._alloc_ip()
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        else:
            if old is None and spec["clusterIP"] in self._ips:
                raise ApiError.invalid("Service", "", obj["metadata"].get("name", ""), [
                    admission.invalid_value("spec.clusterIPs", [spec["clusterIP"]],
                                            f"failed to allocate IP {spec['clusterIP']}: provided IP is already allocated")])
            self._ips.add(spec["clusterIP"])
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for p in spec.get("ports") or []:
                if not p.get("nodePort"):
                    p["nodePort"] = self._alloc_node_port()
            if spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local" \
                    and not spec.get("healthCheckNodePort"):
                spec["healthCheckNodePort"] = self._alloc_node_port()
            if spec.get("type") == "LoadBalancer":
                spec.setdefault("allocateLoadBalancerNodePorts", True)

    def _alloc_node_port(self):
        for _ in range(5000):
            p = random.randint(30000, 32767)
            if p not in self._node_ports:
                self._node_ports.add(p)
                return p
        raise ApiError.internal("range is full")

    # -- update --------------------------------------------------------------------
    def update(self, rt, ns, name, obj, req=INTERNAL, subresource="", operation="Update", precondition_rv=None):
        if not isinstance(obj, dict):
            raise ApiError.bad_request("the body of the request was in an unknown format")
        with self.lock:
            ns = ns if rt.namespaced else ""
            self.check_namespace(rt, ns)
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if meta.get("name") and meta["name"] != name:
                raise ApiError.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
            meta["name"] = name
            if rt.namespaced:
                if meta.get("namespace") and meta["namespace"] != ns:
                    raise ApiError.bad_request("the namespace of the provided object does not match the namespace sent on the request")
                meta["namespace"] = ns
            self._check_type(rt, obj)
            old = self.store.get(rt.key, ns, name)
            if old is None:
                if rt.key in CREATE_ON_UPDATE and not subresource:
                    meta.pop("resourceVersion", None)
                    return self.create(rt, ns, obj, req), True
                raise self._not_found(rt, name)
            rv = meta.get("resourceVersion") or precondition_rv
            if not rv and rt.crd is not None and operation == "Update":
                raise ApiError.invalid(rt.kind, rt.group, name, [admission.invalid_value(
                    "metadata.resourceVersion", "0x0", "must be specified for an update")])
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise ApiError.conflict(rt.gr, name, "the object has been modified; please apply your changes to the latest version and try again",
                                        rt.group, rt.resource)
            if old["metadata"].get("uid") and meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
                raise ApiError.conflict(rt.gr, name, f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {old['metadata']['uid']}",
                                        rt.group, rt.resource)
            if subresource == "status":
                new = copy.deepcopy(old)
                new["status"] = obj.get("status")
                if new["status"] is None:
                    new.pop("status")
            else:
                new = obj
                # status is owned by the status subresource where there is one
                if "status" in rt.subresources:
                    if "status" in old:
                        new["status"] = copy.deepcopy(old["status"])
                    else:
                        new.pop("status", None)
                # server-owned metadata survives an update
                for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "generation", "managedFields"):
                    if f in old["metadata"]:
                        meta[f] = old["metadata"][f]
                    else:
                        meta.pop(f, None)
                if old["metadata"].get("deletionTimestamp"):
                    # finalizers may only be removed once deletion started
                    pass
            new["apiVersion"], new["kind"] = rt.api_version, rt.kind
            self._admit(rt, new, req, old, check_schema=subresource != "status")
            if rt.key == ("", "services") and subresource != "status":
                self._alloc_service(new, old)
            if rt.kind == "Secret" and "stringData" in new:
                self._registry_create(rt, new, req)
            if "generation" in old["metadata"] and subresource != "status":
                strip = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status")}
                if strip(old) != strip(new):
                    new["metadata"]["generation"] = old["metadata"]["generation"] + 1
            cmp_old = {k: v for k, v in old.items()}
            cmp_new = dict(new)
            same = (json.dumps(cmp_old, sort_keys=True, default=str) ==
                    json.dumps({**cmp_new, "metadata": {**cmp_new["metadata"],
                                                       "resourceVersion": old["metadata"]["resourceVersion"]}},
                               sort_keys=True, default=str))
            if same:
                # a no-op write does not bump resourceVersion or notify watchers
                return old, False
            self._managed(rt, new, old, req, operation, subresource)
            if req.dry_run:
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
                return new, False
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                self._run_pre_delete(rt, new)
                return self.store.remove(rt.key, new) or new, False
            return self.store.put(rt.key, new, "MODIFIED"), False

    # -- patch ---------------------------------------------------------------------
    def patch(self, rt, ns, name, content_type, body, req=INTERNAL, subresource="", force=False):
        ct = (content_type or "").split(";")[0].strip()
        with self.lock:
            ns = ns if rt.namespaced else ""
            self.check_namespace(rt, ns)
            current = self.store.get(rt.key, ns, name)
            if ct == "application/apply-patch+yaml":
                return self._apply(rt, ns, name, body, req, current, subresource)
            if current is None:
                raise self._not_found(rt, name)
            base = self.scale_of(rt, current) if subresource == "scale" else current
            base = self.out(rt, base) if subresource != "scale" else base
            if ct == "application/json-patch+json":
                new = patchlib.json_patch(base, body)
            elif ct == "application/merge-patch+json":
                if not isinstance(body, dict):
                    raise ApiError.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
                new = patchlib.merge_patch(base, body)
            elif ct == "application/strategic-merge-patch+json":
                if rt.crd is not None:
                    raise ApiError(415, "UnsupportedMediaType",
                                   f"the body of the request was in an unknown format - accepted media types include: "
                                   f"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
                s, r = self._schema(rt) if subresource != "scale" else (None, None)
                new = patchlib.strategic_merge(base, body, s, r or _NoSchema())
            else:
                raise ApiError(415, "UnsupportedMediaType",
                               f"the body of the request was in an unknown format - accepted media types include: "
                               f"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                               + (", application/strategic-merge-patch+json" if rt.crd is None else ""))
            if subresource == "scale":
                return self.set_scale(rt, ns, name, new, req)
            # a resourceVersion inside the patch is an optimistic-lock precondition
            prv = util.dig(body, "metadata", "resourceVersion") if isinstance(body, dict) else None
            new.setdefault("metadata", {})["resourceVersion"] = prv or current["metadata"]["resourceVersion"]
            return self.update(rt, ns, name, new, req, subresource, operation="Update")[0]

    def _apply(self, rt, ns, name, body, req, current, subresource):
        """Server-side apply, simplified: create if missing, else merge the
        applied configuration in (no field ownership / conflicts)."""
        if not req.field_manager:
            raise ApiError.invalid("PatchOptions", "meta.k8s.io", "", [
                ("fieldManager", "FieldValueRequired", "fieldManager: Required value: is required for apply patch")])
        if not isinstance(body, dict):
            raise ApiError.bad_request("error decoding YAML: the applied object must be a map")
        body = copy.deepcopy(body)
        body.setdefault("metadata", {})["name"] = name
        if current is None:
            if subresource:
                raise self._not_found(rt, name)
            return self.create(rt, ns, body, req)
        s, r = self._schema(rt)
        if rt.crd is None:
            new = patchlib.strategic_merge(self.out(rt, current), body, s, r or _NoSchema())
        else:
            new = patchlib.merge_patch(self.out(rt, current), body)
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(rt, ns, name, new, req, subresource, operation="Apply")[0]

    # -- scale ---------------------------------------------------------------------
    def scale_of(self, rt, obj):
        sel = util.dig(obj, "spec", "selector") or {}
        if isinstance(sel, dict):
            from .tables import _selector
            sel_s = _selector(sel) if sel else ""
        else:
            sel_s = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
        m = obj["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in m},
                "spec": {"replicas": util.dig(obj, "spec", "replicas") or 0},
                "status": {"replicas": util.dig(obj, "status", "replicas") or 0, "selector": sel_s}}

    def set_scale(self, rt, ns, name, scale, req):
        with self.lock:
            cur = self.store.get(rt.key, ns, name)
            if cur is None:
                raise self._not_found(rt, name)
            srv = util.dig(scale, "metadata", "resourceVersion")
            if srv and srv != cur["metadata"]["resourceVersion"]:
                raise ApiError.conflict(rt.gr, name, "the object has been modified; please apply your changes to the latest version and try again",
                                        rt.group, rt.resource)
            r = util.dig(scale, "spec", "replicas")
            if not isinstance(r, int) or r < 0:
                raise ApiError.invalid("Scale", "autoscaling", name, [admission.invalid_value(
                    "spec.replicas", r, "must be greater than or equal to 0")])
            cur["spec"]["replicas"] = r
            new, _ = self.update(rt, ns, name, cur, req)
            return self.scale_of(rt, new)

    # -- delete --------------------------------------------------------------------
    def delete(self, rt, ns, name, req=INTERNAL, opts=None):
        """Returns (response_object, deleted_now)."""
        opts = opts or {}
        with self.lock:
            ns = ns if rt.namespaced else ""
            self.check_namespace(rt, ns)
            cur = self.store.get(rt.key, ns, name)
            if cur is None:
                raise self._not_found(rt, name)
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != cur["metadata"]["uid"]:
                raise ApiError.conflict(rt.gr, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {cur['metadata']['uid']}",
                                        rt.group, rt.resource)
            if pre.get("resourceVersion") and pre["resourceVersion"] != cur["metadata"]["resourceVersion"]:
                raise ApiError.conflict(rt.gr, name, f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, ResourceVersion in object meta: {cur['metadata']['resourceVersion']}",
                                        rt.group, rt.resource)
            policy = opts.get("propagationPolicy") or ("Orphan" if opts.get("orphanDependents") else None)
            if req.dry_run:
                return self._delete_response(rt, cur), False
            meta = cur["metadata"]
            finalizers = list(meta.get("finalizers") or [])
            if policy == "Orphan" and "orphan" not in finalizers and rt.key != ("", "namespaces"):
                self._orphan_dependents(meta["uid"])
            if policy == "Foreground" and rt.key != ("", "namespaces"):
                finalizers.append("foregroundDeletion")
            if rt.key == ("", "namespaces"):
                # the namespace controller empties it and then removes it
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = util.now()
                    meta["deletionGracePeriodSeconds"] = 0
                    cur.setdefault("status", {})["phase"] = "Terminating"
                    cur = self.store.put(rt.key, cur, "MODIFIED")
                return self.out(rt, cur), False
            if finalizers:
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = util.now()
                    meta["deletionGracePeriodSeconds"] = 0
                    meta["finalizers"] = finalizers
                    cur = self.store.put(rt.key, cur, "MODIFIED")
                return self.out(rt, cur), False
            self._run_pre_delete(rt, cur)
            gone = self.store.remove(rt.key, cur)
            return self._delete_response(rt, gone), True

    def _run_pre_delete(self, rt, obj):
        if rt.key == ("", "services"):
            for ip in util.dig(obj, "spec", "clusterIPs") or []:
                self._ips.discard(ip)
            for p in util.dig(obj, "spec", "ports") or []:
                self._node_ports.discard(p.get("nodePort"))
        for fn in self.pre_delete_hooks:
            fn(rt, obj)

    def _delete_response(self, rt, obj):
        if rt.key in RETURN_DELETED or rt.crd is not None:
            return self.out(rt, obj)
        d = {"name": obj["metadata"]["name"], "kind": rt.resource, "uid": obj["metadata"].get("uid", "")}
        if rt.group:
            d["group"] = rt.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}

    def delete_collection(self, rt, ns, req, label_selector="", field_selector="", opts=None):
        items, rv, _, _ = self.list(rt, ns, label_selector, field_selector)
        with self.lock:
            for o in items:
                try:
                    self.delete(rt, o["metadata"].get("namespace", ""), o["metadata"]["name"], req, opts)
                except ApiError:
                    pass
            return items, rv

    def _orphan_dependents(self, uid):
        for rt in self.reg.all_storable():
            for o in self.store.items(rt.key):
                refs = o["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == uid for r in refs):
                    n = copy.deepcopy(o)
                    n["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    if not n["metadata"]["ownerReferences"]:
                        del n["metadata"]["ownerReferences"]
                    self.store.put(rt.key, n, "MODIFIED")


class _NoSchema:
    def resolve(self, s):
        return s

    def prop(self, s, name):
        return None

    def items(self, s):
        return None

