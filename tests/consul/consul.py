#!/usr/bin/env python3
"""Stand-in Consul (KV and transactions) for paasctl's consul-sync tests.

No real Consul can be installed here, so this serves the part of Consul's
HTTP API that consul-sync and python3-consul use, with Consul's semantics
and answers (checked against python3-consul by tests/e2e/test_consul_standin.py):

  GET    /v1/kv/KEY[?recurse][&keys][&index=N&wait=D]   entries as JSON, values base64;
         404 (no body) when nothing matches; X-Consul-Index always; with index=N a
         blocking query: answers once the prefix's index passes N, or after wait
         (default 5m, at most 10m) plus up to wait/16 of jitter
  PUT    /v1/kv/KEY[?cas=N][&flags=F]   body = raw value -> true|false
  DELETE /v1/kv/KEY[?recurse][&cas=N]   -> true|false
  PUT    /v1/txn    KV verbs set, cas, get, get-tree, delete, delete-cas, delete-tree,
         check-index, check-not-exists; at most 64 operations (else 413); atomic: one
         raft index for every write, or 409 {"Results":null,"Errors":[{"OpIndex","What"}]}
         with nothing applied; 200 {"Results":[{"KV":{...}}],"Errors":null}, Value null
         except for get verbs.

The index is one raft-like counter: every write (a PUT, a DELETE that removed
something, a committed transaction) takes the next one. A prefix's index is the
highest ModifyIndex under it, or of a deletion under it (tombstones), else the
store's index, as Consul computes it.

ACLs (--acl-token T): every API request needs X-Consul-Token (or ?token=) equal
to T; none gives 403 "Permission denied", another gives 403 "ACL not found".

Faults: --latency-ms N delays every API request; --fail-rate R answers that
fraction of API requests 500 "injected fault" before doing anything.
--tls-cert/--tls-key serve HTTPS.

Test control (never delayed, failed or ACL-checked):
  GET  /_standin/stats      {"requests":N,"writes":N,"txn":N,"txnOps":N,"faults":N,"index":N,
                            "keys":N,"byPath":{...}}
  DELETE /_standin/stats    reset the counters
  POST /_standin/faults     {"failRate":R,"latencyMs":N}
  POST /_standin/snapshot   remember the whole store (as `consul snapshot save`)
  POST /_standin/restore    put it back (so a prefix's index goes backwards; the raft
                            index goes on, as in Consul), waking every blocking query
  POST /_standin/interpose  {"key":K,"value":BASE64,"flags":F}: just before the next
                            transaction is applied, another client writes K (a race
                            made deterministic, for conflict tests)

Values are never logged.
"""
import argparse
import base64
import json
import os
import random
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_TXN_OPS = 64
MAX_TXN_BODY = 512 * 1024      # txn_max_req_len
MAX_VALUE = 512 * 1024         # kv_max_value_size


class Store:
    def __init__(self, start_index=1):
        self.kv = {}              # key -> dict(CreateIndex, ModifyIndex, LockIndex, Flags, Value: bytes)
        self.tomb = {}            # key -> deletion index
        self.index = start_index
        self.cond = threading.Condition()
        self.generation = 0       # bumped by restore: wakes blockers
        self.saved = None

    # every method below runs with self.cond held
    def prefix_index(self, prefix, recurse):
        idx = 0
        if recurse:
            for k, e in self.kv.items():
                if k.startswith(prefix):
                    idx = max(idx, e["ModifyIndex"])
            for k, i in self.tomb.items():
                if k.startswith(prefix):
                    idx = max(idx, i)
        else:
            e = self.kv.get(prefix)
            idx = e["ModifyIndex"] if e else self.tomb.get(prefix, 0)
        return idx or self.index

    def entries(self, prefix, recurse):
        if recurse:
            return [(k, self.kv[k]) for k in sorted(self.kv) if k.startswith(prefix)]
        return [(prefix, self.kv[prefix])] if prefix in self.kv else []

    def write(self, key, value, flags, idx):
        old = self.kv.get(key)
        self.kv[key] = {"CreateIndex": old["CreateIndex"] if old else idx, "ModifyIndex": idx,
                        "LockIndex": 0, "Flags": flags, "Value": value}
        self.tomb.pop(key, None)

    def delete(self, key, idx):
        if key in self.kv:
            del self.kv[key]
            self.tomb[key] = idx
            return True
        return False

    def commit(self):
        self.index += 1
        self.cond.notify_all()
        return self.index


