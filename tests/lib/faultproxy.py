"""A small HTTP proxy on loopback in front of the AWS emulator, for failures
the emulator cannot produce: throttling, 5xx, or a rewritten answer for one
call. Requests are forwarded byte for byte (Host header included, so the
emulator's signature check still sees what the client signed)."""

import http.client
import time
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rule:
    """Answers requests whose form body has Action=action (or whose method
    and path match, for S3) with (status, body) `times` times (None = always);
    or, with rewrite=fn, forwards and passes the upstream body through fn."""

    def __init__(self, action=None, status=503, body="", times=1, rewrite=None,
                 match=None, delay=0.0, forward=False, match_headers=None):
        self.action, self.status, self.body = action, status, body
        self.match_headers = match_headers   # fn(headers dict, lower-case keys) -> bool
        self.times, self.rewrite, self.match = times, rewrite, match
        self.delay, self.forward = delay, forward   # hold the request; then pass it on
        self.hits = 0

    def applies(self, method, path, form, headers=None):
        if self.times is not None and self.hits >= self.times:
            return False
        if self.match_headers and not self.match_headers(headers or {}):
            return False
        if self.action and form.get("Action", [""])[0] != self.action:
            return False
        if self.match and not self.match(method, path, form):
            return False
        return True


class FaultProxy:
    def __init__(self, upstream):
        self.upstream = urllib.parse.urlparse(upstream)
        self.rules = []
        self.log = []          # (method, path, Action) of every request seen
        self.headers_log = []  # (method, path, {lower-case header: value}) likewise
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                form = urllib.parse.parse_qs(body.decode("latin-1")) if body else {}
                action = form.get("Action", [""])[0]
                proxy.log.append((self.command, self.path, action))
                headers = {k.lower(): v for k, v in self.headers.items()}
                proxy.headers_log.append((self.command, self.path, headers))
                for r in proxy.rules:
                    if r.applies(self.command, self.path, form, headers):
                        r.hits += 1
                        if r.delay:
                            time.sleep(r.delay)
                        if r.forward:
                            break
                        if r.rewrite is None:
                            return self._answer(r.status, r.body.encode(), {})
                        status, headers, data = proxy._forward(self, body)
                        return self._answer(status, r.rewrite(data.decode()).encode(), headers)
                status, headers, data = proxy._forward(self, body)
                self._answer(status, data, headers)

            def _answer(self, status, data, headers):
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _forward(self, handler, body):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in handler.headers.items()}
        conn.request(handler.command, handler.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = {k: v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, out, data

    def actions(self):
        return [a for _, _, a in self.log]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
