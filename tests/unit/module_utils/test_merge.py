"""merge.py: setting, removing, exclusive and absent merges; change summaries; secret split/compose."""

from __future__ import annotations

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import (
    ABSENT, PRESENT, MergeRequest, changed_keys, compose_user_settings, has_changes, merge_settings, no_changes,
    replace_in_place, split_secrets,
)

from tests.unit.conftest import API_KEY, OTHER_KEY

CURRENT = {"inferenceProvider": "gateway", "userKey": [1, 2], "inferenceModels": ["claude-a"], "zLast": {"n": 1}}


def test_request_defaults():
    request = MergeRequest()
    assert request.settings == {} and request.remove == [] and request.exclusive is False
    assert request.state == PRESENT
    assert not request.removes_everything


def test_owned_keys_are_settings_then_removals_without_duplicates():
    request = MergeRequest({"a": 1, "b": 2}, remove=["b", "c"])
    assert request.owned_keys() == ["a", "b", "c"]


def test_removes_everything_only_for_bare_absent():
    assert MergeRequest(state=ABSENT).removes_everything
    assert not MergeRequest({"a": 1}, state=ABSENT).removes_everything
    assert not MergeRequest(remove=["a"], state=ABSENT).removes_everything


# --- present --------------------------------------------------------------------------------------

def test_set_keeps_other_keys_and_their_order():
    merged = merge_settings(CURRENT, MergeRequest({"inferenceModels": ["claude-b"], "newKey": True}))
    assert merged == {"inferenceProvider": "gateway", "userKey": [1, 2], "inferenceModels": ["claude-b"],
                      "zLast": {"n": 1}, "newKey": True}
    assert list(merged) == ["inferenceProvider", "userKey", "inferenceModels", "zLast", "newKey"]


def test_values_replace_whole_objects_no_deep_merge():
    merged = merge_settings({"banner": {"enabled": True, "text": "a"}}, MergeRequest({"banner": {"text": "b"}}))
    assert merged == {"banner": {"text": "b"}}


def test_remove_deletes_keys_and_ignores_missing_ones():
    merged = merge_settings(CURRENT, MergeRequest(remove=["userKey", "notThere"]))
    assert merged == {"inferenceProvider": "gateway", "inferenceModels": ["claude-a"], "zLast": {"n": 1}}


def test_a_key_both_set_and_removed_is_set():
    merged = merge_settings({"a": 1}, MergeRequest({"a": 2}, remove=["a"]))
    assert merged == {"a": 2}


def test_exclusive_makes_the_object_exactly_settings_keeping_existing_order():
    merged = merge_settings(CURRENT, MergeRequest({"newKey": 1, "inferenceModels": ["m"], "inferenceProvider": "x"},
                                                  exclusive=True))
    assert merged == {"inferenceProvider": "x", "inferenceModels": ["m"], "newKey": 1}
    assert list(merged) == ["inferenceProvider", "inferenceModels", "newKey"]


def test_exclusive_with_no_settings_empties_the_object():
    assert merge_settings(CURRENT, MergeRequest({}, exclusive=True)) == {}


def test_merge_of_nothing_into_nothing():
    assert merge_settings(None, MergeRequest()) == {}
    assert merge_settings({}, MergeRequest({"a": 1})) == {"a": 1}


def test_merge_never_modifies_its_inputs_nor_shares_containers():
    current = {"a": {"x": [1]}, "b": [1]}
    settings = {"c": {"y": [2]}}
    merged = merge_settings(current, MergeRequest(settings))
    merged["a"]["x"].append(99)
    merged["c"]["y"].append(99)
    assert current == {"a": {"x": [1]}, "b": [1]}
    assert settings == {"c": {"y": [2]}}


# --- absent ---------------------------------------------------------------------------------------

def test_absent_without_keys_removes_the_whole_object():
    assert merge_settings(CURRENT, MergeRequest(state=ABSENT)) is None


def test_absent_removes_named_keys_whatever_their_value():
    merged = merge_settings(CURRENT, MergeRequest({"userKey": "value ignored"}, remove=["zLast"], state=ABSENT))
    assert merged == {"inferenceProvider": "gateway", "inferenceModels": ["claude-a"]}


def test_absent_of_missing_keys_changes_nothing():
    assert merge_settings(CURRENT, MergeRequest({"nope": 1}, state=ABSENT)) == CURRENT


# --- change summaries -------------------------------------------------------------------------------

