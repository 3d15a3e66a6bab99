"""A validator for the subset of JSON Schema (draft 2020-12) that protocol/publisher/schemas/ uses.

python3-jsonschema is not always installed (deploy/install-deps.sh installs it); the tests use it
when importable and this otherwise. A keyword outside the subset is an error, so the subset can
never silently ignore part of a schema.
"""

SUPPORTED = {
    "$schema", "$id", "$defs", "$ref", "title", "description",
    "type", "properties", "required", "additionalProperties", "items",
    "enum", "const", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "oneOf",
}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(Exception):
    pass


def _resolve(root, ref):
    if not ref.startswith("#/"):
        raise SchemaError(f"only local $ref supported, got {ref}")
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(instance, schema, root=None, path="$"):
    """Yields one message per violation, each naming the JSON path."""
    root = schema if root is None else root
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise SchemaError(f"unsupported keywords {sorted(unknown)} at {path}")
    if "$ref" in schema:
        yield from errors(instance, _resolve(root, schema["$ref"]), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](instance) for t in types):
            yield f"{path}: expected {types}, got {type(instance).__name__} {instance!r:.60}"
            return
    if "const" in schema and instance != schema["const"]:
        yield f"{path}: expected {schema['const']!r}, got {instance!r:.60}"
    if "enum" in schema and instance not in schema["enum"]:
        yield f"{path}: {instance!r:.60} not one of {schema['enum']}"
    number = _TYPES["number"](instance)
    if number and "minimum" in schema and instance < schema["minimum"]:
        yield f"{path}: {instance} < minimum {schema['minimum']}"
    if number and "maximum" in schema and instance > schema["maximum"]:
        yield f"{path}: {instance} > maximum {schema['maximum']}"
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            yield f"{path}: shorter than {schema['minLength']}"
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            yield f"{path}: longer than {schema['maxLength']}"
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            yield f"{path}: fewer than {schema['minItems']} items"
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            yield f"{path}: more than {schema['maxItems']} items"
        if "items" in schema:
            for i, item in enumerate(instance):
                yield from errors(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in instance:
                yield f"{path}: missing required {key!r}"
        for key, value in instance.items():
            if key in props:
                yield from errors(value, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties", True) is False:
                yield f"{path}: unexpected property {key!r}"
    if "oneOf" in schema:
        matching = sum(1 for s in schema["oneOf"] if not list(errors(instance, s, root, path)))
        if matching != 1:
            yield f"{path}: matches {matching} of oneOf, expected exactly 1"


def validate(instance, schema):
    """Raises ValueError listing every violation."""
    found = list(errors(instance, schema))
    if found:
        raise ValueError("; ".join(found[:10]))
