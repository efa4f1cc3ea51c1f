"""Property-based tests of the engine (hypothesis, derandomized so CI runs are reproducible).

- planning again on the bytes just written gives no writes (config file and configLibrary);
- keys the request does not own are preserved exactly, in order;
- any JSON object (and any bytes) in the files never crashes the planner: only DocumentError/PlanError;
- serialize/parse round-trips;
- a declared secret never gets through ``Redactor.document``/``Redactor.text``;
- ``json_equal`` is reflexive, symmetric and agrees with canonical serialization for same-typed values.
"""

from __future__ import annotations

import json
import re
import string

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import (
    UTF8_BOM, DocumentError, deep_copy, json_equal, parse_object, serialize, to_bytes,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import ABSENT, PRESENT, MergeRequest
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    DEFAULT_ENTRY_NAME, ENTERPRISE_KEY, META_FILE_NAME, STATUS_IN_SYNC, PlanError, entry_id_for, plan_config_file,
    plan_config_library,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import (
    HEADER_KEYS, MIN_SUBSTRING_SECRET_LENGTH, Redactor,
)

# Moderate example counts: the whole module runs in a few seconds; derandomize makes every run identical.
PROPERTY = settings(max_examples=50, derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
FEW = settings(PROPERTY, max_examples=30)

OUR_FILE = entry_id_for(DEFAULT_ENTRY_NAME) + ".json"
OTHER_IDS = ["6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5", "0a0b0c0d-1111-4222-8333-444455556666"]

# --- strategies -------------------------------------------------------------------------------------

# A small pool of names, so requests and documents share keys often.
OWNED_POOL = ["inferenceProvider", "inferenceModels", "disableAutoUpdates", "inferenceGatewayApiKey", "banner", "k"]
key_names = st.one_of(st.sampled_from(OWNED_POOL + ["enterpriseConfig", "mcpServers", "deploymentMode"]),
                      st.text(max_size=6))

ints = st.integers(min_value=-(2 ** 63), max_value=2 ** 63)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda value: value != 0.0 or str(value) == "0.0")
scalars = st.one_of(st.none(), st.booleans(), ints, floats, st.text(max_size=8))


def json_values(scalar=scalars, keys=key_names):
    return st.recursive(scalar, lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)), max_leaves=8)


json_objects = st.dictionaries(key_names, json_values(), max_size=5)
settings_objects = st.dictionaries(st.sampled_from(OWNED_POOL), json_values(), max_size=4)


@st.composite
def config_documents(draw):
    """A claude_desktop_config.json document whose enterpriseConfig (if any) is an object."""
    document = draw(st.dictionaries(st.sampled_from(["mcpServers", "preferences", "deploymentMode", "x"]),
                                    json_values(), max_size=3))
    if draw(st.booleans()):
        position = draw(st.integers(min_value=0, max_value=len(document)))
        items = list(document.items())
        items.insert(position, (ENTERPRISE_KEY, draw(settings_objects | json_objects)))
        document = dict(items)
    return document


