"""The error answers every operation can give, written into the published schema (a drf-spectacular hook).

drf-spectacular documents what a view returns when it works; the errors come from shared machinery (the
authentication classes, the permission matrix, serializers, ``ActionError``, the request-size limit, rate
limits, back-pressure), so no view declares them. Clients and fuzzers (schemathesis' status-code, content-type
and response-schema checks) need them documented: this hook adds them to every operation where they can occur,
each with the JSON error body the exception handler (``api/errors.py``) writes. An operation's own
declaration of a status wins.
"""

from __future__ import annotations

ERROR = {
    "description": "An error: `detail` says what went wrong; on bad input, each failing field names its "
                   "problems (`{\"field\": [\"message\"]}`).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
RATE_LIMITED = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "error": {"type": "string"}, "retry_after": {"type": "integer"}},
    "additionalProperties": True,
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before sending again",
                               "schema": {"type": "integer"}}}

WRITES = ("post", "put", "patch", "delete")

#: request components whose fields are required together in ways a serializer's fields cannot say
#: ("the tags or the product"): component name → anyOf branches (api.schema.any_of)
ANY_OF: dict[str, list[dict]] = {}


def any_of(*branches: dict | str):
    """Serializer class decorator: the request body must satisfy one of ``branches`` (a field name means
    "this field is given"), as the serializer's ``validate`` checks; written into the published schema."""

    def register(cls):
        name = cls.__name__.removesuffix("Serializer") + "Request"  # drf-spectacular's name of the request part
        ANY_OF[name] = [{"required": [b]} if isinstance(b, str) else b for b in branches]
        return cls

    return register


def _answer(description: str, schema: dict, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def errors_for(method: str, operation: dict) -> dict[str, dict]:
    error = {"$ref": "#/components/schemas/Error"}
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    found = {
        "401": _answer("no valid credentials (a missing, wrong, revoked or expired token)", error),
        "403": _answer("your role, your teams or the token's scope do not allow this", error),
    }
    if has_body or parameters:
        found["400"] = _answer("invalid input: the answer names each failing field", error)
    if any(p.get("in") == "path" for p in parameters):
        found["404"] = _answer("no such object, or not one you may see", error)
    elif any(p.get("in") == "query" and p.get("name") == "page" for p in parameters):
        found["404"] = _answer("no such page of the list", error)
    if method in WRITES:
        found["409"] = _answer("the object's state does not allow this now (it says why)", error)
    if has_body:
        found["413"] = _answer("the request is larger than the server accepts (RESONANZ_MAX_REQUEST_BYTES)", error)
        found["415"] = _answer("a content type this operation does not read", error)
    found["429"] = _answer("too many requests or sign-in attempts; see Retry-After", {"$ref": "#/components/schemas/RateLimited"},
                           RETRY_AFTER)
    return found


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("RateLimited", RATE_LIMITED)
    for name, branches in ANY_OF.items():
        if name in schemas:
            schemas[name]["anyOf"] = branches
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            for status, answer in errors_for(method, operation).items():
                responses.setdefault(status, answer)
            for status, answer in responses.items():  # errors a view declared by description only
                if status[:1] in ("4", "5") and not answer.get("content"):
                    body = "RateLimited" if status == "429" else "Error"
                    answer["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}
                if status in ("429", "503"):
                    answer.setdefault("headers", RETRY_AFTER)
    return result
