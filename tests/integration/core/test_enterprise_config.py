"""enterprise_config end to end: real ansible-playbook runs against localhost with private test users.

What a user of the core issue does, and what must hold: converge then ``changed=false``, other keys
untouched, files 0600 owned by each user, check mode touching nothing, a redacted diff, no key anywhere
in ``-vvvv`` output, and every bad input giving a clear error with the file left byte-for-byte as it was.
"""

import json
import os
import stat

import pytest

from tests.integration.core.conftest import API_KEY, OTHER_KEY, gateway_settings

CONFIG_TASK = "aiohub.claude_desktop.enterprise_config"


def task(**arguments):
    arguments.setdefault("users", "all")
    return {"name": "Manage Claude Desktop enterpriseConfig", CONFIG_TASK: arguments, "register": "outcome"}


def show_outcome():
    return {"name": "Show the outcome", "ansible.builtin.debug": {"var": "outcome.results"}}


def recap(output):
    line = [text for text in output.splitlines() if text.startswith("localhost")][-1]
    return dict(item.split("=") for item in line.split(":", 1)[1].split())


def snapshot(sandbox):
    """Bytes, mode and mtime of every file under the sandbox homes."""
    found = {}
    for root, _dirs, files in os.walk(sandbox.homes):
        for name in files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            found[path] = (open(path, "rb").read() if stat.S_ISREG(info.st_mode) else None, info.st_mode,
                           info.st_mtime_ns)
    return found


def assert_ok(result):
    assert result.returncode == 0, result.stdout + result.stderr


# -- converge, idempotence, ownership ----------------------------------------------------------

