"""The stand-in Consul (tests/consul/consul.py) checked against an
independent client, Debian's python3-consul, and raw HTTP for what that
client does not cover (transactions): KV round trips of binary values and
flags, recursive listings, cas, blocking queries (returning on a change and
on the wait), deletions waking a blocking listing, ACL refusals, the
transaction's atomicity and Consul's error shapes, --fail-rate, index going
backwards after a restore, and the API server's service proxy in front."""

import base64
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import check, done  # noqa: E402
from consul_lib import ConsulStandin, KubeStandin, consul  # noqa: E402

work = tempfile.mkdtemp(prefix="paasctl-consul-standin-")
TOKEN = "acl-" + os.urandom(8).hex()
cs = ConsulStandin(work, "c1", token=TOKEN)
c = cs.client()


def raw(method, path, body=None, token=TOKEN, port=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port or cs.port}{path}", method=method,
                                 data=body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode())
    if token:
        req.add_header("X-Consul-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- KV round trips ---------------------------------------------------------------------
blob = bytes(range(256)) * 256          # 64 KiB, every byte value
check("put binary", c.kv.put("app/bin", blob, flags=42) is True)
idx, e = c.kv.get("app/bin")
check("get binary byte-identical", e and e["Value"] == blob and e["Flags"] == 42, repr(e)[:200])
check("index header", isinstance(idx, str) and int(idx) == e["ModifyIndex"], f"{idx} {e['ModifyIndex']}")
c.kv.put("app/a", b"1")
c.kv.put("app/empty", b"")
c.kv.put("other", b"x")
idx, items = c.kv.get("app/", recurse=True)
check("recurse lists the prefix, sorted", [i["Key"] for i in items] == ["app/a", "app/bin", "app/empty"],
      [i["Key"] for i in items])
check("empty value reads as None", [i["Value"] for i in items if i["Key"] == "app/empty"] == [None])
check("missing key", c.kv.get("nope") == (c.kv.get("nope")[0], None))
st, hdr, body = raw("GET", "/v1/kv/nope/?recurse")
check("missing prefix: 404 with an index", st == 404 and int(hdr["X-Consul-Index"]) > 0 and body == b"",
      f"{st} {dict(hdr)}")

# --- cas ----------------------------------------------------------------------------------
_, a = c.kv.get("app/a")
check("cas 0 on an existing key fails", c.kv.put("app/a", b"2", cas=0) is False)
check("cas with a stale index fails", c.kv.put("app/a", b"2", cas=a["ModifyIndex"] - 1) is False)
check("cas with the right index", c.kv.put("app/a", b"2", cas=a["ModifyIndex"]) is True)
check("delete-cas stale fails", c.kv.delete("app/a", cas=a["ModifyIndex"]) is False)

# --- blocking queries ---------------------------------------------------------------------
idx, _ = c.kv.get("app/", recurse=True)
t0 = time.time()
threading.Timer(0.5, lambda: consul.Consul(port=cs.port, token=TOKEN).kv.put("app/late", b"z")).start()
idx2, items = c.kv.get("app/", recurse=True, index=idx, wait="10s")
dt = time.time() - t0
check("blocking query returns on a change", 0.3 < dt < 5 and int(idx2) > int(idx)
      and "app/late" in [i["Key"] for i in items], f"{dt:.2f}s {idx}->{idx2}")
t0 = time.time()
idx3, _ = c.kv.get("app/", recurse=True, index=idx2, wait="1s")
dt = time.time() - t0
check("blocking query returns after wait (+ jitter) with the same index",
      1.0 <= dt < 2.5 and idx3 == idx2, f"{dt:.2f}s {idx2}->{idx3}")
threading.Timer(0.3, lambda: consul.Consul(port=cs.port, token=TOKEN).kv.delete("app/late")).start()
idx4, items = c.kv.get("app/", recurse=True, index=idx3, wait="10s")
check("a deletion wakes a blocking listing (tombstone index)",
      int(idx4) > int(idx3) and "app/late" not in [i["Key"] for i in items], f"{idx3}->{idx4}")
c.kv.put("unrelated", b"u")
t0 = time.time()
idx5, _ = c.kv.get("app/", recurse=True, index=idx4, wait="1s")
check("a write elsewhere does not wake the prefix", time.time() - t0 >= 1.0 and idx5 == idx4)

# --- ACLs -----------------------------------------------------------------------------------
for name, tok, want in (("no token", None, "Permission denied"), ("wrong token", "bad", "ACL not found")):
    try:
        consul.Consul(port=cs.port, token=tok).kv.get("app/a")
        check(f"ACL: {name} refused", False, "no exception")
    except consul.ACLPermissionDenied as ex:
        check(f"ACL: {name} refused", want in str(ex), str(ex))
st, _, body = raw("PUT", "/v1/txn", [], token="bad")
check("ACL: txn with a wrong token is 403", st == 403, st)

# --- transactions -----------------------------------------------------------------------------
_, cur = c.kv.get("app/a")
ops = [{"KV": {"Verb": "cas", "Key": "app/t1", "Value": base64.b64encode(b"one").decode(), "Index": 0, "Flags": 7}},
       {"KV": {"Verb": "cas", "Key": "app/a", "Value": base64.b64encode(b"3").decode(), "Index": cur["ModifyIndex"]}}]
st, _, body = raw("PUT", "/v1/txn", ops)
doc = json.loads(body)
check("txn commits: 200, Results with Value null, Errors null",
      st == 200 and doc["Errors"] is None and [r["KV"]["Key"] for r in doc["Results"]] == ["app/t1", "app/a"]
      and all(r["KV"]["Value"] is None for r in doc["Results"]), body[:300])
check("txn: one index for every write",
      len({r["KV"]["ModifyIndex"] for r in doc["Results"]}) == 1 and c.kv.get("app/t1")[1]["Flags"] == 7)
before = cs.dump()
ops = [{"KV": {"Verb": "cas", "Key": "app/t2", "Value": "", "Index": 0}},
       {"KV": {"Verb": "cas", "Key": "app/t1", "Value": "", "Index": 1}},
       {"KV": {"Verb": "delete-cas", "Key": "app/a", "Index": 1}}]
st, _, body = raw("PUT", "/v1/txn", ops)
doc = json.loads(body)
check("txn rolled back: 409, Results null, an error per failed op",
      st == 409 and doc["Results"] is None and [x["OpIndex"] for x in doc["Errors"]] == [1, 2]
      and "index is stale" in doc["Errors"][0]["What"], body[:300])
check("txn rolled back: nothing applied", cs.dump() == before)
st, _, body = raw("PUT", "/v1/txn", [{"KV": {"Verb": "get", "Key": "app/x%d" % i}} for i in range(65)])
check("txn of 65 operations: 413", st == 413 and b"too many operations" in body, f"{st} {body[:100]}")
st, _, body = raw("PUT", "/v1/txn", [{"KV": {"Verb": "check-not-exists", "Key": "app/t1"}}])
check("check-not-exists on an existing key fails", st == 409)

# --- restore: the index goes backwards ----------------------------------------------------------
snap = cs.control("POST", "snapshot")["index"]
c.kv.put("app/after", b"1")
idx, _ = c.kv.get("app/", recurse=True)
result = {}


def blocked():
    result["r"] = consul.Consul(port=cs.port, token=TOKEN).kv.get("app/", recurse=True, index=idx, wait="10s")


th = threading.Thread(target=blocked)
th.start()
time.sleep(0.3)
cs.control("POST", "restore")
th.join(15)
check("restore wakes blocking queries with a lower index",
      "r" in result and int(result["r"][0]) < int(idx) and int(result["r"][0]) <= snap,
      f"{idx} -> {result.get('r', [None])[0]}")

# --- --fail-rate ------------------------------------------------------------------------------------
cs.control("POST", "faults", {"failRate": 0.5})
codes = [raw("GET", "/v1/kv/app/t1")[0] for _ in range(200)]
cs.control("POST", "faults", {"failRate": 0})
check("--fail-rate 0.5 fails about half with 500", 60 < codes.count(500) < 140 and
      set(codes) <= {200, 500}, f"{codes.count(500)} of 200")

# --- through the stand-in API server's service proxy ------------------------------------------------
k = KubeStandin(work, "a", "consul/consul:8500", cs.url)
st, body = k.call("GET", "/api/v1/namespaces/consul/services/consul:8500/proxy/v1/kv/app/t1")
check("proxy passes Consul's own refusal through (no X-Consul-Token)",
      st == 403 and body == b"Permission denied", f"{st} {body!r}")
req_path = "/api/v1/namespaces/consul/services/consul:8500/proxy/v1/kv/app/?recurse"
import http.client  # noqa: E402
hc = http.client.HTTPSConnection("127.0.0.1", k.port, context=k.tls, timeout=30)
hc.request("GET", req_path, headers={"X-Consul-Token": TOKEN})
r = hc.getresponse()
data = r.read()
check("proxy forwards query, token and X-Consul-Index", r.status == 200 and r.getheader("X-Consul-Index")
      and "app/t1" in [i["Key"] for i in json.loads(data)], f"{r.status} {data[:200]}")
hc.request("GET", "/api/v1/namespaces/consul/services/nosuch:8500/proxy/v1/kv/x")
r = hc.getresponse()
doc = json.loads(r.read())
check("proxy to a missing service: 404 Status", r.status == 404 and doc.get("kind") == "Status", doc)
k.call("DELETE", "/_standin/service-proxy", {"namespace": "consul", "service": "consul", "port": "8500"})
hc.request("GET", "/api/v1/namespaces/consul/services/consul:8500/proxy/v1/kv/x")
r = hc.getresponse()
doc = json.loads(r.read())
check("proxy without endpoints: 503 no endpoints", r.status == 503 and "no endpoints" in doc.get("message", ""),
      doc)
done()
