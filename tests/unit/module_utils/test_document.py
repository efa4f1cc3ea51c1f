"""document.py: reading (BOM, encodings, top-level object), canonical writing, type-strict comparison."""

from __future__ import annotations

import json

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import (
    UTF8_BOM, DocumentError, decode_text, deep_copy, has_bom, json_equal, json_type_name, parse_object,
    serialize, to_bytes,
)

LABEL = "/home/alice/.config/Claude-3p/claude_desktop_config.json"


# --- parse_object: what is accepted ---------------------------------------------------------------

@pytest.mark.parametrize("data", [None, b"", b"   ", b"\n\r\n\t ", UTF8_BOM, UTF8_BOM + b"  \n"], ids=repr)
def test_missing_or_blank_file_is_an_empty_object(data):
    assert parse_object(data, LABEL) == {}


@pytest.mark.parametrize("data", [
    b'{"a": 1, "b": [true, null, "x"]}',
    b'{\r\n  "a" : 1 ,\r\n  "b":[true,null,"x"]\r\n}\r\n',
    UTF8_BOM + b'{"a":1,"b":[true,null,"x"]}',
    b'\n\n   {"a":1,"b":[true,null,"x"]}   \n\n',
], ids=["compact", "crlf-and-spaces", "bom", "surrounding-blank"])
def test_utf8_with_or_without_bom_and_any_whitespace(data):
    assert parse_object(data, LABEL) == {"a": 1, "b": [True, None, "x"]}


def test_non_ascii_text_is_read_as_utf8():
    data = '{"deploymentDisplayName": "Zürich – 東京 🚀"}'.encode("utf-8")
    assert parse_object(data, LABEL) == {"deploymentDisplayName": "Zürich – 東京 🚀"}


def test_key_order_is_kept():
    document = parse_object(b'{"z": 1, "a": 2, "m": {"y": 1, "b": 2}}', LABEL)
    assert list(document) == ["z", "a", "m"]
    assert list(document["m"]) == ["y", "b"]


# --- parse_object: what is refused, and how it says so ----------------------------------------------

@pytest.mark.parametrize("data, kind", [
    (b"[]", "array"),
    (b"[1, 2]", "array"),
    (b'"text"', "string"),
    (b"42", "number"),
    (b"4.5", "number"),
    (b"true", "boolean"),
    (b"null", "null"),
])
def test_top_level_must_be_an_object(data, kind):
    with pytest.raises(DocumentError) as info:
        parse_object(data, LABEL)
    message = str(info.value)
    assert LABEL in message
    assert "JSON %s at the top level" % kind in message
    assert "JSON object" in message and "fix or delete it" in message


@pytest.mark.parametrize("data", [
    b"{",
    b'{"a": 1,}',
    b"{'a': 1}",
    b'{"a": 1} trailing',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b"// comment\n{}",
])
def test_invalid_json_names_the_file_and_the_fix(data):
    with pytest.raises(DocumentError) as info:
        parse_object(data, LABEL)
    message = str(info.value)
    assert message.startswith(LABEL)
    assert "is not valid JSON" in message
    assert "fix or delete it" in message and "never overwrites" in message


def test_invalid_json_says_where():
    with pytest.raises(DocumentError, match=r"line 2 column"):
        parse_object(b'{\n  "a": }', LABEL)


@pytest.mark.parametrize("data, byte, offset", [
    (b'{"a": "\xff"}', 0xFF, 7),
    (b'{"a": "caf\xe9"}', 0xE9, 10),
    (UTF8_BOM + b'{"a": "\xc3"}', 0xC3, 7),
])
def test_non_utf8_is_refused_with_the_offending_byte(data, byte, offset):
    with pytest.raises(DocumentError) as info:
        parse_object(data, LABEL)
    message = str(info.value)
    assert LABEL in message
    assert "not valid UTF-8" in message
    assert "0x%02x at offset %d" % (byte, offset) in message
    assert "Re-save it as UTF-8 or delete it" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_refused_explicitly(encoding):
    text = '{"a": 1}'
    data = text.encode(encoding)
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = ("\ufeff" + text).encode(encoding)
    with pytest.raises(DocumentError) as info:
        parse_object(data, LABEL)
    message = str(info.value)
    assert LABEL in message and "UTF-16" in message
    assert "Re-save it as UTF-8" in message


def test_utf16_without_bom_is_still_an_error():
    """No BOM: the NUL bytes decode as UTF-8 but are not JSON; the user still gets a DocumentError."""
    with pytest.raises(DocumentError):
        parse_object('{"a": 1}'.encode("utf-16-le"), LABEL)


def test_default_label_is_generic():
    with pytest.raises(DocumentError, match=r"^file is not valid JSON"):
        parse_object(b"{")


def test_decode_text_strips_exactly_one_bom():
    assert decode_text(UTF8_BOM + b"x") == "x"
    assert decode_text(UTF8_BOM + UTF8_BOM + b"x") == "\ufeffx"


