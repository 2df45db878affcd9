"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
Kubernetes strategic merge patch.

Strategic merge reads the patch strategy and merge key of every list from the
kind's OpenAPI v3 schema (x-kubernetes-patch-strategy /
x-kubernetes-patch-merge-key), as apimachinery's strategicpatch does with the
Go struct tags, and honours the directives kubectl sends: $patch
(replace/delete/merge), $retainKeys, $setElementOrder/<list> and
$deleteFromPrimitiveList/<list>.
"""
import copy
import json

from .errors import ApiError

_DELETE = object()


# -- RFC 7386 -----------------------------------------------------------------
def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# -- RFC 6902 -----------------------------------------------------------------
def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f'invalid JSON pointer "{path}"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict):
            if p not in cur:
                raise KeyError(p)
            cur = cur[p]
        else:
            raise KeyError(p)
    return cur


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise ApiError.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    for op in ops:
        try:
            kind = op["op"]
            parts = _ptr(op.get("path", ""))
            if kind in ("add", "replace", "test"):
                value = copy.deepcopy(op["value"])
            if kind in ("move", "copy"):
                from_parts = _ptr(op["from"])
                value = copy.deepcopy(_walk(doc, from_parts))
                if kind == "move":
                    doc = _remove(doc, from_parts)
                kind = "add"
            if kind == "test":
                if _walk(doc, parts) != value:
                    raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: testing value {op['path']} failed: test failed")
                continue
            if kind == "remove":
                doc = _remove(doc, parts)
                continue
            if not parts:
                doc = value
                continue
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, list):
                if kind == "replace":
                    parent[int(last)] = value
                elif last == "-":
                    parent.append(value)
                else:
                    i = int(last)
                    if i < 0 or i > len(parent):
                        raise IndexError(i)
                    parent.insert(i, value)
            elif isinstance(parent, dict):
                if kind == "replace" and last not in parent:
                    raise KeyError(last)
                parent[last] = value
            else:
                raise KeyError(last)
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as e:
            what = op.get("op") if isinstance(op, dict) else op
            raise ApiError(422, "Invalid",
                           f"the server rejected our request due to an error in our request: "
                           f"{what} operation does not apply: doc is missing path: \"{op.get('path') if isinstance(op, dict) else ''}\": {e}")
    return doc


def _remove(doc, parts):
    if not parts:
        raise KeyError("")
    parent = _walk(doc, parts[:-1])
    if isinstance(parent, list):
        del parent[int(parts[-1])]
    else:
        del parent[parts[-1]]
    return doc


# -- strategic merge -----------------------------------------------------------
class StrategicMerge:
    def __init__(self, resolver):
        self.r = resolver

    def _list_meta(self, schema):
        if not schema:
            return "", None
        strategy = schema.get("x-kubernetes-patch-strategy", "")
        return strategy, schema.get("x-kubernetes-patch-merge-key")

    def merge(self, original, patch, schema):
        if not isinstance(patch, dict):
            return copy.deepcopy(patch)
        if not isinstance(original, dict):
            original = {}
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return _DELETE
        out = copy.deepcopy(original)
        retain = patch.get("$retainKeys")
        orders = {}
        for k, v in patch.items():
            if k in ("$patch", "$retainKeys"):
                continue
            if k.startswith("$setElementOrder/"):
                orders[k.split("/", 1)[1]] = v
                continue
            if k.startswith("$deleteFromPrimitiveList/"):
                field = k.split("/", 1)[1]
                if isinstance(out.get(field), list):
                    out[field] = [x for x in out[field] if x not in (v or [])]
                continue
            sub = self.r.prop(schema, k) if schema is not None else None
            if v is None:
                out.pop(k, None)
            elif isinstance(v, dict) and (isinstance(out.get(k), dict) or k not in out):
                merged = self.merge(out.get(k), v, sub)
                if merged is _DELETE:
                    out.pop(k, None)
                else:
                    out[k] = merged
            elif isinstance(v, list):
                out[k] = self.merge_list(out.get(k), v, sub)
            else:
                out[k] = copy.deepcopy(v)
        for field, order in orders.items():
            if isinstance(out.get(field), list):
                _, mk = self._list_meta(self.r.prop(schema, field) if schema is not None else None)
                out[field] = _reorder(out[field], order, mk)
        if isinstance(retain, list):
            for k in list(out):
                if k not in retain:
                    del out[k]
        return out

    def merge_list(self, original, patch, schema):
        strategy, mkey = self._list_meta(schema)
        original = original if isinstance(original, list) else []
        if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
            return [copy.deepcopy(e) for e in patch if not (isinstance(e, dict) and "$patch" in e)]
        if "merge" not in strategy.split(","):
            return [self._strip(e) for e in patch]
        if not mkey:
            # list of primitives with merge strategy: union, keep order
            out = list(original)
            for e in patch:
                if e not in out:
                    out.append(copy.deepcopy(e))
            return out
        item_schema = self.r.items(schema)
        out = [copy.deepcopy(e) for e in original]
        for e in patch:
            if not isinstance(e, dict):
                continue
            kv = e.get(mkey)
            idx = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(mkey) == kv), None)
            if e.get("$patch") == "delete":
                if idx is not None:
                    del out[idx]
                continue
            if idx is None:
                out.append(self._strip(e))
            else:
                out[idx] = self.merge(out[idx], e, item_schema)
        return out

    def _strip(self, v):
        """Remove directives from a value that is being set wholesale."""
        if isinstance(v, dict):
            return {k: self._strip(x) for k, x in v.items()
                    if not (k.startswith("$setElementOrder/") or k.startswith("$deleteFromPrimitiveList/")
                            or k in ("$patch", "$retainKeys"))}
        if isinstance(v, list):
            return [self._strip(x) for x in v]
        return v


def _reorder(items, order, mkey):
    def ident(x):
        return x.get(mkey) if (mkey and isinstance(x, dict)) else json.dumps(x, sort_keys=True)
    wanted = [(o.get(mkey) if (mkey and isinstance(o, dict)) else json.dumps(o, sort_keys=True)) for o in order]
    pos = {w: i for i, w in enumerate(wanted)}
    listed = sorted((x for x in items if ident(x) in pos), key=lambda x: pos[ident(x)])
    rest = [x for x in items if ident(x) not in pos]
    return listed + rest


def strategic_merge(original, patch, schema, resolver):
    if not isinstance(patch, dict):
        raise ApiError.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    res = StrategicMerge(resolver).merge(original, patch, schema)
    if res is _DELETE:
        raise ApiError.bad_request("$patch: delete is not allowed on the whole object")
    return res
