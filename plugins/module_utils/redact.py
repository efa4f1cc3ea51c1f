# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret redaction for diffs, results, reports and backups (stdlib only).

A secret is replaced by ``<redacted:xxxxxxxx>``, where ``xxxxxxxx`` is the first 8 hex digits of
HMAC-SHA256(salt, secret). The fingerprint shows *that* a secret differs (before/after, host to
host) without revealing it; 32 bits of a keyed hash say nothing usable about a high-entropy API key.
Set your own salt (``fingerprint_salt``) if your secrets are low-entropy or you want fingerprints
that cannot be compared with a plain hash of a guessed value.

What counts as a secret, at any depth of a document:
- the catalogue's credential keys (``inferenceGatewayApiKey``, ``inferenceBedrockBearerToken``...);
- any key whose name says credential (``clientSecret``, ``Authorization``, ``X-Api-Key``, ``token``...),
  except names that clearly hold metadata (``tokenUrl``, ``bearerTokenType``, ``credentialHelper``);
- every value of an ``env`` map (MCP server environments hold tokens under arbitrary names);
- any string equal to a value the caller declares secret (the keys being written right now);
- strings that look like Anthropic-style keys (``sk-...``) and the password part of URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS

DEFAULT_SALT = "aiohub.claude_desktop/fingerprint/v1"
MARKER_PREFIX = "<redacted:"

_SECRET_NAME = re.compile(
    r"(secret|passw(or)?d|api[-_]?key|apikey|access[-_]?key|token|^auth$|authorization|cookie|credential|"
    r"private[-_]?key|bearer|session[-_]?id|signature)", re.IGNORECASE)
_METADATA_NAME = re.compile(
    r"(url|uri|type|kind|helper|ttl|sec|seconds|port|file|path|window|hours|flow|mode|scheme|id|enabled|"
    r"count|tokens|audience|region|name|refresh)$", re.IGNORECASE)
HEADER_KEYS = frozenset(("inferenceCustomHeaders", "inferenceGatewayHeaders", "otlpHeaders", "bootstrapHeaders"))
# Maps whose every value is treated as a credential: MCP server environments and all header maps (an
# MCP server's ``headers`` is where its credentials go, and gateways use header names no pattern knows,
# such as Ocp-Apim-Subscription-Key).
_ENV_MAP_NAMES = frozenset(("env", "headers")) | HEADER_KEYS
# Shorter values are hidden where they sit (structurally) but not searched for inside other text: masking
# "docs" or "0" everywhere would corrupt paths, host names and counts.
MIN_SUBSTRING_SECRET_LENGTH = 8
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9][A-Za-z0-9_\-]{15,})(?![.\w-])")
# The scheme is bounded (RFC 3986 schemes are short): unbounded, a long run of scheme characters without
# "://" (a hex blob, a long token) makes the match retry from every position, quadratic in its length.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]{0,31}://)(?P<userinfo>[^/?#@\s:]*:[^/?#\s]*)@")
_ALWAYS_SECRET_NAME = re.compile(r"session[-_]?id$", re.IGNORECASE)
_MARKER_TEXT = re.compile(r"^<redacted:(?:[0-9a-f]{8}|empty)>$")


def fingerprint(value, salt=None):
    """First 8 hex digits of HMAC-SHA256(salt, value); ``empty`` for an empty secret."""
    text = value if isinstance(value, str) else repr(value)
    if text == "":
        return "empty"
    key = (salt or DEFAULT_SALT).encode("utf-8")
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:8]


def marker(value, salt=None):
    return "%s%s>" % (MARKER_PREFIX, fingerprint(value, salt))


def is_marker(value):
    return isinstance(value, str) and bool(_MARKER_TEXT.match(value))


def is_secret_name(name):
    """True when a key name says it holds a credential."""
    if not isinstance(name, str):
        return False
    if name in SECRET_KEYS or _ALWAYS_SECRET_NAME.search(name):
        return True
    return bool(_SECRET_NAME.search(name)) and not _METADATA_NAME.search(name)


