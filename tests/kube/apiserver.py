#!/usr/bin/env python3
"""Stand-in Kubernetes API server (v1.32) for paasctl's tests.

No real kube-apiserver can be installed here, so this serves the Kubernetes
REST API well enough for a real kubectl and for paasctl: HTTPS with mutual
TLS (or a bearer token), discovery (legacy and aggregated) and OpenAPI v3
from the upstream documents in shared/testdata/k8s, etcd-like storage with
resourceVersions, paging, watches and compaction, strategic/merge/JSON
patches, server-side defaulting and validation, server-side Table printing,
and the controllers whose effects clients look at (see standin/).

Usage:
  python3 tests/kube/apiserver.py --listen 127.0.0.1:0 --state-dir DIR --context NAME
         [--latency-ms N] [--fail-rate R] [--seed N] [--port-file FILE]
         [--control-plane-node NAME] [--persist] [--verbose]
         [--ca-cert CRT --ca-key KEY [--server-name NAME]...]
         [--fail-modes 500,503,429,reset] [--establish-delay-ms N]
         [--oidc-issuer-url URL --oidc-jwks FILE --oidc-client-id ID
          [--oidc-username-claim C] [--oidc-username-prefix P]
          [--oidc-groups-claim C] [--oidc-groups-prefix P]]

On start it writes into DIR: ca.crt, client.crt, client.key (CN paasctl-admin,
O system:masters), token, server.crt/key and kubeconfig (context NAME, data
inline).  Requests must carry the client certificate or
`Authorization: Bearer <DIR/token>`, or with --oidc-issuer-url an OIDC ID
token (a JWT) as kube-apiserver's flags of the same names accept it
(standin/oidc.py); anything else gets 401.  With --persist
the objects are saved to DIR/state.json (after writes, at most every 0.5 s,
and on exit) and loaded again on start.  SIGTERM/SIGINT exit cleanly.

Test control API (same port, same authentication, JSON bodies; never
subject to --fail-rate or --latency-ms):
  GET    /_standin/health                      {"ok":true,"resourceVersion":N}
  POST   /_standin/nodes                       join a node as its kubelet would:
         {"name":"ip-10-0-16-5.ec2.internal","providerID":"aws:///us-east-1a/i-0123",
          "ready":true,"labels":{},"taints":[],"internalIP":"10.0.16.5","instanceType":"m5.xlarge",
          "zone":"us-east-1a"}                 -> 201 Node
  DELETE /_standin/nodes/NAME                  remove a node (its pods, lease go with it)
  POST   /_standin/nodes/NAME/ready            {"ready":true|false|null}  (null = Unknown)
  POST   /_standin/deployments/NS/NAME/available  {"available":N}  only the first N pods (by
                                               name) become Ready; {"available":null} clears
  POST   /_standin/pods/NS/NAME/phase          {"phase":"Failed"} | {"waiting":"CrashLoopBackOff"}
                                               | {"ready":false} | {} (clear) — as the kubelet reports
  POST   /_standin/compact                     forget history: older continue tokens and watch
                                               resourceVersions answer 410 Expired
  POST   /_standin/settle                      wait until controllers are idle {"settled":true}
  GET    /_standin/requests                    counts by verb / "METHOD path" / code + recent list
  DELETE /_standin/requests                    reset the counts
  POST   /_standin/faults                      {"failRate":R,"latencyMs":N} change at run time
  POST   /_standin/save                        write DIR/state.json now (with --persist)
Health can equally be changed the way a kubelet or controller would, e.g.
`kubectl patch node X --subresource=status ...`; controllers react to spec
and membership changes, not to bare status writes, so such a patch sticks.
"""
import argparse
import os
import random
import signal
import socket
import ssl
import sys
import threading
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from standin import certs, oidc  # noqa: E402
from standin.api import API  # noqa: E402
from standin.bootstrap import bootstrap  # noqa: E402
from standin.controllers import Controllers  # noqa: E402
from standin.http import Handler, Stats  # noqa: E402
from standin.resources import Registry  # noqa: E402
from standin.store import Store  # noqa: E402


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, ssl_ctx, **kw):
        self.ssl_ctx = ssl_ctx
        self.stopping = False
        for k, v in kw.items():
            setattr(self, k, v)
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.address_family = family
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # the TLS handshake happens lazily in the connection's own thread,
        # so one slow client can't stall accept()
        return self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        # clients hanging up mid-handshake or mid-stream are normal
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


