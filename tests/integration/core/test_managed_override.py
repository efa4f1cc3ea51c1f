"""Managed takeover detection: a managed plist planted in a temporary root makes the app ignore local files."""

import json
import plistlib

from tests.integration.core.conftest import gateway_settings
from tests.integration.core.test_enterprise_config import assert_ok, task

PLIST = "com.anthropic.claudefordesktop.plist"


def plant(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        plistlib.dump(values, handle)


def results_of(sandbox, result):
    marker = "RESULTS="
    line = [text for text in result.stdout.splitlines() if marker in text][-1]
    return json.loads(line.split(marker, 1)[1].rstrip('"').replace('\\"', '"'))


def managed_task(root, **extra):
    arguments = dict(platform="macos", settings=gateway_settings(),
                     managed_preferences_dir=str(root / "Library" / "Managed Preferences"))
    arguments.update(extra)
    return [task(**arguments),
            {"name": "Print results", "ansible.builtin.debug":
                {"msg": "RESULTS={{ outcome.results | map(attribute='managed_override') | list | to_json }}"}}]


def test_machine_plist_with_connection_keys_takes_over(mac_sandbox, tmp_path):
    root = tmp_path / "root"
    plant(root / "Library" / "Managed Preferences" / PLIST, {"inferenceProvider": "vertex"})
    result = mac_sandbox.playbook(mac_sandbox.write_playbook("managed", managed_task(root)))
    assert_ok(result)
    output = result.stdout + result.stderr
    assert "managed configuration takes precedence over the local file" in output
    assert "inferenceProvider" in output
    assert results_of(mac_sandbox, result) == [True, True]
    assert (mac_sandbox.app_dir("carol") / "claude_desktop_config.json").exists()


def test_per_user_plist_only_affects_that_user(mac_sandbox, tmp_path):
    root = tmp_path / "root"
    plant(root / "Library" / "Managed Preferences" / "dave" / PLIST, {"inferenceGatewayBaseUrl": "https://x.example"})
    result = mac_sandbox.playbook(mac_sandbox.write_playbook("peruser", managed_task(root)))
    assert_ok(result)
    assert results_of(mac_sandbox, result) == [False, True]


def test_update_keys_only_do_not_take_over(mac_sandbox, tmp_path):
    root = tmp_path / "root"
    update_keys_only = {"disableAutoUpdates": "true", "autoUpdaterEnforcementHours": "24"}
    plant(root / "Library" / "Managed Preferences" / PLIST, update_keys_only)
    result = mac_sandbox.playbook(mac_sandbox.write_playbook("updates", managed_task(root)))
    assert_ok(result)
    assert results_of(mac_sandbox, result) == [False, False]
    assert "takes precedence" not in result.stdout + result.stderr


def test_fail_on_managed_stops_before_writing(mac_sandbox, tmp_path):
    root = tmp_path / "root"
    plant(root / "Library" / "Managed Preferences" / PLIST, {"inferenceProvider": "gateway"})
    result = mac_sandbox.playbook(mac_sandbox.write_playbook("failmanaged", managed_task(root, fail_on_managed=True)))
    assert result.returncode == 2
    assert "managed configuration takes precedence" in result.stdout
    assert not mac_sandbox.app_dir("carol").exists() and not mac_sandbox.app_dir("dave").exists()
