"""Hostile documents for the engine itself (no fleet): content that is valid, accepted by the module
(under max_file_size) and still makes the redaction of diffs and results slow or wrong.

Found this way and fixed in ``plugins/module_utils/redact.py``: an unbounded URL scheme pattern
backtracked quadratically over a long token (100 KB took ~12 s per redaction pass, 1 MB ~20 min); the
scheme is now bounded to 32 characters (100 KB in ~0.05 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / ".cache" / "collections"
API_KEY = "sk-aiohub-hostile-docs-3e7a9c1f5b2d8046"

# One user's file through the module's own code path (PosixRunner, explicit ``path``, --check --diff): the
# file is read, its credentials join the redactor, plan_config_file renders the redacted diff. Then the
# result is scrubbed the way the action plugin does on the controller (Redactor.text on every string of
# the result). Prints the diff and the seconds each step took.
PLAN = textwrap.dedent("""
    import json, os, sys, tempfile, time
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import argument_spec
    from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_runner import PosixRunner
    from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "claude_desktop_config.json")
    with open(path, "wb") as handle:
        handle.write(sys.stdin.buffer.read())
    os.chmod(path, 0o600)
    params = dict((name, spec.get("default")) for name, spec in argument_spec().items())
    params.update(path=path, layout="config_file", users=None,
                  settings={"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": "https://api.aiohub.org",
                            "inferenceGatewayApiKey": None},
                  secret_settings={"inferenceGatewayApiKey": sys.argv[2]})
    started = time.monotonic()
    runner = PosixRunner(params, check_mode=True, want_diff=True, on_warning=lambda text: None,
                         effective_uid=os.geteuid())
    results, diffs = runner.run()
    planned = time.monotonic()
    assert not results[0]["error"], results[0]["error"]
    scrubbed = Redactor([sys.argv[2]]).text(json.dumps(diffs))
    print(json.dumps({"plan_seconds": planned - started, "scrub_seconds": time.monotonic() - planned,
                      "after": diffs[0]["after"], "scrubbed_bytes": len(scrubbed)}))
""")


def plan_with_diff(document, timeout):
    """Run PLAN in a subprocess; None when it did not finish within ``timeout`` seconds."""
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    try:
        proc = subprocess.run([sys.executable, "-c", PLAN, str(COLLECTIONS), API_KEY], input=data, check=False,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def test_ordinary_file_plans_with_diff_in_milliseconds():
    document = {"mcpServers": {"github": {"command": "github-mcp", "env": {"GITHUB_TOKEN": "ghp_" + "a1" * 18}}},
                "preferences": {"menuBarEnabled": True}}
    result = plan_with_diff(document, timeout=60)
    assert result["plan_seconds"] < 0.5 and result["scrub_seconds"] < 0.5, result
    assert "<redacted:" in result["after"] and API_KEY not in result["after"]
    assert "ghp_" not in result["after"]


def test_long_token_value_does_not_stall_the_diff():
    # An MCP server argument holding a long hex blob (a pinned key, an inline payload): 100 KB, one token.
    document = {"mcpServers": {"signer": {"command": "signer", "args": ["--pinned", "ab" * 50000]}}}
    result = plan_with_diff(document, timeout=8)
    assert result is not None, "planning one 100 KB file with --diff took more than 8 s"
    assert result["plan_seconds"] < 2 and result["scrub_seconds"] < 2, result


def test_short_env_values_do_not_garble_the_diff():
    """A short secret-looking value (an MCP env value "1") is hidden where it sits, not inside every string."""
    document = {"mcpServers": {"tool": {"command": "/opt/tool1/bin/run", "args": ["--level", "1"],
                                        "env": {"DEBUG": "1"}}}}
    result = plan_with_diff(document, timeout=60)
    after = json.loads(result["after"])
    assert after["mcpServers"]["tool"]["command"] == "/opt/tool1/bin/run"
    assert after["mcpServers"]["tool"]["args"] == ["--level", "1"]
    assert after["mcpServers"]["tool"]["env"]["DEBUG"].startswith("<redacted:")
