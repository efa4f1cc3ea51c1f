"""managed_policy / managed_preferences on localhost: real ansible-playbook runs against a scratch
'Managed Preferences' folder and private test users (``tests/support/sandbox.py``).

What must hold: plists with string values, root-owned (machine 0644, per-user 0640 with the user's group),
atomic and idempotent (compared by decoded value), check mode changing nothing, a redacted diff, no key in
``-vvvv`` output, other keys kept unless ``exclusive``, symlinks and shared directories refused.
"""

from __future__ import annotations

import json
import os
import plistlib

from tests.integration.mdm.conftest import (
    API_KEY, OTHER_KEY, PLIST, assert_ok, file_facts, gateway_settings, read_plist, recap, snapshot,
)

MODULE = "aiohub.claude_desktop.managed_policy"


def task(prefs_dir, module=MODULE, **arguments):
    arguments["managed_preferences_dir"] = str(prefs_dir)
    return {"name": "Claude Desktop managed policy", module: arguments, "register": "outcome"}


def show():
    return {"name": "Show the outcome", "ansible.builtin.debug": {"var": "outcome"}}


def outcome(result):
    """The registered result, from the debug task's JSON-ish output."""
    text = result.stdout
    start = text.index('"outcome": {')
    depth, index = 0, text.index("{", start)
    for index in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            break
    return json.loads(text[text.index("{", start):index + 1])


