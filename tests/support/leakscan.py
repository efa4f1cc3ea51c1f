"""Find secrets where they must never be: command output, reports, backups, logs (for any test suite).

A secret is found in its plain form and in the encodings it could take on the way out: base64 at every
byte alignment (``slurp`` and module transfers are base64), hex, and JSON ``\\u``, URL ``%XX`` and
``repr``-style ``\\x`` escapes, whole or partial. A hit is reported by where it was found and the secret's
fingerprint, never the secret itself, so a failing test cannot leak it either::

    scan = LeakScan([API_KEY, OTHER_KEY])
    scan.text(result.stdout, "converge stdout")        # or scan.run(result, "converge")
    scan.tree(fleet.host(1).upper / "Users", "host 1", include=("*.bak", "drift.*"))
    scan.assert_clean()                                 # AssertionError listing every hit

``LeakScan.check(secrets, text=..., files=...)`` does it in one call. Secrets shorter than 8 characters
are refused: scanning for them finds them everywhere by chance.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import re
from pathlib import Path

MIN_SECRET_LENGTH = 8
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024


def fingerprint(secret):
    """A short, non-reversible name for a secret in messages (sha256 prefix)."""
    return "secret#" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:10]


def base64_forms(secret):
    """The base64 text of ``secret`` as it appears inside the base64 of any larger data, at each of the
    three byte alignments (only the characters determined by the secret's own bits)."""
    raw = secret.encode("utf-8")
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode("ascii")
        first = -(-8 * offset // 6)                 # first character made of the secret's bits only
        last = (8 * (offset + len(raw))) // 6       # one past the last such character
        forms.append(encoded[first:last])
    return forms


def encoded_forms(secret):
    """{encoding name: text} of the forms of ``secret`` that are searched for as they are (escaped forms are
    found by decoding the scanned data instead, see ``_decoded_views``)."""
    forms = {"plain": secret, "hex": secret.encode("utf-8").hex()}
    for index, form in enumerate(base64_forms(secret)):
        forms["base64/%d" % index] = form
    return forms


_UNICODE_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
_HEX_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_PERCENT = re.compile(rb"%([0-9a-fA-F]{2})")


def _decoded_views(blob):
    """(name, bytes) views of ``blob`` with one kind of escape decoded, so that a secret escaped in full or
    only in part (JSON ``\\u002d``, URL ``%2D``, Python ``\\x2d``) reads plain again."""
    views = []
    if b"\\u" in blob:
        views.append(("json-unicode-escaped", _UNICODE_ESCAPE.sub(
            lambda m: chr(int(m.group(1), 16)).encode("utf-8", "surrogatepass"), blob)))
    if b"\\x" in blob:
        views.append(("hex-escaped", _HEX_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), blob)))
    if b"%" in blob:
        views.append(("url-encoded", _PERCENT.sub(lambda m: bytes((int(m.group(1), 16),)), blob)))
    return views


class Hit(object):
    def __init__(self, where, secret, encoding, offset):
        self.where = where
        self.fingerprint = fingerprint(secret)
        self.encoding = encoding
        self.offset = offset

    def __repr__(self):
        return "%s: %s (%s) at offset %d" % (self.where, self.fingerprint, self.encoding, self.offset)


