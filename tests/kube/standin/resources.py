"""What the API serves: resource types, discovery documents and OpenAPI.

Built from the real upstream documents in shared/testdata/k8s (see its
README.txt).  aggregated_v2.json is the truth for which group-versions and
resources exist (the per-group-version files come from assorted commits and
disagree with it); api__v1.json is the only source for the core group, which
the aggregated document does not carry.  storageVersionHash values are taken
from the legacy files where the resource is listed there.

CustomResourceDefinitions add group-versions at run time (register_crd).
"""
import copy
import hashlib
import json
import os
import re
import threading


def shared_dir():
    """shared/ sits beside the repository (…/main and …/shared)."""
    env = os.environ.get("PAASCTL_SHARED")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))          # <repo>/tests/kube/standin
    repo = os.path.normpath(os.path.join(here, "..", "..", ".."))
    return os.path.normpath(os.path.join(repo, "..", "shared"))


def testdata_dir():
    return os.path.join(shared_dir(), "testdata", "k8s")


_VER_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(v):
    """Sort key in Kubernetes' "kube-aware" version order (v1 > v1beta1 > v1alpha1,
    GA before beta before alpha, higher numbers first, others last by name)."""
    m = _VER_RE.match(v)
    if not m:
        return (3, 0, 0, v)
    major = int(m.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, v)


class ResourceType:
    """One resource as served at one group-version."""

    def __init__(self, group, version, resource, kind, namespaced, verbs, singular="",
                 short_names=(), categories=(), subresources=None, svh=None, crd=None):
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
        self.verbs = list(verbs)
        self.singular = singular or kind.lower()
        self.short_names = list(short_names or [])
        self.categories = list(categories or [])
        # name -> {"kind", "group", "version", "verbs"}
        self.subresources = subresources or {}
        self.storage_version_hash = svh
        self.crd = crd            # the CRD object for custom resources

    @property
    def key(self):
        """Storage key: every version of a group's resource shares storage."""
        return (self.group, self.resource)

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gr(self):
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def storable(self):
        # bindings, tokenreviews, *accessreviews, selfsubjectreviews ... are
        # create-only virtual resources: nothing is stored.
        return "get" in self.verbs or "list" in self.verbs

    def aggregated(self):
        d = {"resource": self.resource,
             "responseKind": {"group": "", "kind": self.kind, "version": ""},
             "scope": "Namespaced" if self.namespaced else "Cluster",
             "singularResource": self.singular,
             "verbs": self.verbs}
        if self.categories:
            d["categories"] = self.categories
        if self.short_names:
            d["shortNames"] = self.short_names
        if self.subresources:
            d["subresources"] = [
                {"responseKind": {"group": s.get("group", ""), "kind": s["kind"],
                                  "version": s.get("version", "")},
                 "subresource": n, "verbs": s["verbs"]}
                for n, s in sorted(self.subresources.items())]
        return d

    def legacy(self):
        out = []
        d = {"name": self.resource, "singularName": self.singular, "namespaced": self.namespaced,
             "kind": self.kind, "verbs": self.verbs}
        if self.short_names:
            d["shortNames"] = self.short_names
        if self.categories:
            d["categories"] = self.categories
        if self.storage_version_hash:
            d["storageVersionHash"] = self.storage_version_hash
        out.append(d)
        for n, s in sorted(self.subresources.items()):
            sd = {"name": f"{self.resource}/{n}", "singularName": "", "namespaced": self.namespaced,
                  "kind": s["kind"], "verbs": s["verbs"]}
            if s.get("group"):
                sd["group"] = s["group"]
            if s.get("version"):
                sd["version"] = s["version"]
            out.append(sd)
        return out


