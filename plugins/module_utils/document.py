# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading, comparing and writing Claude Desktop JSON documents (stdlib only).

The app's files are plain JSON in UTF-8. We accept a UTF-8 byte-order mark and any whitespace or
line endings on read, compare documents by value (never by text), and always write the same
canonical form: 2-space indent, UTF-8 without BOM, keys in their existing order, a trailing newline.
"""

from __future__ import annotations

import json

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class DocumentError(ValueError):
    """A file that cannot be used as a configuration document. The message says why and how to fix it."""


MAX_DEPTH = 64
_TOO_DEEP = object()


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("the number %s is out of range" % text)
    return value


def _depth_within(value, limit):
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


def decode_text(data, what="file"):
    """Bytes -> text. Accepts UTF-8 with or without BOM; anything else is an error."""
    if data.startswith(_UTF16_BOMS):
        raise DocumentError(
            "%s is UTF-16 encoded (it starts with a UTF-16 byte-order mark); Claude Desktop reads UTF-8. "
            "Re-save it as UTF-8 or delete it so it can be recreated" % what)
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            "%s is not valid UTF-8 (invalid byte 0x%02x at offset %d); Claude Desktop reads UTF-8 JSON. "
            "Re-save it as UTF-8 or delete it so it can be recreated" % (what, data[exc.start], exc.start))


def parse_object(data, what="file"):
    """Bytes of a JSON document -> dict. Missing (None) or blank content is an empty object."""
    if data is None:
        return {}
    text = decode_text(data, what)
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except ValueError as exc:
        raise DocumentError(
            "%s is not valid JSON (%s); fix or delete it, the module never overwrites a file it cannot parse"
            % (what, exc))
    except RecursionError:
        value = _TOO_DEEP
    if value is _TOO_DEEP or not _depth_within(value, MAX_DEPTH):
        raise DocumentError("%s is nested more than %d levels deep, which no Claude Desktop configuration is; fix or "
                            "delete it" % (what, MAX_DEPTH))
    if not isinstance(value, dict):
        raise DocumentError(
            "%s holds a JSON %s at the top level, but Claude Desktop expects a JSON object ({...}); "
            "fix or delete it" % (what, json_type_name(value)))
    return value


def has_bom(data):
    return bool(data) and data.startswith(UTF8_BOM)


def json_type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def serialize(document):
    """The canonical text form of a document: 2-space indent, insertion order, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_bytes(document):
    return serialize(document).encode("utf-8")


def json_equal(left, right):
    """Compare two JSON values by meaning.

    Object key order and whitespace do not matter; types do: ``true`` is not ``1`` and ``"1"`` is
    not ``1`` (Python's ``==`` would say ``True == 1``). Integers and floats of equal value are equal,
    as they are for the app's JavaScript parser.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, dict):
        if not isinstance(right, dict) or len(left) != len(right):
            return False
        return all(key in right and json_equal(value, right[key]) for key, value in left.items())
    if isinstance(left, list):
        if not isinstance(right, list) or len(left) != len(right):
            return False
        return all(json_equal(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


def deep_copy(value):
    """A copy of a JSON value (faster than copy.deepcopy and never shares containers)."""
    if isinstance(value, dict):
        return dict((key, deep_copy(item)) for key, item in value.items())
    if isinstance(value, list):
        return [deep_copy(item) for item in value]
    return value
