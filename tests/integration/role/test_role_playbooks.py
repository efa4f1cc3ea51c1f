"""The collection's playbooks, run by their FQCN: configure (serial canary), verify_gateway, remove."""

from __future__ import annotations

from tests.integration.role.conftest import (
    BAD_KEY, HOST_USERS, KEY, assert_no_key, assert_ok, enterprise, failures, fleet_inventory, library_entries,
    output, recap, run,
)


def test_canary_rollout_stops_at_the_first_failed_batch(box, gateway):
    inventory = fleet_inventory(box, {"h1": {"cowork_gateway_api_key": BAD_KEY}},
                                common={"cowork_gateway_api_key": KEY, "cowork_gateway_base_url": gateway.url})
    result = run(box, "aiohub.claude_desktop.configure", inventory=inventory,
                 extra_vars={"cowork_serial": 1, "cowork_max_fail_percentage": 0})

    assert result.returncode == 2
    assert list(failures(result)) == ["h1"]
    assert "NO MORE HOSTS LEFT" in result.stdout
    for user in HOST_USERS.values():
        assert enterprise(box, user) is None and library_entries(box, user) == {}, user
    assert gateway.count(BAD_KEY) == 1 and gateway.count(KEY) == 0  # h2 and h3 never started
    assert_no_key(result)


def test_serial_rollout_verify_and_remove(box, gateway):
    inventory = fleet_inventory(box, common={"cowork_gateway_api_key": KEY, "cowork_gateway_base_url": gateway.url})

    configured = run(box, "aiohub.claude_desktop.configure", inventory=inventory,
                     extra_vars={"cowork_serial": [1, 2], "cowork_max_fail_percentage": 0})
    assert_ok(configured)
    assert configured.stdout.count("PLAY [Configure Claude Desktop (Cowork 3P)]") == 2  # two batches
    for host, user in HOST_USERS.items():
        assert enterprise(box, user)["inferenceGatewayApiKey"] == KEY, host
        assert recap(configured)[host]["changed"] == 1
    assert gateway.count(KEY) == 1  # once for the whole run, across batches

    verified = run(box, "aiohub.claude_desktop.verify_gateway", inventory=inventory)
    assert_ok(verified)
    assert all(counts["changed"] == 0 for counts in recap(verified).values())
    assert "Configure Claude Desktop" not in verified.stdout and gateway.count(KEY) == 2

    rejected = run(box, "aiohub.claude_desktop.verify_gateway", inventory=inventory,
                   extra_vars={"cowork_gateway_api_key": BAD_KEY})
    assert rejected.returncode == 2 and sorted(failures(rejected)) == ["h1", "h2", "h3"]
    assert gateway.count(BAD_KEY) == 1

    removed = run(box, "aiohub.claude_desktop.remove", inventory=inventory, extra_vars={"cowork_hosts": "h2,h3"})
    assert_ok(removed)
    assert sorted(recap(removed)) == ["h2", "h3"]
    assert enterprise(box, "alice")["inferenceGatewayApiKey"] == KEY
    for user in ("bob", "carol"):
        assert box.read_config(user) == {} and list(library_entries(box, user)) == ["_meta.json"]
    for result in (configured, verified, rejected, removed):
        assert_no_key(result)
    assert "[WARNING]" not in output(removed)
