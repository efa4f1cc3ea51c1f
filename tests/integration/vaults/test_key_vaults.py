"""API keys from real key vaults, through the role ``aiohub.claude_desktop.cowork``, on three SSH hosts.

An ``ansible-vault``-encrypted variable; OpenBao (``bao server -dev``) read with
``community.hashi_vault.vault_kv2_get`` by token and by AppRole; AWS Secrets Manager (moto) read with
``amazon.aws.secretsmanager_secret``. The playbooks carry no test-only option: the lookups find the
servers through the environment (``VAULT_ADDR``/``VAULT_TOKEN``, ``ANSIBLE_HASHI_VAULT_*``,
``AWS_ENDPOINT_URL``...). Every run is at ``-vvvv`` and its whole output is
scanned for every key used. The fleet's interpreter logs each module execution on each host, so "one
module execution per host" is counted on the hosts themselves.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.secret_stores import find_leaks, merged_env

pytestmark = [pytest.mark.fleet, pytest.mark.slow]

MODULE = "ansible_collections.aiohub.claude_desktop.plugins.modules.enterprise_config"
BASE_URL = "https://api.aiohub.org"
USERS = ("alice", "bob")
HASHI = "community.hashi_vault.vault_kv2_get"
AWS = "amazon.aws.secretsmanager_secret"


def new_key(label):
    return "sk-aiohub-%s-%s" % (label, secrets.token_hex(16))


# -- playbooks -----------------------------------------------------------------------------------

def cowork_play(cowork_vars, play_vars=None):
    """The site playbook a user writes: the role with a few variables (keys from lookups)."""
    variables = dict(play_vars or {})
    variables.update(cowork_vars)
    variables.setdefault("cowork_gateway_base_url", BASE_URL)
    variables.setdefault("cowork_verify_gateway", False)  # the preflight has its own tests
    return [{"name": "Point Claude Desktop at the gateway with keys from the vault", "hosts": "fleet",
             "gather_facts": False, "vars": variables, "roles": [{"role": "aiohub.claude_desktop.cowork"}]}]


def run_play(fleet, tmp_path, name, cowork_vars, env, play_vars=None, args=()):
    path = tmp_path / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(cowork_play(cowork_vars, play_vars), sort_keys=False))
    fleet.reset_module_executions()
    return fleet.playbook(path, *args, env=merged_env(env), verbosity=4)


# -- what must hold ------------------------------------------------------------------------------

def recap(output):
    """``{host: {"ok": n, "changed": n, "failed": n, "unreachable": n, ...}}`` from PLAY RECAP."""
    found = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line) if in_recap else None
        if match:
            found[match.group(1)] = {k: int(v) for k, v in (item.split("=") for item in match.group(2).split())}
    return found


def failures(result):
    """``{host: message}`` of the ``fatal: [host]: FAILED! => {...}`` results (one line, or JSON at -vvvv),
    on stdout or stderr (where ansible-core 2.19 prints them)."""
    found = {}
    lines = (result.stdout + "\n" + result.stderr).splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^fatal: \[([^\]]+)\]: \w+! => (.*)$", line)
        if not match:
            continue
        text = match.group(2)
        if text == "{":
            end = next(i for i in range(index + 1, len(lines)) if lines[i] == "}")
            text = "\n".join(["{"] + lines[index + 1:end + 1])
        found[match.group(1)] = json.loads(text).get("msg", text)
    return found


def clean(fleet):
    for host in fleet.hosts:
        for user in USERS:
            fleet.remove(host, fleet.app_dir(user))


def applied_entry(fleet, host, user):
    library = fleet.library_dir(user)
    meta = fleet.read_json(host, library + "/_meta.json")
    return library + "/%s.json" % meta["appliedId"]


def assert_keys(fleet, expected):
    """``expected``: ``{host: {user: key}}``; each file holds the key, is 0600 and the user's."""
    for host, users in expected.items():
        for user, key in users.items():
            config = fleet.config_file(user)
            document = fleet.read_json(host, config)
            assert document["enterpriseConfig"]["inferenceGatewayApiKey"] == key, (host, user)
            assert document["enterpriseConfig"]["inferenceGatewayBaseUrl"] == BASE_URL
            entry = applied_entry(fleet, host, user)
            assert fleet.read_json(host, entry)["inferenceGatewayApiKey"] == key, (host, user)
            for path in (config, entry, fleet.library_dir(user) + "/_meta.json"):
                info = fleet.stat(host, path)
                assert (info["user"], info["group"], info["mode"]) == (user, user, 0o600), (host, path, info)
            info = fleet.stat(host, fleet.app_dir(user))
            assert (info["user"], info["mode"]) == (user, 0o700), (host, info)


