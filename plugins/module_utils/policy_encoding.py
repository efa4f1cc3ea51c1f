# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Claude Desktop settings in the OS-preference form of macOS plists and the Windows registry (stdlib only).

Reference 3.1: in a managed plist or under ``...\\Policies\\Claude`` every value is a string.

- boolean: ``"true"`` / ``"false"`` (the app also reads ``"1"`` / ``"0"``);
- integer: a decimal string, ``"3600"``;
- number: its JSON text, ``"1.5"``;
- ``string[]``, ``object``, ``object[]``: ONE JSON document encoded as a string, here compact
  (``separators=(",", ":")``), UTF-8 characters kept (``ensure_ascii=False``) and keys in the order given;
- never dotted sub-keys such as ``inferenceGatewayOidc.clientId``: the app never reads them (reference
  6.1 item 6), so such a key is refused with a message saying what to write instead.

The kind of a key comes from the catalogue (``config_keys.py``); an unknown key (allowed outside
``strict``) is encoded by the type of its value. The decoder reverses the encoding so that comparisons,
drift reports and tests work on native values, and ``plan_policy`` merges a request into the values
stored in a plist or a registry key: it decides what to write and what to delete by comparing decoded
values, never bytes or text.
"""

from __future__ import annotations

import json
import math
import re

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import config_keys as ck
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import json_type_name
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import changed_keys, merge_settings

PREFERENCE_DOMAIN = "com.anthropic.claudefordesktop"
TRUE_TEXT = "true"
FALSE_TEXT = "false"
_BOOLEAN_TEXTS = {"true": True, "false": False, "1": True, "0": False}
_DECIMAL = re.compile(r"^-?[0-9]+$")
_JSON_KINDS = frozenset((ck.STRING_LIST, ck.OBJECT, ck.OBJECT_LIST, ck.MIXED_LIST, ck.OBJECT_OR_LIST))
# The native container each structured kind accepts.
_CONTAINERS = {
    ck.STRING_LIST: (list,),
    ck.OBJECT_LIST: (list,),
    ck.MIXED_LIST: (list,),
    ck.OBJECT: (dict,),
    ck.OBJECT_OR_LIST: (dict, list),
}


class PolicyEncodingError(ValueError):
    """Settings that cannot be written as OS-preference values. ``problems`` lists every one of them."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(PolicyEncodingError, self).__init__("; ".join(self.problems))


# --- kinds -------------------------------------------------------------------------------------------

def kind_for(key, value=None):
    """The catalogue kind of ``key``; for an unknown key the kind its native ``value`` has (None if unknown)."""
    kind = ck.kind_of(key)
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return ck.BOOLEAN
    if isinstance(value, int):
        return ck.INTEGER
    if isinstance(value, float):
        return ck.NUMBER
    if isinstance(value, list):
        return ck.MIXED_LIST
    if isinstance(value, dict):
        return ck.OBJECT
    if isinstance(value, str):
        return ck.STRING
    return None


def _wanted(kind):
    return {
        ck.STRING: "a string", ck.ENUM: "a string", ck.BOOLEAN: "a boolean (true/false)",
        ck.INTEGER: "an integer", ck.NUMBER: "a number", ck.STRING_LIST: "a list of strings",
        ck.OBJECT: "a dictionary", ck.OBJECT_LIST: "a list of dictionaries", ck.MIXED_LIST: "a list",
        ck.OBJECT_OR_LIST: "a dictionary or a list", ck.OBJECT_OR_STRING: "a dictionary or a string",
    }.get(kind, "a value")


def check_key_name(key):
    """None when ``key`` can be a plist key / registry value name, else the problem and how to fix it."""
    if not isinstance(key, str) or not key:
        return "%r: a key must be a non-empty string" % (key,)
    if "." in key:
        parent, _sep, child = key.partition(".")
        return ("%s: dotted sub-keys are never read from a plist or the registry; give %s as one dictionary "
                "value instead (%s: {%s: ...}), it is written as a single JSON string" % (key, parent, parent, child))
    return None