class Registry:
    """All served group-versions and their resources; thread-safe for CRD changes."""

    def __init__(self, data_dir=None):
        self.dir = data_dir or testdata_dir()
        if not os.path.isdir(self.dir):
            raise SystemExit(f"stand-in: testdata not found at {self.dir} (set PAASCTL_SHARED)")
        self.lock = threading.RLock()
        self.builtin_groups = []          # [(group, [versions in preference order])]
        self.crd_groups = {}              # group -> {version: {plural: ResourceType}}
        self.gvr = {}                     # (group, version, resource) -> ResourceType
        self.generation = 0               # bumped on every CRD change (discovery ETag)
        self._load()
        self.openapi = OpenAPI(self)

    # -- loading -------------------------------------------------------------
    def _legacy_hashes(self, group, version):
        name = "api__v1.json" if not group else f"apis__{group}__{version}.json"
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            doc = json.load(f)
        return {r["name"]: r.get("storageVersionHash") for r in doc.get("resources", [])}

    def _load(self):
        with open(os.path.join(self.dir, "api__v1.json")) as f:
            core = json.load(f)
        subs = {}
        for r in core["resources"]:
            if "/" in r["name"]:
                base, sub = r["name"].split("/", 1)
                s = {"kind": r["kind"], "verbs": r["verbs"]}
                if r.get("group"):
                    s["group"] = r["group"]
                if r.get("version"):
                    s["version"] = r["version"]
                subs.setdefault(base, {})[sub] = s
        for r in core["resources"]:
            if "/" in r["name"]:
                continue
            rt = ResourceType("", "v1", r["name"], r["kind"], r["namespaced"], r["verbs"],
                              r.get("singularName"), r.get("shortNames"), r.get("categories"),
                              subs.get(r["name"], {}), r.get("storageVersionHash"))
            self.gvr[("", "v1", rt.resource)] = rt
        with open(os.path.join(self.dir, "aggregated_v2.json")) as f:
            agg = json.load(f)
        for item in agg["items"]:
            group = item["metadata"]["name"]
            versions = []
            for v in item["versions"]:
                # a version with no resources can't be served: don't advertise it
                if not v.get("resources"):
                    continue
                versions.append(v["version"])
                hashes = self._legacy_hashes(group, v["version"])
                for r in v["resources"]:
                    subres = {}
                    for s in r.get("subresources") or []:
                        rk = s.get("responseKind") or {}
                        sd = {"kind": rk.get("kind", r["responseKind"]["kind"]), "verbs": s.get("verbs", [])}
                        if rk.get("group"):
                            sd["group"] = rk["group"]
                        if rk.get("version"):
                            sd["version"] = rk["version"]
                        subres[s["subresource"]] = sd
                    rt = ResourceType(group, v["version"], r["resource"], r["responseKind"]["kind"],
                                      r["scope"] == "Namespaced", r.get("verbs", []),
                                      r.get("singularResource"), r.get("shortNames"),
                                      r.get("categories"), subres, hashes.get(r["resource"]))
                    self.gvr[(group, v["version"], rt.resource)] = rt
            if versions:
                self.builtin_groups.append((group, versions))

    # -- CRDs ----------------------------------------------------------------
    def register_crd(self, crd):
        """Serve a CRD's versions (called once it is Established)."""
        spec = crd["spec"]
        group, names = spec["group"], spec["names"]
        with self.lock:
            self._unregister(group, names["plural"])
            for v in spec.get("versions", []):
                if not v.get("served", True):
                    continue
                subs = {}
                sr = v.get("subresources") or {}
                if "status" in sr:
                    subs["status"] = {"kind": names["kind"], "verbs": ["get", "patch", "update"]}
                if "scale" in sr:
                    subs["scale"] = {"kind": "Scale", "group": "autoscaling", "version": "v1",
                                     "verbs": ["get", "patch", "update"]}
                rt = ResourceType(group, v["name"], names["plural"], names["kind"],
                                  spec.get("scope", "Namespaced") == "Namespaced",
                                  ["delete", "deletecollection", "get", "list", "patch", "create",
                                   "update", "watch"],
                                  names.get("singular") or names["kind"].lower(),
                                  names.get("shortNames"), names.get("categories"), subs,
                                  hashlib.sha256(f"{group}/{names['plural']}".encode()).digest()[:8].hex(),
                                  crd=crd)
                self.crd_groups.setdefault(group, {}).setdefault(v["name"], {})[rt.resource] = rt
                self.gvr[(group, v["name"], rt.resource)] = rt
            self.generation += 1

    def unregister_crd(self, crd):
        with self.lock:
            self._unregister(crd["spec"]["group"], crd["spec"]["names"]["plural"])
            self.generation += 1

    def _unregister(self, group, plural):
        g = self.crd_groups.get(group, {})
        for version in list(g):
            if g[version].pop(plural, None) is not None:
                self.gvr.pop((group, version, plural), None)
            if not g[version]:
                del g[version]
        if group in self.crd_groups and not self.crd_groups[group]:
            del self.crd_groups[group]

    # -- lookups -------------------------------------------------------------
    def groups(self):
        """[(group, [versions, preferred first])] for every group but core."""
        with self.lock:
            out = list(self.builtin_groups)
            for g, vs in self.crd_groups.items():
                out.append((g, sorted(vs, key=version_priority)))
            return out

    def versions_of(self, group):
        if group == "":
            return ["v1"]
        for g, vs in self.groups():
            if g == group:
                return vs
        return []

    def get(self, group, version, resource):
        with self.lock:
            return self.gvr.get((group, version, resource))

    def resources(self, group, version):
        with self.lock:
            return sorted((rt for (g, v, _), rt in self.gvr.items() if g == group and v == version),
                          key=lambda rt: rt.resource)

    def preferred(self, group, resource):
        """The ResourceType at the group's preferred version serving `resource`."""
        for v in self.versions_of(group):
            rt = self.get(group, v, resource)
            if rt:
                return rt
        return None

    def by_kind(self, group, kind):
        for v in self.versions_of(group):
            for rt in self.resources(group, v):
                if rt.kind == kind:
                    return rt
        return None

    def all_storable(self):
        """One ResourceType per storage key, at its preferred version."""
        seen, out = set(), []
        for group, versions in [("", ["v1"])] + self.groups():
            for v in versions:
                for rt in self.resources(group, v):
                    if rt.key not in seen and rt.storable:
                        seen.add(rt.key)
                        out.append(rt)
        return out

    # -- discovery documents ---------------------------------------------------
    def api_versions(self, server_address):
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}

    def api_group_list(self):
        groups = []
        for g, vs in self.groups():
            gvs = [{"groupVersion": f"{g}/{v}", "version": v} for v in vs]
            groups.append({"name": g, "versions": gvs, "preferredVersion": gvs[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_group(self, group):
        vs = self.versions_of(group)
        if not vs:
            return None
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in vs]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs,
                "preferredVersion": gvs[0]}

    def api_resource_list(self, group, version):
        if version not in self.versions_of(group):
            return None
        res = []
        for rt in self.resources(group, version):
            res.extend(rt.legacy())
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}

    def aggregated(self, core):
        """APIGroupDiscoveryList for /api (core=True) or /apis."""
        items = []
        groups = [("", ["v1"])] if core else self.groups()
        for g, vs in groups:
            versions = [{"version": v, "freshness": "Current",
                         "resources": [rt.aggregated() for rt in self.resources(g, v)]} for v in vs]
            meta = {"creationTimestamp": None}
            if g:
                meta["name"] = g
            items.append({"metadata": meta, "versions": versions})
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {}, "items": items}