@st.composite
def file_bytes(draw, documents=config_documents()):
    """None (missing) or the document in one of the forms found on disk."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return None
    document = draw(documents)
    indent = draw(st.sampled_from([None, 0, 2, 4, "\t"]))
    text = json.dumps(document, indent=indent, ensure_ascii=draw(st.booleans()))
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n") + b"\r\n"
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        data = UTF8_BOM + data
    return data


@st.composite
def requests(draw, states=(PRESENT, ABSENT)):
    return MergeRequest(settings=draw(settings_objects), remove=draw(st.lists(st.sampled_from(OWNED_POOL), max_size=3)),
                        exclusive=draw(st.booleans()), state=draw(st.sampled_from(states)))


def _redactor():
    return Redactor(["secret-value-123"])


def replan_config_file(data, request, deployment_mode=None):
    first = plan_config_file(data, request, _redactor(), deployment_mode=deployment_mode)
    if not first.writes:
        return first, None
    assert len(first.writes) == 1
    second = plan_config_file(first.writes[0].content, request, _redactor(), deployment_mode=deployment_mode)
    return first, second


# --- config file: idempotence and preservation ----------------------------------------------------------

@PROPERTY
@given(data=file_bytes(), request=requests(states=(PRESENT,)), mode=st.sampled_from([None, "3p", "1p"]))
def test_config_file_present_is_idempotent(data, request, mode):
    first, second = replan_config_file(data, request, mode)
    if second is not None:
        assert second.writes == [], "second run rewrote %r" % (second.writes[0].content,)
        assert second.status == STATUS_IN_SYNC
        assert second.summary == {"added": [], "changed": [], "removed": []}
        assert parse_object(first.writes[0].content) == parse_object(to_bytes(parse_object(first.writes[0].content)))


@PROPERTY
@given(data=file_bytes(), request=requests(states=(ABSENT,)))
@example(data=b'{"enterpriseConfig": {"k": 1}}', request=MergeRequest({"k": None}, state=ABSENT))
def test_config_file_absent_is_idempotent(data, request):
    _first, second = replan_config_file(data, request)
    if second is not None:
        assert second.writes == []


@PROPERTY
@given(document=config_documents(), request=requests(states=(PRESENT,)))
def test_config_file_preserves_what_it_does_not_own(document, request):
    outcome = plan_config_file(to_bytes(document), request, _redactor())
    after = parse_object(outcome.writes[0].content) if outcome.writes else document
    others_before = [(key, value) for key, value in document.items() if key != ENTERPRISE_KEY]
    others_after = [(key, value) for key, value in after.items() if key != ENTERPRISE_KEY]
    assert json_equal(dict(others_before), dict(others_after))
    assert [key for key, _value in others_before] == [key for key, _value in others_after]
    before_ec = document.get(ENTERPRISE_KEY) or {}
    after_ec = after[ENTERPRISE_KEY]
    for key, value in request.settings.items():
        assert json_equal(after_ec[key], value)
    for key in request.remove:
        if key not in request.settings:
            assert key not in after_ec
    kept = [key for key in before_ec if key not in request.owned_keys()]
    if request.exclusive:
        assert set(after_ec) == set(request.settings)
    else:
        assert [key for key in after_ec if key in kept] == kept
        for key in kept:
            assert json_equal(after_ec[key], before_ec[key])
    if ENTERPRISE_KEY in document:
        assert list(after).index(ENTERPRISE_KEY) == list(document).index(ENTERPRISE_KEY)


@PROPERTY
@given(document=config_documents(), request=requests())
def test_config_file_summary_matches_the_written_object(document, request):
    outcome = plan_config_file(to_bytes(document), request, _redactor())
    after = parse_object(outcome.writes[0].content) if outcome.writes else document
    before_ec = document.get(ENTERPRISE_KEY) or {}
    after_ec = after.get(ENTERPRISE_KEY) or {}
    assert set(outcome.summary["added"]) == set(after_ec) - set(before_ec)
    assert set(outcome.summary["removed"]) == set(before_ec) - set(after_ec)
    assert set(outcome.summary["changed"]) == set(
        key for key in after_ec if key in before_ec and not json_equal(before_ec[key], after_ec[key]))


# --- never crash --------------------------------------------------------------------------------------

@PROPERTY
@given(document=st.dictionaries(key_names, json_values(), max_size=5), request=requests(),
       mode=st.sampled_from([None, "3p"]))
def test_config_file_any_json_object_never_crashes(document, request, mode):
    try:
        plan_config_file(to_bytes(document), request, _redactor(), want_diff=True, deployment_mode=mode)
    except (DocumentError, PlanError):
        pass


@PROPERTY
@given(data=st.one_of(st.binary(max_size=64), st.text(max_size=64).map(lambda text: text.encode("utf-8")),
                      json_values().map(lambda value: json.dumps(value).encode())),
       request=requests())
def test_config_file_any_bytes_never_crash(data, request):
    try:
        plan_config_file(data, request, _redactor(), want_diff=True)
    except (DocumentError, PlanError):
        pass


meta_values = st.one_of(
    st.dictionaries(st.sampled_from(["entries", "appliedId", "version"]), json_values(), max_size=3),
    st.fixed_dictionaries({"entries": st.lists(st.fixed_dictionaries(
        {"id": st.sampled_from(OTHER_IDS + [OUR_FILE[:-5]]) | json_values(), "name": json_values()}), max_size=3)},
        optional={"appliedId": st.sampled_from(OTHER_IDS + [OUR_FILE[:-5]]) | json_values()}),
)


@PROPERTY
@given(meta=st.none() | meta_values, entry=st.none() | json_objects,
       present=st.lists(st.sampled_from(OTHER_IDS).map(lambda name: name + ".json"), max_size=2),
       request=requests(), apply=st.booleans())
def test_config_library_any_json_never_crashes(meta, entry, present, request, apply):
    files = list(present) + ([META_FILE_NAME] if meta is not None else []) + ([OUR_FILE] if entry is not None else [])
    try:
        plan_config_library(None if meta is None else to_bytes(meta), None if entry is None else to_bytes(entry), files,
                            request, _redactor(), apply=apply, want_diff=True)
    except (DocumentError, PlanError):
        pass


# --- configLibrary: idempotence, other entries preserved -------------------------------------------------

@st.composite
def libraries(draw):
    """A consistent configLibrary: {file name: bytes}."""
    files = {}
    entries = []
    for entry_id in draw(st.lists(st.sampled_from(OTHER_IDS + [OUR_FILE[:-5]]), unique=True, max_size=3)):
        entries.append({"id": entry_id, "name": draw(st.text(max_size=5))})
        if draw(st.booleans()):
            files[entry_id + ".json"] = to_bytes(draw(settings_objects))
    if draw(st.booleans()) and OUR_FILE not in files:
        files[OUR_FILE] = to_bytes(draw(settings_objects))
    usable = [item["id"] for item in entries if item["id"] + ".json" in files or item["id"] == OUR_FILE[:-5]]
    if entries or draw(st.booleans()):
        meta = {"entries": entries}
        applied = draw(st.none() | st.sampled_from(usable)) if usable else None
        if applied is not None:
            meta = dict([("appliedId", applied)] + list(meta.items()))
        files[META_FILE_NAME] = to_bytes(meta)
    return files


def library_plan(files, request, apply):
    return plan_config_library(files.get(META_FILE_NAME), files.get(OUR_FILE), list(files), request, _redactor(),
                               apply=apply)


def library_apply(files, outcome):
    files = dict(files)
    for write in outcome.writes:
        if write.is_delete:
            del files[write.name]
        else:
            files[write.name] = write.content
    return files


@PROPERTY
@given(files=libraries(), request=requests(), apply=st.booleans())
def test_config_library_is_idempotent_and_keeps_other_entries(files, request, apply):
    outcome = library_plan(files, request, apply)
    after = library_apply(files, outcome)
    again = library_plan(after, request, apply)
    assert again.writes == [], [(write.name, write.content) for write in again.writes]
    for name, content in files.items():
        if name not in (META_FILE_NAME, OUR_FILE):
            assert after[name] == content
    if META_FILE_NAME in files:
        before_entries = [item for item in json.loads(files[META_FILE_NAME])["entries"] if item["id"] != OUR_FILE[:-5]]
        after_entries = [item for item in json.loads(after[META_FILE_NAME])["entries"] if item["id"] != OUR_FILE[:-5]]
        assert before_entries == after_entries
    if META_FILE_NAME in after:
        applied = json.loads(after[META_FILE_NAME]).get("appliedId")
        assert applied is None or applied + ".json" in after
    if request.state == PRESENT:
        assert OUR_FILE in after
        assert any(item["id"] == OUR_FILE[:-5] for item in json.loads(after[META_FILE_NAME])["entries"])
    elif request.removes_everything:
        assert OUR_FILE not in after
        if META_FILE_NAME in after:
            assert all(item["id"] != OUR_FILE[:-5] for item in json.loads(after[META_FILE_NAME])["entries"])


@PROPERTY
@given(files=libraries(), request=requests())
def test_config_library_writes_in_a_safe_order(files, request):
    names = [(write.name, write.is_delete) for write in library_plan(files, request, True).writes]
    if (OUR_FILE, False) in names and (META_FILE_NAME, False) in names:
        assert names.index((OUR_FILE, False)) < names.index((META_FILE_NAME, False))
    if (OUR_FILE, True) in names and (META_FILE_NAME, False) in names:
        assert names.index((META_FILE_NAME, False)) < names.index((OUR_FILE, True))


# --- serialize / parse ------------------------------------------------------------------------------

@PROPERTY
@given(document=json_objects)
def test_serialize_parse_round_trip(document):
    data = to_bytes(document)
    parsed = parse_object(data)
    assert json_equal(parsed, document)
    assert to_bytes(parsed) == data
    assert data.endswith(b"\n") and not data.startswith(UTF8_BOM)
    assert serialize(document) == data.decode("utf-8")


@PROPERTY
@given(document=json_objects, indent=st.sampled_from([None, 0, 1, 3, "\t"]), bom=st.booleans(), crlf=st.booleans(),
       ascii_only=st.booleans())
def test_any_formatting_parses_to_the_same_value(document, indent, bom, crlf, ascii_only):
    text = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    if crlf:
        text = text.replace("\n", "\r\n")
    data = (UTF8_BOM if bom else b"") + text.encode("utf-8")
    assert json_equal(parse_object(data), document)
    assert to_bytes(parse_object(data)) == to_bytes(document)


# --- redaction: declared secrets never get through ---------------------------------------------------------

SECRET_ALPHABET = string.ascii_letters + string.digits + "-_."
# Secrets are searched for inside other text from MIN_SUBSTRING_SECRET_LENGTH characters on (shorter ones are
# hidden where they sit, see test_short_declared_secrets_are_hidden_where_they_sit).
secrets_lists = st.lists(st.text(alphabet=SECRET_ALPHABET, min_size=MIN_SUBSTRING_SECRET_LENGTH, max_size=24),
                         min_size=1, max_size=3, unique=True)
# Filler around secrets: anything except the marker delimiters and the header separator (known issues tested
# explicitly in test_redact.py).
filler = st.text(alphabet=st.characters(blacklist_characters="<>:", blacklist_categories=("Cs",)), max_size=6)
REDACT_KEYS = sorted(SECRET_KEYS)[:3] + sorted(HEADER_KEYS) + [
    "env", "headers", "Authorization", "clientSecret", "tokenUrl", "name", "url", "managedMcpServers", "note", "x"]


@st.composite
def documents_with_secrets(draw):
    secrets = draw(secrets_lists)

    def leaf():
        return st.one_of(
            scalars,
            st.tuples(filler, st.sampled_from(secrets), filler).map("".join),
            st.sampled_from(secrets),
            st.tuples(st.sampled_from(["https://", "http://u:"]), st.sampled_from(secrets),
                      st.just("@h/")).map("".join),
        )
    document = draw(st.recursive(leaf(), lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(REDACT_KEYS), children, max_size=4)),
        max_leaves=15))
    return secrets, document


_MARKER = re.compile(r"<redacted:[^<>]*>")


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def assert_hidden(text, secrets):
    for segment in _MARKER.split(text):
        for secret in secrets:
            assert secret not in segment, "secret %r visible in %r" % (secret, text)


@PROPERTY
@given(case=documents_with_secrets(), salt=st.sampled_from([None, "fleet-salt"]))
def test_declared_secrets_never_get_through_document(case, salt):
    secrets, document = case
    redacted = Redactor(secrets, salt=salt).document(document)
    for text in _strings(redacted):
        assert_hidden(text, secrets)
    assert_hidden(serialize({"d": redacted}), secrets)


@PROPERTY
@given(secrets=secrets_lists, parts=st.lists(st.one_of(filler, st.just(" ")), max_size=6), data=st.data())
def test_declared_secrets_never_get_through_text(secrets, parts, data):
    pieces = []
    for part in parts:
        pieces.append(part)
        pieces.append(data.draw(st.sampled_from(secrets)))
    text = "".join(pieces)
    assert_hidden(Redactor(secrets).text(text), secrets)


@PROPERTY
@given(secret=st.text(alphabet=SECRET_ALPHABET, min_size=1, max_size=MIN_SUBSTRING_SECRET_LENGTH - 1),
       key=st.sampled_from(["note", "path", "value"]))
def test_short_declared_secrets_are_hidden_where_they_sit(secret, key):
    redacted = Redactor([secret]).document({key: secret, "list": [secret]})
    assert redacted[key].startswith("<redacted:") and redacted["list"][0].startswith("<redacted:")


# --- json_equal -----------------------------------------------------------------------------------------

int_values = json_values(st.one_of(st.none(), st.booleans(), ints, st.text(max_size=4)), st.text(max_size=3))
float_values = json_values(st.one_of(st.none(), st.booleans(), floats, st.text(max_size=4)), st.text(max_size=3))


def reordered(value):
    if isinstance(value, dict):
        return dict((key, reordered(value[key])) for key in reversed(list(value)))
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


def canonical(value):
    return json.dumps(value, sort_keys=True)


@PROPERTY
@given(value=json_values())
def test_json_equal_is_reflexive(value):
    assert json_equal(value, value)
    assert json_equal(value, deep_copy(value))
    assert json_equal(value, reordered(value))


@PROPERTY
@given(left=json_values(), right=json_values())
def test_json_equal_is_symmetric(left, right):
    assert json_equal(left, right) == json_equal(right, left)  # pylint: disable=arguments-out-of-order


@PROPERTY
@given(values=st.one_of(st.tuples(int_values, int_values), st.tuples(float_values, float_values)),
       same=st.booleans())
def test_json_equal_agrees_with_canonical_serialization(values, same):
    left, right = values
    if same:
        right = reordered(left)
    assert json_equal(left, right) == (canonical(left) == canonical(right))


@FEW
@given(value=json_values())
def test_json_equal_distinguishes_booleans_from_numbers(value):
    assume(not isinstance(value, bool))
    assert not json_equal(True, value) or value is True
    assert json_equal([value, True], [value, True])
    assert not json_equal({"k": True}, {"k": 1})
