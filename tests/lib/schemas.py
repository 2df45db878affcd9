"""Checks a command's `-o json` stdout against its schema in docs/schema/
(SPEC.md "Output"): exactly one JSON document, valid against NAME.json, or,
when the command failed, against error.json. Uses python's jsonschema
(draft 2020-12) with every schema file in one registry, so "$ref"s to
urn:paasctl:schema:defs resolve offline."""

import glob
import json
import os

import jsonschema
from referencing import Registry, Resource

from harness import ROOT

SCHEMA_DIR = os.path.join(ROOT, "docs", "schema")


def _load():
    schemas = {}
    for path in sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.json"))):
        with open(path) as f:
            schemas[os.path.basename(path)[:-5]] = json.load(f)
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return schemas, registry


SCHEMAS, REGISTRY = _load()


def problems(command, stdout, rc=0):
    """None when stdout is one document valid for command (or, rc != 0,
    for command or error); else what is wrong."""
    try:
        doc = json.loads(stdout)
    except ValueError as ex:
        return f"not one JSON document: {ex}: {stdout[:300]!r}"
    names = [command] + (["error"] if rc != 0 else [])
    found = []
    for name in names:
        if name not in SCHEMAS:
            found.append(f"no schema docs/schema/{name}.json")
            continue
        v = jsonschema.Draft202012Validator(SCHEMAS[name], registry=REGISTRY)
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if not errs:
            return None
        found.append(f"{name}.json: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}" for e in errs[:3]))
    return " | ".join(found)