def entry_json(key, e, with_value=True):
    v = e["Value"]
    return {"LockIndex": e["LockIndex"], "Key": key, "Flags": e["Flags"],
            "Value": base64.b64encode(v).decode() if (with_value and v) else None,
            "CreateIndex": e["CreateIndex"], "ModifyIndex": e["ModifyIndex"]}


def parse_wait(s):
    if not s:
        return 300.0
    mult = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suf in ("ms", "s", "m", "h"):
        if s.endswith(suf):
            try:
                return min(float(s[:-len(suf)]) * mult[suf], 600.0)
            except ValueError:
                break
    raise ValueError(f"Invalid wait time: {s}")


class TxnFailed(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Consul-standin"

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("%s %s\n" % (self.command, self.path.split("?")[0]))

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # -- plumbing ------------------------------------------------------------------
    def reply(self, code, body=b"", ctype="application/json", index=None):
        if isinstance(body, (dict, list, bool)) or body is None and ctype == "application/json":
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        if body or ctype != "application/json":
            self.send_header("Content-Type", ctype)
        if index is not None:
            self.send_header("X-Consul-Index", str(index))
            self.send_header("X-Consul-KnownLeader", "true")
            self.send_header("X-Consul-LastContact", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def text(self, code, msg):
        self.reply(code, msg, "text/plain; charset=utf-8")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        srv = self.server
        path = url.path
        if path.startswith("/_standin/"):
            return self.control(method, path, body)
        with srv.stats_lock:
            srv.stats["requests"] += 1
            key = f"{method} {path.split('/')[2] if path.count('/') >= 2 else path}"
            srv.stats["byPath"][key] = srv.stats["byPath"].get(key, 0) + 1
        if srv.opts.latency_ms:
            time.sleep(srv.opts.latency_ms / 1000.0)
        if srv.opts.fail_rate and srv.rng.random() < srv.opts.fail_rate:
            with srv.stats_lock:
                srv.stats["faults"] += 1
            return self.text(500, "injected fault (--fail-rate)")
        if srv.opts.acl_token:
            tok = self.headers.get("X-Consul-Token") or q.get("token", "")
            if not tok:
                return self.text(403, "Permission denied")
            if tok != srv.opts.acl_token:
                return self.text(403, "ACL not found")
        if path.startswith("/v1/kv/") or path == "/v1/kv":
            key = urllib.parse.unquote(path[len("/v1/kv/"):])
            if method == "GET":
                return self.kv_get(key, q)
            if method == "PUT":
                return self.kv_put(key, q, body)
            if method == "DELETE":
                return self.kv_delete(key, q)
            return self.text(405, "Method Not Allowed")
        if path == "/v1/txn":
            if method != "PUT":
                return self.text(405, "Method Not Allowed")
            return self.txn(body)
        if path == "/v1/status/leader":
            return self.reply(200, json.dumps("127.0.0.1:8300"))
        return self.text(404, "404 page not found")

    def count_write(self, ops=0):
        with self.server.stats_lock:
            self.server.stats["writes"] += 1
            if ops:
                self.server.stats["txn"] += 1
                self.server.stats["txnOps"] += ops

    # -- KV --------------------------------------------------------------------------
    def kv_get(self, key, q):
        st = self.server.store
        recurse = "recurse" in q
        try:
            wait = parse_wait(q.get("wait"))
            index = int(q["index"]) if q.get("index") else 0
        except ValueError as e:
            return self.text(400, str(e))
        with st.cond:
            if index:
                deadline = time.monotonic() + wait + random.uniform(0, wait / 16)
                gen = st.generation
                while st.prefix_index(key, recurse) <= index and gen == st.generation \
                        and not self.server.stopping:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    st.cond.wait(min(left, 1.0))
            idx = st.prefix_index(key, recurse)
            ents = st.entries(key, recurse)
            if "keys" in q:
                sep = q.get("separator", "")
                keys = []
                for k, _ in ents:
                    if sep:
                        cut = k.find(sep, len(key))
                        k = k[:cut + len(sep)] if cut >= 0 else k
                    if k not in keys:
                        keys.append(k)
                doc = keys
            else:
                doc = [entry_json(k, e) for k, e in ents]
        if not ents:
            return self.reply(404, b"", "application/json", index=idx)
        return self.reply(200, doc, index=idx)

    def kv_put(self, key, q, body):
        if not key:
            return self.text(400, "Missing key name")
        if len(body) > MAX_VALUE:
            return self.text(413, f"Value exceeds {MAX_VALUE} byte limit")
        try:
            flags = int(q.get("flags") or 0)
            cas = int(q["cas"]) if "cas" in q else None
        except ValueError:
            return self.text(400, "Invalid flags or cas")
        st = self.server.store
        with st.cond:
            cur = st.kv.get(key)
            if cas is not None and ((cas == 0 and cur) or (cas and (not cur or cur["ModifyIndex"] != cas))):
                ok = False
            else:
                idx = st.index + 1
                st.write(key, body, flags, idx)
                st.commit()
                ok = True
        if ok:
            self.count_write()
        return self.reply(200, ok, index=None)

    def kv_delete(self, key, q):
        st = self.server.store
        try:
            cas = int(q["cas"]) if "cas" in q else None
        except ValueError:
            return self.text(400, "Invalid cas")
        with st.cond:
            cur = st.kv.get(key)
            if cas is not None and (not cur or cur["ModifyIndex"] != cas):
                return self.reply(200, False)
            idx = st.index + 1
            keys = [k for k in st.kv if k.startswith(key)] if "recurse" in q else [key]
            hit = [k for k in keys if st.delete(k, idx)]
            if hit:
                st.commit()
        if hit:
            self.count_write()
        return self.reply(200, True)

    # -- transactions ------------------------------------------------------------------
    def txn(self, body):
        if len(body) > MAX_TXN_BODY:
            return self.text(413, f"Request body too large, max size: {MAX_TXN_BODY} bytes")
        try:
            ops = json.loads(body.decode() or "null")
        except ValueError as e:
            return self.text(400, f"Failed to parse body: {e}")
        if not isinstance(ops, list):
            return self.text(400, "Failed to parse body: not a list of operations")
        if len(ops) > MAX_TXN_OPS:
            return self.text(413, f"Transaction contains too many operations ({len(ops)} > {MAX_TXN_OPS})")
        st = self.server.store
        with st.cond:
            if self.server.interpose:
                w, self.server.interpose = self.server.interpose, None
                st.write(w["key"], base64.b64decode(w.get("value") or ""), int(w.get("flags") or 0),
                         st.index + 1)
                st.commit()
            idx = st.index + 1
            results, errors, staged, gone = [], [], {}, set()

            def current(k):
                if k in gone:
                    return None
                return staged.get(k, st.kv.get(k))

            for i, op in enumerate(ops):
                kv = op.get("KV") if isinstance(op, dict) else None
                try:
                    if not isinstance(kv, dict):
                        raise TxnFailed("unknown operation (only KV operations are served)")
                    results.extend(self.txn_op(kv, current, staged, gone, idx))
                except TxnFailed as e:
                    errors.append({"OpIndex": i, "What": str(e)})
            if errors:
                return self.reply(409, {"Results": None, "Errors": errors})
            writes = bool(staged or gone)
            for k in gone:
                st.delete(k, idx)
            for k, e in staged.items():
                st.write(k, e["Value"], e["Flags"], idx)
            if writes:
                st.commit()
        if writes:
            self.count_write(len(ops))
        return self.reply(200, {"Results": results, "Errors": None}, index=idx if writes else None)

    def txn_op(self, kv, current, staged, gone, idx):
        verb, key = kv.get("Verb", ""), kv.get("Key", "")
        index = int(kv.get("Index") or 0)
        cur = current(key)
        if verb in ("set", "cas"):
            if not key:
                raise TxnFailed("Missing key name")
            try:
                value = base64.b64decode(kv.get("Value") or "", validate=True)
            except ValueError:
                raise TxnFailed(f"failed to decode value of key {key!r}")
            if len(value) > MAX_VALUE:
                raise TxnFailed(f"Value for key {key!r} exceeds {MAX_VALUE} byte limit")
            if verb == "cas" and ((index == 0 and cur) or (index and (not cur or cur["ModifyIndex"] != index))):
                raise TxnFailed(f'failed to set key "{key}", index is stale')
            entry = {"CreateIndex": cur["CreateIndex"] if cur else idx, "ModifyIndex": idx,
                     "LockIndex": 0, "Flags": int(kv.get("Flags") or 0), "Value": value}
            staged[key] = entry
            gone.discard(key)
            return [{"KV": entry_json(key, entry, with_value=False)}]
        if verb in ("delete", "delete-cas", "delete-tree"):
            if verb == "delete-cas" and (not cur or cur["ModifyIndex"] != index):
                raise TxnFailed(f'failed to delete key "{key}", index is stale')
            keys = [key]
            if verb == "delete-tree":
                keys = [k for k in set(self.server.store.kv) | set(staged) if k.startswith(key)]
            for k in keys:
                if current(k):
                    staged.pop(k, None)
                    gone.add(k)
            return []
        if verb == "get":
            if not cur:
                raise TxnFailed(f'key "{key}" doesn\'t exist')
            return [{"KV": entry_json(key, cur)}]
        if verb == "get-tree":
            keys = sorted(k for k in set(self.server.store.kv) | set(staged) if k.startswith(key))
            return [{"KV": entry_json(k, current(k))} for k in keys if current(k)]
        if verb == "check-index":
            if not cur or cur["ModifyIndex"] != index:
                raise TxnFailed(f'current modify index {cur["ModifyIndex"] if cur else 0} != {index}')
            return [{"KV": entry_json(key, cur, with_value=False)}]
        if verb == "check-not-exists":
            if cur:
                raise TxnFailed(f'key "{key}" exists')
            return []
        raise TxnFailed(f'unknown KV verb "{verb}"')

    # -- test control ------------------------------------------------------------------
    def control(self, method, path, body):
        srv, st = self.server, self.server.store
        data = json.loads(body.decode() or "{}") if body else {}
        if path == "/_standin/stats":
            with srv.stats_lock:
                if method == "DELETE":
                    srv.reset_stats()
                doc = dict(srv.stats)
            with st.cond:
                doc["index"] = st.index
                doc["keys"] = len(st.kv)
            return self.reply(200, doc)
        if path == "/_standin/faults" and method == "POST":
            if "failRate" in data:
                srv.opts.fail_rate = float(data["failRate"])
            if "latencyMs" in data:
                srv.opts.latency_ms = int(data["latencyMs"])
            return self.reply(200, {"failRate": srv.opts.fail_rate, "latencyMs": srv.opts.latency_ms})
        if path == "/_standin/interpose" and method == "POST":
            srv.interpose = data
            return self.reply(200, {"armed": True})
        if path == "/_standin/snapshot" and method == "POST":
            with st.cond:
                st.saved = ({k: dict(v) for k, v in st.kv.items()}, dict(st.tomb), st.index)
                return self.reply(200, {"index": st.index})
        if path == "/_standin/restore" and method == "POST":
            with st.cond:
                if not st.saved:
                    return self.text(400, "no snapshot")
                # The KV table goes back to the snapshot's indexes; the raft
                # index goes on (a restore is itself a raft operation).
                kv, tomb, _ = st.saved
                st.kv = {k: dict(v) for k, v in kv.items()}
                st.tomb = dict(tomb)
                st.index += 1
                st.generation += 1
                st.cond.notify_all()
                return self.reply(200, {"index": st.index})
        return self.text(404, "404 page not found")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, opts, tls):
        self.opts = opts
        self.tls = tls
        self.stopping = False
        self.interpose = None
        self.store = Store(opts.start_index)
        self.rng = random.Random(opts.seed)
        self.stats_lock = threading.Lock()
        self.reset_stats()
        super().__init__(addr, Handler)

    def reset_stats(self):
        self.stats = {"requests": 0, "writes": 0, "txn": 0, "txnOps": 0, "faults": 0, "byPath": {}}

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--port-file")
    p.add_argument("--acl-token", default="", help="require this X-Consul-Token")
    p.add_argument("--acl-token-file", default="", help="read the required token from this file")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--start-index", type=int, default=1)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--verbose", action="store_true")
    opts = p.parse_args(argv)
    if opts.acl_token_file:
        with open(opts.acl_token_file) as f:
            opts.acl_token = f.read().strip()
    host, _, port = opts.listen.rpartition(":")
    tls = None
    if opts.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(opts.tls_cert, opts.tls_key)
    srv = Server((host or "127.0.0.1", int(port or 0)), opts, tls)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    real = srv.server_address[1]
    if opts.port_file:
        with open(opts.port_file + ".tmp", "w") as f:
            f.write(f"{real}\n")
        os.replace(opts.port_file + ".tmp", opts.port_file)
    print(f"stand-in consul listening on {'https' if tls else 'http'}://{host}:{real}",
          file=sys.stderr, flush=True)
    stop.wait()
    srv.stopping = True
    with srv.store.cond:
        srv.store.cond.notify_all()
    srv.shutdown()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