class Redactor(object):
    """Redacts documents and text. ``secret_values`` are strings that must never be shown anywhere."""

    def __init__(self, secret_values=(), salt=None):
        self.salt = salt or DEFAULT_SALT
        self.exact_values = set()
        self.secret_values = []
        self.remember(secret_values)

    def remember(self, values):
        """Add secret values; returns those long enough to be masked inside other text (for no_log)."""
        values = set(value for value in values if isinstance(value, str) and value)
        self.exact_values |= values
        long_enough = [value for value in values if len(value) >= MIN_SUBSTRING_SECRET_LENGTH]
        self.secret_values = sorted(set(self.secret_values) | set(long_enough), key=len, reverse=True)
        return long_enough

    def remember_credentials_in(self, document):
        """Remember the credential values a user's file already holds (the catalogue's credential keys)."""
        return self.remember(credential_values_in(document))

    def value(self, value):
        return marker(value, self.salt)

    def document(self, document):
        """A copy of ``document`` with every secret replaced by its marker."""
        return self._walk(document, parent=None)

    def text(self, text):
        """Free text (an error message, a log line) with secrets and URL passwords replaced."""
        if not isinstance(text, str):
            return text
        for secret in self.secret_values:
            if secret in text:
                text = text.replace(secret, self.value(secret))
        text = _KEY_LIKE.sub(lambda m: self.value(m.group(1)), text)
        return _URL_PASSWORD.sub(lambda m: "%s%s@" % (m.group("scheme"), self.value(m.group("userinfo"))), text)

    def scrub(self, value):
        """Any structure (a module result) with every string passed through ``text``: the last line of defence."""
        if isinstance(value, dict):
            return dict((key, self.scrub(item)) for key, item in value.items())
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        return self.text(value) if isinstance(value, str) else value

    def _walk(self, value, parent):
        if isinstance(value, dict):
            return dict((self._key(key), self._item(key, item, parent)) for key, item in value.items())
        if isinstance(value, list):
            return [self._list_item(item, parent) for item in value]
        return self._scalar(value)

    def _key(self, key):
        return self.text(key) if isinstance(key, str) and not is_marker(key) else key

    def _item(self, key, value, parent):
        if self._is_secret_slot(key, value, parent):
            return self._hide(value)
        if key in HEADER_KEYS and isinstance(value, str):
            return self._hide(value) if value.strip() else value
        return self._walk(value, parent=key)

    def _list_item(self, item, parent):
        if parent in HEADER_KEYS and isinstance(item, str) and ":" in item:
            name, _sep, _rest = item.partition(":")
            if is_secret_name(name.strip()):
                return "%s: %s" % (self.text(name.strip()), self.value(item))
        return self._walk(item, parent=parent)

    def _is_secret_slot(self, key, value, parent):
        if key in SECRET_KEYS:
            return True
        if isinstance(value, (dict, list)):
            return False
        if parent in _ENV_MAP_NAMES:
            return True
        return is_secret_name(key) and isinstance(value, str)

    def _hide(self, value):
        if isinstance(value, (dict, list)):
            return self._walk_all(value)
        if value is None or isinstance(value, bool) or is_marker(value):
            return value
        return self.value(value)

    def _walk_all(self, value):
        if isinstance(value, dict):
            return dict((key, self._hide(item)) for key, item in value.items())
        if isinstance(value, list):
            return [self._hide(item) for item in value]
        return self.value(value)

    def _scalar(self, value):
        if not isinstance(value, str) or is_marker(value):
            return value
        if value in self.exact_values:
            return self.value(value)
        return self.text(value)


def secret_values_in(document):
    """Every credential value found in ``document`` (by the rules above), for no_log and text scrubbing."""
    found = []
    _collect(document, None, found)
    return found


NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def shown_arguments(arguments, argument_spec, redactor):
    """Task arguments as they may be echoed back: ``no_log`` options hidden, every secret redacted."""
    shown = dict((name, NO_LOG_PLACEHOLDER if (argument_spec.get(name) or {}).get("no_log") and value is not None
                  else value) for name, value in (arguments or {}).items())
    return redactor.document(shown)


def credential_values_in(document):
    """The values of the catalogue's credential keys, at any depth (what a file holds of ours to hide)."""
    found = []
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in SECRET_KEYS and isinstance(item, str) and item:
                    found.append(item)
                elif isinstance(item, (dict, list)):
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _collect(value, parent, found):
    if isinstance(value, dict):
        for key, item in value.items():
            if key in HEADER_KEYS and isinstance(item, list):
                found.extend(entry for entry in item if isinstance(entry, str) and ":" in entry
                             and is_secret_name(entry.partition(":")[0].strip()))
            if isinstance(item, (dict, list)):
                if key in SECRET_KEYS:
                    _collect_all(item, found)
                else:
                    _collect(item, key, found)
            elif isinstance(item, str) and item and (
                    key in SECRET_KEYS or parent in _ENV_MAP_NAMES or is_secret_name(key)
                    or (key in HEADER_KEYS and item.strip())):
                found.append(item)
    elif isinstance(value, list):
        for item in value:
            _collect(item, parent, found)


def _collect_all(value, found):
    if isinstance(value, dict):
        for item in value.values():
            _collect_all(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_all(item, found)
    elif isinstance(value, str) and value:
        found.append(value)