def add_ca_args(p):
    """Serve with a given CA instead of the throw-away one (see
    certs.serve_with_ca): a paasctl slot's cluster CA."""
    p.add_argument("--ca-cert", help="CA certificate (PEM) that signs the serving cert and "
                   "is the only one client certificates are checked against")
    p.add_argument("--ca-key", help="that CA's key (PEM)")
    p.add_argument("--server-name", action="append",
                   help="extra DNS name of the serving cert (repeatable)")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0 = pick a free one)")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--context", default="standin")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None, help="seed for --fail-rate choices")
    p.add_argument("--port-file")
    p.add_argument("--control-plane-node", default="ip-10-0-0-10.ec2.internal",
                   help="name of the control-plane node made at bootstrap ('' for none)")
    p.add_argument("--persist", action="store_true", help="keep objects in STATE_DIR/state.json")
    p.add_argument("--verbose", action="store_true")
    add_ca_args(p)
    oidc.add_args(p)
    # migration tests (SPEC.md "Migration"): resets among the faults, slow CRDs
    p.add_argument("--fail-modes", default="500,503,429",
                   help="comma list of what --fail-rate injects: 500, 503, 429, reset (TCP RST)")
    p.add_argument("--establish-delay-ms", type=int, default=0,
                   help="a new CRD becomes Established (and served) only after this delay")
    opts = p.parse_args(argv)
    opts.fail_modes = [m.strip() for m in opts.fail_modes.split(",") if m.strip()]
    return opts


def main(argv=None):
    opts = parse_args(argv if argv is not None else sys.argv[1:])
    host, _, port = opts.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    state_dir = os.path.abspath(opts.state_dir)
    pki = certs.make_pki(state_dir)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    server_crt, server_key, client_ca = certs.serving(pki, opts)
    ctx.load_cert_chain(server_crt, server_key)
    ctx.load_verify_locations(client_ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL      # a bearer token is the alternative
    ctx.set_alpn_protocols(["http/1.1"])

    reg = Registry()
    store = Store(os.path.join(state_dir, "state.json") if opts.persist else None)
    restored = store.load()
    api = API(reg, store)
    api.ca_path = pki.ca_crt
    if restored:
        for crd in store.items(("apiextensions.k8s.io", "customresourcedefinitions")):
            reg.register_crd(crd)

    server = StandinServer((host, int(port or 0)), ctx, opts=opts, reg=reg, store=store, api=api,
                           stats=Stats(), token=pki.token, rng=random.Random(opts.seed),
                           oidc=oidc.from_opts(opts))
    real_port = server.server_address[1]
    ctl = Controllers(api, reg, host, real_port)
    server.ctl = ctl
    ctl.establish_delay = opts.establish_delay_ms / 1000.0
    ctl.start()
    if not restored:
        bootstrap(api, ctl, host if host not in ("0.0.0.0", "::") else "127.0.0.1", real_port,
                  opts.control_plane_node)
    url_host = f"[{host}]" if ":" in host else host
    certs.write_kubeconfig(pki, f"https://{url_host}:{real_port}", opts.context)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{real_port}\n")
        os.replace(tmp, opts.port_file)
    print(f"stand-in kube-apiserver listening on https://{url_host}:{real_port} "
          f"(kubeconfig {pki.kubeconfig})", file=sys.stderr, flush=True)

    while not stop.wait(0.5):
        if opts.persist:
            store.save()
    server.stopping = True
    with store.lock:
        store.cond.notify_all()
    server.shutdown()
    server.server_close()
    ctl.stop()
    store.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
