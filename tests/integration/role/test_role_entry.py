"""The three ways to use the role (roles:, import_role, include_role), leaks, and tags.

One playbook uses each form in its own play, each for another user, and then looks from the caller's
side for anything the role left behind.
"""

from __future__ import annotations

from tests.integration.role.conftest import (
    KEY, ROLE, USERS, assert_ok, enterprise, recap, run, site_play, write_yaml,
)

# The role's one documented output is cowork_result (the per-user results of its configuration task).
NOT_OUTPUT = "^_*cowork(?!_result$)"
NO_INTERNALS = {"name": "The role leaves no internal variable behind",
                "ansible.builtin.assert": {"that": ["query('ansible.builtin.varnames', '^__cowork') | length == 0",
                                                    "hostvars[inventory_hostname] | dict2items "
                                                    "| selectattr('key', 'match', '%s') | list | length == 0"
                                                    % NOT_OUTPUT],
                                           "fail_msg": "leaked: {{ query('ansible.builtin.varnames', '^_*cowork') }}"}}
NO_DEFAULTS = {"name": "include_role keeps even the role's defaults to itself",
               "ansible.builtin.assert": {"that": ["query('ansible.builtin.varnames', '%s') | length == 0"
                                                   % NOT_OUTPUT],
                                          "fail_msg": "leaked: {{ query('ansible.builtin.varnames', '^_*cowork') }}"}}
HAS_OUTPUT = {"name": "The role's documented output is there",
              "ansible.builtin.assert": {"that": ["cowork_result.results | map(attribute='layout') | list == ['config_file', 'config_library']",
                                                  "cowork_result.results[0].status in ['missing', 'in_sync']"]}}


def role_vars(gateway, user):
    return {"cowork_gateway_base_url": gateway.url, "cowork_gateway_api_key": KEY, "cowork_users": [user]}


def test_roles_import_role_and_include_role_each_configure_and_leak_nothing(box, gateway):
    include_vars = role_vars(gateway, "carol")
    playbook = write_yaml(box, "entry.yml", [
        site_play(role_vars(gateway, "alice"), name="roles keyword", tasks_after=[NO_INTERNALS]),
        {"name": "import_role", "hosts": "workstations", "gather_facts": False, "tasks": [
            {"name": "Import the role", "ansible.builtin.import_role": {"name": ROLE},
             "vars": role_vars(gateway, "bob")},
            NO_INTERNALS]},
        {"name": "include_role", "hosts": "workstations", "gather_facts": False, "tasks": [
            NO_DEFAULTS,
            {"name": "Include the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": include_vars},
            NO_INTERNALS, NO_DEFAULTS, HAS_OUTPUT]},
    ])
    result = run(box, playbook)
    assert_ok(result)
    for user in USERS:
        assert enterprise(box, user)["inferenceGatewayApiKey"] == KEY, user
    assert recap(result)["localhost"]["changed"] == 3
    assert gateway.count(KEY) == 1  # three plays, one key, one request for the whole run


def test_tags_select_the_preflight_or_the_writes(box, gateway):
    playbook = write_yaml(box, "site.yml", [site_play(role_vars(gateway, "alice"))])

    verify_only = run(box, playbook, "--tags", "cowork_verify")
    assert_ok(verify_only)
    assert "Check the API keys and ask the gateway" in verify_only.stdout
    assert "Configure Claude Desktop" not in verify_only.stdout
    assert not box.config_file("alice").exists() and gateway.count(KEY) == 1

    # The writing task checks the key itself before writing (cowork_verify_gateway), so cowork_config
    # runs no separate preflight task and still asks the gateway once.
    gateway.reset()
    config_only = run(box, playbook, "--tags", "cowork_config")
    assert_ok(config_only)
    assert "ask the gateway" not in config_only.stdout
    assert enterprise(box, "alice")["inferenceGatewayApiKey"] == KEY and gateway.count(KEY) == 1

    gateway.reset()
    unchecked = run(box, playbook, "--tags", "cowork_config", "-e", "cowork_verify_gateway=false")
    assert_ok(unchecked)
    assert recap(unchecked)["localhost"]["changed"] == 0 and gateway.count() == 0

    everything = run(box, playbook, "--tags", "cowork")
    assert_ok(everything)
    assert "ask the gateway" not in everything.stdout and "Configure Claude Desktop" in everything.stdout
    assert recap(everything)["localhost"]["changed"] == 0 and gateway.count(KEY) == 1
