"""posix_fs.SafeDir against real temporary directories: symlinks, owners, hard links, atomic writes.

The tests run as root (CI does) and give files to uids that need not exist in /etc/passwd.
"""

from __future__ import annotations

import errno
import os
import re
import stat

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import posix_fs
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_fs import (
    TEMP_SUFFIX, ConcurrentChangeError, Identity, SafeDir, UnsafePathError, attributes_need_fix, describe_os_error,
    owner_writable,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create files owned by other uids")

UID, GID = 42420, 42421
OTHER_UID = 43430


@pytest.fixture
def identity():
    return Identity("alice", UID, GID)


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir(mode=0o750)
    os.chown(path, UID, GID)
    return path


@pytest.fixture
def root(home, identity):
    directory = SafeDir.open_root(str(home), identity)
    yield directory
    directory.close()


def make_file(path, content=b"{}", uid=UID, gid=GID, mode=0o600):
    path.write_bytes(content)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


def temp_files(directory):
    return [name for name in os.listdir(directory) if name.endswith(TEMP_SUFFIX)]


# --- opening directories -----------------------------------------------------------------------------

def test_open_root_refuses_a_home_owned_by_someone_else(tmp_path, identity):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    os.chown(foreign, OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafePathError) as info:
        SafeDir.open_root(str(foreign), identity)
    assert info.value.errno == errno.EPERM
    assert str(foreign) in info.value.strerror and "uid %d" % OTHER_UID in info.value.strerror


def test_open_root_accepts_root_owned(tmp_path, identity):
    with SafeDir.open_root(str(tmp_path), identity) as directory:
        assert directory.fd is not None
    assert directory.fd is None


def test_open_root_of_a_missing_directory_names_it(tmp_path, identity):
    with pytest.raises(FileNotFoundError) as info:
        SafeDir.open_root(str(tmp_path / "gone"), identity)
    assert str(tmp_path / "gone") in info.value.strerror


def test_child_creates_private_directories_owned_by_the_user(root, home):
    with root.walk([".config", "Claude-3p"], create=True) as directory:
        assert directory.path == os.path.join(str(home), ".config", "Claude-3p")
    for path in (home / ".config", home / ".config" / "Claude-3p"):
        info = os.lstat(path)
        assert stat.S_ISDIR(info.st_mode)
        assert (info.st_uid, info.st_gid) == (UID, GID)
        assert stat.S_IMODE(info.st_mode) == 0o700


def test_walk_without_create_returns_none_for_a_missing_component(root, home):
    (home / ".config").mkdir()
    os.chown(home / ".config", UID, GID)
    assert root.walk([".config", "Claude-3p"]) is None
    assert not (home / ".config" / "Claude-3p").exists()


def test_walk_of_nothing_is_the_same_directory(root):
    with root.walk([]) as same:
        assert same.path == root.path and same.fd != root.fd
        assert os.fstat(same.fd).st_ino == os.fstat(root.fd).st_ino


def test_walk_keeps_existing_directories_untouched(root, home):
    existing = home / ".config"
    existing.mkdir(mode=0o755)
    os.chown(existing, UID, GID)
    os.chmod(existing, 0o755)
    root.walk([".config", "Claude-3p"], create=True).close()
    assert stat.S_IMODE(os.lstat(existing).st_mode) == 0o755


@pytest.mark.parametrize("depth", [0, 1])
def test_symlinked_directory_component_is_refused(root, home, tmp_path, depth):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.chown(outside, UID, GID)
    components = [".config", "Claude-3p"]
    parent = home
    for name in components[:depth]:
        parent = parent / name
        parent.mkdir()
        os.chown(parent, UID, GID)
    link = parent / components[depth]
    os.symlink(str(outside), str(link))
    os.lchown(link, UID, GID)
    with pytest.raises(UnsafePathError) as info:
        root.walk(components, create=True)
    assert info.value.errno == errno.ELOOP
    assert str(link) in info.value.strerror and "symlink" in info.value.strerror
    assert os.listdir(outside) == []


def test_file_in_place_of_a_directory_is_refused(root, home):
    make_file(home / ".config", b"")
    with pytest.raises(UnsafePathError) as info:
        root.walk([".config", "Claude-3p"], create=True)
    assert info.value.errno == errno.ENOTDIR and "not a directory" in info.value.strerror


def test_directory_owned_by_another_user_is_refused(root, home):
    (home / ".config").mkdir()
    os.chown(home / ".config", OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafePathError) as info:
        root.walk([".config"], create=True)
    assert info.value.errno == errno.EPERM
    assert "uid %d" % OTHER_UID in info.value.strerror and "alice" in info.value.strerror


def test_root_owned_directory_is_accepted(root, home):
    (home / ".config").mkdir()
    root.walk([".config"]).close()


# --- reading files -----------------------------------------------------------------------------------

def test_read_missing_file(root):
    assert root.read("claude_desktop_config.json") == (None, None)
    assert root.file_info("claude_desktop_config.json") is None


def test_read_returns_bytes_and_stat(root, home):
    make_file(home / "c.json", b'{"a": 1}')
    data, info = root.read("c.json")
    assert data == b'{"a": 1}'
    assert info.st_uid == UID and info.st_size == 8
    assert root.file_info("c.json").st_ino == info.st_ino


def test_read_accepts_a_root_owned_file(root, home):
    make_file(home / "c.json", b"{}", uid=0, gid=0)
    assert root.read("c.json")[0] == b"{}"


def test_read_refuses_a_symlinked_file(root, home, tmp_path):
    target = make_file(tmp_path / "secret", b"root only", uid=0, gid=0)
    os.symlink(str(target), str(home / "c.json"))
    with pytest.raises(UnsafePathError) as info:
        root.read("c.json")
    assert info.value.errno == errno.ELOOP and "symlink" in info.value.strerror
    with pytest.raises(UnsafePathError):
        root.file_info("c.json")


def test_read_refuses_a_file_of_another_user(root, home):
    make_file(home / "c.json", uid=OTHER_UID)
    with pytest.raises(UnsafePathError) as info:
        root.read("c.json")
    assert info.value.errno == errno.EPERM
    assert str(home / "c.json") in info.value.strerror and "uid %d" % OTHER_UID in info.value.strerror


def test_read_refuses_hard_links(root, home, tmp_path):
    make_file(home / "c.json")
    os.link(str(home / "c.json"), str(tmp_path / "elsewhere.json"))
    with pytest.raises(UnsafePathError) as info:
        root.read("c.json")
    assert info.value.errno == errno.EMLINK and "2 hard links" in info.value.strerror


def test_read_refuses_a_fifo_without_blocking(root, home):
    os.mkfifo(str(home / "c.json"))
    os.chown(home / "c.json", UID, GID)
    with pytest.raises(UnsafePathError) as info:
        root.read("c.json")
    assert info.value.errno == errno.EINVAL and "not a regular file" in info.value.strerror


def test_read_refuses_a_directory(root, home):
    (home / "c.json").mkdir()
    os.chown(home / "c.json", UID, GID)
    with pytest.raises(UnsafePathError):
        root.read("c.json")


def test_read_size_limit(root, home):
    make_file(home / "c.json", b"x" * 2048)
    with pytest.raises(UnsafePathError) as info:
        root.read("c.json", max_size=1024)
    assert info.value.errno == errno.EFBIG and "max_file_size" in info.value.strerror
    assert root.read("c.json", max_size=4096)[0] == b"x" * 2048
    assert root.read("c.json", max_size=0)[0] == b"x" * 2048


# --- atomic writes -----------------------------------------------------------------------------------

def test_write_creates_a_private_file_owned_by_the_user(root, home):
    old_umask = os.umask(0)
    try:
        root.write_atomic("c.json", b'{"a": 1}\n')
    finally:
        os.umask(old_umask)
    info = os.lstat(home / "c.json")
    assert (home / "c.json").read_bytes() == b'{"a": 1}\n'
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert (info.st_uid, info.st_gid) == (UID, GID)
    assert info.st_nlink == 1
    assert temp_files(home) == []


def test_write_replaces_an_existing_file_atomically(root, home):
    make_file(home / "c.json", b"old", mode=0o644)
    before_inode = os.lstat(home / "c.json").st_ino
    _data, info = root.read("c.json")
    root.write_atomic("c.json", b"new", expected=info)
    after = os.lstat(home / "c.json")
    assert (home / "c.json").read_bytes() == b"new"
    assert after.st_ino != before_inode
    assert stat.S_IMODE(after.st_mode) == 0o600
    assert temp_files(home) == []


def test_write_of_a_large_content(root, home):
    content = os.urandom(3 * 1024 * 1024)
    root.write_atomic("big.bin", content)
    assert (home / "big.bin").read_bytes() == content


def test_write_detects_a_change_between_read_and_rename(root, home):
    make_file(home / "c.json", b'{"a": 1}')
    _data, info = root.read("c.json")
    (home / "c.json").write_bytes(b'{"a": 1, "app": "wrote this"}')
    with pytest.raises(ConcurrentChangeError) as info_exc:
        root.write_atomic("c.json", b"ours", expected=info)
    assert info_exc.value.errno == errno.EAGAIN and str(home / "c.json") in info_exc.value.strerror
    assert (home / "c.json").read_bytes() == b'{"a": 1, "app": "wrote this"}'
    assert temp_files(home) == []


def test_write_detects_a_file_replaced_by_rename(root, home):
    make_file(home / "c.json", b"12345")
    _data, info = root.read("c.json")
    make_file(home / "other", b"54321")
    os.rename(str(home / "other"), str(home / "c.json"))
    with pytest.raises(ConcurrentChangeError):
        root.write_atomic("c.json", b"ours", expected=info)
    assert (home / "c.json").read_bytes() == b"54321"


def test_write_detects_a_file_created_after_we_saw_none(root, home):
    make_file(home / "c.json", b"app")
    with pytest.raises(ConcurrentChangeError):
        root.write_atomic("c.json", b"ours", expected=None)
    assert (home / "c.json").read_bytes() == b"app"


def test_write_detects_a_file_deleted_after_we_read_it(root, home):
    make_file(home / "c.json", b"app")
    _data, info = root.read("c.json")
    os.unlink(home / "c.json")
    with pytest.raises(ConcurrentChangeError):
        root.write_atomic("c.json", b"ours", expected=info)
    assert not (home / "c.json").exists()


def test_write_never_follows_a_symlink_planted_after_the_read(root, home, tmp_path):
    victim = make_file(tmp_path / "victim", b"root data", uid=0, gid=0, mode=0o644)
    os.symlink(str(victim), str(home / "c.json"))
    with pytest.raises(ConcurrentChangeError):
        root.write_atomic("c.json", b"attacker content", expected=None)
    assert victim.read_bytes() == b"root data"
    assert os.lstat(victim).st_uid == 0
    assert os.path.islink(home / "c.json")
    assert temp_files(home) == []


def test_write_into_a_directory_swapped_for_a_symlink_stays_in_the_opened_directory(root, home, tmp_path):
    """The directory fd pins the real directory: swapping the path afterwards does not redirect the write."""
    with root.walk(["Claude-3p"], create=True) as directory:
        outside = tmp_path / "outside"
        outside.mkdir()
        os.rename(str(home / "Claude-3p"), str(home / "moved"))
        os.symlink(str(outside), str(home / "Claude-3p"))
        directory.write_atomic("c.json", b"x")
    assert os.listdir(outside) == []
    assert (home / "moved" / "c.json").read_bytes() == b"x"


def test_write_reports_a_failure_to_create_the_temp_file(root, home):
    # Root bypasses permission bits, so provoke ENOENT instead: the directory is removed while open.
    with root.walk(["d"], create=True) as directory:
        os.rmdir(home / "d")
        with pytest.raises(OSError) as info:
            directory.write_atomic("c.json", b"x")
    assert "cannot create a temporary file next to %s" % (home / "d" / "c.json") in info.value.strerror


def test_stale_temp_files_are_removed_and_nothing_else(root, home, tmp_path):
    stale = make_file(home / (".c.json.0123456789ab" + TEMP_SUFFIX), b"half")
    other_name = make_file(home / (".d.json.0123456789ab" + TEMP_SUFFIX), b"keep")
    foreign = make_file(home / (".c.json.ffffffffffff" + TEMP_SUFFIX), b"keep", uid=OTHER_UID)
    target = make_file(tmp_path / "target", b"keep")
    link = home / (".c.json.eeeeeeeeeeee" + TEMP_SUFFIX)
    os.symlink(str(target), str(link))
    keep = make_file(home / "c.json", b"{}")
    root.remove_stale_temp_files("c.json")
    assert not stale.exists()
    assert other_name.exists() and foreign.exists() and keep.exists() and os.path.islink(link)
    assert target.read_bytes() == b"keep"


# --- unlink, attributes, backups -------------------------------------------------------------------------

def test_unlink_checks_the_file_is_the_one_we_read(root, home):
    make_file(home / "c.json", b"1")
    _data, info = root.read("c.json")
    (home / "c.json").write_bytes(b"22")
    with pytest.raises(ConcurrentChangeError):
        root.unlink("c.json", expected=info)
    assert (home / "c.json").exists()
    _data, info = root.read("c.json")
    root.unlink("c.json", expected=info)
    assert not (home / "c.json").exists()


def test_unlink_of_a_missing_file_is_fine(root):
    root.unlink("gone.json", expected=None)


def test_fix_attributes(root, home):
    make_file(home / "c.json", b"{}", uid=0, gid=0, mode=0o644)
    info = root.file_info("c.json")
    assert attributes_need_fix(info, root.identity)
    assert root.fix_attributes("c.json", info) is True
    fixed = os.lstat(home / "c.json")
    assert (fixed.st_uid, fixed.st_gid, stat.S_IMODE(fixed.st_mode)) == (UID, GID, 0o600)
    assert not attributes_need_fix(fixed, root.identity)
    assert root.fix_attributes("c.json", fixed) is False


def test_fix_attributes_detects_a_replaced_file(root, home):
    make_file(home / "c.json", b"{}", mode=0o644)
    info = root.file_info("c.json")
    make_file(home / "new", b"{}", mode=0o644)
    os.rename(str(home / "new"), str(home / "c.json"))  # a new inode (unlink + create could reuse the old one)
    with pytest.raises(ConcurrentChangeError):
        root.fix_attributes("c.json", info)


def test_attribute_helpers(identity):
    assert not attributes_need_fix(None, identity)
    assert owner_writable(None)


def test_backup_is_private_and_owned_by_the_user(root, home):
    path = root.backup("c.json", b"old content")
    assert os.path.dirname(path) == str(home)
    assert re.match(r"^c\.json\.%d\.\d{8}-\d{6}\.bak$" % os.getpid(), os.path.basename(path))
    info = os.lstat(path)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (UID, GID, 0o600)
    assert open(path, "rb").read() == b"old content"


def test_two_backups_in_the_same_second_both_succeed(root, home, monkeypatch):
    monkeypatch.setattr(posix_fs.time, "strftime", lambda _format: "20260101-000000")
    first = root.backup("c.json", b"one")
    second = root.backup("c.json", b"two")
    assert first != second


def test_write_atomic_honours_its_mode_argument(root, home):
    root.write_atomic("c.json", b"{}", mode=0o640)
    assert stat.S_IMODE(os.lstat(home / "c.json").st_mode) == 0o640


def test_describe_os_error():
    assert describe_os_error(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device (ENOSPC)"
    assert describe_os_error(OSError("plain")) == "plain"
