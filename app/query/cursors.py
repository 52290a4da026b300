"""Keyset cursors: the last row's sort values, bound to the list that issued them.

A cursor is signed over its list's resource, sort, path and filters, so a tampered cursor,
or one from another list, is refused instead of silently misread. The scope is signed, not
carried, so tokens stay short. It also carries the dataset version its walk began on: the
next page is read from that version or not at all (app.api.reads), so a walk never mixes
rows of two versions. It carries the version's first 16 hex digits (64 bits): enough to
tell loads apart, at a fifth of the length.
"""

import base64
import hashlib
import hmac
import re
from datetime import date
from typing import Any

import orjson

from ..errors import InvalidParameter, ProblemError
from ..facts.version import UNVERSIONED
from .spec import ListQuery, ListSpec

VERSION_DIGITS = 16
# What a cursor may name as its version: the first VERSION_DIGITS characters of a version
# (hex digits; `synthetic-...` for generated data), or the whole of a shorter one. Never
# fewer: an empty or shortened version would match every version it begins.
ISSUED_VERSION = re.compile(rf"[0-9a-z-]{{{VERSION_DIGITS}}}|{UNVERSIONED}")


def _signature(payload: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(
    spec: ListSpec, query: ListQuery, values: list[Any], secret: str, version: str
) -> str:
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    payload = orjson.dumps([spec.name, query.sort_signature, plain, version[:VERSION_DIGITS]])
    return f"{_b64(payload)}.{_b64(_signature(payload + query.scope, secret))}"


def decode_cursor(
    token: str, *, spec: ListSpec, query: ListQuery, secret: str
) -> tuple[list[Any], str | None]:
    """The cursor's sort values and the dataset version its walk began on (its first
    `VERSION_DIGITS` characters)."""

    def invalid(why: str) -> ProblemError:
        return ProblemError(
            400, "invalid-cursor", f"cursor: {why}", [InvalidParameter("cursor", why)]
        )

    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, UnicodeEncodeError):
        raise invalid("not a cursor issued by this API") from None
    parsed = _payload(payload)
    verified = hmac.compare_digest(signature, _signature(payload + query.scope, secret))
    why = _mismatch(parsed, spec, query)
    if not verified or why or parsed is None:
        raise invalid(why or "issued for another list (path or filters), or altered")
    values, version = parsed[2], parsed[3]
    keys = [(s.kind, s.nullable) for s, _ in query.sort] + [(_id_kind(spec), False)]
    if len(values) != len(keys):
        raise invalid("issued for another list (path or filters), or altered")
    try:
        after = [
            _value(v, kind, nullable) for v, (kind, nullable) in zip(values, keys, strict=True)
        ]
        return after, version
    except (TypeError, ValueError):
        raise invalid("issued for another list (path or filters), or altered") from None


def _id_kind(spec: ListSpec) -> type:
    """What the list's ids are: integers, or text (a source's id)."""
    try:
        kind: type = spec.id_column.type.python_type
    except NotImplementedError:
        kind = object
    return int if kind is int else str  # SQLModel's AutoString says `object`


def _value(value: Any, kind: Any, nullable: bool) -> Any:
    """A cursor value read back as its sort field's kind; anything else is refused (a
    cursor signed with a leaked key must still not reach the database as a wrong type)."""
    if value is None:
        if not nullable:
            raise ValueError("null")
        return None
    if kind is date and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str) and type(value) is kind:
        return value
    raise TypeError(kind)


def _payload(payload: bytes) -> tuple[Any, Any, list[Any], str | None] | None:
    """A cursor's payload as (resource, sort, values, version), or None if it is not one."""
    try:
        resource, sort, values, version = orjson.loads(payload)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    if not isinstance(values, list) or not isinstance(version, str):
        return None
    if not ISSUED_VERSION.fullmatch(version):
        return None
    return resource, sort, values, version


def _mismatch(
    parsed: tuple[Any, Any, list[Any], str | None] | None, spec: ListSpec, query: ListQuery
) -> str | None:
    """What in a cursor's payload is not this list's: its resource or its sort. (Path and
    filters are only in the signature, so a cursor from another path or filters is told
    apart from a tampered one only by the signature.)"""
    if parsed is None:
        return None
    resource, sort, _, _ = parsed
    if resource != spec.name:
        return f"issued for {resource!r}, not {spec.name!r}"
    if sort != query.sort_signature:
        return f"issued for sort={sort}, not sort={query.sort_signature}"
    return None
