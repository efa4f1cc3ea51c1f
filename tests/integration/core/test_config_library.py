"""The configLibrary layout (newer app builds) and layout ``both``, end to end on localhost."""

import json
import os
import stat
import uuid

from tests.integration.core.conftest import API_KEY, gateway_settings
from tests.integration.core.test_enterprise_config import assert_ok, recap, snapshot, task

FOREIGN_ID = "0b8d6c52-1e7f-4a9b-9c3d-5e6f7a8b9c0d"
ENTRY_NAME = "AIOHub gateway"


def our_id(name=ENTRY_NAME):
    namespace = uuid.UUID("6b0c5f4e-3f0a-5c1e-9a57-61696f687562")
    return str(uuid.uuid5(namespace, name))


def plant_foreign_library(sandbox, user):
    library = sandbox.make_dirs(user, sandbox.library_dir(user))
    meta = {"appliedId": FOREIGN_ID, "entries": [{"id": FOREIGN_ID, "name": "Default"}]}
    (library / "_meta.json").write_text(json.dumps(meta))
    (library / ("%s.json" % FOREIGN_ID)).write_text(json.dumps({"inferenceProvider": "anthropic"}))
    for name in os.listdir(library):
        os.chown(library / name, sandbox.uid(user), sandbox.uid(user))
    return library


def library_task(**arguments):
    arguments.setdefault("layout", "config_library")
    arguments.setdefault("entry_name", ENTRY_NAME)
    return task(**arguments)


def test_library_converges_keeps_foreign_entries_and_is_idempotent(sandbox):
    library = plant_foreign_library(sandbox, "alice")
    foreign_before = (library / ("%s.json" % FOREIGN_ID)).read_bytes()
    playbook = sandbox.write_playbook("library", [library_task(settings=gateway_settings())])
    first = sandbox.playbook(playbook)
    assert_ok(first)
    assert recap(first.stdout)["changed"] == "1"

    entry_id = our_id()
    assert uuid.UUID(entry_id).version == 5 and entry_id == entry_id.lower()
    for user in ("alice", "bob"):
        directory = sandbox.library_dir(user)
        entry = json.loads((directory / ("%s.json" % entry_id)).read_text())
        assert entry == gateway_settings()
        meta = json.loads((directory / "_meta.json").read_text())
        assert meta["appliedId"] == entry_id
        assert {"id": entry_id, "name": ENTRY_NAME} in meta["entries"]
        for name in ("_meta.json", "%s.json" % entry_id):
            info = os.stat(directory / name)
            assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == sandbox.uid(user)
    bob_dir = os.stat(sandbox.library_dir("bob"))
    assert stat.S_IMODE(bob_dir.st_mode) == 0o700 and bob_dir.st_uid == sandbox.uid("bob")

    alice_meta = json.loads((library / "_meta.json").read_text())
    assert alice_meta["entries"][0] == {"id": FOREIGN_ID, "name": "Default"}
    assert (library / ("%s.json" % FOREIGN_ID)).read_bytes() == foreign_before

    before = snapshot(sandbox)
    second = sandbox.playbook(playbook)
    assert recap(second.stdout)["changed"] == "0"
    assert snapshot(sandbox) == before


def test_apply_false_registers_without_switching(sandbox):
    library = plant_foreign_library(sandbox, "alice")
    playbook = sandbox.write_playbook("noapply", [library_task(users=["alice"], settings=gateway_settings(),
                                                               apply=False)])
    assert_ok(sandbox.playbook(playbook))
    meta = json.loads((library / "_meta.json").read_text())
    assert meta["appliedId"] == FOREIGN_ID
    assert meta["entries"][-1]["id"] == our_id()


def test_absent_removes_our_entry_and_reapplies_the_foreign_one(sandbox):
    library = plant_foreign_library(sandbox, "alice")
    assert_ok(sandbox.playbook(sandbox.write_playbook("apply", [library_task(users=["alice"],
                                                                             settings=gateway_settings())])))
    result = sandbox.playbook(sandbox.write_playbook("remove", [library_task(users=["alice"], state="absent")]))
    assert_ok(result)
    meta = json.loads((library / "_meta.json").read_text())
    assert meta == {"appliedId": FOREIGN_ID, "entries": [{"id": FOREIGN_ID, "name": "Default"}]}
    assert sorted(os.listdir(library)) == sorted(["_meta.json", "%s.json" % FOREIGN_ID])
    again = sandbox.playbook(sandbox.write_playbook("remove2", [library_task(users=["alice"], state="absent")]))
    assert recap(again.stdout)["changed"] == "0"


def test_corrupt_meta_is_refused_and_nothing_written(sandbox):
    library = sandbox.make_dirs("alice", sandbox.library_dir("alice"))
    (library / "_meta.json").write_bytes(b'{"appliedId": "x", "entries": {"oops": 1}}')
    os.chown(library / "_meta.json", sandbox.uid("alice"), sandbox.uid("alice"))
    before = (library / "_meta.json").read_bytes()
    result = sandbox.playbook(sandbox.write_playbook("corrupt", [library_task(settings=gateway_settings())]))
    assert result.returncode == 2
    assert "'entries' must be a list" in result.stdout
    assert os.listdir(library) == ["_meta.json"] and (library / "_meta.json").read_bytes() == before
    assert (sandbox.library_dir("bob") / ("%s.json" % our_id())).exists()


def test_applied_id_naming_a_missing_file_is_refused(sandbox):
    library = sandbox.make_dirs("alice", sandbox.library_dir("alice"))
    meta = json.dumps({"appliedId": FOREIGN_ID, "entries": [{"id": FOREIGN_ID, "name": "Default"}]}).encode()
    (library / "_meta.json").write_bytes(meta)
    os.chown(library / "_meta.json", sandbox.uid("alice"), sandbox.uid("alice"))
    result = sandbox.playbook(sandbox.write_playbook("dangling", [library_task(users=["alice"],
                                                                               settings=gateway_settings())]))
    assert result.returncode == 2
    assert "names entry %s but %s.json does not exist" % (FOREIGN_ID, FOREIGN_ID) in result.stdout
    assert os.listdir(library) == ["_meta.json"] and (library / "_meta.json").read_bytes() == meta


def test_layout_both_writes_file_and_library(sandbox):
    playbook = sandbox.write_playbook("both", [task(users=["bob"], layout="both", settings=gateway_settings()),
                                               {"name": "Show", "ansible.builtin.debug": {"var": "outcome"}}])
    result = sandbox.playbook(playbook, check=True, diff=True)
    assert_ok(result)
    assert not sandbox.app_dir("bob").exists()
    assert API_KEY not in result.stdout
    assert_ok(sandbox.playbook(playbook))
    assert sandbox.read_config("bob")["enterpriseConfig"] == gateway_settings()
    entry = json.loads((sandbox.library_dir("bob") / ("%s.json" % our_id("Managed by Ansible"))).read_text())
    assert entry == gateway_settings()
    assert recap(sandbox.playbook(playbook).stdout)["changed"] == "0"
