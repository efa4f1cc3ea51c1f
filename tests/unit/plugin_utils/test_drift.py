"""plugin_utils/drift.py: the drift report model, its summary, scrubbing, rendering and schema."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import marker
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import drift
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.drift import DriftCollector

from tests.unit.conftest import API_KEY, MCP_TOKEN, OTHER_KEY, assert_no_secret

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "docs" / "drift-report.schema.json").read_text())
RUN = {"started_at": "2026-11-24T10:00:00Z", "finished_at": "2026-11-24T10:00:05Z", "limit": None,
       "playbooks": ["drift.yml"], "tags": [], "skip_tags": [], "forks": 5, "cli_check": True, "cli_diff": True,
       "ansible_version": "2.19.14", "collection": {"name": "aiohub.claude_desktop", "version": "1.0.0"}}
TASK = "Compare the configuration"


def validate(report):
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    return report


def location(user, status="in_sync", layout="config_file", changes=(), error=None, managed=False, **extra):
    changed_keys = dict((kind, [c["key"] for c in changes if c["change"] == kind]) for kind in drift.CHANGES)
    item = {"user": user, "home": "/Users/%s" % user, "layout": layout, "reason": "per-user configuration file",
            "path": "/Users/%s/.config/Claude-3p/%s" % (
                user, "claude_desktop_config.json" if layout == "config_file" else "configLibrary"),
            "status": status, "changed": status in ("drifted", "missing"), "changed_keys": changed_keys,
            "key_changes": list(changes), "files_written": [], "backup_file": None, "managed_override": managed,
            "managed_sources": [{"source": "/etc/claude-desktop/managed-settings.json", "keys": ["inferenceProvider"]}]
            if managed else [], "app_running": False, "notes": [], "error": error}
    item.update(extra)
    return item


def module_result(*items):
    return {"changed": any(i["changed"] for i in items), "results": list(items), "summary": {}}


def collector_with_play(hosts, play="p1", in_scope=True):
    collector = DriftCollector()
    collector.add_play(play, "Check drift", hosts, in_scope)
    return collector


KEY_CHANGE = {"key": "inferenceGatewayApiKey", "change": "changed", "before": marker(OTHER_KEY), "after": marker(API_KEY)}
EGRESS_ADDED = {"key": "coworkEgressAllowedHosts", "change": "added", "after": ["docs.aiohub.org", "evil.example"]}
MODELS_REMOVED = {"key": "inferenceModels", "change": "removed", "before": ["claude-sonnet-4-6"]}


# -- per-user results -------------------------------------------------------------------------------

def test_location_keeps_module_status_and_redacted_values():
    loc = drift.location_from_result(location("alice", "drifted", changes=[KEY_CHANGE]), TASK)
    assert loc["status"] == loc["local_status"] == "drifted"
    assert loc["changes"] == [KEY_CHANGE]
    assert loc["changed_keys"] == {"added": [], "changed": ["inferenceGatewayApiKey"], "removed": []}
    assert loc["task"] == TASK and loc["error"] is None


def test_managed_override_becomes_the_status_but_error_wins():
    loc = drift.location_from_result(location("alice", "in_sync", managed=True), TASK)
    assert (loc["status"], loc["local_status"]) == ("managed_override", "in_sync")
    loc = drift.location_from_result(location("alice", "error", error="bad file", managed=True), TASK)
    assert loc["status"] == "error"


def test_an_error_message_makes_the_location_an_error_whatever_its_status():
    loc = drift.location_from_result(location("alice", "drifted", error="symlink refused"), TASK)
    assert loc["status"] == "error" and loc["error"] == "symlink refused"


def test_key_names_without_values_are_reported_as_changes():
    item = location("alice", "drifted")
    item["changed_keys"] = {"added": ["a"], "changed": [], "removed": ["b"]}
    item["key_changes"] = []
    assert drift.location_from_result(item, TASK)["changes"] == [
        {"key": "a", "change": "added"}, {"key": "b", "change": "removed"}]


def test_loop_results_are_unwrapped():
    looped = {"results": [
        dict(module_result(location("alice", "drifted", changes=[EGRESS_ADDED])), item="alice", ansible_loop_var="item"),
        {"failed": True, "msg": "settings: bad value", "item": "bob", "ansible_loop_var": "item"},
    ]}
    items, failures = drift.per_user_results(looped)
    assert [i["user"] for i in items] == ["alice"]
    assert failures == ["settings: bad value"]


@pytest.mark.parametrize("action, ours", [
    ("aiohub.claude_desktop.enterprise_config", True),
    ("enterprise_config", True),
    ("ansible_collections.aiohub.claude_desktop.plugins.modules.enterprise_config", True),
    ("aiohub.claude_desktop.managed_preferences", True),
    ("aiohub.claude_desktop.managed_policy", True),
    ("other.collection.enterprise_config", False),
    ("ansible.builtin.copy", False),
    (None, False),
])
def test_collection_actions(action, ours):
    assert drift.is_collection_action(action) is ours


# -- collecting and building -------------------------------------------------------------------------

def fleet_report():
    """h1 in sync, h2 a changed key and a removed key, h3 an added egress host and a corrupt file, h4 unreachable."""
    collector = collector_with_play(["h1", "h2", "h3", "h4", "h10"])
    collector.add_result("h1", "p1", TASK, module_result(location("alice"), location("bob")))
    collector.add_result("h2", "p1", TASK, module_result(
        location("alice", "drifted", changes=[KEY_CHANGE, MODELS_REMOVED]), location("bob")))
    collector.add_result("h3", "p1", TASK, module_result(
        location("alice", "drifted", changes=[EGRESS_ADDED]),
        location("bob", "error", error="/Users/bob/.config/Claude-3p/claude_desktop_config.json is not valid JSON")))
    collector.add_event("h4", "p1", "unreachable", TASK, "Failed to connect to the host via ssh: Connection refused")
    collector.add_result("h10", "p1", TASK, module_result(location("alice"), location("bob")))
    return collector


def test_report_names_exactly_the_drifted_hosts_users_and_keys():
    report = validate(fleet_report().build(RUN))
    hosts = report["hosts"]
    assert list(hosts) == ["h1", "h2", "h3", "h4", "h10"]
    assert {name: host["status"] for name, host in hosts.items()} == {
        "h1": "in_sync", "h2": "drifted", "h3": "error", "h4": "unreachable", "h10": "in_sync"}
    rows = [(r["host"], r["user"], r["key"], r["change"]) for r in drift.findings(report)]
    assert rows == [("h2", "alice", "inferenceGatewayApiKey", "changed"), ("h2", "alice", "inferenceModels", "removed"),
                    ("h3", "alice", "coworkEgressAllowedHosts", "added"), ("h3", "bob", "", "error")]
    assert hosts["h4"]["users"] == {} and "Connection refused" in hosts["h4"]["reason"]
    assert report["summary"]["text"] == "5 hosts: 2 in sync, 1 drifted (1 user), 1 error (2 users), 1 unreachable"
    assert report["summary"]["drift"] is True
    assert report["summary"]["users"] == {"total": 8, "in_sync": 5, "drifted": 2, "missing": 0,
                                          "managed_override": 0, "error": 1}


def test_the_issue_example_summary_line():
    hosts = {}
    for index in range(9):
        hosts["ok%d" % index] = {"status": "in_sync", "users": {"a": {"status": "in_sync"}}}
    hosts["d1"] = {"status": "drifted", "users": {"a": {"status": "drifted"}, "b": {"status": "drifted"},
                                                  "c": {"status": "in_sync"}}}
    hosts["d2"] = {"status": "drifted", "users": {"a": {"status": "drifted"}}}
    hosts["u1"] = {"status": "unreachable", "users": {}}
    assert drift.summary_line(drift.summarize(hosts)) == "12 hosts: 9 in sync, 2 drifted (3 users), 1 unreachable"


def test_machine_wide_locations_belong_to_the_machine():
    collector = collector_with_play(["mac1"])
    plist = location("alice", "drifted", layout="managed_preferences",
                     changes=[{"key": "inferenceModels", "change": "added", "after": ["claude-sonnet-4-6"]}])
    plist.update(user=None, home=None, path="/Library/Managed Preferences/com.anthropic.claudefordesktop.plist")
    collector.add_result("mac1", "p1", "Managed preferences", module_result(plist))
    report = validate(collector.build(RUN))
    assert list(report["hosts"]["mac1"]["users"]) == ["(machine)"]
    assert report["summary"]["text"] == "1 host: 1 drifted (1 user)"


def test_first_run_is_all_missing():
    collector = collector_with_play(["h1", "h2"])
    added = [{"key": "inferenceProvider", "change": "added", "after": "gateway"},
             {"key": "inferenceGatewayApiKey", "change": "added", "after": marker(API_KEY)}]
    for host in ("h1", "h2"):
        collector.add_result(host, "p1", TASK, module_result(location("alice", "missing", changes=added),
                                                             location("alice", "missing", "config_library",
                                                                      changes=added, entry_id="1f0e")))
    report = validate(collector.build(RUN))
    assert report["summary"]["text"] == "2 hosts: 2 missing (2 users)"
    rows = drift.findings(report)
    assert len(rows) == 4 and {r["change"] for r in rows} == {"missing"}
    assert rows[0]["after"] == "2 keys to add: inferenceProvider, inferenceGatewayApiKey"


def test_host_without_result_is_not_reached_and_skips_are_named():
    collector = collector_with_play(["h1", "h2", "h3"])
    collector.add_result("h1", "p1", TASK, module_result(location("alice")))
    collector.add_event("h2", "p1", "skipped", TASK, "")
    report = validate(collector.build(RUN))
    assert report["hosts"]["h2"]["status"] == "not_reached"
    assert report["hosts"]["h2"]["reason"] == "skipped: %s" % TASK
    assert report["hosts"]["h3"]["status"] == "not_reached"
    assert report["summary"]["text"] == "3 hosts: 1 in sync, 2 not reached"


def test_a_result_hidden_by_no_log_is_not_reported():
    collector = collector_with_play(["h1", "h2"])
    censored = dict(module_result(location("alice", "drifted", changes=[EGRESS_ADDED])),
                    censored="the output has been hidden due to the fact that 'no_log: true' was specified")
    assert collector.add_result("h1", "p1", TASK, censored) is True
    collector.add_event("h2", "p1", "failed", TASK, "no_log hides why")
    report = validate(collector.build(RUN))
    assert report["hosts"]["h1"]["users"] == {} and report["hosts"]["h1"]["status"] == "not_reached"
    assert report["hosts"]["h1"]["reason"] == "no_log hides the result of %s" % TASK
    assert report["hosts"]["h2"]["status"] == "failed"


def test_failure_outside_the_module_fails_the_host():
    collector = collector_with_play(["h1"])
    collector.add_event("h1", "p1", "failed", "Check the gateway", "HTTP Error 401")
    report = validate(collector.build(RUN))
    assert report["hosts"]["h1"]["status"] == "failed"
    assert report["hosts"]["h1"]["reason"] == "Check the gateway: HTTP Error 401"
    assert report["hosts"]["h1"]["problems"] == [
        {"kind": "failed", "play": "Check drift", "task": "Check the gateway", "message": "HTTP Error 401"}]


def test_a_host_that_reported_keeps_the_status_of_its_users_and_lists_its_problems():
    collector = collector_with_play(["h1"])
    collector.add_event("h1", "p1", "failed", "Try something", "boom")
    collector.add_result("h1", "p1", TASK, module_result(location("alice")))
    collector.add_event("h1", "p1", "unreachable", "Later task", "connection lost")
    host = validate(collector.build(RUN))["hosts"]["h1"]
    assert host["status"] == "in_sync" and host["reason"] is None
    assert [(p["kind"], p["task"]) for p in host["problems"]] == [("failed", "Try something"),
                                                                  ("unreachable", "Later task")]


def test_unreachable_wins_over_failed_without_results():
    collector = collector_with_play(["h1"])
    collector.add_event("h1", "p1", "failed", "Validate", "bad")
    collector.add_event("h1", "p1", "unreachable", TASK, "refused")
    host = collector.build(RUN)["hosts"]["h1"]
    assert host["status"] == "unreachable" and host["reason"] == "%s: refused" % TASK


def test_only_plays_that_run_our_modules_define_the_fleet():
    collector = collector_with_play(["h1", "h2"])
    collector.add_play("p2", "Summary", ["localhost"], in_scope=False)
    collector.add_event("localhost", "p2", "failed", "Drift gate", "drift found")
    collector.add_result("h1", "p1", TASK, module_result(location("alice")))
    collector.add_result("h2", "p1", TASK, module_result(location("alice")))
    report = collector.build(RUN)
    assert list(report["hosts"]) == ["h1", "h2"]
    assert all(not host["problems"] for host in report["hosts"].values())


def test_a_play_seen_running_our_module_joins_the_scope():
    collector = collector_with_play(["h1"], in_scope=False)
    assert collector.build(RUN)["hosts"] == {}
    collector.add_result("h1", "p1", TASK, module_result(location("alice")))
    assert list(collector.build(RUN)["hosts"]) == ["h1"]


def test_serial_batches_and_limit_use_the_hosts_the_play_was_given():
    collector = DriftCollector()
    collector.add_play("p1", "Check drift", ["h1", "h2"], True)   # first serial batch
    collector.add_play("p1", "Check drift", ["h1", "h2", "h3"], True)  # ansible_play_hosts_all again
    collector.add_result("h1", "p1", TASK, module_result(location("alice")))
    collector.add_result("h3", "p1", TASK, module_result(location("alice")))
    report = collector.build(RUN)
    assert list(report["hosts"]) == ["h1", "h2", "h3"]
    assert report["hosts"]["h2"]["status"] == "not_reached"


def test_results_arriving_in_any_order_give_the_same_report():
    first = fleet_report().build(RUN)
    collector = collector_with_play(["h10", "h4", "h3", "h2", "h1"])
    collector.add_result("h10", "p1", TASK, module_result(location("bob"), location("alice")))
    collector.add_event("h4", "p1", "unreachable", TASK, "Failed to connect to the host via ssh: Connection refused")
    collector.add_result("h3", "p1", TASK, module_result(
        location("bob", "error", error="/Users/bob/.config/Claude-3p/claude_desktop_config.json is not valid JSON"),
        location("alice", "drifted", changes=[EGRESS_ADDED])))
    collector.add_result("h2", "p1", TASK, module_result(
        location("bob"), location("alice", "drifted", changes=[KEY_CHANGE, MODELS_REMOVED])))
    collector.add_result("h1", "p1", TASK, module_result(location("bob"), location("alice")))
    assert collector.build(RUN)["hosts"] == first["hosts"]


def test_same_location_from_two_tasks_is_merged():
    collector = collector_with_play(["h1"])
    collector.add_result("h1", "p1", "first", module_result(location("alice", "drifted", changes=[EGRESS_ADDED])))
    collector.add_result("h1", "p1", "second", module_result(location("alice", "drifted", changes=[KEY_CHANGE])))
    loc = validate(collector.build(RUN))["hosts"]["h1"]["users"]["alice"]["locations"]
    assert len(loc) == 1
    assert [c["key"] for c in loc[0]["changes"]] == ["coworkEgressAllowedHosts", "inferenceGatewayApiKey"]
    assert loc[0]["task"] == "first; second"


def test_check_mode_is_true_only_when_every_result_came_from_check_mode():
    collector = collector_with_play(["h1", "h2"])
    collector.add_result("h1", "p1", TASK, module_result(location("alice")), check_mode=True)
    assert collector.build(RUN)["run"]["check_mode"] is True
    collector.add_result("h2", "p1", TASK, module_result(location("alice")), check_mode=False)
    assert collector.build(RUN)["run"]["check_mode"] is False


def test_empty_run():
    report = validate(DriftCollector().build(RUN))
    assert report["summary"]["text"] == "0 hosts: no host ran a task of aiohub.claude_desktop"
    assert report["summary"]["drift"] is False


# -- no secret, whatever reaches the report ----------------------------------------------------------

def leaky_report():
    """Values a buggy or future implementation might let through unredacted."""
    collector = collector_with_play(["h1"])
    collector.add_result("h1", "p1", TASK, module_result(location("alice", "drifted", changes=[
        {"key": "inferenceGatewayApiKey", "change": "changed", "before": "plain-old-secret-value", "after": API_KEY},
        {"key": "mcpServers", "change": "changed", "before": {"x": {"env": {"TOKEN": marker(MCP_TOKEN)}}},
         "after": {"x": {"env": {"TOKEN": MCP_TOKEN}}}},
        {"key": "inferenceCustomHeaders", "change": "added", "after": ["X-Api-Key: %s" % OTHER_KEY]},
    ]), location("bob", "error", error="could not parse %s near 'https://u:%s@gw.example'" % (API_KEY, "hunter2"))))
    collector.add_event("h1", "p1", "failed", "Check the gateway", "401 for key %s" % OTHER_KEY)
    return collector.build(RUN)


def test_scrub_replaces_every_credential_and_keeps_existing_fingerprints():
    report = validate(drift.scrub(leaky_report()))
    text = json.dumps(report)
    assert_no_secret(text, (API_KEY, OTHER_KEY, MCP_TOKEN, "plain-old-secret-value", "hunter2"))
    changes = report["hosts"]["h1"]["users"]["alice"]["locations"][0]["changes"]
    assert changes[0]["before"] == marker("plain-old-secret-value") and changes[0]["after"] == marker(API_KEY)
    # A fingerprint the module computed stays as it is, so it can be compared with the module's output.
    assert changes[1]["before"]["x"]["env"]["TOKEN"] == marker(MCP_TOKEN)
    assert changes[1]["after"]["x"]["env"]["TOKEN"] == marker(MCP_TOKEN)
    for rendered in (drift.render_json(report), drift.render_markdown(report), drift.render_html(report)):
        assert_no_secret(rendered, (API_KEY, OTHER_KEY, MCP_TOKEN, "plain-old-secret-value", "hunter2"))


def test_scrub_salt_changes_new_fingerprints_only():
    report = drift.scrub(leaky_report(), salt="site-salt")
    changes = report["hosts"]["h1"]["users"]["alice"]["locations"][0]["changes"]
    assert changes[0]["after"] == marker(API_KEY, salt="site-salt") != marker(API_KEY)
    assert changes[1]["before"]["x"]["env"]["TOKEN"] == marker(MCP_TOKEN)


def test_scrub_leaves_ordinary_values_alone():
    report = fleet_report().build(RUN)
    assert drift.scrub(report) == report


# -- rendering -------------------------------------------------------------------------------------

def test_markdown_has_counts_then_one_row_per_drifted_key():
    text = drift.render_markdown(drift.scrub(fleet_report().build(RUN)))
    assert text.startswith("# Claude Desktop configuration drift\n\n**5 hosts: 2 in sync, 1 drifted (1 user), "
                           "1 error (2 users), 1 unreachable**\n")
    drift_rows = [line.split(" | ")[:5] for line in text.split("## Drift")[1].split("## Hosts")[0].splitlines()
                  if line.startswith("| h") and not line.startswith("| host")]
    assert drift_rows == [
        ["| h2", "alice", "config_file", "`inferenceGatewayApiKey`", "changed"],
        ["| h2", "alice", "config_file", "`inferenceModels`", "removed"],
        ["| h3", "alice", "config_file", "`coworkEgressAllowedHosts`", "added"],
        ["| h3", "bob", "config_file", "", "error"],
    ]
    assert "`%s`" % marker(API_KEY) in text and '`["docs.aiohub.org", "evil.example"]`' in text
    assert "## Hosts without a full result" in text and "| h4 | unreachable |" in text


def test_markdown_escapes_table_breaking_characters():
    collector = collector_with_play(["h|1"])
    collector.add_result("h|1", "p1", TASK, module_result(location("al|ce", "drifted", changes=[
        {"key": "inferenceModels", "change": "added", "after": ["a|b", "`tick`"]}])))
    text = drift.render_markdown(collector.build(RUN))
    row = [line for line in text.splitlines() if "inferenceModels" in line][0]
    assert row.startswith("| h\\|1 | al\\|ce | config_file | `inferenceModels` | added |  | ")
    assert len(re.findall(r"(?<!\\)\|", row)) == 9


def test_markdown_when_everything_is_in_sync():
    collector = collector_with_play(["h1"])
    collector.add_result("h1", "p1", TASK, module_result(location("alice")))
    text = drift.render_markdown(collector.build(RUN))
    assert "**1 host: 1 in sync**" in text and "No drift: every user's configuration matches." in text


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.references = []
        self.tables = {}
        self._table = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "srcset", "action", "data"):
            if name in attrs:
                self.references.append((tag, name, attrs[name]))
        if tag == "link":
            self.references.append((tag, "link", attrs.get("href")))
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = attrs.get("class", "")


def test_html_is_self_contained_sortable_and_escaped():
    collector = fleet_report()
    collector.add_play("p1", "Check drift", ["<script>alert(1)</script>"], True)
    page = drift.render_html(drift.scrub(collector.build(RUN)))
    parser = _Assets()
    parser.feed(page)
    assert parser.references == []
    assert not re.search(r"https?://|url\(|@import", page.split("<body>", maxsplit=1)[0])
    assert "default-src 'none'" in page
    assert parser.tables["drift"] == "sortable" and parser.tables["hosts"] == "sortable"
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<p class="summary" id="summary">6 hosts: 2 in sync, 1 drifted (1 user), 1 error (2 users), ' \
           '1 unreachable, 1 not reached</p>' in page
    assert "localeCompare" in page and "numeric:true" in page


def test_write_report_writes_each_format_atomically(tmp_path):
    report = drift.scrub(fleet_report().build(RUN))
    target = tmp_path / "reports" / "drift"
    written = drift.write_report(report, str(target))
    assert [os.path.basename(p) for p in written] == ["drift.json", "drift.md", "drift.html"]
    assert sorted(os.listdir(target)) == ["drift.html", "drift.json", "drift.md"]
    validate(json.loads((target / "drift.json").read_text()))
    assert drift.write_report(report, str(target), ["md"]) == [str(target / "drift.md")]
    with pytest.raises(ValueError, match="unknown drift report format.*pdf"):
        drift.write_report(report, str(target), ["md", "pdf"])


# -- metadata --------------------------------------------------------------------------------------

def test_collection_version_prefers_manifest_then_galaxy(tmp_path):
    assert drift.collection_version(str(tmp_path)) is None
    (tmp_path / "galaxy.yml").write_text("namespace: aiohub\nname: claude_desktop\nversion: 1.2.3\n")
    assert drift.collection_version(str(tmp_path)) == "1.2.3"
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "2.0.0"}}))
    assert drift.collection_version(str(tmp_path)) == "2.0.0"
    assert drift.collection_version(drift.collection_root()) is not None


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        bad = fleet_report().build(RUN)
        bad["hosts"]["h2"]["users"]["alice"]["status"] = "weird"
        validate(bad)


# --- the in-play summary of playbooks/drift.yml (filter drift_summary) ---------------------------------

def test_play_summary_matches_the_report_statuses():
    results = {
        "h1": {"changed": False, "results": [location("alice")]},
        "h2": {"changed": True, "results": [location("bob", "drifted", changes=[
            {"key": "(file mode and owner)", "change": "changed", "before": "0644 uid 2002", "after": "0600 uid 2002"}])]},
        "h3": {"changed": False, "results": []},                      # a new machine: nobody to configure
        "h4": {"unreachable": True, "msg": "ssh: connect to host 169.254.1.1 port 22: Connection refused"},
    }
    summary = drift.play_summary(["h1", "h2", "h3", "h4"], results, {}, ["h1", "h2", "h3"])
    assert summary["text"] == "4 hosts: 2 in sync, 1 drifted (1 user), 1 unreachable"
    assert summary["hosts"]["h2"]["details"] == ["bob config_file: (file mode and owner) changed"]
    assert summary["hosts"]["h3"] == {"status": "in_sync", "details": [drift.NO_USERS], "users": []}
    assert summary["hosts"]["h4"]["status"] == "unreachable"
    assert summary["drift"] is True
    assert [line.split(":")[0] for line in summary["lines"]] == ["h2", "h4"]


def test_play_summary_of_a_rescued_failure_and_a_host_that_left_the_play():
    summary = drift.play_summary(["h1", "h2"], {}, {"h1": "Configure: boom"}, [])
    assert summary["hosts"]["h1"]["status"] == "failed" and "Configure: boom" in summary["hosts"]["h1"]["details"][0]
    assert summary["hosts"]["h2"]["status"] == "unreachable"


def test_play_summary_of_a_host_whose_configuration_task_was_skipped():
    summary = drift.play_summary(["h1"], {"h1": {"skipped": True, "changed": False}}, {}, ["h1"])
    assert summary["hosts"]["h1"]["status"] == "not_reached"
    assert summary["lines"] == ["h1: not reached - skipped: %s" % drift.PLAY_TASK]
