"""plan.plan_config_library: our entry in configLibrary/ (entry file + _meta.json), safe write order."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import UTF8_BOM, DocumentError, to_bytes
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import ABSENT, MergeRequest
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    DEFAULT_ENTRY_NAME, ENTRY_NAMESPACE, META_FILE_NAME, STATUS_DRIFTED, STATUS_IN_SYNC, STATUS_MISSING, PlanError,
    entry_id_for, plan_config_library,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor, marker

from tests.unit.conftest import API_KEY, OTHER_KEY, assert_no_secret

LABEL = "/home/alice/.config/Claude-3p/configLibrary"
OURS = entry_id_for(DEFAULT_ENTRY_NAME)
OUR_FILE = OURS + ".json"
OTHER_ID = "6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5"
THIRD_ID = "0a0b0c0d-1111-4222-8333-444455556666"
BASE_URL = "https://api.aiohub.org"
SETTINGS = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL,
            "inferenceGatewayApiKey": API_KEY}
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Library(object):
    """An in-memory configLibrary directory: plans against its files and applies the writes in order."""

    def __init__(self, files=None):
        self.files = dict(files or {})
        self.history = []

    def plan(self, request=None, **kwargs):
        kwargs.setdefault("label", LABEL)
        entry_file = entry_id_for(kwargs.get("entry_name", DEFAULT_ENTRY_NAME)) + ".json"
        return plan_config_library(self.files.get(META_FILE_NAME), self.files.get(entry_file), list(self.files),
                                   request or MergeRequest(SETTINGS), Redactor([API_KEY, OTHER_KEY]), **kwargs)

    def apply(self, outcome):
        for write in outcome.writes:
            assert write.before == self.files.get(write.name)
            self.history.append(("delete" if write.is_delete else "write", write.name))
            if write.is_delete:
                del self.files[write.name]
            else:
                self.files[write.name] = write.content
        return outcome

    def run(self, request=None, **kwargs):
        return self.apply(self.plan(request, **kwargs))

    def json(self, name):
        return json.loads(self.files[name])


def meta(applied=None, entries=(), **extra):
    document = dict(extra)
    if applied is not None:
        document["appliedId"] = applied
    document["entries"] = [{"id": entry_id, "name": name} for entry_id, name in entries]
    return to_bytes(document)


# --- entry ids ------------------------------------------------------------------------------------

def test_entry_id_is_a_deterministic_lowercase_uuid5_of_the_name():
    assert entry_id_for("Fleet gateway") == entry_id_for("Fleet gateway")
    assert entry_id_for("Fleet gateway") == str(uuid.uuid5(ENTRY_NAMESPACE, "Fleet gateway"))
    assert UUID_TEXT.match(entry_id_for("Fleet gateway"))
    assert uuid.UUID(entry_id_for("x")).version == 5


def test_different_names_give_different_ids():
    names = ["Managed by Ansible", "managed by ansible", "Fleet", "Fleet ", "東京"]
    assert len(set(entry_id_for(name) for name in names)) == len(names)


def test_default_entry_id_is_stable_across_releases():
    """Changing it would orphan every entry already written on the fleet."""
    assert OURS == str(uuid.uuid5(uuid.UUID("6b0c5f4e-3f0a-5c1e-9a57-61696f687562"), "Managed by Ansible"))


# --- creating ---------------------------------------------------------------------------------------

def test_empty_library_gets_entry_then_meta():
    library = Library()
    outcome = library.run()
    assert outcome.status == STATUS_MISSING and outcome.changed
    assert library.history == [("write", OUR_FILE), ("write", META_FILE_NAME)]
    assert library.json(OUR_FILE) == SETTINGS
    assert library.json(META_FILE_NAME) == {"appliedId": OURS, "entries": [{"id": OURS, "name": DEFAULT_ENTRY_NAME}]}
    assert list(library.json(META_FILE_NAME)) == ["appliedId", "entries"]
    assert outcome.summary == {"added": list(SETTINGS), "changed": [], "removed": []}


def test_second_run_writes_nothing():
    library = Library()
    library.run()
    outcome = library.plan()
    assert outcome.writes == [] and outcome.status == STATUS_IN_SYNC
    assert outcome.key_changes == [] and outcome.notes == []


def test_entry_file_holds_flat_keys_canonically():
    library = Library()
    library.run()
    assert library.files[OUR_FILE] == to_bytes(SETTINGS)


def test_custom_entry_name():
    library = Library()
    library.run(entry_name="Fleet gateway")
    fleet = entry_id_for("Fleet gateway")
    assert library.json(META_FILE_NAME) == {"appliedId": fleet, "entries": [{"id": fleet, "name": "Fleet gateway"}]}
    assert fleet + ".json" in library.files


def test_other_entries_and_meta_keys_are_kept_and_ours_is_appended():
    library = Library({
        META_FILE_NAME: meta(OTHER_ID, [(OTHER_ID, "User's own"), (THIRD_ID, "Third")], version=3),
        OTHER_ID + ".json": to_bytes({"inferenceProvider": "bedrock"}),
        THIRD_ID + ".json": b"{}",
    })
    outcome = library.run()
    document = library.json(META_FILE_NAME)
    assert document["version"] == 3
    assert list(document) == ["version", "appliedId", "entries"]
    assert document["entries"] == [{"id": OTHER_ID, "name": "User's own"}, {"id": THIRD_ID, "name": "Third"},
                                   {"id": OURS, "name": DEFAULT_ENTRY_NAME}]
    assert document["appliedId"] == OURS
    assert library.files[OTHER_ID + ".json"] == to_bytes({"inferenceProvider": "bedrock"})
    assert outcome.notes == ["applied entry switched from %s to %s" % (OTHER_ID, OURS)]


def test_our_entry_keeps_its_place_and_extra_fields_and_gets_its_name_back():
    library = Library({
        META_FILE_NAME: to_bytes({"appliedId": OURS, "entries": [
            {"id": OURS, "name": "renamed by user", "extra": 1}, {"id": OTHER_ID, "name": "x"}]}),
        OUR_FILE: to_bytes(SETTINGS), OTHER_ID + ".json": b"{}",
    })
    outcome = library.run()
    assert library.history == [("write", META_FILE_NAME)]
    assert library.json(META_FILE_NAME)["entries"] == [{"id": OURS, "name": DEFAULT_ENTRY_NAME, "extra": 1},
                                                       {"id": OTHER_ID, "name": "x"}]
    assert outcome.summary == {"added": [], "changed": [], "removed": []}


def test_apply_false_adds_the_entry_without_applying_it():
    library = Library({META_FILE_NAME: meta(OTHER_ID, [(OTHER_ID, "x")]), OTHER_ID + ".json": b"{}"})
    outcome = library.run(apply=False)
    assert library.json(META_FILE_NAME)["appliedId"] == OTHER_ID
    assert [item["id"] for item in library.json(META_FILE_NAME)["entries"]] == [OTHER_ID, OURS]
    assert outcome.notes == []
    assert not library.plan(apply=False).changed


def test_apply_false_on_an_empty_library_sets_no_applied_id():
    library = Library()
    library.run(apply=False)
    assert "appliedId" not in library.json(META_FILE_NAME)


def test_apply_true_later_switches_to_our_entry():
    library = Library()
    library.run(apply=False)
    outcome = library.run()
    assert library.history[-1] == ("write", META_FILE_NAME)
    assert library.json(META_FILE_NAME)["appliedId"] == OURS
    assert outcome.summary == {"added": [], "changed": [], "removed": []}


def test_updating_keeps_unowned_keys_of_our_entry():
    library = Library({OUR_FILE: to_bytes({"userAdded": 1, "inferenceGatewayApiKey": OTHER_KEY}),
                       META_FILE_NAME: meta(OURS, [(OURS, DEFAULT_ENTRY_NAME)])})
    outcome = library.run()
    assert library.history == [("write", OUR_FILE)]
    assert library.json(OUR_FILE) == {"userAdded": 1, "inferenceGatewayApiKey": API_KEY,
                                      "inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL}
    assert outcome.status == STATUS_DRIFTED
    assert outcome.summary["changed"] == ["inferenceGatewayApiKey"]


def test_exclusive_and_remove_in_an_entry():
    library = Library({OUR_FILE: to_bytes({"userAdded": 1, "old": 2}), META_FILE_NAME: meta(OURS, [(OURS, "x")])})
    library.run(MergeRequest({"a": 1}, remove=["old"]))
    assert library.json(OUR_FILE) == {"userAdded": 1, "a": 1}
    library.run(MergeRequest({"a": 1}, exclusive=True))
    assert library.json(OUR_FILE) == {"a": 1}


def test_bom_in_our_entry_is_rewritten():
    library = Library({OUR_FILE: UTF8_BOM + to_bytes(SETTINGS),
                       META_FILE_NAME: meta(OURS, [(OURS, DEFAULT_ENTRY_NAME)])})
    outcome = library.run()
    assert library.history == [("write", OUR_FILE)] and outcome.changed
    assert not library.files[OUR_FILE].startswith(UTF8_BOM)


def test_entry_file_missing_but_meta_points_at_it():
    library = Library({META_FILE_NAME: meta(OURS, [(OURS, DEFAULT_ENTRY_NAME)])})
    outcome = library.run()
    assert library.history == [("write", OUR_FILE)]
    assert outcome.status == STATUS_MISSING


# --- refusals: nothing is written ---------------------------------------------------------------------

@pytest.mark.parametrize("content, needle", [
    (b"{", "is not valid JSON"),
    (b"[]", "JSON array at the top level"),
    (to_bytes({"entries": {"id": "x"}}), "'entries' must be a list"),
    (to_bytes({"entries": ["x"]}), "'entries' must be a list"),
    (to_bytes({"appliedId": 7, "entries": []}), "'appliedId' must be a string"),
])
def test_corrupt_meta_is_refused(content, needle):
    library = Library({META_FILE_NAME: content})
    with pytest.raises((DocumentError, PlanError)) as info:
        library.plan()
    message = str(info.value)
    assert LABEL + "/" + META_FILE_NAME in message
    assert needle in message
    assert "fix or delete" in message.lower()


def test_applied_id_naming_a_missing_file_is_refused():
    library = Library({META_FILE_NAME: meta(OTHER_ID, [(OTHER_ID, "x")])})
    with pytest.raises(PlanError) as info:
        library.plan()
    message = str(info.value)
    assert OTHER_ID in message and "%s.json does not exist" % OTHER_ID in message
    assert "nothing was written" in message and "Quit Claude Desktop" in message


def test_a_dangling_foreign_applied_id_does_not_block_removing_our_entry():
    library = Library({META_FILE_NAME: meta(OTHER_ID, [(OTHER_ID, "x"), (OURS, "y")]), OUR_FILE: b"{}"})
    outcome = library.plan(MergeRequest(state=ABSENT))
    assert [write.name for write in outcome.writes] == [META_FILE_NAME, OUR_FILE]
    assert outcome.writes[-1].is_delete


def test_corrupt_entry_is_refused_with_its_name():
    library = Library({OUR_FILE: b"{oops", META_FILE_NAME: meta(OURS, [(OURS, DEFAULT_ENTRY_NAME)])})
    with pytest.raises(DocumentError) as info:
        library.plan()
    assert "%s/%s" % (LABEL, OUR_FILE) in str(info.value)


def test_nested_schema_version_entry_needs_exclusive():
    nested = to_bytes({"$schemaVersion": 2, "inference": {"provider": "gateway"}})
    library = Library({OUR_FILE: nested, META_FILE_NAME: meta(OURS, [(OURS, DEFAULT_ENTRY_NAME)])})
    with pytest.raises(PlanError) as info:
        library.plan()
    message = str(info.value)
    assert OUR_FILE in message and "$schemaVersion 2" in message and "exclusive: true" in message
    library.run(MergeRequest(SETTINGS, exclusive=True))
    assert library.json(OUR_FILE) == SETTINGS


# --- state: absent ----------------------------------------------------------------------------------

def test_absent_removes_our_entry_meta_first_then_the_file():
    library = Library()
    library.run()
    library.history = []
    outcome = library.run(MergeRequest(state=ABSENT))
    assert library.history == [("write", META_FILE_NAME), ("delete", OUR_FILE)]
    assert library.json(META_FILE_NAME) == {"entries": []}
    assert outcome.summary == {"added": [], "changed": [], "removed": list(SETTINGS)}
    assert outcome.status == STATUS_DRIFTED
    assert not library.plan(MergeRequest(state=ABSENT)).changed


def test_absent_repoints_applied_id_to_the_first_remaining_entry_with_a_file():
    library = Library({
        META_FILE_NAME: meta(OURS, [(THIRD_ID, "no file"), (OURS, DEFAULT_ENTRY_NAME), (OTHER_ID, "has file")]),
        OUR_FILE: to_bytes(SETTINGS), OTHER_ID + ".json": b"{}",
    })
    library.run(MergeRequest(state=ABSENT))
    document = library.json(META_FILE_NAME)
    assert document["appliedId"] == OTHER_ID
    assert [item["id"] for item in document["entries"]] == [THIRD_ID, OTHER_ID]
    assert OUR_FILE not in library.files


def test_absent_removes_applied_id_when_no_entry_remains_usable():
    library = Library({
        META_FILE_NAME: meta(OURS, [(OURS, DEFAULT_ENTRY_NAME), (THIRD_ID, "no file")]), OUR_FILE: b"{}",
    })
    library.run(MergeRequest(state=ABSENT))
    assert library.json(META_FILE_NAME) == {"entries": [{"id": THIRD_ID, "name": "no file"}]}


def test_absent_leaves_another_applied_entry_alone():
    library = Library({META_FILE_NAME: meta(OTHER_ID, [(OTHER_ID, "x"), (OURS, "y")]), OUR_FILE: b"{}",
                       OTHER_ID + ".json": b"{}"})
    library.run(MergeRequest(state=ABSENT))
    assert library.json(META_FILE_NAME) == {"appliedId": OTHER_ID, "entries": [{"id": OTHER_ID, "name": "x"}]}


def test_absent_on_an_empty_library_does_nothing():
    outcome = Library().plan(MergeRequest(state=ABSENT))
    assert outcome.writes == [] and outcome.status == STATUS_IN_SYNC


def test_absent_with_only_a_stale_meta_entry_fixes_meta():
    library = Library({META_FILE_NAME: meta(None, [(OURS, DEFAULT_ENTRY_NAME)])})
    library.run(MergeRequest(state=ABSENT))
    assert library.history == [("write", META_FILE_NAME)]
    assert library.json(META_FILE_NAME) == {"entries": []}


def test_absent_with_only_an_orphan_entry_file_deletes_it():
    library = Library({OUR_FILE: b"{}"})
    library.run(MergeRequest(state=ABSENT))
    assert library.history == [("delete", OUR_FILE)]


def test_absent_with_keys_still_removes_our_whole_entry():
    library = Library()
    library.run()
    library.history = []
    outcome = library.run(MergeRequest(remove=["inferenceGatewayApiKey"], state=ABSENT))
    assert library.history == [("write", META_FILE_NAME), ("delete", OUR_FILE)]
    assert outcome.summary["removed"] == list(SETTINGS)


def test_present_with_remove_drops_single_keys_from_our_entry():
    library = Library()
    library.run()
    library.history = []
    outcome = library.run(MergeRequest(
        {key: value for key, value in SETTINGS.items() if key != "inferenceGatewayApiKey"},
        remove=["inferenceGatewayApiKey"]))
    assert library.history == [("write", OUR_FILE)]
    assert "inferenceGatewayApiKey" not in library.json(OUR_FILE)
    assert outcome.summary["removed"] == ["inferenceGatewayApiKey"]


def test_absent_with_keys_and_no_entry_creates_nothing():
    library = Library({META_FILE_NAME: meta(OTHER_ID, [(OTHER_ID, "x")]), OTHER_ID + ".json": b"{}"})
    outcome = library.plan(MergeRequest({"inferenceModels": None}, state=ABSENT))
    assert outcome.writes == [] and outcome.status == STATUS_IN_SYNC


# --- reporting ----------------------------------------------------------------------------------------

def test_diffs_are_redacted_and_name_both_files():
    library = Library({OUR_FILE: to_bytes({"inferenceGatewayApiKey": OTHER_KEY})})
    outcome = library.plan(want_diff=True, header="alice: " + LABEL)
    headers = [diff["before_header"] for diff in outcome.diffs]
    assert headers == ["alice: %s/%s" % (LABEL, OUR_FILE), "alice: %s/%s (absent)" % (LABEL, META_FILE_NAME)]
    assert marker(API_KEY) in outcome.diffs[0]["after"] and marker(OTHER_KEY) in outcome.diffs[0]["before"]
    assert_no_secret(outcome.diffs)


def test_diff_of_a_removed_entry_shows_it_absent_after():
    library = Library()
    library.run()
    outcome = library.plan(MergeRequest(state=ABSENT), want_diff=True)
    entry_diff = [diff for diff in outcome.diffs if OUR_FILE in diff["before_header"]][0]
    assert entry_diff["after_header"].endswith("(absent)") and entry_diff["after"] == ""
    assert_no_secret(outcome.diffs)


def test_key_changes_are_redacted():
    library = Library({OUR_FILE: to_bytes({"inferenceGatewayApiKey": OTHER_KEY})})
    outcome = library.plan()
    assert {"key": "inferenceGatewayApiKey", "change": "changed", "before": marker(OTHER_KEY),
            "after": marker(API_KEY)} in outcome.key_changes
    assert_no_secret(outcome.key_changes)
