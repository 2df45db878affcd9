"""Small helpers shared by the stand-in's modules."""
import datetime
import random
import uuid


def dig(obj, *path):
    cur = obj
    for p in path:
        if isinstance(cur, dict):
            cur = cur.get(p)
        elif isinstance(cur, list) and isinstance(p, int) and -len(cur) <= p < len(cur):
            cur = cur[p]
        else:
            return None
    return cur


def now():
    """RFC 3339 at second precision, as metav1.Time serialises."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid():
    return str(uuid.uuid4())


_ALNUM = "bcdfghjklmnpqrstvwxz2456789"   # apimachinery's utilrand alphabet


def rand_suffix(n=5):
    return "".join(random.choice(_ALNUM) for _ in range(n))


def pod_template_hash(template):
    """A stable 8-10 char hash like the deployment controller's (FNV of the template)."""
    import hashlib
    import json
    h = int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest(), 16)
    out = ""
    while len(out) < 10:
        out += _ALNUM[h % len(_ALNUM)]
        h //= len(_ALNUM)
    return out


def jsonpath_simple(obj, path):
    """Enough of JSONPath for CRD printer columns: .a.b, .a[0].b, .a['x.y']."""
    import re
    if not path:
        return None
    cur = obj
    for tok in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\['([^']+)'\]", path):
        name, idx, quoted = tok
        if name or quoted:
            cur = cur.get(name or quoted) if isinstance(cur, dict) else None
        else:
            i = int(idx)
            cur = cur[i] if isinstance(cur, list) and i < len(cur) else None
        if cur is None:
            return None
    return cur
