"""The drift check on an SSH fleet: four network-namespace hosts, users under /Users.

The tests of this module are one scenario and run in file order on one fleet:
first run (nothing configured: every user ``missing``) -> converge -> drift planted (drift-h1 left in sync;
drift-h2 a changed API key and a removed key; drift-h3 an added egress host and a corrupt file for bob;
drift-h4 sshd stopped) -> the report names exactly that, leaks no key at -vvvv, the gate fails -> forks 1
gives the same report as many -> --limit -> fix, converge -> in sync again, exit 0.
"""

from __future__ import annotations

import pytest

from tests.integration.drift.conftest import (
    API_KEY, CONVERGE_PLAYBOOK, DRIFT_PLAYBOOK, PLANTED_KEY, ROLE_VARS, assert_gate, assert_no_secret, callback_env,
    drift_rows, load_report, recap, report_texts, statuses,
)
from tests.support.fleet import fleet_fixture

pytestmark = [pytest.mark.fleet, pytest.mark.slow]

fleet = fleet_fixture(4, net="169.254.78", prefix="drift-h", users=("alice", "bob"))

H1, H2, H3, H4 = "drift-h1", "drift-h2", "drift-h3", "drift-h4"
ALL = [H1, H2, H3, H4]
EXTRA_EGRESS = "exfil.example.net"
DRIFTED_SUMMARY = "4 hosts: 1 in sync, 1 drifted (1 user), 1 error (2 users), 1 unreachable"
REPORTS = {}


def run_drift(fleet, report_dir, *args, **kwargs):
    return fleet.playbook(DRIFT_PLAYBOOK, *args, extra_vars=ROLE_VARS, env=callback_env(report_dir), **kwargs)


def converge(fleet):
    result = fleet.playbook(CONVERGE_PLAYBOOK, extra_vars=ROLE_VARS, env={"DRIFT_TEST_API_KEY": API_KEY})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def plant_drift(fleet):
    alice = fleet.config_file("alice")
    document = fleet.read_json(H2, alice)
    document["enterpriseConfig"]["inferenceGatewayApiKey"] = PLANTED_KEY
    del document["enterpriseConfig"]["inferenceModels"]
    fleet.write_file(H2, alice, document, user="alice")

    document = fleet.read_json(H3, alice)
    document["enterpriseConfig"]["coworkEgressAllowedHosts"].append(EXTRA_EGRESS)
    fleet.write_file(H3, alice, document, user="alice")
    fleet.write_file(H3, fleet.config_file("bob"), b'{"enterpriseConfig": {"inferenceProvider": "gateway",', user="bob")

    fleet.stop_sshd(H4)


def test_first_run_reports_every_user_missing(fleet, tmp_path):
    result = run_drift(fleet, tmp_path)
    report = load_report(tmp_path)
    assert statuses(report) == dict.fromkeys(ALL, "missing")
    assert report["summary"]["text"] == "4 hosts: 4 missing (8 users)"
    for host in ALL:
        assert not fleet.exists(host, fleet.app_dir("alice")), "check mode must not create anything"
    location = report["hosts"][H1]["users"]["alice"]["locations"][0]
    assert (location["layout"], location["local_status"]) == ("config_file", "missing")
    assert {change["key"] for change in location["changes"]} == {
        "inferenceProvider", "inferenceGatewayBaseUrl", "inferenceGatewayApiKey", "inferenceGatewayAuthScheme",
        "inferenceModels", "coworkEgressAllowedHosts"}
    assert report["run"]["check_mode"] is True and report["run"]["collection"]["version"]
    assert_no_secret(report_texts(tmp_path))
    assert_gate(result, 2, report["summary"]["text"])


