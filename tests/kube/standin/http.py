"""HTTP front of the stand-in: authentication, content negotiation (JSON,
YAML, Table, PartialObjectMetadata, aggregated discovery), routing in the
shape of apiserver's RequestInfoFactory, watch streaming, fault injection and
the /_standin test-control surface."""
import collections
import copy
import hashlib
import hmac
import json
import socket
import struct
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import yaml

from . import tables, util
from .api import Request
from .bootstrap import node_conditions, node_object
from .errors import ApiError

import service_proxy  # tests/kube/service_proxy.py: /services/NAME:PORT/proxy

AGG_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
TABLE_CT = "application/json;as=Table;v=v1;g=meta.k8s.io"
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
VERSION_INFO = {"major": "1", "minor": "32", "gitVersion": "v1.32.0",
                "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53", "gitTreeState": "clean",
                "buildDate": "2024-12-11T17:59:15Z", "goVersion": "go1.23.3", "compiler": "gc",
                "platform": "linux/amd64"}
CREATE_ONLY = {  # virtual resources: POST answers, nothing stored
    ("authorization.k8s.io", "selfsubjectaccessreviews"), ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "localsubjectaccessreviews"), ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "tokenreviews"), ("authentication.k8s.io", "selfsubjectreviews"),
    ("", "bindings")}