def test_duplicate_keys_keep_the_last_value():
    """Same rule as the app's JSON.parse."""
    assert parse_object(b'{"a": 1, "a": 2}') == {"a": 2}


def test_out_of_range_number_is_a_document_error():
    # Either outcome is acceptable: refused on read, or read and written back without crashing.
    try:
        document = parse_object(b'{"a": 1e999}', LABEL)
    except DocumentError as exc:
        assert LABEL in str(exc)
        return
    to_bytes(document)


@pytest.mark.parametrize("depth", [400, 5000])
def test_deeply_nested_document_is_a_document_error_not_a_crash(depth):
    data = ('{"a": ' + "[" * depth + "]" * depth + "}").encode()
    try:
        document = parse_object(data, LABEL)
    except DocumentError:
        return
    assert json_equal(document, deep_copy(document))
    parse_object(to_bytes(document))


def test_huge_integer_is_a_document_error():
    with pytest.raises(DocumentError, match="not valid JSON"):
        parse_object(b'{"a": ' + b"9" * 5000 + b"}", LABEL)


def test_has_bom():
    assert has_bom(UTF8_BOM + b"{}")
    assert not has_bom(b"{}")
    assert not has_bom(b"")
    assert not has_bom(None)


# --- serialize ------------------------------------------------------------------------------------

def test_serialize_is_canonical():
    document = {"b": 1, "a": {"x": [1, "é", None, True]}, "e": {}, "l": []}
    assert serialize(document) == (
        '{\n'
        '  "b": 1,\n'
        '  "a": {\n'
        '    "x": [\n'
        '      1,\n'
        '      "é",\n'
        '      null,\n'
        '      true\n'
        '    ]\n'
        '  },\n'
        '  "e": {},\n'
        '  "l": []\n'
        '}\n')


def test_to_bytes_is_utf8_without_bom_with_trailing_newline():
    data = to_bytes({"name": "東京"})
    assert not data.startswith(UTF8_BOM)
    assert data.endswith(b"}\n") and not data.endswith(b"\n\n")
    assert "東京".encode("utf-8") in data
    assert b"\\u" not in data


def test_serialize_of_empty_object():
    assert serialize({}) == "{}\n"


def test_serialize_refuses_nan():
    with pytest.raises(ValueError):
        serialize({"a": float("nan")})


def test_serialize_parse_round_trip():
    document = {"enterpriseConfig": {"k": [1, 2.5, "x", {"n": None}]}, "other": False}
    assert parse_object(to_bytes(document)) == document
    assert to_bytes(parse_object(to_bytes(document))) == to_bytes(document)


# --- json_equal -----------------------------------------------------------------------------------

@pytest.mark.parametrize("left, right", [
    (True, True),
    (1, 1),
    (1, 1.0),
    (0, 0.0),
    ("a", "a"),
    (None, None),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ([{"x": [1, {"y": True}]}], [{"x": [1, {"y": True}]}]),
    ({}, {}),
    ([], []),
])
def test_json_equal_true(left, right):
    assert json_equal(left, right)
    assert json_equal(right, left)  # pylint: disable=arguments-out-of-order


@pytest.mark.parametrize("left, right", [
    (True, 1),
    (False, 0),
    (True, 1.0),
    (1, "1"),
    ("true", True),
    (None, False),
    (None, 0),
    (None, ""),
    ("", []),
    ({}, []),
    ([1, 2], [2, 1]),
    ({"a": 1}, {"a": 1, "b": 2}),
    ({"a": 1, "b": 2}, {"a": 1, "c": 2}),
    ([1], [1, 1]),
    ({"a": True}, {"a": 1}),
    ([True], [1]),
    (1, 2),
    ("a", "A"),
])
def test_json_equal_false(left, right):
    assert not json_equal(left, right)
    assert not json_equal(right, left)  # pylint: disable=arguments-out-of-order


def test_json_equal_is_not_python_equality():
    assert {"a": True} == {"a": 1}
    assert not json_equal({"a": True}, {"a": 1})


# --- deep_copy, json_type_name -----------------------------------------------------------------------

def test_deep_copy_shares_no_container():
    original = {"a": [{"b": [1]}], "c": {"d": {}}}
    copy = deep_copy(original)
    assert copy == original
    copy["a"][0]["b"].append(2)
    copy["c"]["d"]["e"] = 1
    assert original == {"a": [{"b": [1]}], "c": {"d": {}}}


def test_deep_copy_keeps_order():
    assert list(deep_copy({"z": 1, "a": 2})) == ["z", "a"]


@pytest.mark.parametrize("value, name", [
    (None, "null"), (True, "boolean"), (False, "boolean"), (0, "number"), (1.5, "number"), ("", "string"),
    ([], "array"), ({}, "object"),
])
def test_json_type_name(value, name):
    assert json_type_name(value) == name


def test_parse_matches_stdlib_for_plain_documents():
    text = json.dumps({"a": [1, 2, {"b": "c"}], "d": None})
    assert parse_object(text.encode()) == json.loads(text)
