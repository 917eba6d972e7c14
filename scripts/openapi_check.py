"""Checks an OpenAPI document as a contract (used by scripts/openapi-contract.sh).

    python3 openapi_check.py openapi.json

Validates it under the strict OpenAPI 3.1 validator, then counts what generators cannot
type: request or response bodies without a schema or typed as a bare `object` (no
properties, no composition; list items too), and parameters declared `in: path` that are
not in the path template (query parameters declared as path). Prints the figures; exits
non-zero when the document is invalid or either count is not 0.
"""

import json
import re
import sys

from openapi_spec_validator import OpenAPIV31SpecValidator

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def resolve(doc, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def bare(doc, schema):
    """Whether `schema` says nothing about its shape beyond `object` (or nothing at all)."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict) or not schema:
        return True
    if any(k in schema for k in ("properties", "allOf", "oneOf", "anyOf", "enum", "const")):
        return False
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        return bare(doc, schema.get("items"))
    if "object" in types or types == [None]:
        extra = schema.get("additionalProperties")
        return not isinstance(extra, dict) or bare(doc, extra)
    return False


def untyped_bodies(doc):
    found = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            bodies = []
            if "requestBody" in op:
                bodies.append(("request", op["requestBody"]))
            for status, response in op.get("responses", {}).items():
                if "content" in response:
                    bodies.append((f"response {status}", response))
            for where, body in bodies:
                for media, content in body.get("content", {}).items():
                    if not media.endswith("json"):
                        continue
                    schema = content.get("schema")
                    typed = schema is not None and not bare(doc, schema)
                    # A page of records: its items must be typed too.
                    items = resolve(doc, schema or {}).get("properties", {}).get("items")
                    if items is not None and bare(doc, items):
                        typed = False
                    if not typed:
                        found.append(f"{method.upper()} {path} {where} ({media})")
    return found


def query_parameters_as_path(doc):
    found = []
    for path, item in doc["paths"].items():
        in_template = set(re.findall(r"\{([^}]+)\}", path))
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            for parameter in op.get("parameters", []) + item.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] not in in_template:
                    found.append(f"{method.upper()} {path}: {parameter['name']}")
    return found


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
    for error in errors[:20]:
        print(f"  invalid: {error.message[:300]}")
    untyped = untyped_bodies(doc)
    for body in untyped:
        print(f"  untyped body: {body}")
    as_path = query_parameters_as_path(doc)
    for parameter in as_path:
        print(f"  query parameter declared as path: {parameter}")
    operations = sum(1 for item in doc["paths"].values() for m in METHODS if m in item)
    print(
        f"openapi: {operations} operations, {len(doc['components']['schemas'])} schemas; "
        f"{len(errors)} validation errors, {len(untyped)} untyped bodies, "
        f"{len(as_path)} query parameters declared as path"
    )
    sys.exit(1 if errors or untyped or as_path else 0)


if __name__ == "__main__":
    main()
