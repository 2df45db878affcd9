"""Decoding of the Kubernetes protobuf request bodies that kubectl's typed
clients send (`kubectl create namespace|configmap|secret|serviceaccount`,
`kubectl auth can-i`, `kubectl drain`'s evictions), so those commands work.

The wire format is the "k8s\\x00" magic followed by a runtime.Unknown
{typeMeta{apiVersion,kind}, raw, contentEncoding, contentType} whose raw is
the typed message.  Field numbers below are those of k8s.io/api's
generated.proto for the few kinds handled; any other kind answers 415 as
before, and responses are always JSON (clients accept it).
"""
import base64
import datetime

MAGIC = b"k8s\x00"


def _varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def fields(b):
    """[(field number, wire type, value)] of one message (no schema)."""
    out, i = [], 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        out.append((num, wt, v))
    return out


# schema: message -> {number: (json name, type)}; type is a scalar name,
# a message name, "map:<value type>" or "[]<type>" for repeated fields
S = "string"
SCHEMAS = {
    "TypeMeta": {1: ("apiVersion", S), 2: ("kind", S)},
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "bytes"), 3: ("contentEncoding", S), 4: ("contentType", S)},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "ObjectMeta": {1: ("name", S), 2: ("generateName", S), 3: ("namespace", S), 5: ("uid", S),
                   6: ("resourceVersion", S), 7: ("generation", "int"), 8: ("creationTimestamp", "Time"),
                   11: ("labels", "map:string"), 12: ("annotations", "map:string"),
                   13: ("ownerReferences", "[]OwnerReference"), 14: ("finalizers", "[]string")},
    "OwnerReference": {1: ("kind", S), 3: ("name", S), 4: ("uid", S), 5: ("apiVersion", S),
                       6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "ObjectReference": {1: ("kind", S), 2: ("namespace", S), 3: ("name", S), 4: ("uid", S),
                        5: ("apiVersion", S), 6: ("resourceVersion", S), 7: ("fieldPath", S)},
    "LocalObjectReference": {1: ("name", S)},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", S),
               4: ("stringData", "map:string"), 5: ("immutable", "bool")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "[]string")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", "[]ObjectReference"),
                       3: ("imagePullSecrets", "[]LocalObjectReference"),
                       4: ("automountServiceAccountToken", "bool")},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                    2: ("nonResourceAttributes", "NonResourceAttributes")},
    "ResourceAttributes": {1: ("namespace", S), 2: ("verb", S), 3: ("group", S), 4: ("version", S),
                           5: ("resource", S), 6: ("subresource", S), 7: ("name", S)},
    "NonResourceAttributes": {1: ("path", S), 2: ("verb", S)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta")},
    "Eviction": {1: ("metadata", "ObjectMeta"), 2: ("deleteOptions", "DeleteOptions")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int"), 3: ("orphanDependents", "bool"),
                      4: ("propagationPolicy", S), 5: ("dryRun", "[]string")},
    # what `kubectl create deployment|service` fill in
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec")},
    "DeploymentSpec": {1: ("replicas", "int"), 2: ("selector", "LabelSelector"), 3: ("template", "PodTemplateSpec"),
                       4: ("strategy", "DeploymentStrategy"), 5: ("minReadySeconds", "int"),
                       6: ("revisionHistoryLimit", "int"), 7: ("paused", "bool"), 9: ("progressDeadlineSeconds", "int")},
    "DeploymentStrategy": {1: ("type", S)},
    "LabelSelector": {1: ("matchLabels", "map:string"), 2: ("matchExpressions", "[]LabelSelectorRequirement")},
    "LabelSelectorRequirement": {1: ("key", S), 2: ("operator", S), 3: ("values", "[]string")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {2: ("containers", "[]Container"), 3: ("restartPolicy", S), 4: ("terminationGracePeriodSeconds", "int"),
                6: ("dnsPolicy", S), 7: ("nodeSelector", "map:string"), 8: ("serviceAccountName", S),
                10: ("nodeName", S), 11: ("hostNetwork", "bool")},
    "Container": {1: ("name", S), 2: ("image", S), 3: ("command", "[]string"), 4: ("args", "[]string"),
                  5: ("workingDir", S), 6: ("ports", "[]ContainerPort"), 7: ("env", "[]EnvVar"),
                  14: ("imagePullPolicy", S)},
    "ContainerPort": {1: ("name", S), 2: ("hostPort", "int"), 3: ("containerPort", "int"), 4: ("protocol", S)},
    "EnvVar": {1: ("name", S), 2: ("value", S)},
    "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec")},
    "ServiceSpec": {1: ("ports", "[]ServicePort"), 2: ("selector", "map:string"), 3: ("clusterIP", S),
                    4: ("type", S), 7: ("externalName", S)},
    "ServicePort": {1: ("name", S), 2: ("protocol", S), 3: ("port", "int"), 4: ("targetPort", "IntOrString"),
                    5: ("nodePort", "int")},
    "IntOrString": {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", S)},
}
KINDS = {"ConfigMap", "Secret", "Namespace", "ServiceAccount", "SelfSubjectAccessReview", "SelfSubjectReview",
         "Eviction",
         "Deployment", "Service"}


def _scalar(typ, wt, v):
    if typ == S:
        return v.decode()
    if typ == "bytes":
        return bytes(v)
    if typ == "bool":
        return bool(v)
    if typ == "int":
        return v - (1 << 64) if v >= 1 << 63 else v
    raise ValueError(typ)


def decode_message(name, b):
    schema = SCHEMAS[name]
    out = {}
    for num, wt, v in fields(b):
        if num not in schema:
            continue
        key, typ = schema[num]
        if typ.startswith("map:"):
            k = val = None
            for n2, w2, v2 in fields(v):
                if n2 == 1:
                    k = v2.decode()
                elif n2 == 2:
                    val = _scalar(typ[4:], w2, v2)
            if typ == "map:bytes":
                val = base64.b64encode(val or b"").decode()
            out.setdefault(key, {})[k] = val if val is not None else ""
        elif typ.startswith("[]"):
            t = typ[2:]
            out.setdefault(key, []).append(decode_message(t, v) if t in SCHEMAS else _scalar(t, wt, v))
        elif typ in SCHEMAS:
            out[key] = decode_message(typ, v)
        else:
            val = _scalar(typ, wt, v)
            # gogo-protobuf writes zero values that JSON would omit (omitempty)
            if val not in ("", 0) or typ == "bool":
                out[key] = val
    if name == "IntOrString":
        return out.get("strVal", "") if out.get("type") == 1 else out.get("intVal", 0)
    if name == "Time":
        if not out.get("seconds"):
            return None
        return datetime.datetime.fromtimestamp(out["seconds"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def decode(body):
    """JSON-equivalent dict of a protobuf body, or None if the kind is not handled."""
    if not body.startswith(MAGIC):
        raise ValueError("missing k8s protobuf magic")
    unk = decode_message("Unknown", body[len(MAGIC):])
    tm = unk.get("typeMeta") or {}
    kind = tm.get("kind")
    if kind not in KINDS:
        return None
    obj = decode_message(kind, unk.get("raw") or b"")
    obj = {"apiVersion": tm.get("apiVersion"), "kind": kind, **obj}
    meta = obj.get("metadata")
    if isinstance(meta, dict) and meta.get("creationTimestamp") is None:
        meta.pop("creationTimestamp", None)
    return obj
