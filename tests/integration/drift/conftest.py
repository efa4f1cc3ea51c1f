"""Shared pieces of the drift report tests: the playbooks, variables, keys and report checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.drift import NO_RESULT

REPO = Path(__file__).resolve().parents[3]
DRIFT_PLAYBOOK = REPO / "playbooks" / "drift.yml"
CONVERGE_PLAYBOOK = Path(__file__).resolve().parent / "converge.yml"
SCHEMA = json.loads((REPO / "docs" / "drift-report.schema.json").read_text())
CALLBACK = "aiohub.claude_desktop.drift_report"

API_KEY = "sk-aiohub-drift-test-4b7d1e9a2c6f8035"
PLANTED_KEY = "sk-aiohub-drift-someone-else-0f9e8d7c6b5a"
REPORT_FILES = ("drift.json", "drift.md", "drift.html")

# The key comes from the environment, the way a vault lookup would resolve it on the controller: a key
# given with -e would be printed by ansible-playbook itself at -vvvv ("extra_vars: ...").
ROLE_VARS = {
    "cowork_gateway_api_key": "{{ lookup('ansible.builtin.env', 'DRIFT_TEST_API_KEY') }}",
    "cowork_models": ["claude-sonnet-4-6", "claude-opus-4-7"],
    "cowork_egress_allowed_hosts": ["docs.aiohub.org"],
    "cowork_layout": "both",
}


def callback_env(report_dir, **options):
    """The environment that enables the callback and sends its files to ``report_dir``."""
    env = {"ANSIBLE_CALLBACKS_ENABLED": CALLBACK, "AIOHUB_DRIFT_REPORT_DIR": str(report_dir),
           "DRIFT_TEST_API_KEY": API_KEY}
    env.update(("AIOHUB_DRIFT_REPORT_%s" % name.upper(), value) for name, value in options.items())
    return env


def load_report(report_dir):
    """drift.json, validated against the published schema."""
    report = json.loads((Path(report_dir) / "drift.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    return report


def report_texts(report_dir):
    return {name: (Path(report_dir) / name).read_text() for name in REPORT_FILES}


def assert_no_secret(texts, secrets=(API_KEY, PLANTED_KEY)):
    for name, text in texts.items():
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, "%s leaks %s" % (name, leaked)


def statuses(report):
    return {host: entry["status"] for host, entry in report["hosts"].items()}


def drift_rows(report):
    """(host, user, layout, key, change) of every location that is not in sync, keys included."""
    rows = set()
    for host, entry in report["hosts"].items():
        for user, data in entry["users"].items():
            for location in data["locations"]:
                if location["status"] == "in_sync":
                    continue
                if not location["changes"]:
                    rows.add((host, user, location["layout"], None, location["status"]))
                rows.update((host, user, location["layout"], change["key"], change["change"])
                            for change in location["changes"])
    return rows


def printed_summary(stdout):
    """The summary line the drift playbook prints ("N hosts: ...")."""
    found = re.findall(r'^\s+"(\d+ hosts?: [^"]*)",?$', stdout, re.MULTILINE)
    assert found, "no summary line in the output:\n" + stdout[-3000:]
    return found[0]


def recap(stdout):
    """{host: {ok: n, failed: n, ...}} from the PLAY RECAP."""
    hosts = {}
    for line in stdout.split("PLAY RECAP")[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match:
            hosts[match.group(1)] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2)))
    return hosts


# What the summary says of a host for which the role returned nothing (the role did not run there).
NO_ROLE_RESULT = NO_RESULT


def assert_gate(result, returncode, summary):
    """The drift playbook's own summary line and exit code (its drift gate), from the role's ``cowork_result``."""
    assert NO_ROLE_RESULT not in result.stdout
    assert printed_summary(result.stdout) == summary
    assert result.returncode == returncode, result.stdout[-4000:] + result.stderr[-2000:]
