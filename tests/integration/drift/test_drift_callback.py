"""The drift_report callback on localhost: options, serial batches, names of the module, failures, no_log.

Real ansible-playbook runs against the sandbox's private users. The inventory has three names for localhost
(h1, h2, h3), so that a play has several hosts, forks and serial batches without an SSH fleet.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.integration.drift.conftest import (
    API_KEY, CALLBACK, DRIFT_PLAYBOOK, NO_ROLE_RESULT, ROLE_VARS, assert_no_secret, callback_env, load_report,
    printed_summary, report_texts, statuses,
)
from tests.support.sandbox import Sandbox, require_sandbox

MODULE = "aiohub.claude_desktop.enterprise_config"
SETTINGS = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": "https://api.aiohub.org",
            "inferenceGatewayApiKey": "{{ lookup('ansible.builtin.env', 'DRIFT_TEST_API_KEY') }}"}


@pytest.fixture
def sandbox(tmp_path):
    require_sandbox()
    box = Sandbox(tmp_path / "sandbox", users=("alice", "bob"))
    python = box.inventory.read_text().split("ansible_python_interpreter=")[1].strip()
    box.inventory.write_text("[cowork_hosts]\n" + "".join(
        "%s ansible_connection=local ansible_python_interpreter=%s\n" % (name, python) for name in ("h1", "h2", "h3")))
    return box


def play(name, tasks, **keywords):
    return dict({"name": name, "hosts": "cowork_hosts", "gather_facts": False, "tasks": tasks}, **keywords)


def write(sandbox, name, plays):
    import yaml
    path = sandbox.root / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def compare(**keywords):
    task = {"name": "Compare the configuration", MODULE: {"users": "all", "settings": SETTINGS}}
    task.update(keywords)
    return task


def run(sandbox, playbook, env, *args, **kwargs):
    env = dict(env, DRIFT_TEST_API_KEY=API_KEY)
    return sandbox.playbook(playbook, *args, env=env, **kwargs)


def test_options_from_ansible_cfg_relative_to_the_file(sandbox, tmp_path):
    config = tmp_path / "ci" / "ansible.cfg"
    config.parent.mkdir()
    config.write_text("[defaults]\ncallbacks_enabled = %s\n\n[callback_drift_report]\noutput_dir = reports/drift\n"
                      "formats = md\ntitle = Fleet drift (nightly)\n" % CALLBACK)
    playbook = write(sandbox, "cfg", [play("Check", [compare()])])
    result = run(sandbox, playbook, {"ANSIBLE_CONFIG": str(config)}, check=True)
    assert result.returncode == 0, result.stdout + result.stderr
    target = config.parent / "reports" / "drift"
    assert os.listdir(target) == ["drift.md"]
    text = (target / "drift.md").read_text()
    assert text.startswith("# Fleet drift (nightly)\n\n**3 hosts: 3 missing (6 users)**")
    assert "DRIFT REPORT" in result.stdout and str(target / "drift.md") in result.stdout


def test_options_from_the_environment(sandbox, tmp_path):
    playbook = write(sandbox, "env", [play("Check", [compare()])])
    env = callback_env(tmp_path / "out", formats="json,html", title="Env title", show_summary="false")
    result = run(sandbox, playbook, env, check=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["drift.html", "drift.json"]
    assert load_report(tmp_path / "out")["title"] == "Env title"
    assert "<title>Env title</title>" in (tmp_path / "out" / "drift.html").read_text()
    assert "DRIFT REPORT" not in result.stdout


def test_serial_batches_short_module_name_and_a_skipped_host(sandbox, tmp_path):
    sandbox.write_config("alice", {"enterpriseConfig": dict(SETTINGS, inferenceGatewayApiKey="sk-old-key-0123456789abcdef")})
    task = {"name": "Compare the configuration", "enterprise_config": {"users": "all", "settings": SETTINGS},
            "when": "inventory_hostname != 'h3'"}
    playbook = write(sandbox, "serial", [play("Check in batches", [task], serial=1,
                                              collections=["aiohub.claude_desktop"])])
    result = run(sandbox, playbook, callback_env(tmp_path), check=True, diff=True)
    assert result.returncode == 0, result.stdout + result.stderr
    report = load_report(tmp_path)
    assert statuses(report) == {"h1": "drifted", "h2": "drifted", "h3": "not_reached"}
    assert report["hosts"]["h3"]["reason"] == "skipped: Compare the configuration"
    alice = report["hosts"]["h1"]["users"]["alice"]["locations"][0]
    assert [(c["key"], c["change"]) for c in alice["changes"]] == [("inferenceGatewayApiKey", "changed")]
    assert report["hosts"]["h1"]["users"]["bob"]["status"] == "missing"
    assert report["summary"]["text"] == "3 hosts: 2 drifted (4 users), 1 not reached"
    assert_no_secret(dict(report_texts(tmp_path), stdout=result.stdout), (API_KEY, "sk-old-key-0123456789abcdef"))


def test_failures_count_only_in_plays_that_run_the_module(sandbox, tmp_path):
    fail_h2 = {"name": "Prepare", "ansible.builtin.fail": {"msg": "prerequisite missing on this host"},
               "when": "inventory_hostname == 'h2'"}
    fail_elsewhere = {"name": "Unrelated", "ansible.builtin.fail": {"msg": "unrelated"},
                      "when": "inventory_hostname == 'h1'"}
    playbook = write(sandbox, "failures", [play("Check", [fail_h2, compare()]),
                                           play("Something else", [fail_elsewhere])])
    result = run(sandbox, playbook, callback_env(tmp_path), check=True)
    assert result.returncode == 2
    report = load_report(tmp_path)
    assert statuses(report) == {"h1": "missing", "h2": "failed", "h3": "missing"}
    assert report["hosts"]["h2"]["reason"] == "Prepare: prerequisite missing on this host"
    assert report["hosts"]["h1"]["problems"] == []


def test_a_no_log_task_hides_its_result_from_the_report(sandbox, tmp_path):
    playbook = write(sandbox, "nolog", [play("Check", [compare(no_log=True)])])
    result = run(sandbox, playbook, callback_env(tmp_path), check=True)
    assert result.returncode == 0, result.stdout + result.stderr
    report = load_report(tmp_path)
    assert statuses(report) == dict.fromkeys(("h1", "h2", "h3"), "not_reached")
    assert report["hosts"]["h1"]["reason"] == "no_log hides the result of Compare the configuration"
    assert report["hosts"]["h1"]["users"] == {}


def test_an_unwritable_report_directory_is_a_warning_not_a_failure(sandbox, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    playbook = write(sandbox, "unwritable", [play("Check", [compare()])])
    result = run(sandbox, playbook, callback_env(blocker), check=True)
    assert result.returncode == 0, result.stdout + result.stderr
    output = " ".join((result.stdout + result.stderr).split())
    assert "could not write the drift report to %s" % blocker in output
    assert "AIOHUB_DRIFT_REPORT_DIR" in output


def test_apply_run_is_marked_as_such(sandbox, tmp_path):
    playbook = write(sandbox, "apply", [play("Converge", [compare()])])
    result = run(sandbox, playbook, callback_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    report = load_report(tmp_path)
    assert report["run"]["check_mode"] is False
    assert "mode: apply: statuses are what was found before this run changed it" in \
        (tmp_path / "drift.md").read_text()


def test_callback_documentation_renders():
    result = subprocess.run(["ansible-doc", "-t", "callback", CALLBACK, "--json"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)[CALLBACK]["doc"]
    assert doc["type"] == "notification"
    assert set(doc["options"]) == {"output_dir", "formats", "title", "fingerprint_salt", "show_summary"}
    assert doc["options"]["output_dir"]["env"] == [{"name": "AIOHUB_DRIFT_REPORT_DIR"}]
    assert doc["options"]["output_dir"]["ini"] == [{"section": "callback_drift_report", "key": "output_dir"}]


def test_drift_playbook_without_the_callback_and_without_the_gate(sandbox, tmp_path):
    lines = sandbox.inventory.read_text().splitlines(True)
    sandbox.inventory.write_text("".join(line for line in lines if not line.startswith(("h2 ", "h3 "))))
    result = run(sandbox, DRIFT_PLAYBOOK, {}, extra_vars=dict(ROLE_VARS, cowork_drift_fail=False))
    assert NO_ROLE_RESULT not in result.stdout
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert printed_summary(result.stdout) == "1 host: 1 missing (2 users)"
    assert "enable the drift_report callback: ANSIBLE_CALLBACKS_ENABLED=%s" % CALLBACK in result.stdout
    assert "Drift gate" in result.stdout and "skipping: [h1]" in result.stdout
    assert not sandbox.config_file("alice").exists()
