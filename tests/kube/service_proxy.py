"""The API server's service proxy for the stand-in
(/api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH), as
kube-apiserver serves it: the Service must exist (404 NotFound otherwise);
with no endpoint registered for it, 503 ServiceUnavailable "no endpoints
available for service"; else the request (method, path, query, body and the
headers other than Authorization and hop-by-hop ones) goes to the endpoint
and its answer comes back as it is, status and headers included. The proxy
is a long-running request, so a backend may hold it (Consul's blocking
queries) for as long as it likes.

Endpoints are registered through the test control API, since the stand-in
runs no pods:
  POST   /_standin/service-proxy  {"namespace","service","port","target":"http://127.0.0.1:P"}
  DELETE /_standin/service-proxy  {"namespace","service","port"}
  GET    /_standin/service-proxy  the registrations

Kept in its own module (hooked into standin/http.py by two calls) so other
work on the stand-in merges cleanly."""
import http.client
import re
import ssl
import threading
import urllib.parse

from standin.errors import ApiError

_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/]+)/proxy(/.*)?$")
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
        "transfer-encoding", "upgrade", "host", "authorization", "content-length", "accept-encoding"}
_lock = threading.Lock()


def _targets(server):
    with _lock:
        if not hasattr(server, "service_proxy_targets"):
            server.service_proxy_targets = {}
        return server.service_proxy_targets


def _split(name_port):
    """[scheme:]name[:port] -> (name, port)."""
    parts = name_port.split(":")
    if len(parts) == 3:
        parts = parts[1:]
    return parts[0], parts[1] if len(parts) > 1 else ""


def matches(path):
    return _PATH.match(path) is not None


def control(handler, method, data):
    """/_standin/service-proxy; returns after answering."""
    targets = _targets(handler.server)
    if method == "GET":
        return handler.send_obj(200, {f"{k[0]}/{k[1]}:{k[2]}": v for k, v in targets.items()})
    key = (data.get("namespace", ""), data.get("service", ""), str(data.get("port", "")))
    if not key[0] or not key[1]:
        raise ApiError.bad_request("namespace and service are required")
    with _lock:
        if method == "DELETE":
            targets.pop(key, None)
        elif method == "POST":
            if not str(data.get("target", "")).startswith(("http://", "https://")):
                raise ApiError.bad_request("target must be an http(s):// URL")
            targets[key] = data["target"]
        else:
            raise ApiError(405, "MethodNotAllowed", "use GET, POST or DELETE")
    return handler.send_obj(200, {"registered": method == "POST"})


def forward(handler, method, body):
    """Proxies the request in handler (its path matched); returns the verb for the stats."""
    url = urllib.parse.urlsplit(handler.path)
    ns, name_port, rest = _PATH.match(url.path).groups()
    name, port = _split(name_port)
    srv = handler.server
    svc_rt = srv.reg.get("", "v1", "services")
    srv.api.get(svc_rt, ns, name)      # raises the real 404 when the Service is missing
    target = _targets(srv).get((ns, name, port))
    if target is None:
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
    t = urllib.parse.urlsplit(target)
    conn_cls = http.client.HTTPSConnection if t.scheme == "https" else http.client.HTTPConnection
    kw = {"context": ssl._create_unverified_context()} if t.scheme == "https" else {}
    conn = conn_cls(t.hostname, t.port, timeout=900, **kw)
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
    try:
        conn.request(method, (rest or "/") + (f"?{url.query}" if url.query else ""),
                     body=body if body else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    except OSError as e:
        raise ApiError(503, "ServiceUnavailable", f"error trying to reach service: {e}")
    finally:
        conn.close()
    handler.code = resp.status
    handler.send_response(resp.status)
    for k, v in resp.getheaders():
        if k.lower() not in _HOP:
            handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
    return "proxy"
