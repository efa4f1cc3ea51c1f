"""``enterprise_config`` with ``verify_gateway``: the real action plugin asks a real local gateway before it
touches the host (the host is the Windows fake of ``windows_fake.py``, so every call to it is recorded)."""

from __future__ import annotations

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import preflight
from tests.support.fake_gateway import FakeGateway
from tests.unit.conftest import assert_no_secret
from tests.unit.plugin_utils.windows_fake import FakeWindowsHost, run_task

GOOD_KEY = "sk-aiohub-verify-good-5a4b3c2d1e0f9a8b"
BAD_KEY = "sk-aiohub-verify-revoked-0f1e2d3c4b5a6978"


@pytest.fixture
def host():
    fake = FakeWindowsHost()
    fake.add_profile("alice", rid=1001)
    fake.add_profile("bob", rid=1002)
    return fake


@pytest.fixture
def gateway(tmp_path, monkeypatch):
    private = tmp_path / "run"
    private.mkdir(mode=0o700)
    # Verdicts are shared through the run's private temporary directory, as in a real run.
    monkeypatch.setattr(preflight.C, "DEFAULT_LOCAL_TMP", str(private))
    with FakeGateway(keys=[GOOD_KEY]) as server:
        yield server


def task(gateway, key, **extra):
    args = {"users": ["all"], "verify_gateway": True, "api_key_source": "OpenBao secret/cowork",
            "settings": {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": gateway.url,
                         "inferenceGatewayApiKey": key}}
    args.update(extra)
    return args


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_rejected_key_fails_the_host_before_any_call_to_it(host, gateway, check_mode):
    before = host.files()
    result, action = run_task(host, task(gateway, BAD_KEY), check_mode=check_mode)
    assert result["failed"] is True and result["changed"] is False
    assert "answered HTTP 401" in result["msg"] and result["msg"].endswith("Nothing was written to this host.")
    assert "from OpenBao secret/cowork" in result["msg"]
    assert [check["outcome"] for check in result["gateway"]["checks"]] == ["failed"]
    assert action.calls == [] and host.files() == before
    assert gateway.count(BAD_KEY) == 1
    assert_no_secret(result, secrets=(BAD_KEY,))


def test_an_accepted_key_is_reported_and_the_host_written(host, gateway):
    result, action = run_task(host, task(gateway, GOOD_KEY))
    assert not result.get("failed") and result["changed"] is True
    assert result["gateway"]["checks"][0]["outcome"] == "ok" and "changed" not in result["gateway"]
    assert any(call.is_write for call in action.calls)
    again, _action = run_task(host, task(gateway, GOOD_KEY))
    assert again["gateway"]["checks"][0]["cached"] is True and gateway.count(GOOD_KEY) == 1
    assert_no_secret(result, secrets=(GOOD_KEY,))


def test_per_user_keys_are_checked_and_the_failing_user_named(host, gateway):
    result, action = run_task(host, task(gateway, GOOD_KEY,
                                         user_settings={"bob": {"inferenceGatewayApiKey": BAD_KEY}}))
    assert result["failed"] is True and "used by bob," in result["msg"]
    assert action.calls == []
    assert (gateway.count(GOOD_KEY), gateway.count(BAD_KEY)) == (1, 1)


def test_state_absent_asks_no_gateway(host, gateway):
    result, _action = run_task(host, task(gateway, BAD_KEY, state="absent"))
    assert not result.get("failed") and "gateway" not in result
    assert gateway.count() == 0