def test_drift_report_names_exactly_who_drifted_where_and_how(fleet, tmp_path):
    converge(fleet)
    plant_drift(fleet)
    result = run_drift(fleet, tmp_path, verbosity=4)
    report = REPORTS["many forks"] = load_report(tmp_path)

    assert statuses(report) == {H1: "in_sync", H2: "drifted", H3: "error", H4: "unreachable"}
    assert drift_rows(report) == {
        (H2, "alice", "config_file", "inferenceGatewayApiKey", "changed"),
        (H2, "alice", "config_file", "inferenceModels", "added"),
        (H3, "alice", "config_file", "coworkEgressAllowedHosts", "changed"),
        (H3, "bob", "config_file", None, "error"),
    }
    h2_changes = dict((c["key"], c) for c in report["hosts"][H2]["users"]["alice"]["locations"][0]["changes"])
    assert h2_changes["inferenceModels"] == {"key": "inferenceModels", "change": "added",
                                             "after": ["claude-sonnet-4-6", "claude-opus-4-7"]}
    key = h2_changes["inferenceGatewayApiKey"]
    assert key["before"].startswith("<redacted:") and key["after"].startswith("<redacted:")
    assert key["before"] != key["after"]
    egress = report["hosts"][H3]["users"]["alice"]["locations"][0]["changes"]
    assert egress == [{"key": "coworkEgressAllowedHosts", "change": "changed",
                       "before": ["docs.aiohub.org", EXTRA_EGRESS], "after": ["docs.aiohub.org"]}]
    bob = report["hosts"][H3]["users"]["bob"]["locations"]
    assert [loc["status"] for loc in bob] == ["error", "in_sync"]
    assert "not valid JSON" in bob[0]["error"] and fleet.config_file("bob") in bob[0]["error"]
    assert report["hosts"][H4]["users"] == {} and report["hosts"][H4]["reason"]
    assert report["summary"]["text"] == DRIFTED_SUMMARY
    # The drift gate fails in the next play, which runs no module of the collection: not part of the report.
    assert [report["hosts"][host]["problems"] for host in (H1, H2, H3)] == [[], [], []]

    texts = report_texts(tmp_path)
    markdown_rows = [line for line in texts["drift.md"].split("## Drift")[1].split("\n## ")[0].splitlines()
                     if line.startswith("| drift-h")]
    assert [row.split(" | ")[:2] for row in markdown_rows] == [
        ["| " + H2, "alice"], ["| " + H2, "alice"], ["| " + H3, "alice"], ["| " + H3, "bob"]]
    assert "| %s | unreachable |" % H4 in texts["drift.md"]
    for host in ALL:
        assert host in texts["drift.html"]
    assert_no_secret(dict(texts, stdout=result.stdout, stderr=result.stderr))

    assert recap(result.stdout)[H4]["unreachable"] == 1
    assert_gate(result, 4, DRIFTED_SUMMARY)
    gate = recap(result.stdout)
    assert (gate[H1]["failed"], gate[H2]["failed"], gate[H3]["failed"]) == (0, 1, 1)
    assert "%s: drifted - alice config_file: inferenceModels added, inferenceGatewayApiKey changed." % H2 \
        in result.stdout
    assert "%s: error - alice config_file: coworkEgressAllowedHosts changed; bob config_file: error: " % H3 \
        in result.stdout


def test_one_fork_gives_the_same_report_as_many(fleet, tmp_path):
    result = run_drift(fleet, tmp_path, forks=1)
    report = load_report(tmp_path)
    assert report["run"]["forks"] == 1 and REPORTS["many forks"]["run"]["forks"] > 1
    assert report["hosts"] == REPORTS["many forks"]["hosts"]
    assert report["summary"] == REPORTS["many forks"]["summary"]
    assert_gate(result, 4, DRIFTED_SUMMARY)


def test_limit_reports_only_the_limited_hosts(fleet, tmp_path):
    result = run_drift(fleet, tmp_path, limit="%s,%s" % (H1, H2))
    report = load_report(tmp_path)
    assert statuses(report) == {H1: "in_sync", H2: "drifted"}
    assert report["run"]["limit"] == "%s,%s" % (H1, H2)
    assert report["summary"]["text"] == "2 hosts: 1 in sync, 1 drifted (1 user)"
    assert_gate(result, 2, report["summary"]["text"])


def test_after_fix_and_converge_the_next_drift_run_is_in_sync(fleet, tmp_path):
    fleet.remove(H3, fleet.config_file("bob"))
    fleet.start_sshd(H4)
    converge(fleet)
    result = run_drift(fleet, tmp_path)
    report = load_report(tmp_path)
    assert statuses(report) == dict.fromkeys(ALL, "in_sync")
    assert report["summary"]["text"] == "4 hosts: 4 in sync" and report["summary"]["drift"] is False
    assert fleet.read_json(H2, fleet.config_file("alice"))["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY
    assert_gate(result, 0, "4 hosts: 4 in sync")