def assert_one_module_run(fleet, hosts):
    for host in hosts:
        assert fleet.module_executions(host) == [MODULE], (
            "%s: the role must run enterprise_config once per host and nothing else there, ran %r"
            % (host, fleet.module_executions(host)))


def assert_no_leaks(result, keys):
    leaks = find_leaks(keys, {"stdout": result.stdout, "stderr": result.stderr})
    assert not leaks, "keys in the -vvvv output: %r" % leaks


def assert_converged(result, hosts):
    summary = recap(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert set(summary) == {h.name for h in hosts}
    for name, counts in summary.items():
        assert counts["failed"] == 0 and counts["unreachable"] == 0, (name, counts)


# -- a key encrypted with ansible-vault ----------------------------------------------------------

def test_ansible_vault_encrypted_key_reaches_every_user_of_every_host(fleet, tmp_path):
    clean(fleet)
    key = new_key("ansible-vault")
    password = tmp_path / "vault-password"
    password.write_text(secrets.token_hex(16) + "\n")
    encrypted = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-vault"), "encrypt_string", "--vault-password-file",
         str(password), "--stdin-name", "cowork_gateway_api_key"],
        input=key, capture_output=True, text=True, check=True).stdout
    assert key not in encrypted
    secrets_file = tmp_path / "cowork_secrets.yml"
    secrets_file.write_text(encrypted)
    # The key comes from an encrypted vars file; the play itself names no key.
    result = run_play(fleet, tmp_path, "ansible_vault", {}, {},
                      args=("-e", "@%s" % secrets_file, "--vault-password-file", str(password)))

    assert_converged(result, fleet.hosts)
    assert_keys(fleet, {host: {user: key for user in USERS} for host in fleet.hosts})
    assert_one_module_run(fleet, fleet.hosts)
    assert_no_leaks(result, [key, password.read_text().strip()])


# -- keys from OpenBao ---------------------------------------------------------------------------

def test_openbao_token_key_reaches_every_user_of_every_host(fleet, openbao, tmp_path):
    clean(fleet)
    key = new_key("bao-token")
    openbao.put("cowork/gateway", {"api_key": key})
    result = run_play(fleet, tmp_path, "openbao_token", {
        "cowork_gateway_api_key": "{{ lookup('%s', 'cowork/gateway').secret.api_key }}" % HASHI,
    }, openbao.token_env())

    assert_converged(result, fleet.hosts)
    assert all(counts["changed"] >= 1 for counts in recap(result.stdout).values())
    assert_keys(fleet, {host: {user: key for user in USERS} for host in fleet.hosts})
    assert_one_module_run(fleet, fleet.hosts)
    assert_no_leaks(result, [key] + openbao.credentials)


def test_openbao_approle_key_rotation_rewrites_every_file(fleet, openbao, tmp_path):
    clean(fleet)
    old, new = new_key("bao-old"), new_key("bao-new")
    openbao.put("cowork/rotated", {"api_key": old})
    cowork_vars = {"cowork_gateway_api_key": "{{ lookup('%s', 'cowork/rotated').secret.api_key }}" % HASHI}
    env = openbao.approle_env()
    assert "VAULT_TOKEN" in env and env["VAULT_TOKEN"] is None  # AppRole only, no token in the environment
    assert_converged(run_play(fleet, tmp_path, "approle_first", cowork_vars, env), fleet.hosts)
    assert_keys(fleet, {host: {user: old for user in USERS} for host in fleet.hosts})

    openbao.put("cowork/rotated", {"api_key": new})
    result = run_play(fleet, tmp_path, "approle_rotated", cowork_vars, env)

    assert_converged(result, fleet.hosts)
    assert all(counts["changed"] >= 1 for counts in recap(result.stdout).values())
    assert_keys(fleet, {host: {user: new for user in USERS} for host in fleet.hosts})
    assert_one_module_run(fleet, fleet.hosts)
    assert_no_leaks(result, [old, new] + openbao.credentials)