def parse_accept(header):
    out = []
    for part in (header or "").split(","):
        part = part.strip()
        if not part:
            continue
        bits = [b.strip() for b in part.split(";")]
        params = {}
        for b in bits[1:]:
            if "=" in b:
                k, v = b.split("=", 1)
                params[k.strip()] = v.strip()
        out.append((bits[0].lower(), params))
    return out


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.total = 0
            self.by_verb = collections.Counter()
            self.by_path = collections.Counter()
            self.by_code = collections.Counter()
            self.recent = collections.deque(maxlen=1000)

    def add(self, method, path, verb, code, ua, query=""):
        with self.lock:
            self.total += 1
            self.by_verb[verb] += 1
            self.by_path[f"{method} {path}"] += 1
            self.by_code[str(code)] += 1
            self.recent.append({"method": method, "path": path, "verb": verb, "code": code, "userAgent": ua,
                                "query": query, "time": time.time()})

    def doc(self):
        with self.lock:
            return {"total": self.total, "byVerb": dict(self.by_verb), "byPath": dict(self.by_path),
                    "byCode": dict(self.by_code), "recent": list(self.recent)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # buffer each response and flush it whole (handle_one_request flushes):
    # headers and body in separate small segments stall on Nagle + delayed ACK
    wbufsize = 1 << 16
    server_version = "standin-kube-apiserver"
    sys_version = ""

    # quiet by default; --verbose turns request logging on
    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            super().log_message(fmt, *args)

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # -- plumbing ---------------------------------------------------------------
    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return data
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_bytes(self, code, body, ctype="application/json", headers=None):
        self.code = code
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        for w in self.warnings:
            self.send_header("Warning", '299 - "' + w.replace('"', '\\"') + '"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_obj(self, code, obj, ctype=None, headers=None):
        if self.wants_yaml and ctype is None:
            self.send_bytes(code, yaml.safe_dump(obj, sort_keys=False).encode(), "application/yaml", headers)
            return
        self.send_bytes(code, json.dumps(obj, separators=(",", ":")).encode(), ctype or "application/json", headers)

    def send_error_status(self, err):
        self.send_obj(err.code, err.status(), headers=err.headers)

    # -- entry --------------------------------------------------------------------
    def dispatch(self, method):
        self.code = 0
        self.warnings = []
        self.audit_id = util.new_uid()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        self.query = q
        self.accept = parse_accept(self.headers.get("Accept"))
        self.wants_yaml = any(m == "application/yaml" for m, _ in self.accept) and \
            not any(m in ("application/json", "*/*") for m, _ in self.accept)
        body = self._read_body()
        srv = self.server
        verb = method.lower()
        try:
            self.user = self._authenticate()
            if self.user is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if path.startswith("/_standin"):
                verb = "standin"
                return self.control(method, path, body)
            if srv.opts.latency_ms:
                time.sleep(srv.opts.latency_ms / 1000.0)
            if srv.opts.fail_rate and srv.rng.random() < srv.opts.fail_rate:
                verb = "fault"
                if self._fault_reset():
                    return
                raise self._fault()
            verb = self.route(method, path, body) or verb
        except ApiError as e:
            if not self.code:
                self.send_error_status(e)
        except BrokenPipeError:
            pass
        except Exception as e:  # a bug here must still answer like an apiserver
            import traceback
            traceback.print_exc()
            if not self.code:
                self.send_error_status(ApiError(500, "InternalError", f"Internal error occurred: {e}",
                                                {"causes": [{"message": str(e)}]}))
        finally:
            srv.stats.add(method, path, verb, self.code, self.headers.get("User-Agent", ""), url.query)

    # -- migration tests: connection resets among the injected faults ----------
    def _fault_reset(self):
        """With --fail-modes including "reset", some injected faults drop the
        connection with a TCP RST before anything is done or answered."""
        modes = getattr(self.server.opts, "fail_modes", None) or ["500", "503", "429"]
        self._fault_kind = self.server.rng.choice(modes)
        if self._fault_kind != "reset":
            return False
        self.code = -1   # nothing answered; counted as "reset" in the request log
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        return True

    def _fault(self):
        kind = getattr(self, "_fault_kind", None) or self.server.rng.choice(("500", "503", "429"))
        if kind == "429":
            e = ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                         {"retryAfterSeconds": 1})
            e.headers = {"Retry-After": "1"}
        elif kind == "503":
            e = ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request",
                         {"retryAfterSeconds": 1})
            e.headers = {"Retry-After": "1"}
        else:
            e = ApiError(500, "InternalError", "Internal error occurred: injected fault (--fail-rate)",
                         {"causes": [{"message": "injected fault (--fail-rate)"}]})
        return e

    def _authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            tok = auth[7:].strip()
            if hmac.compare_digest(tok.encode(), self.server.token.encode()):
                return {"username": "paasctl-admin", "groups": ["system:masters", "system:authenticated"]}
            oidc = getattr(self.server, "oidc", None)   # --oidc-issuer-url (standin/oidc.py)
            return oidc.authenticate(tok) if oidc else None
        try:
            cert = self.connection.getpeercert()
        except Exception:
            cert = None
        if cert:
            cn, orgs = "", []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            return {"username": cn, "groups": orgs + ["system:authenticated"]}
        return None

    def _req(self):
        q = self.query
        dry = q.get("dryRun", "")
        if dry not in ("", "All"):
            raise ApiError.invalid("", "", "", [("dryRun", "FieldValueNotSupported",
                                                 f'dryRun: Unsupported value: "{dry}": supported values: "All"')])
        fv = q.get("fieldValidation", "") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise ApiError.bad_request(f"fieldValidation parameter unsupported: {fv}")
        return Request(dry_run=dry == "All", field_manager=q.get("fieldManager", ""), field_validation=fv,
                       user=self.user["username"], user_agent=self.headers.get("User-Agent", ""))

    def _decode(self, body, ctype=None):
        ctype = (ctype or self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            from . import proto
            try:
                obj = proto.decode(body)
            except (ValueError, IndexError, KeyError, UnicodeDecodeError) as e:
                raise ApiError.bad_request(f"error decoding protobuf body: {e}")
            if obj is not None:
                return obj
            raise ApiError(415, "UnsupportedMediaType",
                           f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml')
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(body.decode() or "null")
            return json.loads(body.decode() or "null")
        except (ValueError, yaml.YAMLError) as e:
            raise ApiError.bad_request(f"error decoding request body: {e}")

    # -- routing ---------------------------------------------------------------------
    def route(self, method, path, body):
        reg = self.server.reg
        if service_proxy.matches(path):
            return service_proxy.forward(self, method, body)
        parts = [p for p in path.split("/") if p]
        if method not in ("GET", "HEAD") and (not parts or parts[0] not in ("api", "apis")):
            raise ApiError.not_found_path()
        if path in ("/version", "/version/"):
            return self.send_obj(200, VERSION_INFO) or "get"
        if path in ("/healthz", "/livez", "/readyz") or re.match(r"^/(healthz|livez|readyz)/", path):
            return self.send_bytes(200, b"ok", "text/plain; charset=utf-8") or "get"
        if parts and parts[0] == "openapi":
            return self.openapi(parts) or "get"
        if not parts or parts[0] not in ("api", "apis"):
            if not parts:
                paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3",
                         "/readyz", "/version"]
                return self.send_obj(200, {"paths": paths}) or "get"
            raise ApiError.not_found_path()
        if parts[0] == "api":
            if len(parts) == 1:
                return self.discovery(core=True) or "get"
            group, version, rest = "", parts[1], parts[2:]
            if version != "v1":
                raise ApiError.not_found_path()
        else:
            if len(parts) == 1:
                return self.discovery(core=False) or "get"
            if len(parts) == 2:
                g = reg.api_group(parts[1])
                if g is None:
                    raise ApiError.not_found_path()
                return self.send_obj(200, g) or "get"
            group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            doc = reg.api_resource_list(group, version)
            if doc is None:
                raise ApiError.not_found_path()
            return self.send_obj(200, doc) or "get"
        watch_prefix = False
        if rest[0] == "watch":        # deprecated /watch/ paths
            watch_prefix = True
            rest = rest[1:]
        ns = None
        if rest and rest[0] == "namespaces" and len(rest) >= 2:
            ns = rest[1]
            if len(rest) == 2:
                rest = ["namespaces", ns]
                ns = None
            elif rest[2] in NAMESPACE_SUBRESOURCES and len(rest) == 3:
                rest = ["namespaces", ns, rest[2]]
                ns = None
            else:
                rest = rest[2:]
        resource = rest[0] if rest else ""
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if len(rest) > 3 and sub != "proxy":
            raise ApiError.not_found_path()
        rt = reg.get(group, version, resource)
        if rt is None or (ns is not None and not rt.namespaced):
            raise ApiError.not_found_path()
        if sub and sub not in rt.subresources:
            raise ApiError.not_found_path()
        return self.resource(method, rt, ns, name, sub, body, watch_prefix)

    # -- discovery / openapi -----------------------------------------------------------
    def discovery(self, core):
        reg = self.server.reg
        if any(p.get("as") == "APIGroupDiscoveryList" and p.get("g") == "apidiscovery.k8s.io" and p.get("v") == "v2"
               for _, p in self.accept):
            doc = reg.aggregated(core)
            data = json.dumps(doc, separators=(",", ":")).encode()
            etag = '"' + hashlib.sha256(data).hexdigest().upper() + '"'
            if self.headers.get("If-None-Match") == etag:
                self.code = 304
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.send_bytes(200, data, AGG_V2, {"ETag": etag, "Vary": "Accept"})
        if core:
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            return self.send_obj(200, reg.api_versions(host))
        return self.send_obj(200, reg.api_group_list())

    def openapi(self, parts):
        oa = self.server.reg.openapi
        if parts == ["openapi", "v2"]:
            if not any(m in ("application/json", "*/*") for m, _ in self.accept) and self.accept:
                # kubectl asks for protobuf only; we serve JSON only (see README)
                raise ApiError(406, "NotAcceptable",
                               'only the following media types are accepted: application/json')
            return self.send_bytes(200, oa.v2(), "application/json")
        if parts == ["openapi", "v3"]:
            return self.send_obj(200, oa.index())
        if len(parts) >= 3 and parts[1] == "v3":
            gvpath = "/".join(parts[2:])
            data = oa.raw(gvpath)
            if data is None:
                raise ApiError.not_found_path()
            h = oa.hash(gvpath)
            want = self.query.get("hash")
            if want and want != h:
                self.code = 301
                self.send_response(301)
                self.send_header("Location", f"/openapi/v3/{gvpath}?hash={h}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            hdr = {"ETag": f'"{h}"'}
            if want:
                hdr["Cache-Control"] = "public, immutable"
            return self.send_bytes(200, data, "application/json", hdr)
        raise ApiError.not_found_path()

    # -- resources -------------------------------------------------------------------
    def _verb_check(self, rt, verb, sub=""):
        verbs = rt.subresources[sub]["verbs"] if sub else rt.verbs
        if verb not in verbs:
            raise ApiError(405, "MethodNotAllowed",
                           f"the server does not allow this method on the requested resource",
                           {"group": rt.group, "kind": rt.resource})

    def resource(self, method, rt, ns, name, sub, body, watch_prefix):
        api = self.server.api
        q = self.query
        if rt.namespaced and ns is None and name:
            raise ApiError.not_found_path()
        if method in ("GET", "HEAD"):
            if sub == "log":
                api.get(rt, ns, name)
                return self.send_bytes(200, b"", "text/plain") or "get"
            if sub in ("exec", "attach", "portforward", "proxy"):
                raise ApiError.bad_request("Upgrade request required")
            if name and not watch_prefix:
                self._verb_check(rt, "get", sub)
                obj = api.get(rt, ns, name)
                if sub == "scale":
                    return self.send_obj(200, api.scale_of(rt, obj)) or "get"
                return self.send_single(rt, api.out(rt, obj)) or "get"
            if q.get("watch") in ("1", "true", "True") or watch_prefix:
                self._verb_check(rt, "watch")
                return self.watch(rt, ns, name) or "watch"
            self._verb_check(rt, "list")
            return self.do_list(rt, ns) or "list"
        req = self._req()
        if method == "POST":
            if name and sub in ("binding", "eviction"):
                return self.pod_action(rt, ns, name, sub, self._decode(body), req) or "create"
            if name:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            self._verb_check(rt, "create")
            obj = self._decode(body)
            if rt.key in CREATE_ONLY:
                return self.review(rt, ns, obj) or "create"
            if rt.namespaced and ns is None:
                raise ApiError.not_found_path()
            created = api.create(rt, ns, obj, req)
            self.warnings += req.warnings
            return self.send_single(rt, api.out(rt, created), 201) or "create"
        if method == "PUT":
            self._verb_check(rt, "update", sub)
            obj = self._decode(body)
            if sub == "scale":
                return self.send_obj(200, api.set_scale(rt, ns, name, obj, req)) or "update"
            if sub == "finalize":
                cur = api.get(rt, ns, name)
                cur["spec"] = obj.get("spec") or {}
                obj = cur
                sub = ""
            new, created = api.update(rt, ns, name, obj, req, sub)
            self.warnings += req.warnings
            return self.send_single(rt, api.out(rt, new), 201 if created else 200) or "update"
        if method == "PATCH":
            self._verb_check(rt, "patch", sub)
            ct = self.headers.get("Content-Type", "")
            patch = self._decode(body, ct if "yaml" in ct else "application/json")
            force = q.get("force") in ("true", "1")
            new = api.patch(rt, ns, name, ct, patch, req, sub, force)
            self.warnings += req.warnings
            if sub == "scale":
                return self.send_obj(200, new) or "patch"
            return self.send_single(rt, api.out(rt, new)) or "patch"
        if method == "DELETE":
            opts = self._decode(body) if body else {}
            opts = opts or {}
            for k in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
                if k in q and k not in opts:
                    opts[k] = q[k]
            if name:
                self._verb_check(rt, "delete")
                resp, now = api.delete(rt, ns, name, req, opts)
                return self.send_single(rt, resp, 200) or "delete"
            self._verb_check(rt, "deletecollection")
            items, rv = api.delete_collection(rt, ns, req, q.get("labelSelector", ""), q.get("fieldSelector", ""), opts)
            lst = {"kind": rt.kind + "List", "apiVersion": rt.api_version, "metadata": {"resourceVersion": str(rv)},
                   "items": [api.out(rt, o, rt.crd is not None) for o in items]}
            return self.send_obj(200, lst) or "deletecollection"
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _want(self, as_kind):
        return any(p.get("as") == as_kind for _, p in self.accept)

    def send_single(self, rt, obj, code=200):
        if obj.get("kind") != "Status" and self._want("Table"):
            t = tables.to_table(rt, rt.version, [obj], self.query.get("includeObject", "Metadata"),
                                {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
            return self.send_obj(code, t, TABLE_CT)
        if obj.get("kind") != "Status" and self._want("PartialObjectMetadata"):
            return self.send_obj(code, {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                        "metadata": obj["metadata"]})
        if self.accept and not any(m in ("application/json", "*/*", "application/yaml", "application/*")
                                   for m, _ in self.accept):
            raise ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml")
        return self.send_obj(code, obj)

    def do_list(self, rt, ns):
        api = self.server.api
        q = self.query
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise ApiError.bad_request(f"invalid limit: {q.get('limit')}")
        rv_param = q.get("resourceVersion", "")
        cont = q.get("continue") or None
        if cont and rv_param:
            raise ApiError.bad_request("specifying resource version is not allowed when using continue")
        items, rv, token, remaining = api.list(rt, ns, q.get("labelSelector", ""), q.get("fieldSelector", ""),
                                               limit, cont)
        meta = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
            if not q.get("labelSelector") and not q.get("fieldSelector"):
                meta["remainingItemCount"] = remaining
        if self._want("Table"):
            t = tables.to_table(rt, rt.version, [api.out(rt, o) for o in items],
                                q.get("includeObject", "Metadata"), meta)
            return self.send_obj(200, t, TABLE_CT)
        if self._want("PartialObjectMetadataList"):
            return self.send_obj(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": meta,
                                       "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                  "metadata": o["metadata"]} for o in items]})
        # items of built-in lists carry no kind/apiVersion (they come from typed
        # Go structs); custom resources keep theirs
        lst = {"kind": rt.kind + "List", "apiVersion": rt.api_version, "metadata": meta,
               "items": [api.out(rt, o, rt.crd is not None) for o in items]}
        return self.send_obj(200, lst)

    # -- watch ---------------------------------------------------------------------
    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, rt, ns, name):
        from .store import field_match, label_match, parse_field_selector, parse_label_selector
        srv = self.server
        api, store = srv.api, srv.store
        q = self.query
        lr = parse_label_selector(q.get("labelSelector", ""))
        field_sel = q.get("fieldSelector", "")
        if name:
            field_sel = ",".join(x for x in (field_sel, f"metadata.name={name}") if x)
        fr = parse_field_selector(field_sel, rt.key)
        try:
            timeout = float(q.get("timeoutSeconds") or 1800)
        except ValueError:
            raise ApiError.bad_request("invalid timeoutSeconds")
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        send_initial = q.get("sendInitialEvents") in ("true", "1")
        table = self._want("Table")
        rv_param = q.get("resourceVersion", "")

        def matches(o):
            if o is None:
                return False
            if ns is not None and rt.namespaced and o["metadata"].get("namespace") != ns:
                return False
            return label_match(lr, o["metadata"].get("labels")) and field_match(fr, o)

        backlog = []
        error = None
        wq = None
        with store.lock:
            if rv_param in ("", "0") or send_initial:
                backlog = [("ADDED", copy.deepcopy(o), None)
                           for o in store._select(rt.key, ns if rt.namespaced else None, lr, fr)]
                start = store.rv
            else:
                try:
                    start = int(rv_param)
                except ValueError:
                    raise ApiError.bad_request(f"invalid resource version: {rv_param}")
                try:
                    backlog = [(e.type, e.obj, e.prev) for e in store.events_since(rt.key, start)]
                except ApiError as e:
                    error = e
            if error is None:
                wq = store.subscribe(rt.key)
        self.code = 200
        self.send_response(200)
        self.send_header("Content-Type", TABLE_CT if table else "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        first = [True]

        def emit(typ, obj):
            if typ in ("BOOKMARK", "ERROR"):
                payload = obj
            elif table:
                payload = tables.to_table(rt, rt.version, [api.out(rt, obj)], q.get("includeObject", "Metadata"),
                                          {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                                          headers=first[0])
                first[0] = False
            else:
                payload = api.out(rt, obj)
            self._chunk(json.dumps({"type": typ, "object": payload}, separators=(",", ":")).encode() + b"\n")

        def bookmark(rv, extra=None):
            m = {"resourceVersion": str(rv)}
            if extra:
                m["annotations"] = extra
            emit("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": m})

        def deliver(typ, obj, prev):
            # a label/field selector turns entering and leaving into ADDED/DELETED
            now_m, prev_m = matches(obj), (prev is not None and matches(prev))
            if typ == "ADDED" and now_m:
                emit("ADDED", obj)
            elif typ == "MODIFIED":
                if now_m and prev_m:
                    emit("MODIFIED", obj)
                elif now_m:
                    emit("ADDED", obj)
                elif prev_m:
                    emit("DELETED", obj)
            elif typ == "DELETED" and (now_m or prev_m):
                emit("DELETED", obj)

        import queue as queuemod
        try:
            if error is not None:
                emit("ERROR", error.status())
                self._chunk(b"")
                return
            last = start
            for t, o, p in backlog:
                if t == "ADDED" and p is None and (rv_param in ("", "0") or send_initial):
                    emit("ADDED", o)
                else:
                    deliver(t, o, p)
            if send_initial and bookmarks:
                bookmark(start, {"k8s.io/initial-events-end": "true"})
            deadline = time.time() + timeout
            next_bm = time.time() + 1.0
            while not srv.stopping:
                left = deadline - time.time()
                if left <= 0:
                    break
                try:
                    e = wq.get(timeout=min(0.5, left))
                except queuemod.Empty:
                    e = None
                if e is not None and e.rv > last:
                    deliver(e.type, e.obj, e.prev)
                    last = e.rv
                if bookmarks and time.time() >= next_bm:
                    bookmark(max(last, store.rv))
                    next_bm = time.time() + 1.0
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            if wq is not None:
                store.unsubscribe(rt.key, wq)

    # -- special POSTs ------------------------------------------------------------
    def pod_action(self, rt, ns, name, sub, body, req):
        api = self.server.api
        if sub == "binding":
            pod = api.get(rt, ns, name)
            pod["spec"]["nodeName"] = util.dig(body, "target", "name")
            api.update(rt, ns, name, pod, req)
        else:
            api.delete(rt, ns, name, req, (body or {}).get("deleteOptions") or {})
        return self.send_obj(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "code": 201})

    def review(self, rt, ns, obj):
        obj = copy.deepcopy(obj or {})
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        obj.setdefault("metadata", {})["creationTimestamp"] = None
        if rt.resource in ("selfsubjectaccessreviews", "subjectaccessreviews", "localsubjectaccessreviews"):
            obj["status"] = {"allowed": True, "reason": "stand-in authorizes every request"}
        elif rt.resource == "selfsubjectrulesreviews":
            obj["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                             "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
        elif rt.resource == "selfsubjectreviews":
            obj["status"] = {"userInfo": {"username": self.user["username"], "groups": self.user["groups"]}}
        elif rt.resource == "tokenreviews":
            tok = util.dig(obj, "spec", "token") or ""
            ok = hmac.compare_digest(tok.encode(), self.server.token.encode())
            obj["status"] = {"authenticated": ok, "user": {"username": "paasctl-admin",
                                                           "groups": ["system:masters", "system:authenticated"]}
                             if ok else {}, "audiences": ["https://kubernetes.default.svc.cluster.local"]}
        elif rt.resource == "bindings":
            pod_rt = self.server.reg.get("", "v1", "pods")
            pod = self.server.api.get(pod_rt, ns, util.dig(obj, "metadata", "name"))
            pod["spec"]["nodeName"] = util.dig(obj, "target", "name")
            self.server.api.update(pod_rt, ns, pod["metadata"]["name"], pod)
            return self.send_obj(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
        return self.send_obj(201, obj)

    # -- /_standin control ----------------------------------------------------------
    def control(self, method, path, body):
        srv = self.server
        api, ctl, reg = srv.api, srv.ctl, srv.reg
        parts = [p for p in path.split("/") if p][1:]
        data = json.loads(body.decode() or "{}") if body else {}
        if not isinstance(data, dict):
            raise ApiError.bad_request("body must be a JSON object")
        nodes_rt = reg.get("", "v1", "nodes")
        if parts == ["health"]:
            return self.send_obj(200, {"ok": True, "resourceVersion": srv.store.rv})
        if parts == ["service-proxy"]:
            return service_proxy.control(self, method, data)
        if parts == ["requests"]:
            if method == "DELETE":
                srv.stats.reset()
                return self.send_obj(200, {"reset": True})
            return self.send_obj(200, srv.stats.doc())
        if parts == ["compact"] and method == "POST":
            return self.send_obj(200, {"compacted": srv.store.compact()})
        if parts == ["settle"]:
            ok = ctl.settle(float(data.get("timeout", 10)))
            return self.send_obj(200 if ok else 504, {"settled": ok})
        if parts == ["save"] and method == "POST":
            srv.store._dirty = True
            srv.store.save()
            return self.send_obj(200, {"saved": bool(srv.store.persist_path)})
        if parts == ["faults"] and method == "POST":
            if "failRate" in data:
                srv.opts.fail_rate = float(data["failRate"])
            if "latencyMs" in data:
                srv.opts.latency_ms = int(data["latencyMs"])
            return self.send_obj(200, {"failRate": srv.opts.fail_rate, "latencyMs": srv.opts.latency_ms})
        if parts == ["nodes"] and method == "POST":
            if not data.get("name"):
                raise ApiError.bad_request("name is required")
            node = node_object(data["name"], data.get("providerID", ""), data.get("ready", True),
                               data.get("labels"), data.get("taints"), data.get("internalIP"),
                               data.get("instanceType", "m5.xlarge"), data.get("zone", "us-east-1a"))
            created = api.create(nodes_rt, "", node)
            ctl.settle()
            return self.send_obj(201, api.out(nodes_rt, created))
        if len(parts) == 2 and parts[0] == "nodes" and method == "DELETE":
            resp, _ = api.delete(nodes_rt, "", parts[1])
            ctl.settle()
            return self.send_obj(200, resp)
        if len(parts) == 3 and parts[0] == "nodes" and parts[2] == "ready" and method == "POST":
            with srv.store.lock:
                node = api.get(nodes_rt, "", parts[1])
                ready = data.get("ready", True)
                node["status"]["conditions"] = node_conditions(ready, util.now(), node["status"].get("conditions"))
                node["metadata"].pop("resourceVersion", None)
                new, _ = api.update(nodes_rt, "", parts[1], node, subresource="status")
            ctl.settle()
            return self.send_obj(200, api.out(nodes_rt, new))
        if len(parts) == 4 and parts[0] == "deployments" and parts[3] == "available" and method == "POST":
            ns, name = parts[1], parts[2]
            d_rt = reg.get("apps", "v1", "deployments")
            with srv.store.lock:
                api.get(d_rt, ns, name)
                ctl.deployment_available[(ns, name)] = data.get("available")
                for rs in ctl.items("apps", "replicasets", ns):
                    if any(r.get("kind") == "Deployment" and r.get("name") == name
                           for r in rs["metadata"].get("ownerReferences") or []):
                        for p in ctl.items("", "pods", ns):
                            if any(r.get("uid") == rs["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or []):
                                ctl.enqueue(("ADDED", ("", "pods"), p, None, False))
            ctl.settle()
            return self.send_obj(200, api.out(d_rt, api.get(d_rt, ns, name)))
        if len(parts) == 4 and parts[0] == "pods" and parts[3] in ("phase", "status") and method == "POST":
            ns, name = parts[1], parts[2]
            p_rt = reg.get("", "v1", "pods")
            with srv.store.lock:
                pod = api.get(p_rt, ns, name)
                if data:
                    ctl.pod_override[(ns, name)] = data
                else:
                    ctl.pod_override.pop((ns, name), None)
                ctl.enqueue(("ADDED", ("", "pods"), pod, None, False))
            ctl.settle()
            return self.send_obj(200, api.out(p_rt, api.get(p_rt, ns, name)))
        raise ApiError.not_found_path()
