# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning: from the bytes of a user's files and a request to the bytes to write (stdlib only).

Nothing here touches a filesystem. The POSIX module reads files itself and the Windows action plugin
reads them through ``ansible.windows`` modules; both hand the bytes to these functions and write
whatever ``Outcome.writes`` says, in order. So ``changed``, the change summary and the redacted diff
are computed by one piece of code on every OS.
"""

from __future__ import annotations

import uuid

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import (
    has_bom, json_equal, json_type_name, parse_object, serialize, to_bytes,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import (
    PRESENT, changed_keys, merge_settings, no_changes, replace_in_place,
)

CONFIG_FILE_NAME = "claude_desktop_config.json"
ENTERPRISE_KEY = "enterpriseConfig"
META_FILE_NAME = "_meta.json"
DEFAULT_ENTRY_NAME = "Managed by Ansible"
# Namespace of the deterministic entry ids: uuid5(ENTRY_NAMESPACE, entry_name) is the same on every
# run and every host, so the entry is found again by its name.
ENTRY_NAMESPACE = uuid.UUID("6b0c5f4e-3f0a-5c1e-9a57-61696f687562")

STATUS_IN_SYNC = "in_sync"
STATUS_DRIFTED = "drifted"
STATUS_MISSING = "missing"
STATUS_ERROR = "error"


class PlanError(ValueError):
    """The files are in a state the module must not write over. The message says why and how to fix it."""


class Write(object):
    """One file operation: ``content`` bytes to write atomically, or ``None`` to delete the file."""

    def __init__(self, name, content, before=None):
        self.name = name
        self.content = content
        self.before = before

    @property
    def is_delete(self):
        return self.content is None


class Outcome(object):
    """The plan for one target (one user's config file, or one user's library entry).

    ``summary`` has the key names (added/changed/removed); ``key_changes`` the same keys with their
    redacted before/after values, for reports.
    """

    def __init__(self, status, summary, writes=(), diffs=(), notes=(), key_changes=()):
        self.status = status
        self.summary = summary
        self.writes = list(writes)
        self.diffs = list(diffs)
        self.notes = list(notes)
        self.key_changes = list(key_changes)

    @property
    def changed(self):
        return bool(self.writes)


def entry_id_for(name):
    """The lowercase UUID that identifies the entry called ``name`` in every configLibrary."""
    return str(uuid.uuid5(ENTRY_NAMESPACE, name))


def _diff(label, before_doc, after_doc, redactor, before_exists=True, after_exists=True):
    return {
        "before_header": "%s%s" % (label, "" if before_exists else " (absent)"),
        "after_header": "%s%s" % (label, "" if after_exists else " (absent)"),
        "before": serialize(redactor.document(before_doc)) if before_exists else "",
        "after": serialize(redactor.document(after_doc)) if after_exists else "",
    }


def describe_changes(before, after, summary, redactor):
    """[{key, change, before, after}] with every secret value replaced by its fingerprint marker."""
    before = redactor.document(before or {})
    after = redactor.document(after or {})
    described = []
    for change in ("added", "changed", "removed"):
        for key in summary.get(change, ()):
            item = {"key": key, "change": change}
            if change != "added":
                item["before"] = before.get(key)
            if change != "removed":
                item["after"] = after.get(key)
            described.append(item)
    return described


def _status(exists, changed):
    if not exists:
        return STATUS_MISSING if changed else STATUS_IN_SYNC
    return STATUS_DRIFTED if changed else STATUS_IN_SYNC


def plan_config_file(data, request, redactor, label=CONFIG_FILE_NAME, want_diff=False, deployment_mode=None,
                     header=None):
    """Plan the ``enterpriseConfig`` merge into one ``claude_desktop_config.json``.

    ``data`` is the file's bytes, or ``None`` when it does not exist. ``label`` names the file in
    errors, ``header`` (default: ``label``) in diff headers.
    """
    exists = data is not None
    document = parse_object(data, label)
    current = document.get(ENTERPRISE_KEY)
    if current is not None and not isinstance(current, dict):
        raise PlanError(
            "%s: '%s' is a JSON %s, but it must be an object ({...}); fix or delete it, the module does not "
            "overwrite data it does not understand" % (label, ENTERPRISE_KEY, json_type_name(current)))
    if not exists and request.state != PRESENT:
        return Outcome(STATUS_IN_SYNC, no_changes())

    merged = merge_settings(current, request)
    updated = document
    if merged is not None or ENTERPRISE_KEY in document:
        updated = replace_in_place(document, ENTERPRISE_KEY, _drop_if_emptied(merged, current, request))
    if deployment_mode and request.state == PRESENT:
        updated = replace_in_place(updated, "deploymentMode", deployment_mode)

    summary = changed_keys(current, merged)
    notes = []
    content_changed = not json_equal(document, updated) or not exists
    if not content_changed and has_bom(data) and request.state == PRESENT:
        content_changed = True
        notes.append("rewritten without its UTF-8 byte-order mark")
    writes = [Write(CONFIG_FILE_NAME, to_bytes(updated), before=data)] if content_changed else []
    diffs = [_diff(header or label, document, updated, redactor, exists)] if want_diff and writes else []
    return Outcome(_status(exists, bool(writes)), summary, writes, diffs, notes,
                   describe_changes(current, merged, summary, redactor))


def _drop_if_emptied(merged, current, request):
    """``state: absent`` that leaves ``enterpriseConfig`` empty removes the object itself."""
    if request.state != PRESENT and merged is not None and not merged:
        return current if current == {} else None
    return merged


# --- configLibrary -------------------------------------------------------------------------------

def _parse_meta(data, label):
    meta = parse_object(data, label)
    entries = meta.get("entries", [])
    if not isinstance(entries, list) or not all(isinstance(item, dict) for item in entries):
        raise PlanError(
            "%s: 'entries' must be a list of {\"id\", \"name\"} objects; the file is corrupt. Fix or delete it "
            "(the app recreates it), nothing was written" % label)
    applied = meta.get("appliedId")
    if applied is not None and not isinstance(applied, str):
        raise PlanError("%s: 'appliedId' must be a string UUID; the file is corrupt. Fix or delete it, "
                        "nothing was written" % label)
    return meta, entries, applied


def _check_applied_target(applied, our_id, present_files, label):
    if applied and applied != our_id and "%s.json" % applied not in present_files:
        raise PlanError(
            "%s: 'appliedId' names entry %s but %s.json does not exist; the library is inconsistent (the app may "
            "be writing it right now). Quit Claude Desktop, fix or delete _meta.json, then run again; nothing was "
            "written" % (label, applied, applied))


def _meta_with_our_entry(meta, entries, our_id, entry_name, apply):
    others = [item for item in entries if item.get("id") != our_id]
    ours = [item for item in entries if item.get("id") == our_id]
    if ours:
        new_entries = [dict(item, name=entry_name) if item.get("id") == our_id else item for item in entries]
    else:
        new_entries = others + [{"id": our_id, "name": entry_name}]
    updated = replace_in_place(meta, "entries", new_entries)
    if apply:
        updated = replace_in_place(updated, "appliedId", our_id) if "appliedId" in meta else \
            _with_first(updated, "appliedId", our_id)
    return updated


def _with_first(document, key, value):
    result = {key: value}
    result.update((name, item) for name, item in document.items() if name != key)
    return result


def _meta_without_our_entry(meta, entries, our_id, present_files):
    """Remove our entry. If it was applied, apply the first remaining entry whose file exists, else none."""
    remaining = [item for item in entries if item.get("id") != our_id]
    updated = replace_in_place(meta, "entries", remaining) if len(remaining) != len(entries) else meta
    if meta.get("appliedId") == our_id:
        fallback = next((item.get("id") for item in remaining
                         if isinstance(item.get("id"), str) and "%s.json" % item.get("id") in present_files), None)
        updated = replace_in_place(updated, "appliedId", fallback)
    return updated


def plan_config_library(meta_data, entry_data, present_files, request, redactor, entry_name=DEFAULT_ENTRY_NAME,
                        apply=True, label="configLibrary", want_diff=False, header=None, sep="/"):
    """Plan our entry of a ``configLibrary/`` directory.

    ``meta_data``/``entry_data`` are the bytes of ``_meta.json`` and ``<our id>.json`` (``None`` when
    missing); ``present_files`` the names of the files in the directory; ``sep`` the target's path separator
    (for messages and diff headers).
    Writes come in a safe order: the entry before ``_meta.json`` points at it, and ``_meta.json`` stops
    pointing at it before the entry is deleted.
    """
    our_id = entry_id_for(entry_name)
    entry_file = "%s.json" % our_id
    meta_label = "%s%s%s" % (label, sep, META_FILE_NAME)
    entry_label = "%s%s%s" % (label, sep, entry_file)
    present_files = set(present_files or ())
    meta, entries, applied = _parse_meta(meta_data, meta_label)
    current = parse_object(entry_data, entry_label)
    if "$schemaVersion" in current and not request.exclusive and request.state == PRESENT:
        raise PlanError(
            "%s uses the nested document shape ($schemaVersion %s), which cannot be merged key by key; set "
            "exclusive: true to replace it with the flat documented keys, or delete it; nothing was written"
            % (entry_label, current.get("$schemaVersion")))
    if request.state == PRESENT:
        _check_applied_target(applied, our_id, present_files, meta_label)
        merged = merge_settings(current, request)
        new_meta = _meta_with_our_entry(meta, entries, our_id, entry_name, apply)
    else:
        # The entry is ours as a whole: absent removes it (drop single keys with present + remove).
        merged = None
        new_meta = _meta_without_our_entry(meta, entries, our_id, present_files)
    summary = changed_keys(current, merged)

    writes, diffs, notes = [], [], []
    entry_exists = entry_data is not None
    meta_exists = meta_data is not None
    entry_changed = (merged is None and entry_exists) or (merged is not None and (
        not entry_exists or not json_equal(current, merged) or has_bom(entry_data)))
    meta_changed = not json_equal(meta, new_meta) or (request.state == PRESENT and (
        not meta_exists or has_bom(meta_data)))
    if merged is None and not entry_exists and not meta_changed:
        return Outcome(STATUS_IN_SYNC, summary)

    entry_write = Write(entry_file, None if merged is None else to_bytes(merged), before=entry_data)
    meta_write = Write(META_FILE_NAME, to_bytes(new_meta), before=meta_data)
    if merged is None:
        ordered = [(meta_changed, meta_write), (entry_changed, entry_write)]
    else:
        ordered = [(entry_changed, entry_write), (meta_changed, meta_write)]
    writes = [write for needed, write in ordered if needed]
    if want_diff:
        shown = header or label
        if entry_changed:
            diffs.append(_diff("%s%s%s" % (shown, sep, entry_file), current, merged or {}, redactor, entry_exists,
                               merged is not None))
        if meta_changed:
            diffs.append(_diff("%s%s%s" % (shown, sep, META_FILE_NAME), meta, new_meta, redactor, meta_exists))
    if apply and request.state == PRESENT and applied not in (None, our_id):
        notes.append("applied entry switched from %s to %s" % (applied, our_id))
    return Outcome(_status(entry_exists, bool(writes)), summary, writes, diffs, notes,
                   describe_changes(current, merged, summary, redactor))


def backup_content(before, redactor):
    """What a backup keeps: the old bytes, except that managed credential values become fingerprints.

    The credentials this collection writes live in the caller's vault; a backup never needs them, and
    leaving them out means a backup cannot leak them. Everything else stays as it was.
    """
    try:
        document = parse_object(before)
    except ValueError:
        return before
    holders = [document]
    if isinstance(document.get(ENTERPRISE_KEY), dict):
        holders.append(document[ENTERPRISE_KEY])
    if not any(key in SECRET_KEYS for holder in holders for key in holder):
        return before
    scrubbed = dict(document)
    for key in list(scrubbed):
        if key in SECRET_KEYS:
            scrubbed[key] = redactor.value(scrubbed[key])
    if isinstance(scrubbed.get(ENTERPRISE_KEY), dict):
        scrubbed[ENTERPRISE_KEY] = dict(
            (key, redactor.value(value) if key in SECRET_KEYS else value)
            for key, value in scrubbed[ENTERPRISE_KEY].items())
    return to_bytes(scrubbed)