def expected_strings(settings):
    return dict((key, value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
                for key, value in settings.items() if not isinstance(value, bool)) | dict(
        (key, "true" if value else "false") for key, value in settings.items() if isinstance(value, bool))


# -- converge, idempotence, modes ------------------------------------------------------------------------

def test_machine_plist_converges_with_string_values_then_reports_no_change(sandbox, prefs_dir):
    playbook = sandbox.write_playbook("machine", [task(prefs_dir, settings=gateway_settings()), show()])

    first = sandbox.playbook(playbook)
    assert_ok(first)
    assert recap(first.stdout)["changed"] == "1"
    path = prefs_dir / PLIST
    with open(path, "rb") as handle:
        assert handle.read(8) == b"bplist00", "binary, like the plists an MDM client installs"
    assert read_plist(path) == expected_strings(gateway_settings())
    assert read_plist(path)["inferenceModels"] == '["claude-sonnet-4-6",{"name":"claude-opus-4-7","supports1m":true}]'
    assert file_facts(path) == (0, 0, 0o644)
    assert file_facts(prefs_dir) == (0, 0, 0o755)
    result = outcome(first)["results"][0]
    assert (result["user"], result["status"], result["layout"]) == (None, "missing", "managed_preferences")
    assert result["changed_keys"]["added"] == list(gateway_settings())

    before = snapshot(prefs_dir)
    second = sandbox.playbook(playbook)
    assert_ok(second)
    assert recap(second.stdout)["changed"] == "0"
    assert outcome(second)["results"][0]["status"] == "in_sync"
    assert snapshot(prefs_dir) == before


def test_check_mode_changes_nothing_and_the_diff_is_redacted(sandbox, prefs_dir):
    converge = sandbox.write_playbook("converge", [task(prefs_dir, settings=gateway_settings())])
    assert_ok(sandbox.playbook(converge))
    before = snapshot(prefs_dir)

    changed = dict(gateway_settings(OTHER_KEY), inferenceModels=["claude-sonnet-4-6"])
    playbook = sandbox.write_playbook("check", [task(prefs_dir, settings=changed), show()])
    result = sandbox.playbook(playbook, check=True, diff=True)

    assert_ok(result)
    assert recap(result.stdout)["changed"] == "1"
    assert snapshot(prefs_dir) == before
    assert API_KEY not in result.stdout and OTHER_KEY not in result.stdout
    assert "<redacted:" in result.stdout
    assert "<key>inferenceModels</key>" in result.stdout  # the diff shows the plist as XML
    changes = dict((item["key"], item) for item in outcome(result)["results"][0]["key_changes"])
    assert set(changes) == {"inferenceGatewayApiKey", "inferenceModels"}
    assert changes["inferenceGatewayApiKey"]["before"] != changes["inferenceGatewayApiKey"]["after"]

    missing = sandbox.root / "never-created"
    fresh = sandbox.write_playbook("fresh", [task(missing, settings=gateway_settings())])
    assert_ok(sandbox.playbook(fresh, check=True))
    assert not missing.exists(), "check mode creates no directory either"


def test_no_key_in_vvvv_output(sandbox, prefs_dir):
    (prefs_dir).mkdir(mode=0o755)
    plistlib.dump({"inferenceGatewayApiKey": OTHER_KEY, "inferenceProvider": "gateway"},
                  open(prefs_dir / PLIST, "wb"))
    os.chmod(prefs_dir / PLIST, 0o644)
    playbook = sandbox.write_playbook("verbose", [task(prefs_dir, settings=gateway_settings()), show()])

    result = sandbox.playbook(playbook, diff=True, verbosity=4)

    assert_ok(result)
    for secret in (API_KEY, OTHER_KEY):
        assert secret not in result.stdout and secret not in result.stderr
    assert read_plist(prefs_dir / PLIST)["inferenceGatewayApiKey"] == API_KEY


def test_per_user_plists_are_readable_by_the_user_only_through_its_group(sandbox, prefs_dir):
    settings = dict(gateway_settings())
    del settings["inferenceGatewayApiKey"]
    playbook = sandbox.write_playbook("users", [task(
        prefs_dir, scope="user", users=["alice", "bob"], settings=settings,
        user_settings={"alice": {"inferenceGatewayApiKey": API_KEY}, "bob": {"inferenceGatewayApiKey": OTHER_KEY}})])

    assert_ok(sandbox.playbook(playbook))

    for user, key in (("alice", API_KEY), ("bob", OTHER_KEY)):
        path = prefs_dir / user / PLIST
        assert read_plist(path)["inferenceGatewayApiKey"] == key
        assert file_facts(path) == (0, sandbox.uid(user), 0o640)
        assert file_facts(prefs_dir / user) == (0, 0, 0o755)
        reading = sandbox.run(["runuser", "-u", user, "--", "sh", "-c", 'cat "$1" >/dev/null', "read", str(path)])
        assert reading.returncode == 0, reading.stderr
    # Here every user has a group of their own, so another user cannot read the plist (on a Mac, where people
    # share the staff group, the mode still keeps service accounts out).
    other = sandbox.run(["runuser", "-u", "bob", "--", "sh", "-c", 'cat "$1" >/dev/null', "read",
                         str(prefs_dir / "alice" / PLIST)])
    assert other.returncode != 0 and "Permission denied" in other.stderr
    assert not (prefs_dir / PLIST).exists()
    again = sandbox.playbook(playbook)
    assert_ok(again)
    assert recap(again.stdout)["changed"] == "0"


def test_the_same_values_in_another_layout_are_not_rewritten_but_a_native_boolean_is(sandbox, prefs_dir):
    prefs_dir.mkdir(mode=0o755)
    stored = expected_strings(gateway_settings())
    stored["inferenceModels"] = '[ "claude-sonnet-4-6", {"supports1m": true, "name": "claude-opus-4-7"} ]'
    stored["vendorKey"] = "kept"
    with open(prefs_dir / PLIST, "wb") as handle:
        plistlib.dump(stored, handle, fmt=plistlib.FMT_XML)
    os.chmod(prefs_dir / PLIST, 0o644)
    playbook = sandbox.write_playbook("layout", [task(prefs_dir, settings=gateway_settings()), show()])

    before = snapshot(prefs_dir)
    result = sandbox.playbook(playbook)
    assert_ok(result)
    assert recap(result.stdout)["changed"] == "0"
    assert snapshot(prefs_dir) == before

    stored["disableDeploymentModeChooser"] = True  # a native <true/>: undocumented, rewritten as "true"
    with open(prefs_dir / PLIST, "wb") as handle:
        plistlib.dump(stored, handle, fmt=plistlib.FMT_XML)
    result = sandbox.playbook(playbook)
    assert_ok(result)
    entry = outcome(result)["results"][0]
    assert entry["changed_keys"] == {"added": [], "changed": ["disableDeploymentModeChooser"], "removed": []}
    assert "rewritten as the documented string" in entry["notes"][0]
    written = read_plist(prefs_dir / PLIST)
    assert written["disableDeploymentModeChooser"] == "true"
    assert written["vendorKey"] == "kept"


def test_remove_exclusive_and_absent(sandbox, prefs_dir):
    base = sandbox.write_playbook("base", [task(prefs_dir, settings=dict(gateway_settings(), vendorKey="x"),
                                                strict=False)])
    assert_ok(sandbox.playbook(base))

    removal = sandbox.write_playbook("remove", [task(prefs_dir, remove=["coworkEgressAllowedHosts"])])
    assert_ok(sandbox.playbook(removal))
    assert "coworkEgressAllowedHosts" not in read_plist(prefs_dir / PLIST)

    exclusive = sandbox.write_playbook("exclusive", [task(
        prefs_dir, exclusive=True, settings={"disableAutoUpdates": True, "autoUpdaterEnforcementHours": 24})])
    assert_ok(sandbox.playbook(exclusive))
    assert read_plist(prefs_dir / PLIST) == {"disableAutoUpdates": "true", "autoUpdaterEnforcementHours": "24"}

    absent_key = sandbox.write_playbook("absent_key", [task(prefs_dir, state="absent", remove=["disableAutoUpdates"])])
    assert_ok(sandbox.playbook(absent_key))
    assert read_plist(prefs_dir / PLIST) == {"autoUpdaterEnforcementHours": "24"}

    absent = sandbox.write_playbook("absent", [task(prefs_dir, state="absent")])
    assert_ok(sandbox.playbook(absent))
    assert not (prefs_dir / PLIST).exists()
    again = sandbox.playbook(absent)
    assert_ok(again)
    assert recap(again.stdout)["changed"] == "0"


def test_mode_and_owner_are_corrected(sandbox, prefs_dir):
    playbook = sandbox.write_playbook("mode", [task(prefs_dir, settings=gateway_settings()), show()])
    assert_ok(sandbox.playbook(playbook))
    os.chmod(prefs_dir / PLIST, 0o600)  # the app, running as the user, could no longer read it
    os.chmod(prefs_dir, 0o700)

    result = sandbox.playbook(playbook)

    assert_ok(result)
    assert recap(result.stdout)["changed"] == "1"
    assert file_facts(prefs_dir / PLIST) == (0, 0, 0o644)
    assert file_facts(prefs_dir) == (0, 0, 0o755)
    notes = outcome(result)["results"][0]["notes"]
    assert any("can reach the plist" in note for note in notes) and any("0644" in note for note in notes)


# -- refusals ------------------------------------------------------------------------------------------

def test_a_symlinked_user_folder_is_refused_and_the_other_user_still_written(sandbox, prefs_dir):
    prefs_dir.mkdir(mode=0o755)
    elsewhere = sandbox.root / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, prefs_dir / "alice")
    playbook = sandbox.write_playbook("symlink", [task(prefs_dir, scope="user", users=["alice", "bob"],
                                                       settings=gateway_settings())])

    result = sandbox.playbook(playbook)

    assert result.returncode != 0
    assert "alice is a symlink; a per-user managed preferences folder must be a real directory" in result.stdout
    assert list(elsewhere.iterdir()) == []
    assert read_plist(prefs_dir / "bob" / PLIST)["inferenceProvider"] == "gateway"
    assert API_KEY not in result.stdout


