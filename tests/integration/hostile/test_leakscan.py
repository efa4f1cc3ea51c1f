"""tests/support/leakscan.py finds a key in every form it takes on the way out, and never shows it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.leakscan import LeakScan, fingerprint

KEY = "sk-aiohub-leakscan-5d8e2b7f1c4a9063"


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b'{"inferenceGatewayApiKey": "'])
def test_finds_the_key_in_base64_at_any_alignment(prefix):
    blob = base64.b64encode(prefix + KEY.encode() + b'"}\n')
    hits = LeakScan([KEY]).data(blob, "slurp output")
    assert [hit.encoding for hit in hits] and hits[0].encoding.startswith("base64/")


@pytest.mark.parametrize("text,encoding", [
    ("the key is %s." % KEY, "plain"),
    (json.dumps({"k": KEY}, ensure_ascii=True).replace("-", "\\u002d"), "json-unicode-escaped"),
    ("https://gw/?key=" + KEY.replace("-", "%2D"), "url-encoded"),
    (repr(KEY.encode()).replace("-", "\\x2d"), "hex-escaped"),
    (KEY.encode().hex().upper(), "hex"),
])
def test_finds_the_key_in_other_encodings(text, encoding):
    scan = LeakScan([KEY])
    hits = scan.data(text, "output")
    if encoding:
        assert encoding in [hit.encoding for hit in hits], hits
    with pytest.raises(AssertionError) as failure:
        scan.assert_clean()
    assert KEY not in str(failure.value) and fingerprint(KEY) in str(failure.value)


def test_clean_text_and_fingerprints_pass():
    scan = LeakScan([KEY])
    scan.data("inferenceGatewayApiKey: <redacted:1a2b3c4d>", "diff")
    scan.data(KEY[:-1], "a shorter string")
    scan.assert_clean()


def test_refuses_secrets_too_short_to_scan_for():
    with pytest.raises(ValueError):
        LeakScan(["1234567"])


def test_scans_trees_by_pattern(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "config.json.1.2.bak").write_text(KEY)
    (tmp_path / "a" / "claude_desktop_config.json").write_text(KEY)
    scan = LeakScan([KEY])
    hits = scan.tree(tmp_path, "host", include=("*.bak",))
    assert [hit.where for hit in hits] == ["host: a/config.json.1.2.bak"]


def test_catches_a_real_leak_in_ansible_vvvv_output(tmp_path):
    """Positive control: slurp (what a hand-rolled playbook uses) puts the key in -vvvv output as base64."""
    secret_file = tmp_path / "config.json"
    secret_file.write_text(json.dumps({"enterpriseConfig": {"inferenceGatewayApiKey": KEY}}))
    ansible = str(Path(sys.executable).parent / "ansible")
    proc = subprocess.run([ansible, "localhost", "-m", "ansible.builtin.slurp", "-a", "src=%s" % secret_file,
                           "-e", "ansible_python_interpreter=%s" % sys.executable, "-vvvv"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hits = LeakScan([KEY]).run(proc, "slurp -vvvv")
    assert any(hit.encoding.startswith("base64/") for hit in hits), hits