# --- encoding ----------------------------------------------------------------------------------------

def _json_text(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_value(key, value):
    """The string stored for ``key``. Raises PolicyEncodingError saying what is wrong and what to give."""
    problem = check_key_name(key)
    if problem:
        raise PolicyEncodingError([problem])
    kind = kind_for(key, value)
    if value is None:
        raise PolicyEncodingError(["%s: has no value (null); give %s or remove the key" % (key, _wanted(kind))])
    try:
        return _encode_by_kind(kind, value)
    except (TypeError, ValueError) as exc:
        detail = " (%s)" % exc if str(exc) else ""
        raise PolicyEncodingError(["%s: must be %s, got %s%s" % (key, _wanted(kind), _described(value), detail)])


def _encode_by_kind(kind, value):
    if kind in (ck.STRING, ck.ENUM):
        return _require(value, str)
    if kind == ck.BOOLEAN:
        return TRUE_TEXT if _require(value, bool) else FALSE_TEXT
    if kind == ck.INTEGER:
        if isinstance(value, bool):
            raise TypeError()
        return str(_require(value, int))
    if kind == ck.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError()
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("NaN and infinity cannot be written")
        return _json_text(value)
    if kind == ck.OBJECT_OR_STRING:
        return value if isinstance(value, str) else _json_text(_require(value, dict))
    if kind in _JSON_KINDS:
        return _json_text(_require(value, _CONTAINERS[kind]))
    raise TypeError()  # pragma: no cover - every kind is handled above


def _require(value, wanted):
    if not isinstance(value, wanted):
        raise TypeError()
    return value


def _described(value):
    if isinstance(value, str):
        return "the string %r" % _preview(value)
    return "a %s" % json_type_name(value)


def encode_settings(settings):
    """{key: string} for a settings dictionary, in its order. Raises with every problem at once."""
    encoded = {}
    problems = []
    for key, value in (settings or {}).items():
        try:
            encoded[key] = encode_value(key, value)
        except PolicyEncodingError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyEncodingError(problems)
    return encoded


# --- decoding ----------------------------------------------------------------------------------------

def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def decode_value(key, text, kind=None):
    """The native value of a stored string. ``kind`` overrides the catalogue (for unknown keys).

    Raises PolicyEncodingError when ``text`` is not a valid encoding for the kind; the app would not
    read it either (a boolean spelled ``"True"``, JSON that does not parse, a list where a dictionary
    belongs...).
    """
    kind = kind or ck.kind_of(key) or ck.STRING
    if not isinstance(text, str):
        raise PolicyEncodingError(["%s: stored as a native %s, not as a string" % (key, json_type_name(text))])
    try:
        return _decode_by_kind(kind, text)
    except ValueError as exc:
        raise PolicyEncodingError(["%s: %r is not a valid %s value (%s)" % (key, _preview(text), kind, exc)])


def _decode_by_kind(kind, text):
    if kind in (ck.STRING, ck.ENUM):
        return text
    if kind == ck.BOOLEAN:
        if text not in _BOOLEAN_TEXTS:
            raise ValueError("a boolean is written true or false")
        return _BOOLEAN_TEXTS[text]
    if kind == ck.INTEGER:
        if not _DECIMAL.match(text):
            raise ValueError("an integer is written in decimal digits")
        return int(text)
    if kind == ck.NUMBER:
        value = json.loads(text, parse_constant=_reject_constant)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("not a number")
        return value
    if kind == ck.OBJECT_OR_STRING:
        if text.lstrip().startswith("{"):
            value = json.loads(text, parse_constant=_reject_constant)
            if isinstance(value, dict):
                return value
        return text
    value = json.loads(text, parse_constant=_reject_constant)
    if not isinstance(value, _CONTAINERS[kind]):
        raise ValueError("JSON %s where %s belongs" % (json_type_name(value), _wanted(kind)))
    return value


def _preview(text):
    return text if len(text) <= 40 else text[:37] + "..."


def decode_settings(stored, hints=None):
    """{key: native value} of stored strings; ``hints`` are native values that give unknown keys a kind.

    Strict: raises PolicyEncodingError listing every value that does not decode.
    """
    hints = hints or {}
    decoded = {}
    problems = []
    for key, text in (stored or {}).items():
        try:
            decoded[key] = decode_value(key, text, kind_for(key, hints.get(key)))
        except PolicyEncodingError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyEncodingError(problems)
    return decoded


def display_form(document):
    """Every value as the string a plist or registry holds, leniently (for diffs of redacted documents)."""
    shown = {}
    for key, value in (document or {}).items():
        if isinstance(value, str):
            shown[key] = value
            continue
        try:
            shown[key] = encode_value(key, value)
        except PolicyEncodingError:
            shown[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return shown


# --- planning ----------------------------------------------------------------------------------------

class PolicyPlan(object):
    """What to do to one stored policy (one plist, one registry key).

    before        the stored values decoded to native types (undecodable ones as stored), for reports
    after         the native values once the plan is applied; None when the whole policy goes
    stored_after  the values to store: owned keys encoded, every other key exactly as it was; None = delete
    summary       ``{added, changed, removed}`` key names (``changed`` includes keys re-encoded)
    set_values    ``{key: string}`` to write, in order
    remove_values keys to delete
    notes         why a key was rewritten although its value did not change
    """

    def __init__(self, before, after, stored_after, summary, set_values, remove_values, notes):
        self.before = before
        self.after = after
        self.stored_after = stored_after
        self.summary = summary
        self.set_values = set_values
        self.remove_values = remove_values
        self.notes = notes

    @property
    def changed(self):
        return bool(self.set_values or self.remove_values)


def _decode_stored(stored, hints):
    """The decoded view of stored values; a value that does not decode is kept as stored.

    Such a value never equals a wanted native value, so an owned key holding one is rewritten.
    """
    decoded = {}
    for key, raw in stored.items():
        try:
            decoded[key] = decode_value(key, raw, kind_for(key, hints.get(key)))
        except PolicyEncodingError:
            decoded[key] = raw
    return decoded


def plan_policy(stored, request, misencoded=()):
    """Merge a ``MergeRequest`` (native values, credentials included) into stored OS-preference values.

    ``stored`` maps names to what the plist or registry holds (strings, or native plist types written
    by something else); ``misencoded`` names values stored in a form other than the documented string
    (a native ``<true/>``, a ``REG_DWORD``): an owned key in that form is rewritten as a string even
    when its value is right. Keys the request does not own keep their stored form untouched.
    """
    stored = stored or {}
    owned = set(request.owned_keys())
    misencoded = set(misencoded) | set(key for key, value in stored.items() if not isinstance(value, str))
    before = _decode_stored(stored, request.settings)
    after = merge_settings(before, request)
    summary = changed_keys(before, after)
    notes = []
    for key in after or {}:
        if key in owned and key in misencoded and key in before and key not in summary["changed"]:
            summary["changed"].append(key)
            notes.append("%s: stored in a form other than a string (a native plist value or a registry value that "
                         "is not REG_SZ); rewritten as the documented string" % key)
    # A policy left without any value is deleted as a whole (the plist file; every value of the registry key).
    stored_after = None if not after else dict(
        (key, encode_value(key, value) if key in owned else stored[key]) for key, value in after.items())
    writes = summary["added"] + summary["changed"]
    set_values = dict((key, stored_after[key]) for key in (stored_after or {}) if key in writes)
    remove_values = list(stored) if stored_after is None else list(summary["removed"])
    return PolicyPlan(before, after, stored_after, summary, set_values, remove_values, notes)
