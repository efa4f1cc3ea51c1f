"""posix_users: which accounts are people (login shell, existing home, uid range, no system accounts)."""

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import posix_users
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.layout import LINUX, MACOS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_users import (
    all_real_users, current_user, is_real_user, named_user,
)


def record(name, uid, home, shell="/bin/bash", gid=None):
    return pwd.struct_passwd((name, "x", uid, uid if gid is None else gid, name, str(home), shell))


@pytest.fixture
def homes(tmp_path):
    def make(name):
        path = tmp_path / name
        path.mkdir(exist_ok=True)
        return path
    return make


@pytest.fixture
def passwd(monkeypatch):
    """Replace the user database with the given records."""
    def install(records):
        monkeypatch.setattr(pwd, "getpwall", lambda: list(records))
    return install


# --- is_real_user ---------------------------------------------------------------------------------

@pytest.mark.parametrize("platform, uid, real", [
    (LINUX, 999, False), (LINUX, 1000, True), (LINUX, 60000, True),
    (MACOS, 499, False), (MACOS, 500, True), (MACOS, 501, True),
    ("other-unix", 999, False), ("other-unix", 1000, True),
])
def test_uid_range_per_platform(homes, platform, uid, real):
    assert is_real_user(record("person", uid, homes("person")), platform) is real


@pytest.mark.parametrize("uid", [65534, 4294967294, 4294967295])
@pytest.mark.parametrize("platform", [LINUX, MACOS])
def test_nobody_uids_are_not_people(homes, uid, platform):
    assert not is_real_user(record("nobody", uid, homes("nobody")), platform)


@pytest.mark.parametrize("name", ["_mbsetupuser", "_spotlight", "_x"])
def test_underscore_accounts_are_system_accounts(homes, name):
    assert not is_real_user(record(name, 5000, homes("h")), MACOS)


@pytest.mark.parametrize("shell", ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false",
                                   "/usr/bin/true", "/bin/sync", "/sbin/shutdown", "/sbin/halt", ""])
def test_non_login_shells(homes, shell):
    assert not is_real_user(record("svc", 2000, homes("svc"), shell=shell), LINUX)


@pytest.mark.parametrize("shell", ["/bin/bash", "/bin/zsh", "/usr/bin/fish", "/bin/sh", "/usr/local/bin/bash"])
def test_login_shells(homes, shell):
    assert is_real_user(record("p", 2000, homes("p"), shell=shell), LINUX)


@pytest.mark.parametrize("home", ["", "/", "/nonexistent", "/var/empty"])
def test_placeholder_homes(home):
    assert not is_real_user(record("p", 2000, home), LINUX)


def test_home_must_exist_and_be_a_directory(tmp_path):
    assert not is_real_user(record("p", 2000, tmp_path / "missing"), LINUX)
    (tmp_path / "file").write_text("x")
    assert not is_real_user(record("p", 2000, tmp_path / "file"), LINUX)


# --- all_real_users -----------------------------------------------------------------------------------

def test_all_real_users_filters_sorts_and_deduplicates(passwd, homes, tmp_path):
    passwd([
        record("root", 0, "/root"),
        record("daemon", 1, "/usr/sbin", shell="/usr/sbin/nologin"),
        record("zoe", 1002, homes("zoe")),
        record("nobody", 65534, "/nonexistent", shell="/usr/sbin/nologin"),
        record("alice", 1001, homes("alice"), gid=100),
        record("svc", 1500, homes("svc"), shell="/usr/sbin/nologin"),
        record("gone", 1600, tmp_path / "no-home"),
        record("_builder", 1700, homes("_builder")),
        record("alice", 1001, homes("alice"), gid=100),
    ])
    users = all_real_users(LINUX)
    assert [user.name for user in users] == ["alice", "zoe"]
    alice = users[0]
    assert (alice.uid, alice.gid, alice.home) == (1001, 100, str(homes("alice")))


def test_all_real_users_uses_the_macos_range(passwd, homes):
    passwd([record("mac", 501, homes("mac")), record("linuxish", 999, homes("l")), record("_www", 70, "/Library")])
    assert [user.name for user in all_real_users(MACOS)] == ["linuxish", "mac"]
    assert all_real_users(LINUX) == []


def test_no_people_at_all(passwd):
    passwd([record("root", 0, "/root")])
    assert all_real_users(LINUX) == []


# --- named_user, current_user -----------------------------------------------------------------------------

def test_named_user_returns_any_account_even_a_system_one():
    root = named_user("root")
    assert (root.name, root.uid, root.gid) == ("root", 0, 0)


def test_named_user_missing_says_so(monkeypatch):
    def missing(name):
        raise KeyError(name)
    monkeypatch.setattr(pwd, "getpwnam", missing)
    with pytest.raises(KeyError) as info:
        named_user("mallory")
    assert info.value.args[0] == "no local user named 'mallory' on this host"


def test_current_user():
    user = current_user()
    assert user.uid == os.geteuid()
    assert user.name == pwd.getpwuid(os.geteuid()).pw_name


def test_module_constants():
    assert posix_users.MIN_UID[MACOS] == 500 and posix_users.DEFAULT_MIN_UID == 1000
