# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The OS-preference encoder, key by key against reference 3.1 and 6.1 item 6.

Every key of the catalogue is encoded and decoded with a value of its kind; the expected strings are
written out by hand from the reference's rules (booleans ``"true"``/``"false"``, integers in decimal,
numbers as JSON, lists and dictionaries as one compact JSON string with their own key order and
non-ASCII characters kept), never computed with the code under test.
"""

from __future__ import annotations

import math

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import config_keys as ck
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import json_equal
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import MergeRequest
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import (
    PolicyEncodingError, check_key_name, decode_settings, decode_value, display_form, encode_settings, encode_value,
    kind_for, plan_policy,
)

# (native value, the string the reference says is stored) per kind.
SAMPLES = {
    ck.STRING: [("https://llm-gw.example.corp", "https://llm-gw.example.corp"), ("", ""),
                ("Équipe données \u2014 \"quoted\" \\ back", "Équipe données \u2014 \"quoted\" \\ back")],
    ck.BOOLEAN: [(True, "true"), (False, "false")],
    ck.INTEGER: [(3600, "3600"), (0, "0"), (72, "72")],
    ck.NUMBER: [(1.5, "1.5"), (2, "2"), (0.25, "0.25")],
    ck.STRING_LIST: [(["claude-sonnet-4-6", "claude-opus-4-7"], '["claude-sonnet-4-6","claude-opus-4-7"]'),
                     ([], "[]"), (["*.corp.com", "10.0.0.1:8443"], '["*.corp.com","10.0.0.1:8443"]')],
    ck.OBJECT: [({"issuer": "https://ORG.okta.com", "clientId": "ID", "redirectPort": 53180},
                 '{"issuer":"https://ORG.okta.com","clientId":"ID","redirectPort":53180}'),
                ({"z": 1, "a": {"ü": [True, None]}}, '{"z":1,"a":{"ü":[true,null]}}')],
    ck.OBJECT_LIST: [([{"name": "files", "url": "https://mcp.example.com"}],
                      '[{"name":"files","url":"https://mcp.example.com"}]')],
    ck.MIXED_LIST: [(["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}],
                     '["claude-sonnet-4-6",{"name":"claude-opus-4-7","supports1m":true}]')],
    ck.OBJECT_OR_LIST: [({"mcpServers": {"files": {"toolPolicy": {"read": "allow"}}}},
                         '{"mcpServers":{"files":{"toolPolicy":{"read":"allow"}}}}'),
                        ([{"serverName": "files", "tools": []}], '[{"serverName":"files","tools":[]}]')],
    ck.OBJECT_OR_STRING: [({"x-tenant": "acme"}, '{"x-tenant":"acme"}'),
                          ("x-tenant=acme,x-env=prod", "x-tenant=acme,x-env=prod")],
}
# A value of the wrong type for each kind (what a YAML mistake produces).
WRONG = {
    ck.STRING: 42, ck.ENUM: True, ck.BOOLEAN: "true", ck.INTEGER: "3600", ck.NUMBER: "1.5",
    ck.STRING_LIST: "a,b", ck.OBJECT: ["a"], ck.OBJECT_LIST: {"name": "x"}, ck.MIXED_LIST: "claude-sonnet-4-6",
    ck.OBJECT_OR_LIST: "x", ck.OBJECT_OR_STRING: ["x"],
}


def samples_for(key):
    spec = ck.KEYS[key]
    if spec["type"] == ck.ENUM:
        return [(value, value) for value in spec["enum"]]
    return SAMPLES[spec["type"]]


KEY_SAMPLES = [(key, value, text) for key in sorted(ck.KEYS) for value, text in samples_for(key)]


@pytest.mark.parametrize("key,value,text", KEY_SAMPLES, ids=["%s-%d" % (k, i) for i, (k, _v, _t) in enumerate(KEY_SAMPLES)])
def test_every_catalogue_key_encodes_to_the_documented_string_and_back(key, value, text):
    assert encode_value(key, value) == text
    assert isinstance(encode_value(key, value), str)
    decoded = decode_value(key, text)
    assert json_equal(decoded, value), (decoded, value)


@pytest.mark.parametrize("key", sorted(ck.KEYS))
def test_every_catalogue_key_refuses_a_value_of_the_wrong_type_naming_the_key(key):
    with pytest.raises(PolicyEncodingError) as caught:
        encode_value(key, WRONG[ck.KEYS[key]["type"]])
    assert caught.value.problems[0].startswith("%s: must be " % key)


def test_reference_3_1_example_payload():
    settings = {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://llm-gw.example.corp",
        "inferenceGatewayApiKey": "PLACEHOLDER",
        "disableDeploymentModeChooser": True,
        "inferenceModels": ["claude-sonnet-4-6", "claude-opus-4-7"],
        "inferenceGatewayOidc": {"issuer": "https://ORG.okta.com", "clientId": "ID", "redirectPort": 53180},
    }
    assert encode_settings(settings) == {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://llm-gw.example.corp",
        "inferenceGatewayApiKey": "PLACEHOLDER",
        "disableDeploymentModeChooser": "true",
        "inferenceModels": '["claude-sonnet-4-6","claude-opus-4-7"]',
        "inferenceGatewayOidc": '{"issuer":"https://ORG.okta.com","clientId":"ID","redirectPort":53180}',
    }
    assert list(encode_settings(settings)) == list(settings)
    assert decode_settings(encode_settings(settings)) == settings


def test_booleans_are_not_integers_and_integers_are_not_booleans():
    with pytest.raises(PolicyEncodingError, match="inferenceCredentialHelperTtlSec: must be an integer, got a boolean"):
        encode_value("inferenceCredentialHelperTtlSec", True)
    with pytest.raises(PolicyEncodingError, match="disableAutoUpdates: must be a boolean"):
        encode_value("disableAutoUpdates", 1)
    with pytest.raises(PolicyEncodingError, match="inferenceModelPricingMultiplier: must be a number"):
        encode_value("inferenceModelPricingMultiplier", False)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_numbers_that_json_cannot_hold_are_refused(value):
    with pytest.raises(PolicyEncodingError, match="NaN and infinity"):
        encode_value("inferenceModelPricingMultiplier", value)
    with pytest.raises(PolicyEncodingError):
        encode_value("banner", {"width": value})


@pytest.mark.parametrize("key", ["inferenceGatewayOidc.clientId", "bootstrapOidc.issuer", "banner.text"])
def test_dotted_sub_keys_are_refused_with_what_to_write_instead(key):
    parent, child = key.split(".")
    with pytest.raises(PolicyEncodingError) as caught:
        encode_value(key, "x")
    message = caught.value.problems[0]
    assert message.startswith("%s: dotted sub-keys are never read" % key)
    assert "give %s as one dictionary value instead (%s: {%s: ...})" % (parent, parent, child) in message


def test_all_problems_are_reported_at_once():
    with pytest.raises(PolicyEncodingError) as caught:
        encode_settings({"inferenceGatewayOidc.clientId": "x", "disableAutoUpdates": "yes", "inferenceModels": None,
                         "inferenceProvider": "gateway"})
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "inferenceGatewayOidc.clientId", "disableAutoUpdates", "inferenceModels"]
    assert "the string 'yes'" in caught.value.problems[1]
    assert "has no value (null)" in caught.value.problems[2]


def test_key_names_must_be_non_empty_strings():
    assert check_key_name("inferenceProvider") is None
    assert "non-empty string" in check_key_name("")
    assert "non-empty string" in check_key_name(None)


def test_unknown_keys_take_the_kind_of_their_value():
    assert kind_for("futureFlag", True) == ck.BOOLEAN
    assert kind_for("futureLimit", 5) == ck.INTEGER
    assert kind_for("futureRatio", 0.5) == ck.NUMBER
    assert kind_for("futureList", []) == ck.MIXED_LIST
    assert kind_for("futureObject", {}) == ck.OBJECT
    assert kind_for("futureText", "x") == ck.STRING
    assert kind_for("futureText") is None
    assert encode_settings({"futureFlag": True, "futureList": ["a", 1], "futureText": "x"}) == {
        "futureFlag": "true", "futureList": '["a",1]', "futureText": "x"}
    assert decode_value("futureFlag", "true", ck.BOOLEAN) is True
    assert decode_value("futureFlag", "true") == "true"  # no kind: an unknown value stays the string stored


@pytest.mark.parametrize("key,text", [
    ("disableAutoUpdates", "1"), ("disableAutoUpdates", "0"),
])
def test_booleans_also_decode_from_1_and_0_as_the_reference_allows(key, text):
    assert decode_value(key, text) is (text == "1")


@pytest.mark.parametrize("key,text", [
    ("disableAutoUpdates", "True"), ("disableAutoUpdates", "yes"), ("disableAutoUpdates", ""),
    ("autoUpdaterEnforcementHours", "24.0"), ("autoUpdaterEnforcementHours", " 24"), ("autoUpdaterEnforcementHours", "0x18"),
    ("inferenceModelPricingMultiplier", "NaN"), ("inferenceModelPricingMultiplier", "true"),
    ("inferenceModels", "claude-sonnet-4-6"), ("inferenceModels", '{"name": "x"}'), ("inferenceGatewayOidc", "[]"),
    ("inferenceGatewayOidc", "{not json"), ("managedMcpServers", '{"name": "files"}'),
])
def test_text_the_app_would_not_read_does_not_decode(key, text):
    with pytest.raises(PolicyEncodingError) as caught:
        decode_value(key, text)
    assert caught.value.problems[0].startswith("%s: " % key)


def test_native_plist_values_are_not_strings():
    with pytest.raises(PolicyEncodingError, match="stored as a native boolean, not as a string"):
        decode_value("disableAutoUpdates", True)


def test_object_or_string_keeps_the_key_value_form():
    assert decode_value("otlpHeaders", "x-a=1,x-b=2") == "x-a=1,x-b=2"
    assert decode_value("otlpHeaders", '{"x-a": "1"}') == {"x-a": "1"}


def test_json_spacing_and_key_order_do_not_matter_when_decoding():
    assert json_equal(decode_value("inferenceGatewayOidc", '{ "clientId" : "ID",\n "issuer": "https://i" }'),
                      {"issuer": "https://i", "clientId": "ID"})


def test_display_form_is_lenient():
    assert display_form({"a": "x", "disableAutoUpdates": True, "odd.key": [1], "n": None}) == {
        "a": "x", "disableAutoUpdates": "true", "odd.key": "[1]", "n": "null"}


# --- plan_policy -------------------------------------------------------------------------------------

SETTINGS = {"inferenceProvider": "gateway", "inferenceModels": ["claude-sonnet-4-6"], "disableAutoUpdates": True}


def test_in_sync_when_only_the_text_differs():
    stored = {"inferenceProvider": "gateway", "inferenceModels": '[ "claude-sonnet-4-6" ]', "disableAutoUpdates": "1"}
    plan = plan_policy(stored, MergeRequest(SETTINGS))
    assert not plan.changed
    assert plan.summary == {"added": [], "changed": [], "removed": []}


def test_owned_value_in_native_form_is_rewritten_as_a_string_with_a_note():
    stored = {"inferenceProvider": "gateway", "inferenceModels": ["claude-sonnet-4-6"], "disableAutoUpdates": True,
              "foreignNative": 5}
    plan = plan_policy(stored, MergeRequest(SETTINGS))
    assert plan.summary["changed"] == ["inferenceModels", "disableAutoUpdates"]
    assert plan.set_values == {"inferenceModels": '["claude-sonnet-4-6"]', "disableAutoUpdates": "true"}
    assert plan.stored_after["foreignNative"] == 5  # not ours: left exactly as it was
    assert len(plan.notes) == 2


def test_registry_types_are_passed_as_misencoded():
    stored = dict(encode_settings(SETTINGS), disableAutoUpdates="1")
    plan = plan_policy(stored, MergeRequest(SETTINGS), misencoded=["disableAutoUpdates"])
    assert plan.set_values == {"disableAutoUpdates": "true"}


def test_undecodable_owned_value_is_rewritten_and_reported_as_changed():
    plan = plan_policy({"disableAutoUpdates": "True"}, MergeRequest({"disableAutoUpdates": True}))
    assert plan.summary["changed"] == ["disableAutoUpdates"]
    assert plan.before == {"disableAutoUpdates": "True"}
    assert plan.set_values == {"disableAutoUpdates": "true"}


def test_merge_keeps_foreign_keys_and_exclusive_drops_them():
    stored = {"bannerText": "x", "inferenceProvider": "vertex"}
    plan = plan_policy(stored, MergeRequest({"inferenceProvider": "gateway"}))
    assert plan.stored_after == {"bannerText": "x", "inferenceProvider": "gateway"}
    assert (plan.set_values, plan.remove_values) == ({"inferenceProvider": "gateway"}, [])

    plan = plan_policy(stored, MergeRequest({"inferenceProvider": "gateway"}, exclusive=True))
    assert plan.stored_after == {"inferenceProvider": "gateway"}
    assert plan.remove_values == ["bannerText"]
    assert plan.summary == {"added": [], "changed": ["inferenceProvider"], "removed": ["bannerText"]}


def test_remove_and_absent():
    stored = encode_settings(SETTINGS)
    plan = plan_policy(stored, MergeRequest({"inferenceProvider": "gateway"}, remove=["inferenceModels", "ghost"]))
    assert plan.remove_values == ["inferenceModels"] and plan.set_values == {}

    plan = plan_policy(stored, MergeRequest({"inferenceModels": []}, state="absent"))
    assert plan.remove_values == ["inferenceModels"]
    assert set(plan.stored_after) == {"inferenceProvider", "disableAutoUpdates"}

    plan = plan_policy(stored, MergeRequest(state="absent"))
    assert plan.stored_after is None and plan.after is None
    assert plan.remove_values == list(SETTINGS)

    plan = plan_policy({"inferenceModels": stored["inferenceModels"]}, MergeRequest(remove=["inferenceModels"]))
    assert plan.stored_after is None, "a policy left without any value is removed as a whole"

    assert not plan_policy({}, MergeRequest(state="absent")).changed


def test_credentials_are_encoded_like_any_string():
    plan = plan_policy({}, MergeRequest({"inferenceGatewayApiKey": "sk-ant-x"}))
    assert plan.set_values == {"inferenceGatewayApiKey": "sk-ant-x"}
    assert plan.summary["added"] == ["inferenceGatewayApiKey"]
