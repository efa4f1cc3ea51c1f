"""plan.plan_config_file: bytes of claude_desktop_config.json + a request -> status, summary, writes, diffs."""

from __future__ import annotations

import json

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import UTF8_BOM, DocumentError, to_bytes
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import ABSENT, MergeRequest
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    CONFIG_FILE_NAME, STATUS_DRIFTED, STATUS_IN_SYNC, STATUS_MISSING, PlanError, backup_content, plan_config_file,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor, marker

from tests.unit.conftest import API_KEY, MCP_TOKEN, OTHER_KEY, assert_no_secret

LABEL = "/home/alice/.config/Claude-3p/claude_desktop_config.json"
SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": "https://api.aiohub.org",
    "inferenceGatewayApiKey": API_KEY,
}
EXISTING = {
    "mcpServers": {"files": {"command": "/usr/bin/mcp-files", "args": ["--root", "/home/alice"]}},
    "enterpriseConfig": {"inferenceModels": ["claude-sonnet-4"], "inferenceGatewayApiKey": OTHER_KEY},
    "preferences": {"theme": "dark"},
}


def plan(data, request=None, **kwargs):
    kwargs.setdefault("label", LABEL)
    return plan_config_file(data, request or MergeRequest(SETTINGS), Redactor([API_KEY, OTHER_KEY]), **kwargs)


def written(outcome):
    assert [write.name for write in outcome.writes] == [CONFIG_FILE_NAME]
    return outcome.writes[0].content


def replan(outcome, request=None, **kwargs):
    """Plan again on the bytes just written: a second run."""
    return plan(written(outcome), request, **kwargs)


# --- creating and updating ------------------------------------------------------------------------

def test_missing_file_is_created():
    outcome = plan(None)
    assert outcome.status == STATUS_MISSING and outcome.changed
    assert json.loads(written(outcome)) == {"enterpriseConfig": SETTINGS}
    assert outcome.summary == {"added": list(SETTINGS), "changed": [], "removed": []}
    assert outcome.writes[0].before is None


@pytest.mark.parametrize("data", [b"", b"  \n", UTF8_BOM])
def test_empty_file_is_an_empty_object(data):
    outcome = plan(data)
    assert outcome.status == STATUS_DRIFTED
    assert json.loads(written(outcome)) == {"enterpriseConfig": SETTINGS}


def test_written_bytes_are_canonical():
    content = written(plan(None))
    assert content == to_bytes({"enterpriseConfig": SETTINGS})
    assert content.startswith(b'{\n  "enterpriseConfig": {\n    "inferenceProvider": "gateway",\n')
    assert content.endswith(b"}\n") and not content.startswith(UTF8_BOM)