def test_changed_keys_in_document_order():
    before = {"a": 1, "b": True, "c": "x", "d": [1]}
    after = {"d": [1], "b": 1, "a": 1, "e": None}
    assert changed_keys(before, after) == {"added": ["e"], "changed": ["b"], "removed": ["c"]}


def test_changed_keys_is_type_strict():
    assert changed_keys({"a": True}, {"a": 1})["changed"] == ["a"]
    assert changed_keys({"a": 1}, {"a": 1.0}) == no_changes()


def test_changed_keys_from_and_to_nothing():
    assert changed_keys(None, {"a": 1}) == {"added": ["a"], "changed": [], "removed": []}
    assert changed_keys({"a": 1}, None) == {"added": [], "changed": [], "removed": ["a"]}
    assert changed_keys(None, None) == no_changes()


def test_has_changes():
    assert not has_changes(no_changes())
    assert not has_changes({})
    assert has_changes({"added": [], "changed": ["a"], "removed": []})


# --- replace_in_place ---------------------------------------------------------------------------------

def test_replace_in_place_keeps_position():
    assert list(replace_in_place({"a": 1, "b": 2, "c": 3}, "b", 9).items()) == [("a", 1), ("b", 9), ("c", 3)]


def test_replace_in_place_appends_new_keys_and_deletes_on_none():
    assert list(replace_in_place({"a": 1}, "z", 2)) == ["a", "z"]
    assert replace_in_place({"a": 1, "b": 2}, "a", None) == {"b": 2}
    assert replace_in_place({"a": 1}, "missing", None) == {"a": 1}


def test_replace_in_place_returns_a_new_dict():
    original = {"a": 1}
    replace_in_place(original, "a", 2)
    replace_in_place(original, "b", 2)
    assert original == {"a": 1}


# --- secrets travel separately ----------------------------------------------------------------------------

def test_split_secrets_keeps_position_with_a_placeholder():
    plain, secrets = split_secrets({"inferenceProvider": "gateway", "inferenceGatewayApiKey": API_KEY,
                                    "inferenceGatewayBaseUrl": "https://api.aiohub.org"})
    assert list(plain.items()) == [("inferenceProvider", "gateway"), ("inferenceGatewayApiKey", None),
                                   ("inferenceGatewayBaseUrl", "https://api.aiohub.org")]
    assert secrets == {"inferenceGatewayApiKey": API_KEY}


def test_split_then_compose_is_identity():
    settings = {"inferenceProvider": "gateway", "inferenceGatewayApiKey": API_KEY, "inferenceModels": ["claude-x"],
                "inferenceFoundryApiKey": OTHER_KEY}
    plain, secrets = split_secrets(settings)
    composed = compose_user_settings(plain, secrets)
    assert composed == settings
    assert list(composed) == list(settings)


def test_compose_drops_placeholders_without_a_value():
    assert compose_user_settings({"inferenceGatewayApiKey": None, "a": 1}, {}) == {"a": 1}


def test_compose_keeps_none_of_non_credential_keys():
    assert compose_user_settings({"someKey": None}) == {"someKey": None}


def test_compose_applies_user_overrides_and_user_secrets():
    plain, secrets = split_secrets({"inferenceProvider": "gateway", "inferenceGatewayApiKey": API_KEY, "x": 1})
    user_plain, user_secrets = split_secrets({"inferenceGatewayApiKey": OTHER_KEY, "x": 2, "y": 3})
    alice = compose_user_settings(plain, secrets, {"alice": user_plain}, {"alice": user_secrets}, user="alice")
    bob = compose_user_settings(plain, secrets, {"alice": user_plain}, {"alice": user_secrets}, user="bob")
    assert alice == {"inferenceProvider": "gateway", "inferenceGatewayApiKey": OTHER_KEY, "x": 2, "y": 3}
    assert list(alice) == ["inferenceProvider", "inferenceGatewayApiKey", "x", "y"]
    assert bob == {"inferenceProvider": "gateway", "inferenceGatewayApiKey": API_KEY, "x": 1}


def test_compose_with_secrets_only():
    assert compose_user_settings(None, {"inferenceGatewayApiKey": API_KEY}) == {"inferenceGatewayApiKey": API_KEY}


@pytest.mark.parametrize("user", [None, "nobody-here"])
def test_compose_without_user_data(user):
    assert compose_user_settings({"a": 1}, None, None, None, user=user) == {"a": 1}