class OpenAPI:
    """/openapi/v2 and /openapi/v3 from testdata, plus generated docs for CRDs,
    and schema lookups (strategic-merge keys, required fields, unknown fields)."""

    def __init__(self, registry):
        self.reg = registry
        self.v3dir = os.path.join(registry.dir, "openapi-v3", "v1.32")
        self.v2path = os.path.join(registry.dir, "openapi-v2", "swagger-v1.32.json")
        self._files = {}                 # "apis/apps/v1" -> path
        for root, _, files in os.walk(self.v3dir):
            for fn in files:
                if fn.endswith(".json"):
                    rel = os.path.relpath(os.path.join(root, fn), self.v3dir)[:-5]
                    self._files[rel.replace(os.sep, "/")] = os.path.join(root, fn)
        self._raw = {}                   # gv path -> bytes
        self._docs = {}                  # gv path -> parsed dict
        self._hash = {}
        self._kind_index = None          # (group, version, kind) -> (gvpath, schema name)
        self._lock = threading.Lock()

    # raw documents -----------------------------------------------------------
    def _crd_paths(self):
        out = {}
        for g, vs in self.reg.crd_groups.items():
            for v in vs:
                out[f"apis/{g}/{v}"] = (g, v)
        return out

    def raw(self, gvpath):
        with self._lock:
            if gvpath in self._files:
                if gvpath not in self._raw:
                    with open(self._files[gvpath], "rb") as f:
                        self._raw[gvpath] = f.read()
                    self._hash[gvpath] = hashlib.sha512(self._raw[gvpath]).hexdigest().upper()
                return self._raw[gvpath]
        crd = self._crd_paths().get(gvpath)
        if crd:
            return json.dumps(self._crd_doc(*crd), separators=(",", ":")).encode()
        return None

    def hash(self, gvpath):
        data = self.raw(gvpath)
        if data is None:
            return None
        if gvpath in self._hash:
            return self._hash[gvpath]
        return hashlib.sha512(data).hexdigest().upper()

    def index(self):
        paths = {}
        for p in sorted(set(self._files) | set(self._crd_paths())):
            paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={self.hash(p)}"}
        return {"paths": paths}

    def v2(self):
        with open(self.v2path, "rb") as f:
            return f.read()

    def doc(self, gvpath):
        if gvpath in self._crd_paths():
            return json.loads(self.raw(gvpath))
        with self._lock:
            if gvpath not in self._docs:
                path = self._files.get(gvpath)
                if not path:
                    return None
                with open(path) as f:
                    self._docs[gvpath] = json.load(f)
            return self._docs[gvpath]

    # CRD documents -------------------------------------------------------------
    def _crd_doc(self, group, version):
        """A v3 document like the one kube-apiserver publishes for CRDs: kubectl
        reads it to learn that PATCH takes fieldValidation (so it leaves
        validation to us) and to find the kind's schema."""
        core = self.doc("api/v1") or {"components": {"schemas": {}}}
        meta_schemas = {k: v for k, v in core["components"]["schemas"].items()
                        if k.startswith("io.k8s.apimachinery.pkg.apis.meta.v1.")}
        schemas = dict(meta_schemas)
        paths = {}
        params = [{"in": "query", "name": n, "schema": {"type": "string", "uniqueItems": True}}
                  for n in ("dryRun", "fieldManager", "fieldValidation")]
        for rt in self.reg.crd_groups.get(group, {}).get(version, {}).values():
            vers = next((v for v in rt.crd["spec"]["versions"] if v["name"] == version), {})
            sch = copy.deepcopy((vers.get("schema") or {}).get("openAPIV3Schema") or
                                {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
            props = sch.setdefault("properties", {})
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props["metadata"] = {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]}
            gvk = {"group": group, "version": version, "kind": rt.kind}
            sch["x-kubernetes-group-version-kind"] = [gvk]
            rev = ".".join(reversed(group.split(".")))
            name = f"{rev}.{version}.{rt.kind}"
            schemas[name] = sch
            schemas[name + "List"] = {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}},
                "x-kubernetes-group-version-kind": [dict(gvk, kind=rt.kind + "List")]}
            ns = "/namespaces/{namespace}" if rt.namespaced else ""
            base = f"/apis/{group}/{version}{ns}/{rt.resource}"
            op = lambda verb: {"operationId": f"{verb}{rt.kind}", "parameters": params,
                               "x-kubernetes-action": verb, "x-kubernetes-group-version-kind": gvk,
                               "responses": {"200": {"description": "OK", "content": {
                                   "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}}
            paths[base] = {"get": op("list"), "post": op("post")}
            paths[base + "/{name}"] = {"get": op("get"), "put": op("put"), "patch": dict(
                op("patch"), requestBody={"content": {t: {"schema": {"type": "object"}} for t in (
                    "application/apply-patch+yaml", "application/json-patch+json",
                    "application/merge-patch+json")}}), "delete": op("delete")}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
                "paths": paths, "components": {"schemas": schemas}}

    # schema lookups ------------------------------------------------------------
    def schema(self, group, version, kind):
        """(schema, resolver) for a kind, or (None, None)."""
        gvpath = f"apis/{group}/{version}" if group else "api/v1"
        d = self.doc(gvpath)
        if not d:
            return None, None
        schemas = d.get("components", {}).get("schemas", {})
        for name, s in schemas.items():
            for gvk in s.get("x-kubernetes-group-version-kind", []):
                if gvk.get("group", "") == group and gvk.get("version") == version and gvk.get("kind") == kind:
                    return s, SchemaResolver(schemas)
        return None, None


class SchemaResolver:
    def __init__(self, schemas):
        self.schemas = schemas

    def resolve(self, s):
        """Follow $ref / single allOf wrappers the way upstream documents use them,
        keeping the x-kubernetes-* annotations of the wrapper."""
        if s is None:
            return None
        seen = 0
        extra = {}
        while seen < 20:
            seen += 1
            if "$ref" in s:
                extra.update({k: v for k, v in s.items() if k.startswith("x-kubernetes")})
                s = self.schemas.get(s["$ref"].rsplit("/", 1)[-1], {})
                continue
            if "allOf" in s and len(s["allOf"]) == 1 and "properties" not in s:
                extra.update({k: v for k, v in s.items() if k != "allOf"})
                s = s["allOf"][0]
                continue
            break
        if extra:
            s = dict(s)
            for k, v in extra.items():
                s.setdefault(k, v)
        return s

    def prop(self, s, name):
        s = self.resolve(s)
        if not s:
            return None
        p = (s.get("properties") or {}).get(name)
        if p is None and isinstance(s.get("additionalProperties"), dict):
            p = s["additionalProperties"]
        return self.resolve(p) if p is not None else None

    def items(self, s):
        s = self.resolve(s)
        return self.resolve(s.get("items")) if s else None
