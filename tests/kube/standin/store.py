"""Object storage with etcd-like semantics: one global resourceVersion
counter, per-(group, resource) keyspaces, an event log for watches, list
snapshots for limit/continue paging, and compaction (which is what makes old
continue tokens and old watch resourceVersions answer 410 Gone).

Everything is guarded by one lock; watchers wait on a Condition of it.
Objects are stored as plain dicts at the resource's storage version; the
HTTP layer rewrites apiVersion for the version a client asked for.
"""
import base64
import collections
import copy
import json
import os
import re
import threading

from .errors import ApiError

EVENT_LOG_MAX = 20000      # like etcd's history until compaction; older watches get 410
SNAPSHOTS_MAX = 64


# -- selectors -----------------------------------------------------------------

_LABEL_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_LABEL_VAL = r"[A-Za-z0-9_.\-]*"


def _split_top(s):
    """Split on commas not inside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def parse_label_selector(sel):
    """Return a list of (key, op, values) requirements; ApiError 400 if malformed."""
    reqs = []
    if not sel:
        return reqs
    for term in _split_top(sel):
        m = re.fullmatch(rf"({_LABEL_KEY})\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.fullmatch(rf"!\s*({_LABEL_KEY})", term)
        if m:
            reqs.append((m.group(1), "!", []))
            continue
        m = re.fullmatch(rf"({_LABEL_KEY})\s*(==|!=|=)\s*({_LABEL_VAL})", term)
        if m:
            op = {"=": "=", "==": "=", "!=": "!="}[m.group(2)]
            reqs.append((m.group(1), op, [m.group(3)]))
            continue
        m = re.fullmatch(rf"({_LABEL_KEY})", term)
        if m:
            reqs.append((m.group(1), "exists", []))
            continue
        raise ApiError.bad_request(f"unable to parse requirement: found '{term}', expected: in, notin, =, ==, !=, gt, lt")
    return reqs


def label_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
    return True


# Field selectors a real apiserver accepts, per resource (metadata.* always).
FIELD_SELECTABLE = {
    ("", "pods"): {"spec.nodeName": ("spec", "nodeName"), "spec.restartPolicy": ("spec", "restartPolicy"),
                   "spec.schedulerName": ("spec", "schedulerName"),
                   "spec.serviceAccountName": ("spec", "serviceAccountName"),
                   "spec.hostNetwork": ("spec", "hostNetwork"),
                   "status.phase": ("status", "phase"), "status.podIP": ("status", "podIP"),
                   "status.nominatedNodeName": ("status", "nominatedNodeName")},
    ("", "nodes"): {"spec.unschedulable": ("spec", "unschedulable")},
    ("", "secrets"): {"type": ("type",)},
    ("", "namespaces"): {"status.phase": ("status", "phase")},
    ("", "events"): {"involvedObject.kind": ("involvedObject", "kind"),
                     "involvedObject.namespace": ("involvedObject", "namespace"),
                     "involvedObject.name": ("involvedObject", "name"),
                     "involvedObject.uid": ("involvedObject", "uid"),
                     "involvedObject.apiVersion": ("involvedObject", "apiVersion"),
                     "involvedObject.resourceVersion": ("involvedObject", "resourceVersion"),
                     "involvedObject.fieldPath": ("involvedObject", "fieldPath"),
                     "reason": ("reason",), "reportingComponent": ("reportingComponent",),
                     "source": ("source", "component"), "type": ("type",)},
    ("apps", "replicasets"): {"status.replicas": ("status", "replicas")},
    ("batch", "jobs"): {"status.successful": ("status", "succeeded")},
    ("certificates.k8s.io", "certificatesigningrequests"): {"spec.signerName": ("spec", "signerName")},
}


def parse_field_selector(sel, key):
    reqs = []
    if not sel:
        return reqs
    allowed = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")}
    allowed.update(FIELD_SELECTABLE.get(key, {}))
    for term in _split_top(sel):
        m = re.fullmatch(r"([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)", term)
        if not m:
            raise ApiError.bad_request(f"invalid selector: '{sel}'; can't understand '{term}'")
        field, op, val = m.group(1), m.group(2), m.group(3)
        if field not in allowed:
            raise ApiError.bad_request(f'field label not supported: {field}')
        reqs.append((allowed[field], op != "!=", val))
    return reqs


def field_match(reqs, obj):
    for path, eq, val in reqs:
        cur = obj
        for p in path:
            cur = cur.get(p) if isinstance(cur, dict) else None
        if isinstance(cur, bool):
            cur = "true" if cur else "false"
        cur = "" if cur is None else str(cur)
        if (cur == val) != eq:
            return False
    return True


# -- continue tokens ---------------------------------------------------------------

def encode_continue(rv, start_key):
    # same shape as apiserver's token: base64(json{"v","rv","start"})
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start_key + "\x00"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token):
    try:
        pad = "=" * (-len(token) % 4)
        d = json.loads(base64.urlsafe_b64decode(token + pad))
        if d.get("v") != "meta.k8s.io/v1":
            raise ValueError("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        return int(d["rv"]), d["start"].rstrip("\x00")
    except ValueError as e:
        raise ApiError.bad_request(f"invalid continue token: {e}")
    except Exception:
        raise ApiError.bad_request("invalid continue token: continue key is not valid: illegal base64 data")


EXPIRED_CONTINUE = ("The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter, or use the continue token "
                    "in this response to retrieve the remainder of the results. Continuing with the provided "
                    "token results in an inconsistent list - objects that were created, modified, or deleted "
                    "between the time the first chunk was returned and now may show up in the list.")


def obj_key(obj):
    m = obj.get("metadata", {})
    ns = m.get("namespace", "")
    return f"{ns}/{m.get('name', '')}" if ns else m.get("name", "")


class Event:
    __slots__ = ("rv", "key", "type", "obj", "prev")

    def __init__(self, rv, key, typ, obj, prev):
        self.rv, self.key, self.type, self.obj, self.prev = rv, key, typ, obj, prev


class Store:
    def __init__(self, persist_path=None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.data = collections.defaultdict(dict)   # (group, resource) -> {ns/name: obj}
        self.events = collections.deque()
        self.compacted = 0          # resourceVersions <= this are gone
        self.snapshots = collections.OrderedDict()
        self.persist_path = persist_path
        self.closed = False
        self._dirty = False
        self.listeners = []         # callables(event_type, key(group,resource), obj, prev) for controllers
        self.subscribers = collections.defaultdict(list)   # key -> [queue.Queue] of live watches

    # -- basic access ------------------------------------------------------------
    def next_rv(self):
        self.rv += 1
        return self.rv

    def get(self, key, ns, name):
        with self.lock:
            o = self.data[key].get(f"{ns}/{name}" if ns else name)
            return copy.deepcopy(o) if o is not None else None

    def peek(self, key, ns, name):
        """Like get but without a copy: callers must not mutate the result."""
        o = self.data[key].get(f"{ns}/{name}" if ns else name)
        return o

    def items(self, key, ns=None):
        """Live references in key order (for controllers holding the lock)."""
        with self.lock:
            d = self.data[key]
            return [d[k] for k in sorted(d) if ns is None or d[k]["metadata"].get("namespace") == ns]

    def _record(self, key, typ, obj, prev):
        self.events.append(Event(self.rv, key, typ, obj, prev))
        while len(self.events) > EVENT_LOG_MAX:
            e = self.events.popleft()
            self.compacted = max(self.compacted, e.rv)
        self._dirty = True
        for fn in self.listeners:
            fn(typ, key, obj, prev)
        for q in self.subscribers.get(key, ()):
            q.put(self.events[-1])
        self.cond.notify_all()

    def put(self, key, obj, typ):
        """Store obj (already validated), stamping a fresh resourceVersion.
        typ is ADDED or MODIFIED. Returns a copy of what was stored."""
        with self.lock:
            k = obj_key(obj)
            prev = self.data[key].get(k)
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.next_rv())
            self.data[key][k] = obj
            self._record(key, typ, obj, prev)
            return copy.deepcopy(obj)

    def remove(self, key, obj):
        with self.lock:
            k = obj_key(obj)
            prev = self.data[key].pop(k, None)
            if prev is None:
                return None
            gone = copy.deepcopy(prev)
            # a DELETED event carries the last state at a new resourceVersion
            gone["metadata"]["resourceVersion"] = str(self.next_rv())
            self._record(key, "DELETED", gone, prev)
            return copy.deepcopy(gone)

    # -- list with paging -------------------------------------------------------
    def list(self, key, ns=None, label_reqs=(), field_reqs=(), limit=0, cont=None, snapshot_id=""):
        """Returns (items, list_rv, continue_token, remaining_count)."""
        with self.lock:
            if cont:
                rv, start = decode_continue(cont)
                if rv <= self.compacted:
                    err = ApiError(410, "Expired", EXPIRED_CONTINUE)
                    err.status_metadata = {"continue": encode_continue(-1, start)}
                    raise err
                snap = self.snapshots.get((key, ns, snapshot_id, rv))
                if snap is None:
                    # no snapshot (restart, or evicted): the remainder is read at
                    # the current revision, as apiserver does for rv=-1 tokens
                    snap = self._select(key, ns, label_reqs, field_reqs)
                    if rv >= 0:
                        self.snapshots[(key, ns, snapshot_id, rv)] = snap
                keys = [obj_key(o) for o in snap]
                idx = _bisect_after(keys, start)
                items = snap[idx:]
                list_rv = rv if rv >= 0 else self.rv
            else:
                items = self._select(key, ns, label_reqs, field_reqs)
                list_rv = self.rv
                snap = items
            if limit and len(items) > limit:
                page = items[:limit]
                token = encode_continue(list_rv, obj_key(page[-1]))
                if not cont:
                    self.snapshots[(key, ns, snapshot_id, list_rv)] = snap
                    while len(self.snapshots) > SNAPSHOTS_MAX:
                        self.snapshots.popitem(last=False)
                remaining = len(items) - limit
                return [copy.deepcopy(o) for o in page], list_rv, token, remaining
            return [copy.deepcopy(o) for o in items], list_rv, "", 0

    def _select(self, key, ns, label_reqs, field_reqs):
        d = self.data[key]
        out = []
        for k in sorted(d):
            o = d[k]
            if ns is not None and o["metadata"].get("namespace") != ns:
                continue
            if label_reqs and not label_match(label_reqs, o["metadata"].get("labels")):
                continue
            if field_reqs and not field_match(field_reqs, o):
                continue
            out.append(o)
        return out

    def compact(self):
        """Forget history: continue tokens and watch resourceVersions from
        before now answer 410 Gone, like after an etcd compaction."""
        with self.lock:
            self.compacted = self.rv
            self.events.clear()
            self.snapshots.clear()
            self.cond.notify_all()
            return self.compacted

    # -- watch ---------------------------------------------------------------------
    def events_since(self, key, rv):
        """Events for key after rv; raises 410 if rv is before the retained history."""
        with self.lock:
            if rv < self.compacted:
                raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.compacted + 1})")
            return [e for e in self.events if e.rv > rv and e.key == key]

    def subscribe(self, key):
        """A queue receiving every later event of key (call with the lock held,
        right after reading the backlog, so nothing falls in between)."""
        import queue
        q = queue.Queue()
        self.subscribers[key].append(q)
        return q

    def unsubscribe(self, key, q):
        with self.lock:
            if q in self.subscribers.get(key, []):
                self.subscribers[key].remove(q)

    # -- persistence ----------------------------------------------------------------
    def save(self):
        if not self.persist_path:
            return
        with self.lock:
            if not self._dirty:
                return
            doc = {"rv": self.rv, "objects": [
                {"group": g, "resource": r, "object": o}
                for (g, r), objs in self.data.items() for o in objs.values()]}
            self._dirty = False
        tmp = self.persist_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.persist_path)

    def load(self):
        if not self.persist_path or not os.path.exists(self.persist_path):
            return False
        with open(self.persist_path) as f:
            doc = json.load(f)
        with self.lock:
            self.rv = int(doc["rv"])
            for e in doc["objects"]:
                self.data[(e["group"], e["resource"])][obj_key(e["object"])] = e["object"]
            # history did not survive the restart
            self.compacted = self.rv
        return True


def _bisect_after(keys, start):
    import bisect
    return bisect.bisect_right(keys, start)