def test_other_top_level_keys_and_other_enterprise_keys_are_kept_in_order():
    outcome = plan(to_bytes(EXISTING))
    document = json.loads(written(outcome))
    assert list(document) == ["mcpServers", "enterpriseConfig", "preferences"]
    assert document["mcpServers"] == EXISTING["mcpServers"]
    assert document["preferences"] == EXISTING["preferences"]
    assert list(document["enterpriseConfig"]) == ["inferenceModels", "inferenceGatewayApiKey", "inferenceProvider",
                                                  "inferenceGatewayBaseUrl"]
    assert document["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY
    assert outcome.summary == {"added": ["inferenceProvider", "inferenceGatewayBaseUrl"],
                               "changed": ["inferenceGatewayApiKey"], "removed": []}
    assert outcome.status == STATUS_DRIFTED


def test_second_run_writes_nothing():
    first = plan(to_bytes(EXISTING))
    second = replan(first)
    assert second.writes == [] and not second.changed
    assert second.status == STATUS_IN_SYNC
    assert second.summary == {"added": [], "changed": [], "removed": []}
    assert second.key_changes == []


@pytest.mark.parametrize("text", [
    '{"enterpriseConfig":{"inferenceProvider":"gateway","inferenceGatewayBaseUrl":"https://api.aiohub.org",'
    '"inferenceGatewayApiKey":"%s"}}' % API_KEY,
    '{\r\n\t"enterpriseConfig" : {\r\n\t\t"inferenceGatewayApiKey" : "%s",\r\n\t\t"inferenceGatewayBaseUrl" : '
    '"https://api.aiohub.org",\r\n\t\t"inferenceProvider" : "gateway"\r\n\t}\r\n}' % API_KEY,
], ids=["compact", "reordered-crlf-tabs"])
def test_whitespace_or_key_order_differences_are_not_rewritten(text):
    outcome = plan(text.encode())
    assert outcome.writes == [] and outcome.status == STATUS_IN_SYNC


@pytest.mark.parametrize("old, new", [(1, True), (0, False), ("true", True), ("1", 1), (None, False), ([], {})])
def test_type_differences_are_changes(old, new):
    data = to_bytes({"enterpriseConfig": {"disableAutoUpdates": old}})
    outcome = plan(data, MergeRequest({"disableAutoUpdates": new}))
    assert outcome.changed
    assert outcome.summary["changed"] == ["disableAutoUpdates"]
    assert json.loads(written(outcome))["enterpriseConfig"]["disableAutoUpdates"] == new


def test_integer_and_equal_float_are_the_same_value():
    data = to_bytes({"enterpriseConfig": {"inferenceModelPricingMultiplier": 1.0}})
    assert not plan(data, MergeRequest({"inferenceModelPricingMultiplier": 1})).changed


def test_bom_is_dropped_on_rewrite_even_without_value_changes():
    data = UTF8_BOM + to_bytes({"enterpriseConfig": SETTINGS})
    outcome = plan(data)
    assert outcome.changed and outcome.status == STATUS_DRIFTED
    assert outcome.summary == {"added": [], "changed": [], "removed": []}
    assert written(outcome) == to_bytes({"enterpriseConfig": SETTINGS})
    assert any("byte-order mark" in note for note in outcome.notes)
    assert not replan(outcome).changed


def test_bom_alone_does_not_trigger_a_write_for_absent():
    data = UTF8_BOM + to_bytes({"other": 1})
    assert not plan(data, MergeRequest(state=ABSENT)).changed


def test_remove_keys():
    data = to_bytes(EXISTING)
    outcome = plan(data, MergeRequest(remove=["inferenceModels", "notThere"]))
    assert json.loads(written(outcome))["enterpriseConfig"] == {"inferenceGatewayApiKey": OTHER_KEY}
    assert outcome.summary == {"added": [], "changed": [], "removed": ["inferenceModels"]}


def test_remove_of_the_last_key_keeps_an_empty_object_when_present():
    data = to_bytes({"enterpriseConfig": {"a": 1}})
    outcome = plan(data, MergeRequest(remove=["a"]))
    assert json.loads(written(outcome)) == {"enterpriseConfig": {}}


def test_exclusive_replaces_enterprise_config_only():
    outcome = plan(to_bytes(EXISTING), MergeRequest(SETTINGS, exclusive=True))
    document = json.loads(written(outcome))
    assert document["enterpriseConfig"] == SETTINGS
    assert document["mcpServers"] == EXISTING["mcpServers"] and document["preferences"] == EXISTING["preferences"]
    assert outcome.summary == {"added": ["inferenceProvider", "inferenceGatewayBaseUrl"],
                               "changed": ["inferenceGatewayApiKey"], "removed": ["inferenceModels"]}
    assert not replan(outcome, MergeRequest(SETTINGS, exclusive=True)).changed


def test_enterprise_config_gets_appended_when_missing():
    outcome = plan(to_bytes({"mcpServers": {}, "z": 1}))
    assert list(json.loads(written(outcome))) == ["mcpServers", "z", "enterpriseConfig"]


def test_null_enterprise_config_is_treated_as_missing():
    outcome = plan(to_bytes({"enterpriseConfig": None, "z": 1}))
    document = json.loads(written(outcome))
    assert list(document) == ["enterpriseConfig", "z"]
    assert document["enterpriseConfig"] == SETTINGS


# --- state: absent ----------------------------------------------------------------------------------

def test_absent_removes_named_keys():
    outcome = plan(to_bytes(EXISTING), MergeRequest({"inferenceModels": None}, state=ABSENT))
    document = json.loads(written(outcome))
    assert document["enterpriseConfig"] == {"inferenceGatewayApiKey": OTHER_KEY}
    assert outcome.summary == {"added": [], "changed": [], "removed": ["inferenceModels"]}
    assert not replan(outcome, MergeRequest({"inferenceModels": None}, state=ABSENT)).changed


def test_absent_without_keys_removes_enterprise_config_only():
    outcome = plan(to_bytes(EXISTING), MergeRequest(state=ABSENT))
    document = json.loads(written(outcome))
    assert document == {"mcpServers": EXISTING["mcpServers"], "preferences": EXISTING["preferences"]}
    assert outcome.summary["removed"] == ["inferenceModels", "inferenceGatewayApiKey"]
    assert not replan(outcome, MergeRequest(state=ABSENT)).changed


def test_absent_that_empties_enterprise_config_removes_it():
    data = to_bytes({"enterpriseConfig": {"a": 1}, "z": 2})
    outcome = plan(data, MergeRequest(remove=["a"], state=ABSENT))
    assert json.loads(written(outcome)) == {"z": 2}


def test_absent_on_a_missing_file_does_nothing():
    for request in (MergeRequest(state=ABSENT), MergeRequest({"a": 1}, state=ABSENT)):
        outcome = plan(None, request)
        assert outcome.writes == [] and outcome.status == STATUS_IN_SYNC


def test_absent_of_keys_that_are_not_there_does_nothing():
    assert not plan(to_bytes(EXISTING), MergeRequest({"nope": 1}, state=ABSENT)).changed


def test_absent_without_keys_on_a_file_without_enterprise_config_does_nothing():
    assert not plan(to_bytes({"z": 1}), MergeRequest(state=ABSENT)).changed


def test_absent_with_keys_on_a_file_without_enterprise_config_does_nothing():
    outcome = plan(to_bytes({"z": 1}), MergeRequest({"inferenceModels": None}, state=ABSENT))
    assert outcome.writes == [] and outcome.status == STATUS_IN_SYNC


def test_absent_that_empties_enterprise_config_is_idempotent():
    request = MergeRequest({"a": None}, state=ABSENT)
    first = plan(to_bytes({"enterpriseConfig": {"a": 1}, "z": 2}), request)
    assert json.loads(written(first)) == {"z": 2}
    assert not replan(first, request).changed


def test_deployment_mode_is_set_at_the_top_level_on_present_only():
    outcome = plan(to_bytes({"z": 1}), deployment_mode="3p")
    document = json.loads(written(outcome))
    assert document["deploymentMode"] == "3p" and document["z"] == 1
    assert not replan(outcome, deployment_mode="3p").changed
    assert not plan(to_bytes({"z": 1}), MergeRequest(state=ABSENT), deployment_mode="3p").changed


def test_deployment_mode_change_alone_is_a_write():
    data = to_bytes({"deploymentMode": "1p", "enterpriseConfig": SETTINGS})
    outcome = plan(data, deployment_mode="3p")
    assert outcome.changed
    assert list(json.loads(written(outcome))) == ["deploymentMode", "enterpriseConfig"]


# --- refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [([], "array"), ("text", "string"), (1, "number"), (True, "boolean")])
def test_enterprise_config_that_is_not_an_object_is_refused(value, kind):
    with pytest.raises(PlanError) as info:
        plan(to_bytes({"enterpriseConfig": value}))
    message = str(info.value)
    assert LABEL in message and "'enterpriseConfig' is a JSON %s" % kind in message
    assert "fix or delete it" in message


@pytest.mark.parametrize("data", [b"{", b"[]", b'"x"', b"\xff\xfe{\x00}\x00", b'{"a": "\xff"}'])
def test_unusable_files_are_refused_with_the_label(data):
    with pytest.raises(DocumentError) as info:
        plan(data)
    assert LABEL in str(info.value)


def test_out_of_range_number_in_the_file_is_a_clear_error():
    with pytest.raises((DocumentError, PlanError)) as info:
        plan(b'{"enterpriseConfig": {"inferenceModelPricingMultiplier": 1e999}}')
    assert LABEL in str(info.value)


def test_refusal_happens_for_absent_too():
    with pytest.raises(DocumentError):
        plan(b"{", MergeRequest(state=ABSENT))


# --- reporting: key_changes and diffs never show secrets -----------------------------------------------

def test_key_changes_redact_credentials():
    outcome = plan(to_bytes(EXISTING))
    by_key = dict((item["key"], item) for item in outcome.key_changes)
    assert by_key["inferenceGatewayApiKey"] == {"key": "inferenceGatewayApiKey", "change": "changed",
                                                "before": marker(OTHER_KEY), "after": marker(API_KEY)}
    assert by_key["inferenceProvider"] == {"key": "inferenceProvider", "change": "added", "after": "gateway"}
    assert_no_secret(outcome.key_changes)


def test_key_changes_for_removed_keys():
    outcome = plan(to_bytes(EXISTING), MergeRequest(state=ABSENT))
    assert outcome.key_changes == [
        {"key": "inferenceModels", "change": "removed", "before": ["claude-sonnet-4"]},
        {"key": "inferenceGatewayApiKey", "change": "removed", "before": marker(OTHER_KEY)},
    ]


def test_diff_is_redacted_and_labelled():
    outcome = plan(to_bytes(EXISTING), want_diff=True, header="alice: " + LABEL)
    assert len(outcome.diffs) == 1
    diff = outcome.diffs[0]
    assert diff["before_header"] == diff["after_header"] == "alice: " + LABEL
    assert marker(API_KEY) in diff["after"] and marker(OTHER_KEY) in diff["before"]
    assert json.loads(diff["before"])["mcpServers"] == EXISTING["mcpServers"]
    assert_no_secret(diff)


def test_diff_of_a_new_file_shows_it_absent_before():
    diff = plan(None, want_diff=True).diffs[0]
    assert diff["before_header"] == LABEL + " (absent)" and diff["before"] == ""
    assert diff["after_header"] == LABEL
    assert_no_secret(diff)


def test_diff_redacts_nested_credentials_not_declared_anywhere():
    secret_in_file = {"enterpriseConfig": {"managedMcpServers": [
        {"name": "gh", "url": "https://mcp.example.com", "headers": {"Authorization": "Bearer " + MCP_TOKEN},
         "env": {"ANYTHING": MCP_TOKEN}}]}}
    outcome = plan(to_bytes(secret_in_file), want_diff=True)
    assert_no_secret(outcome.diffs, secrets=(MCP_TOKEN, API_KEY))
    assert_no_secret(outcome.key_changes, secrets=(MCP_TOKEN, API_KEY))


def test_no_diff_without_changes_or_without_asking():
    assert plan(to_bytes({"enterpriseConfig": SETTINGS}), want_diff=True).diffs == []
    assert plan(None, want_diff=False).diffs == []


# --- backups --------------------------------------------------------------------------------------------

def test_backup_scrubs_managed_credentials_and_keeps_everything_else():
    before = to_bytes(dict(EXISTING, inferenceGatewayApiKey=API_KEY))
    content = backup_content(before, Redactor())
    assert_no_secret(content)
    document = json.loads(content)
    assert document["enterpriseConfig"]["inferenceGatewayApiKey"] == marker(OTHER_KEY)
    assert document["inferenceGatewayApiKey"] == marker(API_KEY)
    assert document["mcpServers"] == EXISTING["mcpServers"]
    assert document["enterpriseConfig"]["inferenceModels"] == ["claude-sonnet-4"]


def test_backup_without_credentials_is_byte_for_byte():
    before = b'{ "z":1,\r\n "enterpriseConfig": {"a": true} }'
    assert backup_content(before, Redactor()) is before


def test_backup_of_an_unparsable_file_is_byte_for_byte():
    for before in (b"{", b"\xff\xfe{\x00}\x00", b"[1]"):
        assert backup_content(before, Redactor()) == before
