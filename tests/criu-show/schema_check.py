#!/usr/bin/env python3
"""A small structural checker for the JSON Schema subset docs/show-schema.json
uses (type, const, enum, properties, required, additionalProperties, items,
oneOf, $ref, minimum).  Standard library only.

schema_check.py SCHEMA [FILE...]: checks each file (or stdin); prints every
violation with its JSON path and exits 1 when there is any."""
import json
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Checker:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        assert ref.startswith("#/"), ref
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def check(self, s, v, path, errs):
        if "$ref" in s:
            self.check(self.resolve(s["$ref"]), v, path, errs)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(TYPES[t](v) for t in types):
                errs.append(f"{path}: {v!r:.60} is not of type {types}")
                return
        if "const" in s and v != s["const"]:
            errs.append(f"{path}: {v!r:.60} is not {s['const']!r}")
        if "enum" in s and v not in s["enum"]:
            errs.append(f"{path}: {v!r:.60} is not one of {s['enum']}")
        if "minimum" in s and TYPES["number"](v) and v < s["minimum"]:
            errs.append(f"{path}: {v} < {s['minimum']}")
        if "oneOf" in s:
            ok, best = 0, None
            for sub in s["oneOf"]:
                e = []
                self.check(sub, v, path, e)
                ok += not e
                if e and (best is None or len(e) < len(best)):
                    best = e
            if ok != 1:
                errs.append(f"{path}: matches {ok} of the oneOf alternatives, not 1")
                if ok == 0:
                    errs.extend(best)
        if isinstance(v, dict):
            props = s.get("properties", {})
            for r in s.get("required", []):
                if r not in v:
                    errs.append(f"{path}: required member {r!r} missing")
            for k, x in v.items():
                if k in props:
                    self.check(props[k], x, f"{path}.{k}", errs)
                elif s.get("additionalProperties") is False:
                    errs.append(f"{path}: member {k!r} is not in the schema")
                elif isinstance(s.get("additionalProperties"), dict):
                    self.check(s["additionalProperties"], x, f"{path}.{k}", errs)
        if isinstance(v, list) and "items" in s:
            for i, x in enumerate(v):
                self.check(s["items"], x, f"{path}[{i}]", errs)


def main():
    schema = json.load(open(sys.argv[1]))
    c = Checker(schema)
    bad = 0
    for name in sys.argv[2:] or ["-"]:
        doc = json.load(sys.stdin if name == "-" else open(name))
        errs = []
        c.check(schema, doc, "$", errs)
        for e in errs[:20]:
            print(f"{name}: {e}")
        bad += bool(errs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