def test_converges_every_user_then_reports_no_change(sandbox):
    sandbox.write_config("alice", {
        "mcpServers": {"files": {"command": "/usr/local/bin/mcp-files", "env": {"FILES_TOKEN": "tok-abcdef123456"}}},
        "preferences": {"theme": "dark"},
        "deploymentMode": "3p",
        "enterpriseConfig": {"disableAutoUpdates": True, "inferenceModels": ["claude-sonnet-4-6"]},
    }, mode=0o644)
    playbook = sandbox.write_playbook("converge", [task(settings=gateway_settings())])

    first = sandbox.playbook(playbook)
    assert_ok(first)
    assert recap(first.stdout)["changed"] == "1"

    alice = sandbox.read_config("alice")
    assert list(alice) == ["mcpServers", "preferences", "deploymentMode", "enterpriseConfig"]
    assert alice["mcpServers"]["files"]["env"]["FILES_TOKEN"] == "tok-abcdef123456"
    assert alice["preferences"] == {"theme": "dark"}
    assert alice["deploymentMode"] == "3p"
    assert list(alice["enterpriseConfig"]) == ["disableAutoUpdates", "inferenceModels", "inferenceProvider",
                                               "inferenceGatewayBaseUrl", "inferenceGatewayApiKey",
                                               "coworkEgressAllowedHosts"]
    assert alice["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY
    assert sandbox.read_config("bob") == {"enterpriseConfig": gateway_settings()}

    for user in ("alice", "bob"):
        info = os.stat(sandbox.config_file(user))
        assert (info.st_uid, info.st_gid) == (sandbox.uid(user), sandbox.uid(user))
        assert stat.S_IMODE(info.st_mode) == 0o600
    created_dir = os.stat(sandbox.app_dir("bob"))
    assert stat.S_IMODE(created_dir.st_mode) == 0o700 and created_dir.st_uid == sandbox.uid("bob")

    before = snapshot(sandbox)
    second = sandbox.playbook(playbook)
    assert_ok(second)
    assert recap(second.stdout)["changed"] == "0"
    assert snapshot(sandbox) == before


def test_macos_layout_uses_application_support(mac_sandbox):
    playbook = mac_sandbox.write_playbook("macos", [task(settings=gateway_settings(), platform="macos")])
    assert_ok(mac_sandbox.playbook(playbook))
    path = mac_sandbox.home("carol") / "Library" / "Application Support" / "Claude-3p" / "claude_desktop_config.json"
    assert json.loads(path.read_text())["enterpriseConfig"]["inferenceGatewayBaseUrl"] == "https://api.aiohub.org"
    assert recap(mac_sandbox.playbook(playbook).stdout)["changed"] == "0"


def test_named_users_only_touch_those_users(sandbox):
    playbook = sandbox.write_playbook("named", [task(users=["bob"], settings=gateway_settings())])
    assert_ok(sandbox.playbook(playbook))
    assert sandbox.config_file("bob").exists()
    assert not sandbox.config_file("alice").exists()


def test_unknown_user_fails_only_that_user(sandbox):
    playbook = sandbox.write_playbook("unknown", [task(users=["bob", "mallory"], settings=gateway_settings())])
    result = sandbox.playbook(playbook)
    assert result.returncode == 2
    assert "no local user named 'mallory'" in result.stdout
    assert sandbox.config_file("bob").exists()


def test_whitespace_and_key_order_differences_are_not_rewritten(sandbox):
    enterprise = dict(gateway_settings())
    reordered = dict(reversed(list(enterprise.items())))
    original = ("{\r\n\"enterpriseConfig\":    " + json.dumps(reordered) + "\r\n}").encode()
    sandbox.write_config("alice", original)
    playbook = sandbox.write_playbook("same", [task(users=["alice"], settings=gateway_settings())])
    result = sandbox.playbook(playbook)
    assert_ok(result)
    assert recap(result.stdout)["changed"] == "0"
    assert sandbox.config_file("alice").read_bytes() == original


def test_type_change_is_a_change(sandbox):
    sandbox.write_config("alice", {"enterpriseConfig": {"disableAutoUpdates": 1}})
    playbook = sandbox.write_playbook("types", [task(users=["alice"], settings={"disableAutoUpdates": True})])
    result = sandbox.playbook(playbook)
    assert_ok(result)
    assert recap(result.stdout)["changed"] == "1"
    assert sandbox.read_config("alice")["enterpriseConfig"]["disableAutoUpdates"] is True


def test_mode_and_owner_are_corrected(sandbox):
    path = sandbox.write_config("alice", {"enterpriseConfig": gateway_settings()}, mode=0o644)
    os.chown(path, 0, 0)
    playbook = sandbox.write_playbook("attrs", [task(users=["alice"], settings=gateway_settings())])
    result = sandbox.playbook(playbook)
    assert_ok(result)
    assert recap(result.stdout)["changed"] == "1"
    info = os.stat(path)
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == sandbox.uid("alice")
    assert recap(sandbox.playbook(playbook).stdout)["changed"] == "0"


# -- check mode and diff ----------------------------------------------------------------------

def test_check_mode_changes_nothing_and_diff_is_redacted(sandbox):
    sandbox.write_config("alice", {"enterpriseConfig": gateway_settings(OTHER_KEY), "preferences": {"a": 1}})
    before = snapshot(sandbox)
    playbook = sandbox.write_playbook("check", [task(settings=gateway_settings()), show_outcome()])
    result = sandbox.playbook(playbook, check=True, diff=True)
    assert_ok(result)
    assert recap(result.stdout)["changed"] == "1"
    assert snapshot(sandbox) == before
    assert not sandbox.app_dir("bob").exists()
    assert "--- before: alice: %s" % sandbox.config_file("alice") in result.stdout
    assert "+++ after: bob: %s" % sandbox.config_file("bob") in result.stdout
    assert '"inferenceGatewayApiKey": "<redacted:' in result.stdout
    assert API_KEY not in result.stdout + result.stderr
    assert OTHER_KEY not in result.stdout + result.stderr
    # A changed key shows as two different fingerprints.
    assert result.stdout.count('"inferenceGatewayApiKey": "<redacted:') >= 3


def test_nothing_in_vvvv_output_reveals_any_key(sandbox):
    sandbox.write_config("alice", {"enterpriseConfig": {"inferenceGatewayApiKey": OTHER_KEY},
                                   "mcpServers": {"x": {"command": "/bin/x", "env": {"TOKEN": "tok-9f8e7d6c5b4a"}}}})
    playbook = sandbox.write_playbook("verbose", [task(settings=gateway_settings(), backup=True), show_outcome()])
    for run in (dict(check=True, diff=True), dict(diff=True), dict(diff=True)):
        result = sandbox.playbook(playbook, verbosity=4, **run)
        assert_ok(result)
        output = result.stdout + result.stderr
        for secret in (API_KEY, OTHER_KEY, "tok-9f8e7d6c5b4a"):
            assert secret not in output
    assert "<redacted:" in output


def test_backup_is_private_and_holds_no_managed_key(sandbox):
    sandbox.write_config("alice", {"enterpriseConfig": {"inferenceGatewayApiKey": OTHER_KEY}, "keep": [1, 2]})
    playbook = sandbox.write_playbook("backup", [task(users=["alice"], settings=gateway_settings(), backup=True),
                                                 show_outcome()])
    result = sandbox.playbook(playbook)
    assert_ok(result)
    backups = [name for name in os.listdir(sandbox.app_dir("alice")) if name.endswith(".bak")]
    assert len(backups) == 1
    backup = sandbox.app_dir("alice") / backups[0]
    info = os.stat(backup)
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == sandbox.uid("alice")
    content = json.loads(backup.read_text())
    assert content["keep"] == [1, 2]
    assert content["enterpriseConfig"]["inferenceGatewayApiKey"].startswith("<redacted:")
    assert OTHER_KEY not in backup.read_text()
    assert str(backup) in result.stdout


# -- remove, exclusive, absent -----------------------------------------------------------------

def test_remove_exclusive_and_absent(sandbox):
    sandbox.write_config("alice", {"other": True, "enterpriseConfig": {"foo": 1, "disableAutoUpdates": True}})
    steps = [
        ("remove", task(users=["alice"], remove=["foo"]), {"disableAutoUpdates": True}),
        ("exclusive", task(users=["alice"], settings={"coworkTabEnabled": False, "disableAutoUpdates": True},
                           exclusive=True), {"disableAutoUpdates": True, "coworkTabEnabled": False}),
        ("absent_key", task(users=["alice"], state="absent", remove=["coworkTabEnabled"]), {"disableAutoUpdates": True}),
    ]
    for name, step, expected in steps:
        assert_ok(sandbox.playbook(sandbox.write_playbook(name, [step])))
        document = sandbox.read_config("alice")
        assert document["enterpriseConfig"] == expected, name
        assert list(document["enterpriseConfig"]) == list(expected), name
        assert document["other"] is True
    assert_ok(sandbox.playbook(sandbox.write_playbook("absent", [task(users=["alice"], state="absent")])))
    assert sandbox.read_config("alice") == {"other": True}
    again = sandbox.playbook(sandbox.write_playbook("absent2", [task(state="absent")]))
    assert recap(again.stdout)["changed"] == "0"
    assert not sandbox.config_file("bob").exists()


# -- bad inputs: clear error, file untouched, other users carry on -------------------------------

BAD_CONTENT = {
    "invalid_json": (b'{"enterpriseConfig": {"a": 1,,}}\n', "is not valid JSON"),
    "top_level_array": (b'[{"enterpriseConfig": {}}]\n', "holds a JSON array at the top level"),
    "enterprise_not_object": (b'{"enterpriseConfig": "gateway"}\n', "'enterpriseConfig' is a JSON string"),
    "not_utf8": (b'{"enterpriseConfig": {"name": "caf\xe9"}}\n', "is not valid UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTENT))
def test_bad_content_is_refused_and_left_untouched(sandbox, case):
    content, message = BAD_CONTENT[case]
    path = sandbox.write_config("alice", content)
    playbook = sandbox.write_playbook(case, [task(settings=gateway_settings())])
    result = sandbox.playbook(playbook)
    assert result.returncode == 2
    assert message in result.stdout
    assert "alice: %s" % path in result.stdout
    assert path.read_bytes() == content
    assert sandbox.read_config("bob")["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY
    assert os.listdir(path.parent) == ["claude_desktop_config.json"]


def test_read_only_file_is_refused(sandbox):
    content = json.dumps({"enterpriseConfig": {"locked": True}}).encode()
    path = sandbox.write_config("alice", content, mode=0o400)
    result = sandbox.playbook(sandbox.write_playbook("ro", [task(settings=gateway_settings())]))
    assert result.returncode == 2
    assert "is read-only (mode 0400)" in result.stdout
    assert path.read_bytes() == content and stat.S_IMODE(os.stat(path).st_mode) == 0o400
    assert sandbox.config_file("bob").exists()


def test_symlinked_config_file_is_refused_and_target_untouched(sandbox, tmp_path):
    victim = tmp_path / "sudoers"
    victim.write_bytes(b"root ALL=(ALL) ALL\n")
    os.chmod(victim, 0o440)
    directory = sandbox.make_dirs("alice", sandbox.app_dir("alice"))
    os.symlink(victim, directory / "claude_desktop_config.json")
    result = sandbox.playbook(sandbox.write_playbook("symlink", [task(settings=gateway_settings())]))
    assert result.returncode == 2
    assert "is a symlink; refusing to follow symlinks" in result.stdout
    assert victim.read_bytes() == b"root ALL=(ALL) ALL\n" and stat.S_IMODE(os.stat(victim).st_mode) == 0o440
    assert os.path.islink(directory / "claude_desktop_config.json")
    assert os.listdir(directory) == ["claude_desktop_config.json"]
    assert sandbox.config_file("bob").exists()


def test_symlinked_app_directory_is_refused_and_target_untouched(sandbox, tmp_path):
    victim = tmp_path / "etc"
    victim.mkdir()
    (victim / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    config = sandbox.make_dirs("alice", sandbox.home("alice") / ".config")
    os.symlink(victim, config / "Claude-3p")
    result = sandbox.playbook(sandbox.write_playbook("symdir", [task(settings=gateway_settings())]))
    assert result.returncode == 2
    assert "Claude-3p is a symlink; refusing to follow symlinks" in result.stdout
    assert sorted(os.listdir(victim)) == ["passwd"]
    assert sandbox.config_file("bob").exists()


def test_invalid_settings_touch_nothing(sandbox):
    playbook = sandbox.write_playbook("invalid", [task(settings={
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://api.aiohub.org/v1",
        "inferenceGatewayApiKey": API_KEY,
        "inferenceTokenWindowHours": 1000,
        "coworkEgressAllowedHosts": '["docs.aiohub.org"]',
    })])
    result = sandbox.playbook(playbook, verbosity=3)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "the app appends /v1/messages" in output
    assert "inferenceTokenWindowHours: must be at most 720" in output
    assert "JSON-encoded string" in output
    assert "nothing was changed on any host" in output
    assert API_KEY not in output
    assert not sandbox.app_dir("alice").exists() and not sandbox.app_dir("bob").exists()


def test_unknown_key_warns_and_strict_fails(sandbox):
    settings = dict(gateway_settings(), inferenceGatwayAuthScheme="bearer")
    warned = sandbox.playbook(sandbox.write_playbook("warn", [task(users=["alice"], settings=settings)]))
    assert_ok(warned)
    assert "inferenceGatwayAuthScheme" in warned.stdout + warned.stderr
    assert "Did you mean inferenceGatewayAuthScheme?" in warned.stdout + warned.stderr
    strict = sandbox.playbook(sandbox.write_playbook("strict", [task(users=["bob"], settings=settings, strict=True)]))
    assert strict.returncode == 2
    assert not sandbox.config_file("bob").exists()


def test_a_host_without_real_users_says_so(tmp_path):
    from tests.support.sandbox import Sandbox, require_sandbox
    require_sandbox()
    empty = Sandbox(tmp_path, users=(), platform="linux")
    result = empty.playbook(empty.write_playbook("nobody", [task(settings=gateway_settings())]))
    assert_ok(result)
    assert "users: all found no local account on this host" in result.stdout + result.stderr
    assert recap(result.stdout)["changed"] == "0"