def test_per_user_keys_from_vault_paths_built_from_user_names(fleet, openbao, tmp_path):
    clean(fleet)
    keys = {user: new_key("user-%s" % user) for user in USERS}
    fallback = new_key("bao-fallback")
    for user, key in keys.items():
        openbao.put("cowork/users/%s" % user, {"api_key": key})
    openbao.put("cowork/fallback", {"api_key": fallback})
    result = run_play(fleet, tmp_path, "per_user", {
        "cowork_gateway_api_key": "{{ lookup('%s', 'cowork/fallback').secret.api_key }}" % HASHI,
        # One query for every user of the list, each path built from the user's name.
        "cowork_user_api_keys": "{{ dict(fleet_users | zip(query('%s', *(fleet_users | map('regex_replace', '^',"
                                " 'cowork/users/'))) | map(attribute='secret.api_key'))) }}" % HASHI,
    }, openbao.token_env(), play_vars={"fleet_users": list(USERS)})

    assert_converged(result, fleet.hosts)
    assert_keys(fleet, {host: dict(keys) for host in fleet.hosts})
    assert_one_module_run(fleet, fleet.hosts)  # two users, two keys, still one module run per host
    assert_no_leaks(result, list(keys.values()) + [fallback] + openbao.credentials)


# -- keys from AWS Secrets Manager (moto) --------------------------------------------------------

def test_secrets_manager_key_reaches_every_user_of_every_host(fleet, moto, tmp_path):
    clean(fleet)
    key = new_key("aws")
    moto.create_secret("cowork/gateway", {"api_key": key, "owner": "it-ops"})
    result = run_play(fleet, tmp_path, "secrets_manager", {
        "cowork_gateway_api_key": "{{ lookup('%s', 'cowork/gateway.api_key', nested=true) }}" % AWS,
    }, moto.env())

    assert_converged(result, fleet.hosts)
    assert_keys(fleet, {host: {user: key for user in USERS} for host in fleet.hosts})
    assert_one_module_run(fleet, fleet.hosts)
    assert_no_leaks(result, [key, moto.secret_key])


# -- a missing secret fails its host only ---------------------------------------------------------

@pytest.mark.parametrize("store", ["openbao", "secrets_manager"])
def test_missing_secret_fails_that_host_naming_the_path_while_the_others_converge(fleet, openbao, moto, tmp_path,
                                                                                  store):
    clean(fleet)
    key = new_key("site-%s" % store)
    broken = fleet.hosts[1]
    # Each host reads the key of its site; the site of host 2 has no secret.
    if store == "openbao":
        openbao.put("cowork/sites/paris", {"api_key": key})
        lookup = "{{ lookup('%s', 'cowork/sites/' ~ site_name).secret.api_key }}" % HASHI
        env, missing = openbao.token_env(), "cowork/sites/lyon"
    else:
        moto.create_secret("cowork/sites/paris", {"api_key": key})
        lookup = "{{ lookup('%s', 'cowork/sites/' ~ site_name ~ '.api_key', nested=true) }}" % AWS
        env, missing = moto.env(), "cowork/sites/lyon"
    result = run_play(fleet, tmp_path, "missing_%s" % store, {"cowork_gateway_api_key": lookup}, env, play_vars={
        "site_name": "{{ 'lyon' if inventory_hostname == '%s' else 'paris' }}" % broken.name})

    summary = recap(result.stdout)
    assert result.returncode == 2, result.stdout[-6000:]
    assert summary[broken.name]["failed"] == 1
    failed = failures(result)
    assert list(failed) == [broken.name], result.stdout[-6000:]
    assert missing in failed[broken.name], failed
    others = [h for h in fleet.hosts if h != broken]
    for host in others:
        assert summary[host.name]["failed"] == 0 and summary[host.name]["changed"] >= 1, summary
    assert_keys(fleet, {host: {user: key for user in USERS} for host in others})
    assert_one_module_run(fleet, others)
    assert fleet.module_executions(broken) == []  # nothing ran there, nothing was written
    assert not any(fleet.exists(broken, fleet.app_dir(user)) for user in USERS)
    assert_no_leaks(result, [key, moto.secret_key] + openbao.credentials)
