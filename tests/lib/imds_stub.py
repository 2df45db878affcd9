#!/usr/bin/env python3
"""A tiny EC2 instance metadata service (IMDSv2 only) for
tests/unit/test_creds.c.

Serves PUT /latest/api/token and the iam/security-credentials paths with fixed
fake credentials on 127.0.0.1, port chosen by the kernel and written to
--port-file. Like the real service, a GET without a valid token is refused
with 401 and a token PUT without the TTL header with 400, so a client that
skips the token step cannot pass. Exits on SIGTERM.

--creds-file FILE: serve the credentials in FILE (a JSON list of
{"AccessKeyId", "SecretAccessKey", "Token"}) instead, the next one on each
fetch and the last one for good: credentials that rotate, as the real
service's do before they expire.
"""
import argparse
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "stub-imds-token-AQAEAExampleToken=="
ROLE = "paasctl-stub-role"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"
CREDENTIALS = {
    "Code": "Success",
    "LastUpdated": "2024-01-01T00:00:00Z",
    "Type": "AWS-HMAC",
    "AccessKeyId": "ASIASTUBIMDSACCESSKEY",
    "SecretAccessKey": "stub/imds/secret+key",
    "Token": "stub-imds-session-token",
    "Expiration": "2099-01-01T00:00:00Z",
}


ROTATION = []   # from --creds-file: served in order, the last one kept


def next_credentials():
    if not ROTATION:
        return CREDENTIALS
    c = dict(CREDENTIALS, **(ROTATION.pop(0) if len(ROTATION) > 1 else ROTATION[0]))
    return c


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=""):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self.reply(404)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "missing or invalid TTL header")
        self.reply(200, TOKEN)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401)
        if self.path == CREDS_PATH:
            return self.reply(200, ROLE)
        if self.path == CREDS_PATH + ROLE:
            return self.reply(200, json.dumps(next_credentials()))
        self.reply(404)

    def log_message(self, fmt, *args):
        sys.stderr.write("imds_stub: " + (fmt % args) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--creds-file")
    args = ap.parse_args()
    if args.creds_file:
        with open(args.creds_file) as f:
            ROTATION.extend(json.load(f))
    # Threads, so a client keeping its connection alive blocks no other.
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Written then renamed so the waiting test never reads half a number.
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