def test_a_folder_others_can_write_is_refused(sandbox, prefs_dir):
    prefs_dir.mkdir()
    os.chmod(prefs_dir, 0o777)
    playbook = sandbox.write_playbook("shared", [task(prefs_dir, settings=gateway_settings())])

    result = sandbox.playbook(playbook)

    assert result.returncode != 0
    assert "writable by group or others (mode 0777)" in result.stdout
    assert list(prefs_dir.iterdir()) == []


def test_bad_requests_fail_on_the_controller_before_the_host(sandbox, prefs_dir):
    dotted = sandbox.write_playbook("dotted", [task(prefs_dir, settings={"inferenceGatewayOidc.clientId": "x"},
                                                    check_required_keys=False)])
    result = sandbox.playbook(dotted)
    assert result.returncode != 0
    assert "dotted sub-keys are never read" in result.stdout
    assert not prefs_dir.exists()

    wrong_scope = sandbox.write_playbook("scope", [task(prefs_dir, users=["alice"], settings=gateway_settings())])
    result = sandbox.playbook(wrong_scope)
    assert result.returncode != 0 and "users: only used with scope: user" in result.stdout

    linux_default = sandbox.write_playbook("default_dir", [{
        "name": "Default folder on a Linux host", "aiohub.claude_desktop.managed_preferences": {
            "settings": gateway_settings()}}])
    result = sandbox.playbook(linux_default)
    assert result.returncode != 0
    assert "managed preferences are a macOS mechanism" in result.stdout
    assert not os.path.exists("/Library/Managed Preferences/%s" % PLIST)


def test_a_credential_is_refused_in_a_plist_other_people_can_read(tmp_path, prefs_dir):
    # On a Mac every person's primary group is staff: a 0640 root:staff plist is readable by all of them.
    from tests.support.sandbox import Sandbox
    shared = Sandbox(tmp_path / "shared", users=("alice", "bob"), platform="macos", shared_gid=20)
    settings = dict(gateway_settings())
    del settings["inferenceGatewayApiKey"]
    playbook = shared.write_playbook("shared", [task(
        prefs_dir, scope="user", users=["alice", "bob"], settings=settings,
        user_settings={"alice": {"inferenceGatewayApiKey": API_KEY}, "bob": {"inferenceGatewayApiKey": OTHER_KEY}})])
    result = shared.playbook(playbook)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "inferenceGatewayApiKey would be readable by bob" in output and "credential helper" in output
    assert API_KEY not in output and OTHER_KEY not in output
    assert not (prefs_dir / "alice" / PLIST).exists() and not (prefs_dir / "bob" / PLIST).exists()
    # Without a credential the per-user plist is fine: settings are not secret.
    fine = shared.write_playbook("fine", [task(prefs_dir, scope="user", users=["alice"],
                                               settings={"coworkEgressAllowedHosts": ["docs.aiohub.org"]})])
    assert_ok(shared.playbook(fine))
