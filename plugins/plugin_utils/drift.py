# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet drift reports: the model behind the ``aiohub.claude_desktop.drift_report`` callback.

The callback feeds plain data into a ``DriftCollector`` while the run goes on (plays and their hosts,
the per-user ``results`` of this collection's modules, failures, unreachable hosts). At the end,
``DriftCollector.build()`` returns the report: one JSON-compatible dict in the format published in
``docs/drift-report.schema.json``. ``render_markdown`` / ``render_html`` turn it into documents a person
reads, ``write_report`` writes the chosen formats atomically.

Statuses:

- location (one user's config file or configLibrary): ``in_sync``, ``drifted``, ``missing`` and
  ``error`` as the module reports them, and ``managed_override`` when a managed profile or policy makes
  the app ignore that local configuration (the module's own status stays in ``local_status``);
- user: the worst status of its locations;
- host: the worst status of its users; without any user result, ``unreachable``, ``failed`` (a task
  failed before the module reported) or ``not_reached`` (in a play that runs this collection's modules,
  but no result, e.g. the task was skipped).

No secret is ever written: the modules already replace every credential by ``<redacted:xxxxxxxx>``;
``scrub`` runs the whole report through the engine's ``Redactor`` once more before rendering.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import tempfile

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor

FORMAT = "aiohub.claude_desktop.drift_report/v1"
COLLECTION = "aiohub.claude_desktop"
DEFAULT_TITLE = "Claude Desktop configuration drift"

LOCATION_STATUSES = ("in_sync", "drifted", "missing", "managed_override", "error")
HOST_STATUSES = ("in_sync", "drifted", "missing", "managed_override", "error", "failed", "unreachable",
                 "not_reached")
# Worst first: the status a user (of its locations) or a host (of its users) gets.
_SEVERITY = ("error", "drifted", "missing", "managed_override", "in_sync")
# Order of host statuses in the HTML host table when sorted by status.
_HOST_RANK = dict((status, rank) for rank, status in enumerate(
    ("unreachable", "failed", "not_reached") + _SEVERITY))
# Host statuses whose summary says how many users need attention, e.g. "2 drifted (3 users)".
_USER_COUNTED = ("drifted", "missing", "managed_override", "error")
CHANGES = ("added", "changed", "removed")
FORMATS = ("json", "md", "html")
FILE_NAMES = {"json": "drift.json", "md": "drift.md", "html": "drift.html"}

# Modules whose task results carry the per-user ``results`` list (docs/development.md).
MODULES = ("enterprise_config", "managed_preferences", "managed_policy")
# The "user" of a machine-wide location (machine managed preferences or policy), not a possible user name.
MACHINE = "(machine)"
ROLE = "cowork"
NO_USERS = "no real local user on this host yet: nothing to configure"
NO_RESULT = "no result: the host was in the play but no task of aiohub.claude_desktop reported for it"


def label(status):
    """``managed_override`` -> ``managed override``."""
    return status.replace("_", " ")


def worst(statuses):
    """The most severe of ``statuses`` (``in_sync`` for none)."""
    found = set(statuses)
    for status in _SEVERITY:
        if status in found:
            return status
    return "in_sync"


def is_collection_action(action):
    """Whether a task action (FQCN, short name, or ``ansible_collections...`` path) is one of our modules."""
    if not isinstance(action, str):
        return False
    name = action.rsplit(".", 1)[-1]
    if name not in MODULES:
        return False
    return action == name or action.startswith(COLLECTION + ".") or ".aiohub.claude_desktop." in action


def is_collection_role(name):
    return isinstance(name, str) and (name == ROLE or name == "%s.%s" % (COLLECTION, ROLE))


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def natural_key(text):
    """Sort ``h2`` before ``h10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


# -- per-user results ------------------------------------------------------------------------------

def _is_location(item):
    return (isinstance(item, dict) and isinstance(item.get("status"), str) and "path" in item
            and (item.get("user") is None or isinstance(item.get("user"), str)))


def user_of(item):
    """The user a location belongs to; machine-wide locations (a machine managed plist) are ``(machine)``."""
    return item.get("user") or MACHINE


def _strings(values):
    return [str(value) for value in values or () if value is not None]


def _changed_keys(item):
    found = item.get("changed_keys") if isinstance(item.get("changed_keys"), dict) else {}
    return dict((change, _strings(found.get(change))) for change in CHANGES)


def _key_changes(item, changed_keys):
    described = [dict(change) for change in item.get("key_changes") or () if isinstance(change, dict)
                 and isinstance(change.get("key"), str) and change.get("change") in CHANGES]
    if described:
        return described
    # An implementation that only names the keys: report them without values.
    return [{"key": key, "change": change} for change in CHANGES for key in changed_keys[change]]


def location_from_result(item, task):
    """One report location from one per-user result of the module (see ``module_utils/results.py``)."""
    local_status = item["status"] if item["status"] in ("in_sync", "drifted", "missing", "error") else "error"
    error = item.get("error")
    if error and local_status != "error":
        local_status = "error"
    managed = bool(item.get("managed_override"))
    status = "managed_override" if managed and local_status != "error" else local_status
    changed_keys = _changed_keys(item)
    location = {
        "layout": str(item.get("layout") or "unknown"),
        "path": str(item.get("path") or ""),
        "status": status,
        "local_status": local_status,
        "changed_keys": changed_keys,
        "changes": _key_changes(item, changed_keys),
        "managed_override": managed,
        "managed_sources": [dict(source) for source in item.get("managed_sources") or () if isinstance(source, dict)],
        "app_running": bool(item.get("app_running")),
        "error": str(error) if error else None,
        "notes": _strings(item.get("notes")),
        "task": task,
    }
    if item.get("entry_id"):
        location["entry_id"] = str(item["entry_id"])
    return location


def per_user_results(module_result):
    """The per-user result dicts in a task result, also through a loop's ``results`` items.

    Returns ``(locations, failures)``: the per-user dicts, and the messages of loop items that failed
    without any per-user result.
    """
    locations, failures = [], []
    for item in module_result.get("results") or ():
        if _is_location(item):
            locations.append(item)
        elif isinstance(item, dict) and isinstance(item.get("results"), list):
            found, failed = per_user_results(item)
            locations.extend(found)
            failures.extend(failed)
        elif isinstance(item, dict) and item.get("failed"):
            failures.append(str(item.get("msg") or "the loop item failed"))
    return locations, failures


def _merge_location(current, new):
    """The same file reported by two tasks: keep every change, the worst status."""
    merged = dict(current)
    merged["status"] = worst((current["status"], new["status"]))
    merged["local_status"] = worst((current["local_status"], new["local_status"]))
    seen = set((change["key"], change["change"]) for change in current["changes"])
    merged["changes"] = current["changes"] + [c for c in new["changes"] if (c["key"], c["change"]) not in seen]
    merged["changed_keys"] = dict(
        (change, current["changed_keys"][change] + [key for key in new["changed_keys"][change]
                                                    if key not in current["changed_keys"][change]])
        for change in CHANGES)
    for flag in ("managed_override", "app_running"):
        merged[flag] = current[flag] or new[flag]
    merged["error"] = current["error"] or new["error"]
    merged["notes"] = current["notes"] + [note for note in new["notes"] if note not in current["notes"]]
    merged["task"] = current["task"] if current["task"] == new["task"] else "%s; %s" % (current["task"], new["task"])
    return merged


# -- collecting ------------------------------------------------------------------------------------

class DriftCollector(object):
    """Everything the callback learns during a run, in plain data.

    A *play in scope* runs one of this collection's modules or its ``cowork`` role. Hosts of plays in
    scope are the fleet of the report; failures and unreachable hosts of other plays (a final summary
    play on localhost, say) are ignored.
    """

    def __init__(self):
        self.plays = {}
        self.hosts = {}
        self.check_modes = set()
        self.diff_modes = set()

    # plays

    def add_play(self, play_id, name, hosts, in_scope):
        """Called once per play (or per ``serial`` batch of it); ``hosts``: every host of the play after ``--limit``."""
        play = self.plays.setdefault(play_id, {"name": name, "hosts": [], "in_scope": False})
        play["hosts"].extend(host for host in hosts if host not in play["hosts"])
        play["in_scope"] = play["in_scope"] or bool(in_scope)

    def mark_in_scope(self, play_id):
        if play_id in self.plays:
            self.plays[play_id]["in_scope"] = True

    # host events

    def _host(self, host):
        return self.hosts.setdefault(host, {"locations": {}, "events": []})

    def add_result(self, host, play_id, task, module_result, check_mode=True, diff_mode=True):
        """A task of one of our modules finished on ``host`` (ok or failed). False when it held no per-user result."""
        self.mark_in_scope(play_id)
        if module_result.get("censored"):
            # no_log: ansible-core keeps a top-level ``results`` list (it takes it for loop results), but the
            # task's author asked for its result to be hidden.
            self.add_event(host, play_id, "hidden", task, "no_log hides the result of this task")
            return True
        items, loop_failures = per_user_results(module_result)
        for message in loop_failures:
            self.add_event(host, play_id, "failed", task, message)
        if not items:
            if isinstance(module_result.get("results"), list) and not module_result.get("failed"):
                # The module ran and found nobody to configure (a new machine before its first login).
                self._host(host)["no_users"] = True
            return False
        self.check_modes.add(bool(check_mode))
        self.diff_modes.add(bool(diff_mode))
        locations = self._host(host)["locations"]
        for item in items:
            location = location_from_result(item, task)
            key = (user_of(item), location["layout"], location["path"])
            if key in locations:
                location = _merge_location(locations[key][1], location)
            locations[key] = (str(item.get("home") or ""), location)
        return True

    def add_event(self, host, play_id, kind, task, message):
        """``kind``: ``failed``, ``unreachable``, ``skipped`` (a task of ours skipped on that host) or ``hidden``
        (a task of ours with ``no_log``)."""
        self._host(host)["events"].append({"kind": kind, "play": play_id, "task": task, "message": message or ""})

    # the report

    def in_scope_hosts(self):
        hosts = []
        for play in self.plays.values():
            if play["in_scope"]:
                hosts.extend(host for host in play["hosts"] if host not in hosts)
        for host, data in self.hosts.items():
            if data["locations"] and host not in hosts:
                hosts.append(host)
        return hosts

    def build(self, run, title=DEFAULT_TITLE):
        """The report dict (see ``docs/drift-report.schema.json``)."""
        hosts = {}
        for name in sorted(self.in_scope_hosts(), key=natural_key):
            hosts[name] = self._host_entry(name)
        run = dict(run)
        run["check_mode"] = self.check_modes == {True}
        run["diff_mode"] = self.diff_modes == {True}
        report = {
            "format": FORMAT,
            "title": title,
            "generated_at": run.get("finished_at") or iso(utc_now()),
            "run": run,
            "summary": summarize(hosts),
            "hosts": hosts,
        }
        report["summary"]["text"] = summary_line(report["summary"])
        return report

    def _host_entry(self, name):
        """A host's status comes from its users when it has any; else it failed, was unreachable or not reached.

        Failures of a host that did report (a later task, a rescued one) are listed in ``problems``.
        """
        data = self.hosts.get(name, {"locations": {}, "events": []})
        events = [event for event in data["events"] if self.plays.get(event["play"], {}).get("in_scope", True)]
        users = {}
        ordered = sorted(data["locations"].items(), key=lambda pair: natural_key("%s\0%s\0%s" % pair[0]))
        for (user, _layout, _path), (home, location) in ordered:
            entry = users.setdefault(user, {"status": "in_sync", "home": home, "locations": []})
            entry["locations"].append(location)
        for entry in users.values():
            entry["status"] = worst(location["status"] for location in entry["locations"])
        problems = [{"kind": event["kind"], "play": self._play_name(event["play"]), "task": event["task"],
                     "message": event["message"]} for event in events
                    if not (users and event["kind"] == "skipped")]
        kinds = set(event["kind"] for event in events)
        if users:
            status = worst(entry["status"] for entry in users.values())
        elif data.get("no_users") and not kinds & {"unreachable", "failed"}:
            status = "in_sync"
        elif "unreachable" in kinds:
            status = "unreachable"
        elif "failed" in kinds:
            status = "failed"
        else:
            status = "not_reached"
        return {
            "status": status,
            "reason": _host_reason(status, events, not users and data.get("no_users")),
            "users": dict((user, users[user]) for user in sorted(users, key=natural_key)),
            "problems": problems,
        }

    def _play_name(self, play_id):
        return self.plays.get(play_id, {}).get("name") or ""


def _host_reason(status, events, no_users=False):
    if status == "in_sync" and no_users:
        return NO_USERS
    if status in ("unreachable", "failed"):
        for event in events:
            if event["kind"] == status:
                return "%s: %s" % (event["task"], event["message"]) if event["task"] else event["message"]
    if status == "not_reached":
        for kind, text in (("hidden", "no_log hides the result of %s"), ("skipped", "skipped: %s")):
            for event in events:
                if event["kind"] == kind:
                    return text % event["task"]
        return NO_RESULT
    return None


# -- summary ---------------------------------------------------------------------------------------

def summarize(hosts):
    """Counts per host status and per user status, and how many users need attention per host status."""
    host_counts = dict((status, 0) for status in HOST_STATUSES)
    user_counts = dict((status, 0) for status in LOCATION_STATUSES)
    attention = dict((status, 0) for status in _USER_COUNTED)
    for entry in hosts.values():
        host_counts[entry["status"]] += 1
        for user in entry["users"].values():
            user_counts[user["status"]] += 1
            if entry["status"] in attention and user["status"] != "in_sync":
                attention[entry["status"]] += 1
    return {
        "hosts": dict(host_counts, total=len(hosts)),
        "users": dict(user_counts, total=sum(user_counts.values())),
        "users_needing_attention": attention,
        "drift": any(count for status, count in host_counts.items() if status != "in_sync"),
    }


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def summary_line(summary):
    """``12 hosts: 9 in sync, 2 drifted (3 users), 1 unreachable``."""
    hosts = summary["hosts"]
    if not hosts["total"]:
        return "0 hosts: no host ran a task of %s" % COLLECTION
    parts = []
    for status in HOST_STATUSES:
        if not hosts[status]:
            continue
        part = "%d %s" % (hosts[status], label(status))
        if status in _USER_COUNTED:
            part += " (%s)" % _plural(summary["users_needing_attention"][status], "user")
        parts.append(part)
    return "%s: %s" % (_plural(hosts["total"], "host"), ", ".join(parts))


def findings(report):
    """Rows for people: one per changed key of a drifted location; one per missing, erroring or overridden location."""
    rows = []
    for host, entry in report["hosts"].items():
        for user, data in entry["users"].items():
            for location in data["locations"]:
                rows.extend(_location_rows(host, user, location))
    return rows


def _location_rows(host, user, location):
    base = {"host": host, "user": user, "layout": location["layout"], "path": location["path"],
            "status": location["status"]}
    status = location["local_status"]
    if status == "error":
        return [dict(base, key="", change="error", before=None, after=location["error"] or "")]
    rows = []
    if status == "missing":
        keys = [change["key"] for change in location["changes"]]
        rows.append(dict(base, key="", change="missing", before=None,
                         after="%s to add: %s" % (_plural(len(keys), "key"), ", ".join(keys)) if keys else ""))
    elif status == "drifted":
        rows.extend(dict(base, key=change["key"], change=change["change"], before=change.get("before"),
                         after=change.get("after")) for change in location["changes"])
    if location["managed_override"]:
        sources = ", ".join(source.get("source", "") for source in location["managed_sources"])
        rows.append(dict(base, key="", change="managed_override", before=None,
                         after="the app ignores this file: managed settings in %s" % (sources or "a managed profile")))
    return rows


# -- the in-play summary (playbooks/drift.yml) ---------------------------------------------------------

PLAY_TASK = "aiohub.claude_desktop.cowork"


def play_summary(hosts, results, failures, play_hosts):
    """What ``playbooks/drift.yml`` prints and gates on, from the role's ``cowork_result`` of each host.

    ``results``/``failures``: host -> the role's result / the message of a rescued failure. A host that is
    neither in ``play_hosts`` nor failed was unreachable. Same statuses and summary line as the report.
    """
    collector = DriftCollector()
    collector.add_play("drift", "drift", list(hosts), True)
    for host in hosts:
        result = results.get(host)
        if isinstance(result, dict) and result.get("unreachable"):
            collector.add_event(host, "drift", "unreachable", PLAY_TASK, str(result.get("msg") or "unreachable"))
        elif isinstance(result, dict) and result.get("skipped"):
            collector.add_event(host, "drift", "skipped", PLAY_TASK, "the role's configuration task was skipped")
        elif isinstance(result, dict):
            collector.add_result(host, "drift", PLAY_TASK, result)
        if failures.get(host):
            collector.add_event(host, "drift", "failed", "", str(failures[host]))
        elif not result and host not in play_hosts:
            collector.add_event(host, "drift", "unreachable", "", "unreachable: it left the play before the comparison")
    report = collector.build({})
    entries = {}
    lines = []
    for host, entry in report["hosts"].items():
        details = [detail for user, data in entry["users"].items() for location in data["locations"]
                   for detail in _location_details(user, location)]
        if entry["reason"]:
            details.append(entry["reason"])
        entries[host] = {"status": entry["status"], "details": details,
                         "users": [user for user, data in entry["users"].items() if data["status"] != "in_sync"]}
        if entry["status"] != "in_sync":
            lines.append("%s: %s - %s" % (host, label(entry["status"]), "; ".join(details)))
    return {"hosts": entries, "lines": lines, "drift": report["summary"]["drift"], "text": report["summary"]["text"]}


def _location_details(user, location):
    """``alice config_file: inferenceModels added, inferenceGatewayApiKey changed`` and the like."""
    where = "%s %s" % (user, location["layout"])
    details = []
    if location["local_status"] == "error":
        details.append("%s: error: %s" % (where, location["error"]))
    elif location["local_status"] == "missing":
        details.append("%s: missing" % where)
    elif location["local_status"] == "drifted":
        changes = ", ".join("%s %s" % (change["key"], change["change"]) for change in location["changes"])
        details.append("%s: %s" % (where, changes))
    if location["managed_override"]:
        details.append("%s: a managed profile or policy overrides it" % where)
    return details


# -- scrubbing -------------------------------------------------------------------------------------

def scrub(report, salt=None):
    """A copy of ``report`` with anything that looks like a credential replaced by its fingerprint.

    Key changes are redacted in the context of their key (a value of ``inferenceGatewayApiKey`` is a
    secret whatever it looks like); every other string goes through the engine's text redaction.
    """
    redactor = Redactor(salt=salt)
    report = redactor.document(report)
    for entry in report["hosts"].values():
        for user in entry["users"].values():
            for location in user["locations"]:
                location["changes"] = [_scrub_change(change, redactor) for change in location["changes"]]
    return report


def _scrub_change(change, redactor):
    scrubbed = dict(change)
    for side in ("before", "after"):
        if side in change:
            scrubbed[side] = redactor.document({change["key"]: change[side]})[change["key"]]
    return scrubbed


# -- rendering -------------------------------------------------------------------------------------

def render_json(report):
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def value_text(value, limit=120):
    """A compact one-line rendering of a before/after value."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=False, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _md_code(text):
    if text == "":
        return ""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, text, pad, fence)


def _md_text(text):
    return re.sub(r"([\\|*\[\]<>`])", r"\\\1", " ".join(str(text).split()))


def _run_facts(run):
    facts = [
        ("generated", run.get("finished_at") or ""),
        ("mode", "check (nothing was changed)" if run.get("check_mode") else
         "apply: statuses are what was found before this run changed it"),
        ("limit", run.get("limit") or "none"),
        ("playbooks", ", ".join(run.get("playbooks") or ()) or "-"),
        ("forks", str(run.get("forks") or "-")),
        ("ansible-core", run.get("ansible_version") or "-"),
        (run.get("collection", {}).get("name", COLLECTION), run.get("collection", {}).get("version") or "unknown"),
    ]
    return facts


def render_markdown(report):
    summary = report["summary"]
    lines = ["# %s" % _md_text(report["title"]), "", "**%s**" % _md_text(summary["text"]), ""]
    lines.append(" \u00b7 ".join("%s: %s" % (name, _md_text(value)) for name, value in _run_facts(report["run"])))
    lines += ["", "| status | hosts | users |", "|---|---:|---:|"]
    for status in HOST_STATUSES:
        users = summary["users"].get(status, "")
        if summary["hosts"][status] or users:
            lines.append("| %s | %d | %s |" % (label(status), summary["hosts"][status], users))
    lines.append("| **total** | **%d** | **%d** |" % (summary["hosts"]["total"], summary["users"]["total"]))
    lines += ["", "_A user counts under the worst status of its files, a host under the worst status of its users._"]
    rows = findings(report)
    lines += ["", "## Drift", ""]
    if rows:
        lines += ["| host | user | layout | key | change | before | after | path |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in rows:
            limit = 120 if row["key"] else 400
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                _md_text(row["host"]), _md_text(row["user"]), row["layout"], _md_code(row["key"]),
                label(row["change"]), _md_code(value_text(row["before"], limit)),
                _md_code(value_text(row["after"], limit)), _md_code(row["path"])))
    else:
        lines.append("No drift: every user's configuration matches.")
    unreached = [(host, entry) for host, entry in report["hosts"].items()
                 if entry["status"] in ("failed", "unreachable", "not_reached")]
    if unreached:
        lines += ["", "## Hosts without a full result", "", "| host | status | reason |", "|---|---|---|"]
        for host, entry in unreached:
            lines.append("| %s | %s | %s |" % (_md_text(host), label(entry["status"]),
                                               _md_text(value_text(entry["reason"] or "", limit=300))))
    lines.append("")
    return "\n".join(lines)


_HTML_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1d2127;background:#fff}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
.summary{font-size:1.1rem;font-weight:600;margin:.4rem 0 1rem}
.facts{color:#555;margin-bottom:1rem}.facts span{margin-right:1.2rem;white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:.3rem 0}
th,td{border:1px solid #d8dce1;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f5;white-space:nowrap}table.sortable th{cursor:pointer;user-select:none}
.note{color:#555;font-size:12px}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td code{font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
table.counts{width:auto}td.num{text-align:right}
.st{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:12px;white-space:nowrap}
.in_sync{background:#dcf5e3}.drifted,.changed,.added,.removed{background:#fff0c2}.missing{background:#e3ecff}
.managed_override{background:#eadcff}.error,.failed,.unreachable{background:#ffd9d6}.not_reached{background:#e7e9ec}
input{padding:.3rem .5rem;width:20rem;margin:.3rem 0}
"""

_HTML_SCRIPT = """
(function(){
  function cell(row,i){var c=row.cells[i];return c?(c.getAttribute('data-sort')||c.textContent).trim():'';}
  function sortBy(table,i,dir){
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){return dir*cell(a,i).localeCompare(cell(b,i),undefined,{numeric:true,sensitivity:'base'});});
    rows.forEach(function(r){body.appendChild(r);});
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h,j){
      if(j===i){h.setAttribute('aria-sort',dir>0?'ascending':'descending');}else{h.removeAttribute('aria-sort');}});
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h,i){
      h.addEventListener('click',function(){sortBy(table,i,h.getAttribute('aria-sort')==='ascending'?-1:1);});
    });
  });
  var box=document.getElementById('filter');
  if(box){box.addEventListener('input',function(){
    var q=box.value.toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll('table.sortable tbody tr'),function(r){
      r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});
  });}
})();
"""


def _h(text):
    return html.escape("" if text is None else str(text), quote=True)


def _badge(status):
    return '<span class="st %s">%s</span>' % (_h(status), _h(label(status)))


def _html_table(table_id, headers, rows):
    out = ['<table class="sortable" id="%s"><thead><tr>' % table_id]
    out += ['<th scope="col">%s</th>' % _h(header) for header in headers]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>%s</tr>" % "".join(row))
    out.append("</tbody></table>")
    return "".join(out)


def render_html(report):
    """One self-contained page: inline CSS and JS, no network asset (a CSP forbids any)."""
    summary = report["summary"]
    facts = "".join("<span><b>%s</b> %s</span>" % (_h(name), _h(value)) for name, value in _run_facts(report["run"]))
    counts = "".join('<tr><td>%s</td><td class="num">%d</td><td class="num">%s</td></tr>' % (
        _badge(status), summary["hosts"][status], _h(summary["users"].get(status, "")))
        for status in HOST_STATUSES if summary["hosts"][status] or summary["users"].get(status))
    counts += '<tr><td><b>total</b></td><td class="num"><b>%d</b></td><td class="num"><b>%d</b></td></tr>' % (
        summary["hosts"]["total"], summary["users"]["total"])
    host_rows = []
    for host, entry in report["hosts"].items():
        users = entry["users"].values()
        host_rows.append([
            "<td>%s</td>" % _h(host),
            '<td data-sort="%d">%s</td>' % (_HOST_RANK[entry["status"]], _badge(entry["status"])),
            '<td class="num">%d</td>' % len(entry["users"]),
            '<td class="num">%d</td>' % sum(1 for user in users if user["status"] != "in_sync"),
            "<td>%s</td>" % _h(entry["reason"] or ""),
        ])
    drift_rows = [[
        "<td>%s</td>" % _h(row["host"]), "<td>%s</td>" % _h(row["user"]), "<td>%s</td>" % _h(row["layout"]),
        "<td><code>%s</code></td>" % _h(row["key"]), "<td>%s</td>" % _badge(row["change"]),
        "<td><code>%s</code></td>" % _h(value_text(row["before"], limit=400)),
        "<td><code>%s</code></td>" % _h(value_text(row["after"], limit=400)),
        "<td><code>%s</code></td>" % _h(row["path"]),
    ] for row in findings(report)]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>%s</title><style>%s</style></head><body>" % (_h(report["title"]), _HTML_STYLE),
        "<h1>%s</h1>" % _h(report["title"]),
        '<p class="summary" id="summary">%s</p>' % _h(summary["text"]),
        '<p class="facts">%s</p>' % facts,
        '<table class="counts"><thead><tr><th>status</th><th>hosts</th><th>users</th></tr></thead>'
        "<tbody>%s</tbody></table>" % counts,
        '<p class="note">A user counts under the worst status of its files, a host under the worst status of its '
        "users. Click a column header to sort.</p>",
        '<p><input id="filter" type="search" placeholder="Filter rows (host, user, key...)" '
        'aria-label="Filter rows"></p>',
        "<h2>Drift</h2>",
        _html_table("drift", ("host", "user", "layout", "key", "change", "before", "after", "path"), drift_rows)
        if drift_rows else "<p>No drift: every user's configuration matches.</p>",
        "<h2>Hosts</h2>",
        _html_table("hosts", ("host", "status", "users", "users needing attention", "reason"), host_rows),
        "<script>%s</script></body></html>" % _HTML_SCRIPT,
    ]
    return "\n".join(parts) + "\n"


_RENDERERS = {"json": render_json, "md": render_markdown, "html": render_html}


def write_report(report, directory, formats=FORMATS):
    """Write each format atomically into ``directory`` (created 0755 when missing); the paths written."""
    unknown = [name for name in formats if name not in _RENDERERS]
    if unknown:
        raise ValueError("unknown drift report format(s) %s; choose from %s" % (", ".join(unknown), ", ".join(FORMATS)))
    os.makedirs(directory, exist_ok=True)
    written = []
    for name in formats:
        path = os.path.join(directory, FILE_NAMES[name])
        _write_atomically(path, _RENDERERS[name](report))
        written.append(path)
    return written


def _write_atomically(path, text):
    handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# -- run metadata ----------------------------------------------------------------------------------

def collection_version(root):
    """The version in ``MANIFEST.json`` (an installed collection) or ``galaxy.yml`` (a source tree)."""
    manifest = os.path.join(root, "MANIFEST.json")
    if os.path.isfile(manifest):
        try:
            with open(manifest, encoding="utf-8") as stream:
                return str(json.load(stream)["collection_info"]["version"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    galaxy = os.path.join(root, "galaxy.yml")
    if os.path.isfile(galaxy):
        import yaml  # PyYAML: a dependency of ansible-core, always there on the controller
        try:
            with open(galaxy, encoding="utf-8") as stream:
                return str(yaml.safe_load(stream)["version"])
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            pass
    return None


def collection_root():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
