"""The gateway preflight: plugin_utils.gateway (HTTP, verdicts, key planning, per-run cache) and
plugin_utils.preflight (base URL rules, messages, the plan shared by gateway_preflight and enterprise_config).

HTTP tests talk to a real local gateway (tests/support/fake_gateway.py on 127.0.0.1); nothing is mocked.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import gateway, preflight
from tests.support.fake_gateway import CLAUDE_MODELS, FakeGateway, unused_port
from tests.unit.conftest import API_KEY, OTHER_KEY, assert_no_secret

REDACTOR = Redactor([API_KEY, OTHER_KEY])
QUICK = gateway.ProbeOptions(timeout=3, use_proxy=False)


@pytest.fixture
def fake():
    with FakeGateway(keys=[API_KEY]) as server:
        yield server


def ask(base_url, key=API_KEY, scheme="bearer", options=QUICK):
    verdict = gateway.list_models(base_url, scheme, key, options, REDACTOR)
    assert_no_secret(verdict.to_dict())
    return verdict


# -- requests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("base, expected", [
    ("https://api.aiohub.org", "https://api.aiohub.org/v1/models"),
    ("https://api.aiohub.org/", "https://api.aiohub.org/v1/models"),
    ("https://gw.example.com/anthropic", "https://gw.example.com/anthropic/v1/models"),
])
def test_models_url_appends_the_path_the_app_uses(base, expected):
    assert gateway.models_url(base) == expected


def test_auth_headers_follow_the_scheme():
    assert gateway.auth_headers("bearer", "k") == {
        "anthropic-version": "2023-06-01", "Accept": "application/json", "Authorization": "Bearer k"}
    headers = gateway.auth_headers("x-api-key", "k")
    assert headers["x-api-key"] == "k" and "Authorization" not in headers
    with pytest.raises(ValueError):
        gateway.auth_headers("sso", "k")


@pytest.mark.parametrize("key, fragment", [
    (None, "not a string (got nothing)"),
    (42, "not a string (got int)"),
    ("", "is empty"),
    (API_KEY + "\n", "trailing whitespace"),
    (" " + API_KEY, "leading or trailing whitespace"),
    ("sk-with space-inside", "spaces, control or non-ASCII"),
    ("sk-caf\u00e9-key", "non-ASCII"),
])
def test_unusable_keys_are_named_without_the_key(key, fragment):
    problem = gateway.key_problem(key)
    assert fragment in problem
    assert not isinstance(key, str) or not key.strip() or key.strip() not in problem


def test_a_normal_key_is_usable():
    assert gateway.key_problem(API_KEY) is None


# -- verdicts against a real local gateway --------------------------------------------------------

@pytest.mark.parametrize("scheme, header", [("bearer", "authorization"), ("x-api-key", "x-api-key")])
def test_accepted_key_lists_the_models(fake, scheme, header):
    verdict = ask(fake.url, scheme=scheme)
    assert verdict.outcome == gateway.OK and verdict.http_status == 200
    assert verdict.models == list(CLAUDE_MODELS)
    request = fake.requests[-1]
    assert (request.path, request.key, request.header, request.anthropic_version) == (
        "/v1/models", API_KEY, header, "2023-06-01")


def test_wrong_key_fails_with_url_status_and_gateway_reason(fake):
    verdict = ask(fake.url, key=OTHER_KEY)
    assert verdict.failed and verdict.http_status == 401
    assert verdict.message == ("GET %s/v1/models answered HTTP 401 (authentication_error: invalid x-api-key): the "
                               "gateway rejected the API key" % fake.url)


def test_scheme_the_gateway_does_not_read_is_a_rejection():
    with FakeGateway(keys=[API_KEY], scheme="x-api-key") as server:
        assert ask(server.url, scheme="bearer").http_status == 401
        assert ask(server.url, scheme="x-api-key").outcome == gateway.OK


@pytest.mark.parametrize("status, outcome, fragment", [
    (403, gateway.FAILED, "rejected the API key"),
    (500, gateway.FAILED, "failing right now"),
    (503, gateway.FAILED, "failing right now"),
    (400, gateway.FAILED, "refused the request"),
    (404, gateway.UNVERIFIED, "no model discovery"),
    (405, gateway.UNVERIFIED, "no model discovery"),
    (429, gateway.UNVERIFIED, "rate limited"),
])
def test_statuses_map_to_outcomes(status, outcome, fragment):
    with FakeGateway(keys=[API_KEY], key_status={API_KEY: status}) as server:
        verdict = ask(server.url)
    assert (verdict.outcome, verdict.http_status) == (outcome, status)
    assert fragment in verdict.message and "HTTP %d" % status in verdict.message


def test_redirect_is_refused_and_the_key_not_replayed():
    with FakeGateway(keys=[API_KEY]) as elsewhere:
        with FakeGateway(keys=[API_KEY], redirect_to=elsewhere.url + "/v1/models") as server:
            verdict = ask(server.url)
        assert verdict.failed and verdict.http_status == 302
        assert "redirect to %s/v1/models" % elsewhere.url in verdict.message
        assert elsewhere.count() == 0


def test_timeout_fails():
    with FakeGateway(keys=[API_KEY], delay=2) as server:
        verdict = ask(server.url, options=gateway.ProbeOptions(timeout=1, use_proxy=False))
    assert verdict.failed and verdict.http_status is None
    assert "no answer within 1 seconds (timeout)" in verdict.message


def test_connection_refused_fails():
    url = "http://127.0.0.1:%d" % unused_port()
    verdict = ask(url)
    assert verdict.failed and verdict.message == "GET %s/v1/models failed: could not connect (Connection refused)" % url


def test_unresolvable_host_fails():
    verdict = ask("http://gateway.invalid")
    assert verdict.failed and "does not resolve" in verdict.message


def test_tls_to_a_plain_http_server_fails_as_tls(fake):
    verdict = ask(fake.url.replace("http://", "https://"))
    assert verdict.failed and "TLS" in verdict.message


def test_an_empty_model_list_is_still_an_answer(fake):
    fake.models = []
    verdict = ask(fake.url)
    assert (verdict.outcome, verdict.models) == (gateway.OK, [])


@pytest.mark.parametrize("body", [{"object": "list"}, ["claude-sonnet-4-6"], "not json at all"])
def test_a_200_that_is_no_model_list_is_unverified(body):
    with FakeGateway(keys=[API_KEY], body=body) as server:
        verdict = ask(server.url)
    assert (verdict.outcome, verdict.http_status) == (gateway.UNVERIFIED, 200)
    assert "not with a model list" in verdict.message


def test_pages_are_followed():
    with FakeGateway(keys=[API_KEY], page_size=1) as server:
        verdict = ask(server.url)
        assert verdict.models == list(CLAUDE_MODELS)
        assert [request.path for request in server.requests] == [
            "/v1/models", "/v1/models?after_id=claude-opus-4-7", "/v1/models?after_id=claude-sonnet-4-6"]


def test_explicit_proxy_is_used(fake):
    options = gateway.ProbeOptions(timeout=3, proxy_url=fake.url)
    verdict = gateway.list_models("http://gateway.invalid", "bearer", API_KEY, options, REDACTOR)
    assert verdict.outcome == gateway.OK
    assert fake.requests[-1].path == "http://gateway.invalid/v1/models"


def test_environment_proxy_is_ignored_with_use_proxy_false(fake, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % unused_port())
    monkeypatch.setenv("no_proxy", "")
    assert ask(fake.url, options=gateway.ProbeOptions(timeout=3, use_proxy=False)).outcome == gateway.OK
    assert ask(fake.url, options=gateway.ProbeOptions(timeout=3, use_proxy=True)).failed


def test_tls_options_build_the_expected_context():
    import ssl
    relaxed = gateway._ssl_context(gateway.ProbeOptions(validate_certs=False))
    assert relaxed.verify_mode == ssl.CERT_NONE and not relaxed.check_hostname
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    if os.path.exists(bundle):
        strict = gateway._ssl_context(gateway.ProbeOptions(ca_path=bundle))
        assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname


def test_invalid_header_value_never_reaches_an_exception_text(fake):
    # key_problem() rejects such keys first; fetch() must still not leak it if called directly.
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.fetch(fake.url + "/v1/models", gateway.auth_headers("bearer", API_KEY + "\n"), QUICK)
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value.args)


def test_error_bodies_are_scrubbed_of_the_key():
    body = json.dumps({"type": "error", "error": {"type": "authentication_error",
                                                  "message": "invalid key %s for org" % API_KEY}}).encode()
    detail = gateway.error_detail(body, REDACTOR)
    assert detail.startswith("authentication_error: invalid key <redacted:") and API_KEY not in detail
    assert gateway.error_detail(("x" * 500).encode(), REDACTOR).endswith("...")
    assert gateway.error_detail(b"", REDACTOR) == ""


# -- which users get which key --------------------------------------------------------------------

def test_all_users_get_the_default_key_and_per_user_keys_override():
    uses, problems = gateway.plan_key_uses(API_KEY, {"alice": OTHER_KEY}, ["all"])
    assert problems == []
    assert [(use.key, use.users, use.label) for use in uses] == [
        (OTHER_KEY, ["alice"], "the per-user key"), (API_KEY, ["every other user"], "the default key")]


def test_all_users_without_a_default_key_is_a_problem():
    uses, problems = gateway.plan_key_uses(None, {"alice": OTHER_KEY}, ["all"])
    assert len(problems) == 1 and "users is 'all'" in problems[0]


def test_listed_users_only_use_their_keys():
    uses, problems = gateway.plan_key_uses(API_KEY, {"alice": OTHER_KEY, "zoe": "sk-unused-key-000000000"},
                                           ["alice", "bob", "carol"])
    assert problems == []
    assert [(use.key, use.users) for use in uses] == [(OTHER_KEY, ["alice"]), (API_KEY, ["bob", "carol"])]


def test_one_key_shared_by_default_and_user_is_asked_once():
    uses, _problems = gateway.plan_key_uses(API_KEY, {"alice": API_KEY}, ["alice", "bob"])
    assert len(uses) == 1 and uses[0].users == ["alice", "bob"]


def test_listed_users_without_any_key_are_named():
    _uses, problems = gateway.plan_key_uses(None, {"alice": OTHER_KEY}, ["alice", "bob", "carol"])
    assert problems == ["no API key for user(s) bob, carol: give a default key (api_key) or one per user in "
                        "user_api_keys"]


def test_unusable_keys_are_reported_per_user_without_the_key():
    _uses, problems = gateway.plan_key_uses(API_KEY, {"alice": OTHER_KEY + "\n", "bob": ""}, ["alice", "bob"])
    assert [problem.split(";")[0] for problem in problems] == [
        "the per-user key for alice has leading or trailing whitespace (a trailing newline from a file lookup or a "
        "secret store?)",
        "the per-user key for bob is empty"]
    assert "| trim" in problems[0]
    assert_no_secret(problems)


def test_model_names_and_missing_models():
    wanted = ["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}, {"labelOverride": "x"},
              "claude-sonnet-4-6", "claude-nope"]
    assert gateway.model_names(wanted) == ["claude-sonnet-4-6", "claude-opus-4-7", "claude-nope"]
    assert gateway.missing_models(wanted, CLAUDE_MODELS) == ["claude-nope"]


# -- once per key per run -------------------------------------------------------------------------

def test_cache_asks_once_per_key_and_stores_no_key(tmp_path, fake):
    cache = gateway.RunCache(str(tmp_path / "cache"))
    url = fake.url + "/v1/models"
    first, asked = cache.verdict(url, "bearer", API_KEY, lambda: ask(fake.url))
    again, asked_again = cache.verdict(url, "bearer", API_KEY, lambda: pytest.fail("asked twice"))
    other, _asked = cache.verdict(url, "bearer", OTHER_KEY, lambda: ask(fake.url, key=OTHER_KEY))
    assert (asked, asked_again) == (True, False)
    assert again.to_dict() == first.to_dict() and other.failed
    assert fake.count(API_KEY) == 1 and fake.count(OTHER_KEY) == 1

    directory = tmp_path / "cache"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert API_KEY.encode() not in path.read_bytes() and OTHER_KEY.encode() not in path.read_bytes()


def test_cache_entry_names_differ_between_runs(tmp_path):
    one = gateway.RunCache(str(tmp_path / "one"))
    two = gateway.RunCache(str(tmp_path / "two"))
    for cache in (one, two):
        cache._ensure_directory()
    assert one.entry_name("u", "bearer", API_KEY) != two.entry_name("u", "bearer", API_KEY)
    assert one.entry_name("u", "bearer", API_KEY) == one.entry_name("u", "bearer", API_KEY)
    assert one.entry_name("u", "bearer", API_KEY) != one.entry_name("u", "x-api-key", API_KEY)


def _racer(directory, url, base, barrier):
    barrier.wait()
    gateway.RunCache(directory).verdict(url, "bearer", API_KEY, lambda: gateway.list_models(
        base, "bearer", API_KEY, QUICK, REDACTOR))


def test_forks_racing_on_one_key_ask_once(tmp_path):
    with FakeGateway(keys=[API_KEY], delay=0.3) as server:
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(6)
        workers = [context.Process(target=_racer, args=(str(tmp_path / "c"), server.url + "/v1/models", server.url,
                                                        barrier)) for _worker in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=20)
        assert [worker.exitcode for worker in workers] == [0] * 6
        assert server.count() == 1


def test_cache_refuses_a_directory_it_does_not_own(tmp_path):
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(gateway.GatewayError):
        gateway.RunCache(str(link))._ensure_directory()


# -- preflight rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("url, fragment", [
    ("https://api.aiohub.org/v1", "ends in /v1"),
    ("https://api.aiohub.org/v1/", "ends in /v1"),
    ("https://api.aiohub.org/v1/messages", "/v1/messages"),
    ("http://gateway.example.com", "must use https://"),
    ("http://localhost:8080", "write http://127.0.0.1 instead"),
    ("https://user:pw@api.aiohub.org", "credentials"),
    ("api.aiohub.org", "absolute https:// URL"),
])
def test_base_url_follows_the_rules_of_enterprise_config(url, fragment):
    problems = preflight.base_url_problems(url, allow_v1_base_url=False)
    assert len(problems) == 1 and fragment in problems[0], problems
    assert problems[0].startswith("inferenceGatewayBaseUrl: ")
    assert "pw@" not in problems[0]


@pytest.mark.parametrize("url", ["https://api.aiohub.org", "https://gw.example.com/anthropic", "http://127.0.0.1:4000"])
def test_good_base_urls_pass(url):
    assert preflight.base_url_problems(url, allow_v1_base_url=False) == []


def test_v1_base_url_can_be_allowed():
    assert preflight.base_url_problems("https://api.aiohub.org/v1", allow_v1_base_url=True) == []


def test_failure_messages_name_key_users_source_and_fix_without_the_key():
    use = gateway.KeyUse(API_KEY, ["alice", "bob"], "the default key")
    rejected = gateway.Verdict(gateway.FAILED, "https://gw/v1/models", "GET https://gw/v1/models answered HTTP 401",
                               401)
    message = preflight.failure_message(rejected, use, "x-api-key", REDACTOR, "OpenBao secret/cowork/lyon")
    assert message.startswith("GET https://gw/v1/models answered HTTP 401. Key: the default key <redacted:")
    assert "from OpenBao secret/cowork/lyon, used by alice, bob, sent as 'x-api-key: <key>'" in message
    assert "Check that key in your vault, and the auth scheme" in message
    unreachable = gateway.Verdict(gateway.FAILED, "https://gw/v1/models", "GET https://gw/v1/models failed: ...")
    assert "cowork_verify_gateway: false" in preflight.failure_message(unreachable, use, "bearer", REDACTOR, None)
    assert_no_secret([message])


def test_scrub_removes_declared_keys_anywhere():
    scrubbed = REDACTOR.scrub({"a": [API_KEY, {"b": "x %s y" % OTHER_KEY}], "n": 1})
    assert_no_secret(scrubbed)
    assert scrubbed["n"] == 1 and scrubbed["a"][0].startswith("<redacted:")


def test_cache_refuses_a_directory_others_can_read(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.RunCache(str(shared))._ensure_directory()
    assert "not a private directory" in str(caught.value)


# -- the preflight enterprise_config runs before writing (verify_gateway) --------------------------

SETTINGS_OPTIONS = dict(key_source="OpenBao secret/cowork/lyon", allow_v1_base_url=False, timeout=3,
                        validate_certs=True, ca_path=None, proxy_url=None, use_proxy=False,
                        anthropic_version=gateway.ANTHROPIC_VERSION)


@pytest.fixture
def run_tmp(tmp_path, monkeypatch):
    """A private per-run directory, as ansible-playbook gives each run (verdicts are shared through it)."""
    private = tmp_path / "run"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(preflight.C, "DEFAULT_LOCAL_TMP", str(private))
    return private


def settings_for(fake, key=API_KEY, **extra):
    return dict({"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": fake.url,
                 "inferenceGatewayApiKey": key}, **extra)


def test_settings_preflight_asks_once_per_key_and_reports_fingerprints(fake, run_tmp):
    settings = settings_for(fake, inferenceModels=["claude-sonnet-4-6", "claude-nonexistent-1"])
    first = preflight.settings_preflight(settings, {}, ["all"], SETTINGS_OPTIONS, REDACTOR)
    again = preflight.settings_preflight(settings, {}, ["all"], SETTINGS_OPTIONS, REDACTOR)
    assert not first.get("failed") and not again.get("failed")
    assert fake.count(API_KEY) == 1 and again["checks"][0]["cached"] is True
    assert first["checks"][0]["missing_models"] == ["claude-nonexistent-1"]
    assert any("claude-nonexistent-1" in warning for warning in first["warnings"])
    assert_no_secret(first)


def test_settings_preflight_fails_on_a_rejected_user_key_naming_the_user(fake, run_tmp):
    result = preflight.settings_preflight(settings_for(fake), {"bob": {"inferenceGatewayApiKey": OTHER_KEY}},
                                          ["alice", "bob"], SETTINGS_OPTIONS, REDACTOR)
    assert result["failed"] is True
    assert "Gateway preflight failed for 1 of 2 API key(s)" in result["msg"]
    assert "answered HTTP 401" in result["msg"] and "the per-user key <redacted:" in result["msg"]
    assert "used by bob," in result["msg"] and [check["outcome"] for check in result["checks"]] == ["ok", "failed"]
    assert_no_secret(result)


@pytest.mark.parametrize("settings", [
    {"inferenceProvider": "bedrock", "inferenceBedrockRegion": "eu-west-1"},
    {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": "https://gw", "inferenceCredentialHelper": "/bin/k"},
])
def test_settings_preflight_has_nothing_to_ask_without_a_static_gateway_key(settings, run_tmp):
    assert preflight.settings_preflight(settings, {}, ["all"], SETTINGS_OPTIONS, REDACTOR) is None


def test_settings_preflight_sends_a_rerouted_users_key_to_that_users_gateway_only(fake, run_tmp):
    with FakeGateway(keys=[OTHER_KEY]) as other_gateway:
        user_settings = {"bob": {"inferenceGatewayBaseUrl": other_gateway.url, "inferenceGatewayApiKey": OTHER_KEY}}
        result = preflight.settings_preflight(settings_for(fake), user_settings, ["alice", "bob"],
                                              SETTINGS_OPTIONS, REDACTOR)
        assert not result.get("failed"), result["msg"]
        assert (fake.count(API_KEY), fake.count(OTHER_KEY)) == (1, 0)  # bob's key never reaches alice's gateway
        assert (other_gateway.count(OTHER_KEY), other_gateway.count(API_KEY)) == (1, 0)
        by_url = dict((check["url"], check["users"]) for check in result["checks"])
        assert [check["label"] for check in result["checks"]] == ["the default key", "the per-user key"]
        assert by_url == {fake.url + "/v1/models": ["alice"], other_gateway.url + "/v1/models": ["bob"]}
    assert_no_secret(result)


def test_settings_preflight_checks_the_common_key_at_a_rerouted_users_gateway(fake, run_tmp):
    with FakeGateway(keys=[OTHER_KEY]) as other_gateway:
        # bob keeps the common key but uses another gateway, which does not know that key.
        result = preflight.settings_preflight(settings_for(fake), {"bob": {"inferenceGatewayBaseUrl": other_gateway.url}},
                                              ["all"], SETTINGS_OPTIONS, REDACTOR)
        assert result["failed"] is True
        assert "%s/v1/models answered HTTP 401" % other_gateway.url in result["msg"] and "used by bob" in result["msg"]
        assert [check["outcome"] for check in result["checks"]] == ["ok", "failed"]
        assert (fake.count(API_KEY), other_gateway.count(API_KEY)) == (1, 1)
    assert_no_secret(result)


def test_settings_preflight_asks_only_for_the_users_with_a_static_key(fake, run_tmp):
    """Everyone else signs in interactively: no default key is needed, and none is asked for."""
    settings = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": fake.url,
                "inferenceCredentialKind": "interactive"}
    user_settings = {"bob": {"inferenceCredentialKind": "static", "inferenceGatewayApiKey": API_KEY}}
    result = preflight.settings_preflight(settings, user_settings, ["all"], SETTINGS_OPTIONS, REDACTOR)
    assert not result.get("failed"), result["msg"]
    assert [(check["label"], check["users"]) for check in result["checks"]] == [("the per-user key", ["bob"])]
    assert fake.count(API_KEY) == 1
