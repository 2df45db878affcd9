"""A small HTTP proxy on loopback in front of the AWS emulator, for failures
the emulator cannot produce: throttling, 5xx, or a rewritten answer for one
call. Requests are forwarded byte for byte (Host header included, so the
emulator's signature check still sees what the client signed).

With route53=URL, Route53 requests (paths under /2013-04-01/, its API
version) go to that emulator instead, so one proxy sees, numbers and can
hold every request of a run in the order it arrives (tests/lib/harness.py
says why Route53 has an emulator of its own)."""

import http.client
import random
import socket
import struct
import time
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


THROTTLE = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            "<Message>Rate exceeded (fault proxy)</Message></Error>"
            "<RequestId>fault-proxy</RequestId></ErrorResponse>")
UNAVAILABLE = ("<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
               "<Message>injected by the fault proxy</Message></Error>"
               "<RequestId>fault-proxy</RequestId></ErrorResponse>")


class Rule:
    """Answers requests whose form body has Action=action (or whose method
    and path match, for S3) with (status, body) `times` times (None = always);
    or, with rewrite=fn, forwards and passes the upstream body through fn.
    reset="before": the client's connection is reset without an answer and
    nothing is forwarded; reset="after": the request is forwarded (the
    emulator executes it), then the client's connection is reset without
    a byte of the answer - the case where only looking tells what happened."""

    def __init__(self, action=None, status=503, body="", times=1, rewrite=None,
                 match=None, delay=0.0, forward=False, match_headers=None, reset=None):
        self.reset = reset
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
    ROUTE53_PREFIX = "/2013-04-01/"

    def __init__(self, upstream, route53=None):
        self.upstream = urllib.parse.urlparse(upstream)
        self.route53 = urllib.parse.urlparse(route53) if route53 else None
        self.rules = []
        self.faults = []       # (kind, method, path, Action) of every injected fault
        self._rng, self._rate, self._lock = None, 0.0, threading.Lock()
        self.log = []          # (method, path, Action) of every request seen
        self.headers_log = []  # (method, path, {lower-case header: value}) likewise
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # The headers and the body go out in two writes: without
                # TCP_NODELAY the second waits for the client's delayed ACK
                # (~40 ms a request on Linux).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                form = urllib.parse.parse_qs(body.decode("latin-1")) if body else {}
                action = form.get("Action", [""])[0]
                proxy.log.append((self.command, self.path, action))
                headers = {k.lower(): v for k, v in self.headers.items()}
                proxy.headers_log.append((self.command, self.path, headers))
                chaos = proxy._chaos_pick(self.command)
                if chaos:
                    return self._fault(chaos, body)
                for r in proxy.rules:
                    if r.applies(self.command, self.path, form, headers):
                        r.hits += 1
                        if r.delay:
                            time.sleep(r.delay)
                        if r.forward:
                            break
                        if r.reset:
                            return self._fault("reset-" + r.reset, body)
                        if r.rewrite is None:
                            return self._answer(r.status, r.body.encode(), {})
                        status, headers, data = proxy._forward(self, body)
                        return self._answer(status, r.rewrite(data.decode()).encode(), headers)
                status, headers, data = proxy._forward(self, body)
                self._answer(status, data, headers)

            def _reset(self):
                # SO_LINGER 0: close() sends RST, the client reads nothing.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            def _fault(self, kind, body):
                """kind: throttle, 503-before, 503-after, reset-before, reset-after."""
                proxy.faults.append((kind, self.command, self.path,
                                     (urllib.parse.parse_qs(body.decode("latin-1"))
                                      .get("Action", [""])[0]) if body else ""))
                if kind.endswith("-after"):
                    proxy._forward(self, body)
                if kind.startswith("reset"):
                    return self._reset()
                # HEAD answers carry no body: S3 throttles those with 503.
                if kind == "throttle" and self.command != "HEAD":
                    return self._answer(400, THROTTLE.encode(), {})
                return self._answer(503, UNAVAILABLE.encode(), {})

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
        up = self.upstream
        if self.route53 and handler.path.startswith(self.ROUTE53_PREFIX):
            up = self.route53
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in handler.headers.items()}
        conn.request(handler.command, handler.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = {k: v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, out, data

    FAULT_KINDS = ("throttle", "503-before", "503-after", "reset-before", "reset-after")

    def chaos(self, seed, rate=0.2):
        """From now on, a `rate` share of requests (seeded, so a run can be
        repeated) get one of FAULT_KINDS, evenly mixed: half of the 503s and
        resets come after the emulator executed the call. rate=0 ends it.
        Parallel requests reach the proxy in an order the kernel picks, so
        a seed fixes the sequence of draws, not which call gets which."""
        with self._lock:
            self._rng, self._rate = random.Random(seed), rate

    def _chaos_pick(self, method):
        with self._lock:
            if not self._rng or self._rng.random() >= self._rate:
                return None
            return self._rng.choice(self.FAULT_KINDS)

    def actions(self):
        return [a for _, _, a in self.log]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
