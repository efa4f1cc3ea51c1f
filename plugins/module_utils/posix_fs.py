# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Symlink-safe file operations inside a user's home directory, for a module running as root (POSIX).

A user owns everything below his home, so he can replace any path component with a symlink at any
time (a link from ``claude_desktop_config.json`` to ``/etc/sudoers``, or from ``Claude-3p`` to
``/etc``). Path-based calls would follow such links. Everything here is therefore relative to
directory file descriptors opened one component at a time with ``O_NOFOLLOW``:

- a component that is a symlink, not a directory, or owned by another user is refused;
- files are read with ``O_NOFOLLOW | O_NONBLOCK`` and must be regular, singly linked and owned by the
  user (or root);
- writes go to a new temp file (``O_CREAT | O_EXCL | O_NOFOLLOW``) in the same directory, which is
  fsync'ed, chown'ed to the user, chmod'ed 0600, then renamed over the target. ``rename`` replaces a
  planted symlink instead of following it, so root never writes outside the user's own files;
- a file that changed between read and rename (the app writing concurrently) is detected and the
  caller re-plans from the new content instead of overwriting it.
"""

from __future__ import annotations

import errno
import os
import stat
import time

O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
TEMP_SUFFIX = ".aiohub-tmp"
DEFAULT_MAX_SIZE = 8 * 1024 * 1024


class UnsafePathError(OSError):
    """A path that must not be used (symlink, foreign owner, not a regular file...)."""


class ConcurrentChangeError(OSError):
    """The file changed on disk between our read and our rename."""


def describe_os_error(exc):
    """A short cause for an OSError: 'No space left on device (ENOSPC)'."""
    name = errno.errorcode.get(exc.errno, "") if getattr(exc, "errno", None) else ""
    text = exc.strerror or str(exc)
    return "%s (%s)" % (text, name) if name else text


def _owner_name(uid):
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return "uid %d" % uid


class Identity(object):
    """Whose files these are: ``uid``/``gid`` own new files; ``root`` means we may chown."""

    def __init__(self, name, uid, gid):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.acting_as_root = os.geteuid() == 0

    def may_own(self, uid):
        return uid in (self.uid, 0)


class SafeDir(object):
    """An open directory reached without following symlinks. Use as a context manager."""

    def __init__(self, fd, path, identity):
        self.fd = fd
        self.path = path
        self.identity = identity

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open_root(cls, path, identity):
        """Open a trusted starting point (a home directory from the user database)."""
        try:
            fd = os.open(path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        except OSError as exc:
            raise type(exc)(exc.errno, "cannot open %s: %s" % (path, describe_os_error(exc)))
        info = os.fstat(fd)
        if not identity.may_own(info.st_uid):
            os.close(fd)
            raise UnsafePathError(errno.EPERM, "%s is owned by %s, not by %s; refusing to write there"
                                  % (path, _owner_name(info.st_uid), identity.name))
        return cls(fd, path, identity)

    def child(self, name, create=False, mode=0o700):
        """Open (and optionally create) the sub-directory ``name``. Returns None if missing and not created."""
        path = os.path.join(self.path, name)
        info = self.lstat(name)
        if info is None:
            if not create:
                return None
            self._mkdir(name, mode, path)
            info = self.lstat(name)
        self._check_dir(info, path)
        try:
            fd = os.open(name, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePathError(exc.errno, "%s is a symlink or not a directory; refusing to follow it" % path)
            raise
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            os.close(fd)
            raise UnsafePathError(errno.EAGAIN, "%s was replaced while being opened; refusing to continue" % path)
        return SafeDir(fd, path, self.identity)

    def walk(self, names, create=False, mode=0o700):
        """Open a chain of sub-directories. Returns None as soon as one is missing (and not created)."""
        current = self
        opened = []
        try:
            for name in names:
                nxt = current.child(name, create=create, mode=mode)
                if nxt is None:
                    return None
                opened.append(nxt)
                current = nxt
            return opened.pop() if opened else SafeDir(os.dup(self.fd), self.path, self.identity)
        finally:
            for directory in opened:
                directory.close()

    def _mkdir(self, name, mode, path):
        try:
            os.mkdir(name, mode, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise type(exc)(exc.errno, "cannot create directory %s: %s" % (path, describe_os_error(exc)))
            return
        fd = os.open(name, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, dir_fd=self.fd)
        try:
            if self.identity.acting_as_root:
                os.fchown(fd, self.identity.uid, self.identity.gid)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def _check_dir(self, info, path):
        if stat.S_ISLNK(info.st_mode):
            raise UnsafePathError(errno.ELOOP, "%s is a symlink; refusing to follow symlinks in a user's home "
                                  "(remove the link and run again)" % path)
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafePathError(errno.ENOTDIR, "%s is not a directory; move it away and run again" % path)
        if not self.identity.may_own(info.st_uid):
            raise UnsafePathError(errno.EPERM, "%s is owned by %s, not by %s or root; refusing to write there "
                                  "(fix its owner and run again)" % (path, _owner_name(info.st_uid), self.identity.name))

    # -- files ---------------------------------------------------------------------------------

    def lstat(self, name):
        """lstat of ``name`` in this directory (never follows a symlink); None when it does not exist."""
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise

    def file_info(self, name):
        """lstat of a file in this directory, validated; None when it does not exist."""
        info = self.lstat(name)
        if info is not None:
            self._check_file(info, os.path.join(self.path, name))
        return info

    def _check_file(self, info, path):
        if stat.S_ISLNK(info.st_mode):
            raise UnsafePathError(errno.ELOOP, "%s is a symlink; refusing to follow symlinks in a user's home "
                                  "(replace it with a regular file or delete it)" % path)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(errno.EINVAL, "%s is not a regular file; move it away and run again" % path)
        if not self.identity.may_own(info.st_uid):
            owner = _owner_name(info.st_uid)
            raise UnsafePathError(errno.EPERM, "%s is owned by %s, not by %s; refusing to read or replace another "
                                  "user's file (fix its owner or delete it)" % (path, owner, self.identity.name))
        if info.st_nlink > 1:
            raise UnsafePathError(errno.EMLINK, "%s has %d hard links; refusing to touch a file that is also "
                                  "reachable elsewhere (replace it with a plain copy)" % (path, info.st_nlink))

    def read(self, name, max_size=DEFAULT_MAX_SIZE):
        """(bytes, stat) of a file, or (None, None) when it does not exist."""
        path = os.path.join(self.path, name)
        try:
            fd = os.open(name, os.O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None, None
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(exc.errno, "%s is a symlink; refusing to follow symlinks in a user's home "
                                      "(replace it with a regular file or delete it)" % path)
            raise type(exc)(exc.errno, "cannot read %s: %s" % (path, describe_os_error(exc)))
        try:
            info = os.fstat(fd)
            self._check_file(info, path)
            if max_size and info.st_size > max_size:
                raise UnsafePathError(errno.EFBIG, "%s is %d bytes, more than max_file_size (%d); a Claude Desktop "
                                      "config is a few KB, so this is not one: move it away or raise max_file_size"
                                      % (path, info.st_size, max_size))
            chunks = []
            while True:
                chunk = os.read(fd, 1024 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks), info
        finally:
            os.close(fd)

    def names(self):
        try:
            return os.listdir(self.fd)
        except (TypeError, NotImplementedError):
            return os.listdir(self.path)

    def remove_stale_temp_files(self, name):
        """Delete temp files a killed earlier run left behind for ``name``."""
        prefix = ".%s." % name
        for entry in self.names():
            if entry.startswith(prefix) and entry.endswith(TEMP_SUFFIX):
                info = self.lstat(entry)
                if info is not None and stat.S_ISREG(info.st_mode) and self.identity.may_own(info.st_uid):
                    os.unlink(entry, dir_fd=self.fd)

    def write_atomic(self, name, content, expected=None, mode=0o600):
        """Replace ``name`` with ``content`` atomically, owned by the user with ``mode``.

        ``expected`` is the stat from our read (None if the file did not exist then); if the file on
        disk is no longer that one, ConcurrentChangeError is raised and nothing is replaced.
        """
        temp = ".%s.%s%s" % (name, os.urandom(6).hex(), TEMP_SUFFIX)
        path = os.path.join(self.path, name)
        fd = self._create_exclusive(temp, path, mode)
        try:
            self._fill(fd, content, path, mode)
            self._ensure_unchanged(name, expected, path)
            os.rename(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            _quietly(os.unlink, temp, dir_fd=self.fd)
            raise
        finally:
            os.close(fd)
        _quietly(os.fsync, self.fd)

    def _create_exclusive(self, temp, path, mode):
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode, dir_fd=self.fd)
        except OSError as exc:
            raise type(exc)(exc.errno, "cannot create a temporary file next to %s: %s"
                            % (path, describe_os_error(exc)))

    def _fill(self, fd, content, path, mode=0o600):
        try:
            view = memoryview(content)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            if self.identity.acting_as_root:
                os.fchown(fd, self.identity.uid, self.identity.gid)
            os.fchmod(fd, mode)
        except OSError as exc:
            raise type(exc)(exc.errno, "cannot write %s: %s" % (path, describe_os_error(exc)))

    def _ensure_unchanged(self, name, expected, path):
        current = self.lstat(name)
        if _identity_of(current) != _identity_of(expected):
            raise ConcurrentChangeError(errno.EAGAIN, "%s changed while it was being updated" % path)

    def unlink(self, name, expected=None):
        path = os.path.join(self.path, name)
        self._ensure_unchanged(name, expected, path)
        try:
            os.unlink(name, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise type(exc)(exc.errno, "cannot delete %s: %s" % (path, describe_os_error(exc)))

    def fix_attributes(self, name, info, mode=0o600):
        """Make an existing file owner-only and owned by the user. Returns True when something changed."""
        changed = False
        fd = os.open(name, os.O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, dir_fd=self.fd)
        try:
            current = os.fstat(fd)
            if (current.st_dev, current.st_ino) != (info.st_dev, info.st_ino):
                raise ConcurrentChangeError(errno.EAGAIN, "%s changed while it was being updated"
                                            % os.path.join(self.path, name))
            if self.identity.acting_as_root and (current.st_uid, current.st_gid) != (self.identity.uid,
                                                                                     self.identity.gid):
                os.fchown(fd, self.identity.uid, self.identity.gid)
                changed = True
            if stat.S_IMODE(current.st_mode) != mode:
                os.fchmod(fd, mode)
                changed = True
        finally:
            os.close(fd)
        return changed

    def backup(self, name, content):
        """Write ``content`` as ``<name>.<pid>.<YYYYmmdd-HHMMSS>.bak`` (0600, the user's). Returns its path."""
        stamp = "%s.%d.%s" % (name, os.getpid(), time.strftime("%Y%m%d-%H%M%S"))
        for attempt in range(100):
            backup_name = "%s.bak" % stamp if attempt == 0 else "%s-%d.bak" % (stamp, attempt)
            try:
                self.write_atomic(backup_name, content, expected=None)
            except ConcurrentChangeError:
                continue
            return os.path.join(self.path, backup_name)
        raise ConcurrentChangeError(errno.EEXIST, "cannot find a free backup name for %s"
                                    % os.path.join(self.path, name))


def attributes_need_fix(info, identity, mode=0o600):
    if info is None:
        return False
    wrong_owner = identity.acting_as_root and (info.st_uid, info.st_gid) != (identity.uid, identity.gid)
    return wrong_owner or stat.S_IMODE(info.st_mode) != mode


def owner_writable(info):
    return info is None or bool(info.st_mode & stat.S_IWUSR)


def _identity_of(info):
    if info is None:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _quietly(func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except OSError:
        pass
