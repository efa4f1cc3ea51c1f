"""The engine alone: how long planning one user's file takes, without Ansible, SSH or disk.

Calls ``plugins/module_utils/plan.py`` the way the POSIX module does for one user: the module's own
``PosixRunner._remember_secrets`` adds the credentials already in the file to the redactor, then
``plan_config_file`` parses, merges, compares and serializes (no disk I/O). Two files:

- an ordinary ``claude_desktop_config.json`` (a few MCP servers, preferences, an ``enterpriseConfig``);
- a 1 MB file with 10,000 keys (1,250 MCP servers of 8 keys each, each with an ``env`` map).

Each case runs twice: with a change to make (first converge) and with nothing to change (rerun), and
with ``want_diff`` on (the drift run) and off. Prints milliseconds per user (median of many rounds).

    python benchmarks/engine.py [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".cache" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import (  # noqa: E402
    argument_spec,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import MergeRequest  # noqa: E402
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import plan_config_file  # noqa: E402
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_runner import PosixRunner  # noqa: E402

API_KEY = "sk-aiohub-bench-engine-5f1e9c3a7b2d4e6f8091"
SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": "https://api.aiohub.org",
    "inferenceGatewayApiKey": API_KEY,
    "inferenceGatewayAuthScheme": "bearer",
    "inferenceModels": ["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}],
    "coworkEgressAllowedHosts": ["docs.aiohub.org", "*.example.com"],
}
LABEL = "/Users/alice/.config/Claude-3p/claude_desktop_config.json"


def ordinary_document():
    """What a user's file looks like: a few MCP servers, preferences, no managed keys yet."""
    return {
        "mcpServers": {
            "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/alice"]},
            "github": {"command": "docker", "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
                       "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_exampleexampleexampleexample0000"}},
            "sqlite": {"command": "uvx", "args": ["mcp-server-sqlite", "--db-path", "/Users/alice/test.db"]},
        },
        "preferences": {"quickEntryShortcut": "off", "menuBarEnabled": True, "sidebarMode": "chat"},
        "globalShortcut": "Alt+Space",
    }


def large_document(servers=1250):
    """About 1 MB with 10,000 keys: ``servers`` MCP servers of 8 keys each (name, command, args, env with 2
    variables, cwd, disabled), the way a heavily customised file grows."""
    document = {"mcpServers": {}}
    for index in range(servers):
        document["mcpServers"]["server-%05d" % index] = {
            "command": "/opt/mcp/bin/server-%05d" % index,
            "args": ["--config", "/etc/mcp/server-%05d/config.yaml" % index, "--log-level", "info",
                     "--cache-dir", "/var/cache/mcp/server-%05d" % index, "--description", "x" * 330],
            "env": {"LOG_LEVEL": "info", "API_TOKEN": "tok_%032x" % (index * 7919)},
            "cwd": "/srv/mcp/server-%05d" % index,
            "disabled": False,
        }
    return document


def count_keys(value):
    if isinstance(value, dict):
        return len(value) + sum(count_keys(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_keys(item) for item in value)
    return 0


def encode(document):
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def module_params():
    """The module's parameters as the action plugin sends them (the key moved to secret_settings)."""
    params = dict((name, spec.get("default")) for name, spec in argument_spec().items())
    plain = dict(SETTINGS, inferenceGatewayApiKey=None)
    params.update(users=["alice"], settings=plain, secret_settings={"inferenceGatewayApiKey": API_KEY})
    return params


PARAMS = module_params()


def plan_one_user(data, want_diff):
    """What the module does per user with the bytes it read (posix_runner._config_file, minus I/O)."""
    runner = PosixRunner(PARAMS, check_mode=want_diff, want_diff=want_diff, on_warning=lambda text: None,
                         effective_uid=0)
    runner._remember_secrets(data)  # pylint: disable=protected-access
    request = MergeRequest(settings=dict(SETTINGS))
    return plan_config_file(data, request, runner.redactor, label=LABEL, header="alice: " + LABEL,
                            want_diff=want_diff)


def converged(data):
    """The file after a first converge (the rerun's input)."""
    return plan_one_user(data, want_diff=False).writes[0].content


def time_case(data, want_diff, rounds, expect_change):
    outcome = plan_one_user(data, want_diff)
    if outcome.changed != expect_change:
        raise SystemExit("engine benchmark: expected changed=%s, got %s" % (expect_change, outcome.changed))
    samples = []
    for _round in range(rounds):
        started = time.perf_counter()
        plan_one_user(data, want_diff)
        samples.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(samples)


def measure(rounds=200, large_rounds=7):
    cases = []
    for name, document, count in (("ordinary file", ordinary_document(), rounds),
                                  ("1 MB / 10,000 keys", large_document(), large_rounds)):
        first = encode(document)
        rerun = converged(first)
        cases.append({
            "file": name,
            "bytes": len(first),
            "keys": count_keys(document),
            "first_ms": time_case(first, False, count, True),
            "rerun_ms": time_case(rerun, False, count, False),
            "drift_diff_ms": time_case(first, True, count, True),
        })
    return cases


def print_table(cases, out=sys.stdout):
    header = ("engine, per user", "bytes", "keys", "first ms", "rerun ms", "check+diff ms")
    out.write("%-20s %9s %7s %10s %10s %14s\n" % header)
    for case in cases:
        out.write("%-20s %9d %7d %10.3f %10.3f %14.3f\n" % (
            case["file"], case["bytes"], case["keys"], case["first_ms"], case["rerun_ms"], case["drift_diff_ms"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds for the ordinary file (default 200)")
    parser.add_argument("--large-rounds", type=int, default=7, help="rounds for the 1 MB file (default 7)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    cases = measure(args.rounds, args.large_rounds)
    if args.json:
        json.dump(cases, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(cases)


if __name__ == "__main__":
    main()