class LeakScan(object):
    """Collects what was scanned and every hit; ``assert_clean()`` fails the test when there is a hit."""

    def __init__(self, secrets, max_file_bytes=DEFAULT_MAX_FILE_BYTES):
        secrets = sorted(set(s for s in secrets if s))
        short = [fingerprint(s) for s in secrets if len(s) < MIN_SECRET_LENGTH]
        if short:
            raise ValueError("secrets shorter than %d characters cannot be scanned for reliably: %s"
                             % (MIN_SECRET_LENGTH, ", ".join(short)))
        self.secrets = secrets
        self.max_file_bytes = max_file_bytes
        self._needles = [(secret, name, form.encode("utf-8"))
                         for secret in secrets for name, form in encoded_forms(secret).items()]
        self.hits = []
        self.scanned = []

    # -- what to scan ------------------------------------------------------------------------

    def data(self, blob, where):
        """Scan text or bytes; returns the hits found in it."""
        if blob is None:
            return []
        if isinstance(blob, str):
            blob = blob.encode("utf-8", "surrogateescape")
        found = []
        lowered = None
        for secret, encoding, needle in self._needles:
            haystack = blob
            if encoding == "hex":
                lowered = blob.lower() if lowered is None else lowered
                haystack = lowered
            offset = haystack.find(needle)
            if offset >= 0:
                found.append(Hit(where, secret, encoding, offset))
        for encoding, view in _decoded_views(blob):
            for secret in self.secrets:
                offset = view.find(secret.encode("utf-8"))
                if offset >= 0 and not any(hit.fingerprint == fingerprint(secret) for hit in found):
                    found.append(Hit(where, secret, encoding, offset))
        self.scanned.append(where)
        self.hits.extend(found)
        return found

    text = data

    def run(self, completed, where):
        """A ``subprocess.CompletedProcess`` (its stdout and stderr)."""
        return self.data(completed.stdout, "%s: stdout" % where) + self.data(completed.stderr, "%s: stderr" % where)

    def file(self, path, where=None):
        path = Path(path)
        where = where or str(path)
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                with path.open("rb") as handle:
                    blob = handle.read(self.max_file_bytes)
                where += " (first %d bytes)" % self.max_file_bytes
            else:
                blob = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            return []
        return self.data(blob, where)

    def tree(self, root, where=None, include=("*",), exclude=()):
        """Every regular file under ``root`` whose name matches ``include`` and not ``exclude``."""
        root = Path(root)
        found = []
        for directory, dirs, files in os.walk(root, followlinks=False):
            dirs.sort()
            for name in sorted(files):
                if not any(fnmatch.fnmatch(name, pattern) for pattern in include):
                    continue
                if any(fnmatch.fnmatch(name, pattern) for pattern in exclude):
                    continue
                path = Path(directory) / name
                if path.is_symlink() or not path.is_file():
                    continue
                label = "%s: %s" % (where, path.relative_to(root)) if where else str(path)
                found.extend(self.file(path, label))
        return found

    # -- verdict --------------------------------------------------------------------------------

    def assert_clean(self, what="output"):
        assert not self.hits, "%d secret leak(s) in %s (%d places scanned):\n  %s" % (
            len(self.hits), what, len(self.scanned), "\n  ".join(repr(hit) for hit in self.hits))

    @classmethod
    def check(cls, secrets, text=(), files=(), trees=()):
        """One-call form: ``text`` is an iterable of (where, str/bytes), ``files`` of paths, ``trees`` of
        (root, include patterns). Raises AssertionError on any hit; returns the scan otherwise."""
        scan = cls(secrets)
        for where, blob in text:
            scan.data(blob, where)
        for path in files:
            scan.file(path)
        for root, include in trees:
            scan.tree(root, include=include)
        scan.assert_clean()
        return scan


# -- every Ansible run of the suite -------------------------------------------------------------------------

# (where, CompletedProcess) of each ansible/ansible-playbook/molecule run of the current test; the test
# helpers that run them call ``record`` and tests/conftest.py scans the list after every test.
RECORDED = []
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)S?$")


def record(completed, where):
    """Remember a finished Ansible run for the suite-wide scan; returns it unchanged."""
    RECORDED.append((where, completed))
    return completed


def secrets_of(namespace):
    """The credential constants a test module can see (its own and those it imported from conftests):
    names ending in KEY, TOKEN, SECRET or PASSWORD whose value is a literal credential."""
    return sorted(set(value for name, value in namespace.items()
                      if _SECRET_NAME.search(name) and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH
                      and "{{" not in value and "\\" not in value))
