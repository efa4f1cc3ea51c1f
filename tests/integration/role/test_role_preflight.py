"""The gateway preflight through the role, on three hosts (h1..h3, one user each).

Asserts the promises of cowork_verify_gateway: a rejected key stops exactly the hosts that would get it,
before anything is written to them; a /v1 base URL is refused before any request; each distinct key is
asked once for the whole run, however many hosts and users share it; models the gateway does not list
give one warning; a missing secret fails its host naming where it should have come from.
"""

from __future__ import annotations

import pytest

from tests.integration.role.conftest import (
    BAD_KEY, HOST_USERS, KEY, OTHER_KEY, assert_no_key, assert_ok, enterprise, failures, fleet_inventory,
    library_entries, output, recap, run, site_play, write_yaml,
)
from tests.support.fake_gateway import unused_port


def fleet_play(box, role_vars):
    return write_yaml(box, "fleet_site.yml", [site_play(role_vars, hosts="fleet")])


def assert_untouched(box, user):
    assert enterprise(box, user) is None and library_entries(box, user) == {}, user


def test_rejected_key_stops_only_its_host_before_anything_is_written(box, gateway):
    inventory = fleet_inventory(box, {"h2": {"cowork_gateway_api_key": BAD_KEY},
                                      "h1": {"cowork_gateway_api_key": KEY},
                                      "h3": {"cowork_gateway_api_key": KEY}})
    result = run(box, fleet_play(box, {"cowork_gateway_base_url": gateway.url,
                                       "cowork_api_key_source": "the site vault, entry gateway/h2"}),
                 inventory=inventory)

    assert result.returncode == 2, output(result)[-6000:]
    failed = failures(result)
    assert list(failed) == ["h2"]
    message = failed["h2"]
    for fragment in ("GET %s/v1/models answered HTTP 401" % gateway.url, "authentication_error",
                     "the gateway rejected the API key", "the default key <redacted:", "used by bob",
                     "from the site vault, entry gateway/h2", "'Authorization: Bearer <key>'"):
        assert fragment in message, message
    summary = recap(result)
    assert summary["h2"]["failed"] == 1 and summary["h2"]["changed"] == 0
    assert summary["h1"]["changed"] == 1 and summary["h3"]["changed"] == 1
    assert_untouched(box, "bob")
    assert enterprise(box, "alice")["inferenceGatewayApiKey"] == KEY
    assert gateway.count(KEY) == 1 and gateway.count(BAD_KEY) == 1  # h1 and h3 share one request
    assert_no_key(result)


def test_v1_base_url_is_refused_before_any_request(box, gateway):
    inventory = fleet_inventory(box, common={"cowork_gateway_api_key": KEY})
    result = run(box, fleet_play(box, {"cowork_gateway_base_url": gateway.url + "/v1"}), inventory=inventory)

    assert result.returncode == 2
    failed = failures(result)
    assert sorted(failed) == ["h1", "h2", "h3"]
    for message in failed.values():
        assert "nothing was changed on any host" in message and "ends in /v1" in message, message
    assert gateway.count() == 0
    for user in HOST_USERS.values():
        assert_untouched(box, user)


def test_each_distinct_key_is_asked_once_across_hosts_and_users(box, gateway):
    gateway.keys = {KEY, OTHER_KEY, "sk-aiohub-role-carol-5555666677778888"}
    inventory = fleet_inventory(box, {
        "h1": {"cowork_gateway_api_key": KEY},
        "h2": {"cowork_gateway_api_key": KEY},
        # h3 gives carol her own key; its default key goes unused there and is not asked for h3.
        "h3": {"cowork_gateway_api_key": OTHER_KEY,
               "cowork_user_api_keys": {"carol": "sk-aiohub-role-carol-5555666677778888"}},
    })
    result = run(box, fleet_play(box, {"cowork_gateway_base_url": gateway.url}), "--forks", "3",
                 inventory=inventory)

    assert_ok(result)
    assert (gateway.count(KEY), gateway.count(OTHER_KEY), gateway.count("sk-aiohub-role-carol-5555666677778888")) \
        == (1, 0, 1)
    assert enterprise(box, "carol")["inferenceGatewayApiKey"] == "sk-aiohub-role-carol-5555666677778888"
    assert {request.anthropic_version for request in gateway.requests} == {"2023-06-01"}


def test_what_users_get_is_checked_and_unlisted_models_give_one_warning(box, gateway):
    inventory = fleet_inventory(box, common={"cowork_gateway_api_key": KEY})
    unreachable = "http://127.0.0.1:%d" % unused_port()
    result = run(box, fleet_play(box, {"cowork_gateway_base_url": unreachable,
                                       # cowork_settings wins, in the files and in the preflight
                                       "cowork_settings": {"inferenceGatewayBaseUrl": gateway.url},
                                       "cowork_models": ["claude-sonnet-4-6", {"name": "claude-nope-9"}]}),
                 inventory=inventory)

    assert_ok(result)
    assert enterprise(box, "bob")["inferenceGatewayBaseUrl"] == gateway.url and gateway.count(KEY) == 1
    warnings = [line for line in output(result).splitlines() if "claude-nope-9" in line and "WARNING" in line]
    assert len(warnings) == 1, output(result)
    assert "does not list model(s) claude-nope-9" in warnings[0]
    assert enterprise(box, "alice")["inferenceModels"] == ["claude-sonnet-4-6", {"name": "claude-nope-9"}]


