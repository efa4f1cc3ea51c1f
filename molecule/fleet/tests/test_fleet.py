"""Verify the fleet scenario on every host, over SSH (testinfra ``ssh://`` backend, one worker per host).

Every user of every host has the role's files, with the API key that OpenBao holds for that user
(read from OpenBao here, at verification time), owned by the user, ``0600`` files in ``0700``
directories, canonical JSON, no temporary or backup file left behind, and the module ran exactly once
per run on each host (converge + idempotence = 2).
"""

import json
import os
import urllib.request

import pytest

USERS = ("alice", "bob")
KEY_PATHS = {"alice": "cowork/gateway", "bob": "cowork/users/bob"}
BASE_URL = "https://api.aiohub.org"
EGRESS = ["docs.aiohub.org", "*.example.com"]
ENTRY_NAME = "Managed by Ansible"
MODULE = "ansible_collections.aiohub.claude_desktop.plugins.modules.enterprise_config"
MODULE_LOG = "/var/log/fleet-modules.log"


def vault_api_key(path):
    request = urllib.request.Request("%s/v1/secret/data/%s" % (os.environ["VAULT_ADDR"], path),
                                     headers={"X-Vault-Token": os.environ["VAULT_TOKEN"]})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.load(response)["data"]["data"]["api_key"]


@pytest.fixture(scope="module")
def api_keys():
    return {user: vault_api_key(path) for user, path in KEY_PATHS.items()}


def app_dir(user):
    return "/Users/%s/.config/Claude-3p" % user


def read_json(host, path):
    return json.loads(host.file(path).content_string)


def expected_settings(key):
    return {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": BASE_URL,
        "inferenceGatewayApiKey": key,
        "coworkEgressAllowedHosts": EGRESS,
    }


def assert_private(host, path, user, mode):
    item = host.file(path)
    assert item.exists, path
    assert (item.user, item.group, item.mode) == (user, user, mode), path


def test_each_host_is_itself_with_only_the_fleet_users(host):
    assert host.check_output("hostname") == host.backend.host.name
    assert sorted(host.file("/Users").listdir()) == sorted(USERS)
    for user in USERS:
        assert host.user(user).home == "/Users/%s" % user


@pytest.mark.parametrize("user", USERS)
def test_config_file_holds_the_users_key_from_openbao(host, user, api_keys):
    document = read_json(host, app_dir(user) + "/claude_desktop_config.json")
    enterprise = document["enterpriseConfig"]
    for key, value in expected_settings(api_keys[user]).items():
        assert enterprise[key] == value, key
    assert enterprise.get("inferenceGatewayAuthScheme", "bearer") == "bearer"


@pytest.mark.parametrize("user", USERS)
def test_library_entry_is_registered_applied_and_holds_the_key(host, user, api_keys):
    library = app_dir(user) + "/configLibrary"
    meta = read_json(host, library + "/_meta.json")
    ours = [entry for entry in meta["entries"] if entry["name"] == ENTRY_NAME]
    assert len(ours) == 1 and meta["appliedId"] == ours[0]["id"]
    entry = read_json(host, "%s/%s.json" % (library, ours[0]["id"]))
    for key, value in expected_settings(api_keys[user]).items():
        assert entry[key] == value, key


@pytest.mark.parametrize("user", USERS)
def test_files_are_the_users_own_and_private(host, user):
    base = app_dir(user)
    assert_private(host, base, user, 0o700)
    assert_private(host, base + "/configLibrary", user, 0o700)
    files = host.check_output("find %s -type f | sort" % base).splitlines()
    assert len(files) == 3, files  # the config file, _meta.json, our entry: no temporary file, no backup
    for path in files:
        assert_private(host, path, user, 0o600)
        raw = host.file(path).content
        assert raw.decode("utf-8") == json.dumps(json.loads(raw), indent=2, ensure_ascii=False) + "\n", path


def test_bob_has_a_key_of_his_own(host):
    alice = read_json(host, app_dir("alice") + "/claude_desktop_config.json")["enterpriseConfig"]
    bob = read_json(host, app_dir("bob") + "/claude_desktop_config.json")["enterpriseConfig"]
    assert alice["inferenceGatewayApiKey"] != bob["inferenceGatewayApiKey"]


def test_the_module_ran_once_per_run_on_this_host(host):
    # converge + idempotence: two runs, each one enterprise_config execution for all users, nothing else.
    modules = [line.split(" ", 2)[2] for line in host.file(MODULE_LOG).content_string.splitlines()]
    assert modules == [MODULE, MODULE]
