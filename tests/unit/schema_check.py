#!/usr/bin/env python3
"""Validate JSON documents against a JSON Schema (draft-04 subset), standard library only.

  schema_check.py SCHEMA FILE          FILE holds one JSON document
  schema_check.py --lines SCHEMA FILE  FILE holds JSON Lines: every line a document

Keywords checked: $ref (local "#/..." pointers), type, enum, const, required,
properties, additionalProperties (boolean or schema), patternProperties,
items (schema or list), additionalItems, minItems, maxItems, uniqueItems,
minimum, maximum, exclusiveMinimum (draft-04 boolean), minLength, maxLength,
pattern, oneOf, anyOf, allOf, not, dependencies.  "format" and "default" are
annotations and ignored, as draft-04 allows.  Any other keyword makes the
checker fail loudly rather than pass silently.  Exit 0: valid; 1: invalid
(each failure printed with its JSON path); 2: usage or unreadable input.
"""
import json
import re
import sys

KNOWN = {
    "$schema", "id", "$id", "title", "description", "default", "format", "definitions",
    "$ref", "type", "enum", "const", "required", "properties", "additionalProperties",
    "patternProperties", "items", "additionalItems", "minItems", "maxItems", "uniqueItems",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "pattern", "oneOf", "anyOf", "allOf", "not", "dependencies", "deprecated",
}


def type_ok(value, name):
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise ValueError("unknown type " + name)


def same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class Checker:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#"):
            raise ValueError("only local $ref are supported: " + ref)
        node = self.root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[part]
        return node

    def errors(self, value, schema, path):
        """Yield (path, message) for every failure."""
        if not isinstance(schema, dict):
            raise ValueError("schema at %s is not an object" % path)
        for key in schema:
            if key not in KNOWN:
                raise ValueError("keyword %r is not supported by this checker" % key)
        if "$ref" in schema:
            yield from self.errors(value, self.resolve(schema["$ref"]), path)
            return
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(type_ok(value, t) for t in types):
                yield path, "is %s, not of type %s" % (json.dumps(value)[:60], "/".join(types))
                return
        if "enum" in schema and not any(same(value, e) for e in schema["enum"]):
            yield path, "%s is not one of %s" % (json.dumps(value)[:60], json.dumps(schema["enum"]))
        if "const" in schema and not same(value, schema["const"]):
            yield path, "is not %s" % json.dumps(schema["const"])
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    yield path, "lacks required member %r" % name
            props = schema.get("properties", {})
            patterns = schema.get("patternProperties", {})
            for name, member in value.items():
                sub = "%s.%s" % (path, name)
                matched = False
                if name in props:
                    matched = True
                    yield from self.errors(member, props[name], sub)
                for pat, psch in patterns.items():
                    if re.search(pat, name):
                        matched = True
                        yield from self.errors(member, psch, sub)
                if not matched and "additionalProperties" in schema:
                    extra = schema["additionalProperties"]
                    if extra is False:
                        yield path, "has member %r, which is not allowed" % name
                    elif isinstance(extra, dict):
                        yield from self.errors(member, extra, sub)
            for name, dep in schema.get("dependencies", {}).items():
                if name in value:
                    if isinstance(dep, list):
                        for other in dep:
                            if other not in value:
                                yield path, "has %r but not %r" % (name, other)
                    else:
                        yield from self.errors(value, dep, path)
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                yield path, "has %d items, fewer than %d" % (len(value), schema["minItems"])
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                yield path, "has more than %d items" % schema["maxItems"]
            if schema.get("uniqueItems"):
                seen = set()
                for item in value:
                    key = json.dumps(item, sort_keys=True)
                    if key in seen:
                        yield path, "has repeated items"
                        break
                    seen.add(key)
            items = schema.get("items")
            if isinstance(items, dict):
                for i, item in enumerate(value):
                    yield from self.errors(item, items, "%s[%d]" % (path, i))
            elif isinstance(items, list):
                for i, item in enumerate(value):
                    if i < len(items):
                        yield from self.errors(item, items[i], "%s[%d]" % (path, i))
                    elif schema.get("additionalItems") is False:
                        yield path, "has too many items"
                    elif isinstance(schema.get("additionalItems"), dict):
                        yield from self.errors(item, schema["additionalItems"], "%s[%d]" % (path, i))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema:
                if schema.get("exclusiveMinimum") is True:
                    if value <= schema["minimum"]:
                        yield path, "is not above %s" % schema["minimum"]
                elif value < schema["minimum"]:
                    yield path, "is below %s" % schema["minimum"]
            if "maximum" in schema:
                if schema.get("exclusiveMaximum") is True:
                    if value >= schema["maximum"]:
                        yield path, "is not below %s" % schema["maximum"]
                elif value > schema["maximum"]:
                    yield path, "is above %s" % schema["maximum"]
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                yield path, "is shorter than %d" % schema["minLength"]
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                yield path, "is longer than %d" % schema["maxLength"]
            if "pattern" in schema and not re.search(schema["pattern"], value):
                yield path, "%s does not match %s" % (json.dumps(value)[:60], schema["pattern"])
        for sub in schema.get("allOf", []):
            yield from self.errors(value, sub, path)
        if "anyOf" in schema:
            if not any(not list(self.errors(value, s, path)) for s in schema["anyOf"]):
                yield path, "matches none of anyOf"
        if "oneOf" in schema:
            n = sum(1 for s in schema["oneOf"] if not list(self.errors(value, s, path)))
            if n != 1:
                detail = []
                if n == 0:
                    for s in schema["oneOf"]:
                        errs = list(self.errors(value, s, path))
                        detail.append("; ".join("%s %s" % e for e in errs[:2]))
                yield path, "matches %d of oneOf, not exactly 1%s" % (
                    n, (" (" + " | ".join(detail) + ")") if detail else "")
        if "not" in schema and not list(self.errors(value, schema["not"], path)):
            yield path, "matches a schema it must not"


def main(argv):
    lines = False
    if argv and argv[0] == "--lines":
        lines = True
        argv = argv[1:]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            schema = json.load(f)
        with open(argv[1], encoding="utf-8") as f:
            text = f.read()
    except (OSError, ValueError) as e:
        print("schema_check: %s" % e, file=sys.stderr)
        return 2
    checker = Checker(schema)
    docs = []
    if lines:
        for n, line in enumerate(text.split("\n"), 1):
            if line:
                docs.append(("line %d" % n, line))
    else:
        docs.append(("document", text))
    bad = 0
    for where, doc in docs:
        try:
            value = json.loads(doc)
        except ValueError as e:
            print("schema_check: %s: %s: not JSON: %s" % (argv[1], where, e))
            bad += 1
            continue
        for path, msg in checker.errors(value, schema, "$"):
            print("schema_check: %s: %s: %s %s" % (argv[1], where, path, msg))
            bad += 1
    if not docs:
        print("schema_check: %s: no JSON to check" % argv[1])
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