@pytest.mark.parametrize("scheme, accepted", [("x-api-key", True), ("bearer", False)])
def test_the_auth_scheme_decides_the_header(box, gateway, scheme, accepted):
    gateway.scheme = "x-api-key"
    try:
        result = run(box, write_yaml(box, "scheme.yml", [site_play({
            "cowork_gateway_base_url": gateway.url, "cowork_gateway_api_key": KEY, "cowork_users": ["alice"],
            "cowork_gateway_auth_scheme": scheme})]))
    finally:
        gateway.scheme = None
    assert (result.returncode == 0) is accepted, output(result)[-4000:]
    assert gateway.requests[-1].header == ("x-api-key" if accepted else None)
    if accepted:
        assert enterprise(box, "alice")["inferenceGatewayAuthScheme"] == "x-api-key"
    else:
        assert "'Authorization: Bearer <key>'" in failures(result)["localhost"]


def test_unreachable_gateway_stops_every_host_with_a_clear_message(box, gateway):
    url = "http://127.0.0.1:%d" % unused_port()
    inventory = fleet_inventory(box, common={"cowork_gateway_api_key": KEY})
    result = run(box, fleet_play(box, {"cowork_gateway_base_url": url}), inventory=inventory)

    assert result.returncode == 2
    failed = failures(result)
    assert sorted(failed) == ["h1", "h2", "h3"]
    assert "GET %s/v1/models failed: could not connect (Connection refused)" % url in failed["h1"]
    assert "cowork_verify_gateway: false" in failed["h1"]
    for user in HOST_USERS.values():
        assert_untouched(box, user)


def test_per_user_keys_are_checked_and_written_in_one_module_call(box, gateway):
    playbook = write_yaml(box, "per_user.yml", [site_play({
        "cowork_gateway_base_url": gateway.url, "cowork_users": ["alice", "bob"],
        "cowork_user_api_keys": {"alice": KEY, "bob": OTHER_KEY}})])
    result = run(box, playbook)

    assert_ok(result)
    assert recap(result)["localhost"]["changed"] == 1
    assert enterprise(box, "alice")["inferenceGatewayApiKey"] == KEY
    assert enterprise(box, "bob")["inferenceGatewayApiKey"] == OTHER_KEY
    assert_untouched(box, "carol")
    assert (gateway.count(KEY), gateway.count(OTHER_KEY)) == (1, 1)
    assert_no_key(result)


def test_a_user_without_any_key_stops_the_host_before_any_request(box, gateway):
    playbook = write_yaml(box, "keyless.yml", [site_play({
        "cowork_gateway_base_url": gateway.url, "cowork_users": ["alice", "bob"],
        "cowork_user_api_keys": {"alice": KEY}})])
    result = run(box, playbook)

    assert result.returncode == 2
    message = failures(result)["localhost"]
    assert "users not listed in user_settings (bob)" in message and "cowork_user_api_keys" in message, message
    assert "nothing was changed on any host" in message, message
    assert gateway.count() == 0
    assert_untouched(box, "alice")


@pytest.mark.parametrize("verify", [True, False])
def test_a_key_with_a_trailing_newline_is_refused_even_without_the_gateway_check(box, gateway, verify):
    (box.root / "raw.key").write_text(KEY + "\n")
    raw_lookup = "{{ lookup('ansible.builtin.file', '%s/raw.key', rstrip=false) }}" % box.root
    playbook = write_yaml(box, "newline.yml", [site_play({
        "cowork_gateway_base_url": gateway.url, "cowork_users": ["alice"], "cowork_verify_gateway": verify,
        "cowork_gateway_api_key": raw_lookup})])
    result = run(box, playbook)

    assert result.returncode == 2
    message = failures(result)["localhost"]
    assert "inferenceGatewayApiKey: has leading or trailing whitespace" in message and "| trim" in message, message
    assert gateway.count() == 0
    assert_untouched(box, "alice")
    assert_no_key(result)


def test_missing_secret_fails_its_host_naming_the_path(box, gateway):
    for host in ("h1", "h3"):
        (box.root / ("%s.key" % host)).write_text(KEY + "\n")
    key_lookup = "{{ lookup('ansible.builtin.file', '%s/' ~ inventory_hostname ~ '.key') }}" % box.root
    inventory = fleet_inventory(box)
    result = run(box, fleet_play(box, {"cowork_gateway_base_url": gateway.url,
                                       "cowork_gateway_api_key": key_lookup}), inventory=inventory)

    assert result.returncode == 2
    failed = failures(result)
    assert list(failed) == ["h2"]
    assert "%s/h2.key" % box.root in failed["h2"]
    assert_untouched(box, "bob")
    assert enterprise(box, "alice")["inferenceGatewayApiKey"] == KEY  # the file lookup strips the newline
    assert gateway.count(KEY) == 1
    assert_no_key(result)
