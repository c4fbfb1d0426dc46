"""The fast paths of `authority audit` against the plain ones they replace, byte for byte.

* `decision.record_parts` (the audit's encoder) against `dumps(d.to_json())` with a line number;
* `operation.from_json` (a fast path, falling back to the field-by-field validator) against
  `operation._checked`, the validator itself: the same operation, or the same error path and
  message;
* `operation.decode` (JSON bytes read straight into typed structures) against `json.loads` and
  `operation._checked`: when it gives an operation, the plain way gives the same one;
* `audit.run` as a whole against a plain reading of every line (decode, validate field by field,
  decide, `dumps`), the way the audit worked before its fast paths.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import json
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from msgspec.structs import replace

from authority_dsl import audit, operation
from authority_dsl import decision as decision_module
from authority_dsl.checker import load_law
from authority_dsl.decision import (
    Authorised,
    Decision,
    Missing,
    Violation,
    dumps,
    outcome_parts,
    record_dumps,
    record_parts,
)
from authority_dsl.durations import Unit
from authority_dsl.engine import compile_law, compiled
from authority_dsl.engine.reference import decide as reference_decide
from authority_dsl.model import Law
from authority_dsl.operation import Operation, OperationError, from_json

from .genops import gen_ops
from .lawgen import build, laws, operations, plausible_operations, scratch_dir

ROOT = Path(__file__).resolve().parent.parent
SPECS = (ROOT / "specs" / "wiv2017.auth", ROOT / "specs" / "wiv_threat_draft.auth")
FIXTURES = Path(__file__).parent / "fixtures" / "audit"
TMP = scratch_dir("authority-fast-")


@pytest.fixture(scope="module")
def example_laws() -> list[Law]:
    out = []
    for path in SPECS:
        law, diags = load_law(path)
        assert law is not None, diags
        out.append(law)
    return out


def canonical(d: Decision, line: int) -> str:
    record = d.to_json()
    record["line"] = line
    return dumps(record)


def assert_same_encoding(d: Decision, line: int = 7) -> None:
    head, tail = record_parts(d)
    assert head + str(line) + tail == canonical(d, line)
    assert record_dumps(d, line) == canonical(d, line)
    assert_same_outcome_encoding(d, line)


def assert_same_outcome_encoding(d: Decision, line: int) -> bool:
    """The record made from `outcome_parts` (what the audit remembers of an outcome of the fast
    path) is the canonical one, whenever the parts can be made; returns whether they could."""
    start = d.steps[0] if d.steps else ()
    if len(start) != 5 or start[0] != "start" or not all(type(s) is str for s in start):
        return False
    _, title, version, op_id, date = start
    if op_id != d.operation:
        return False
    parts = outcome_parts(d.verdict, d.authorised, d.missing, d.violations, d.alternatives,
                          d.steps[1:], d.law, title, version)
    if parts is None:
        return False
    a, b, c, e, f = parts
    escaped = json.dumps(op_id, ensure_ascii=False)[1:-1]
    dated = json.dumps(date, ensure_ascii=False)[1:-1]
    assert f"{a}{line}{b}{escaped}{c}{escaped}{e}{dated}{f}" == canonical(d, line)
    return True


# ---- the encoder ------------------------------------------------------------------------------


def test_encoder_on_the_example_operations(example_laws: list[Law]) -> None:
    for spec, law in zip(SPECS, example_laws, strict=True):
        engine = compile_law(law)
        paths = sorted((ROOT / "specs" / "operations" / spec.stem).glob("*.json"))
        assert paths
        for path in paths:
            op = from_json(json.loads(path.read_text(encoding="utf-8")))
            for d in (engine.decide(op), reference_decide(law, op)):
                for line in (1, 10, 123456789):
                    assert_same_encoding(d, line)


def test_encoder_on_generated_operations(example_laws: list[Law]) -> None:
    """Thousands of realistic decisions, twice each (the second time from what the encoder
    remembered), under both laws and both evaluators; and the audit's record of each outcome of
    the fast path, which fills in the id and date."""
    gen = gen_ops()
    versions = audit.Versions(example_laws)
    decisions = []
    for line in gen.generate(SPECS, 3000, seed=11, malformed=0.0):
        op = from_json(json.loads(line))
        version = versions.pick(op.date)
        decisions.append(versions.outside(op) if version is None else version.engine.decide(op))
        if version is not None and len(decisions) % 10 == 0:
            decisions.append(reference_decide(version.law, op))
    assert {d.verdict for d in decisions} == {"permitted", "requires", "denied"}
    for _ in range(2):
        for number, d in enumerate(decisions, 1):
            assert_same_encoding(d, number)
    assert all(assert_same_outcome_encoding(d, 3) for d in decisions if d.steps[0][3] != "")



@given(laws().flatmap(lambda g: st.tuples(st.just(g), st.one_of(
    operations(g), operations(g, unknown=True), plausible_operations(g)))))
def test_encoder_on_generated_laws(case: tuple[Any, Operation]) -> None:
    gen, op = case
    law = build(gen, TMP)
    assert_same_encoding(compile_law(law).decide(op))
    assert_same_encoding(reference_decide(law, op))


# Texts that JSON escapes, that only some readers take for line breaks, that are not ASCII, that
# look like the encoder's own placeholders.
odd_texts = st.text(st.one_of(
    st.sampled_from('"\\\n\r\t\x00\x01\x1f\x7f\x85\u2028\u2029\ud800é€😀` ;'),
    st.characters(codec="utf-8")), max_size=12) | st.sampled_from(
        ["\x00operation\x00", "\x00date\x00", "\x00id\x00", "", "null"])
optional = st.none() | odd_texts
steps = st.one_of(
    st.tuples(st.just("start"), odd_texts, odd_texts, odd_texts, odd_texts),
    st.tuples(st.just("granted"), odd_texts, odd_texts, odd_texts, odd_texts),
    st.tuples(st.just("prohibited"), odd_texts),
    st.tuples(st.just("shared"), odd_texts, odd_texts, odd_texts),
    st.tuples(st.just("verdict"), odd_texts),
    st.lists(odd_texts, min_size=1, max_size=3).map(tuple),
)
decisions = st.builds(
    Decision,
    operation=odd_texts,
    verdict=st.sampled_from(["permitted", "requires", "denied"]) | odd_texts,
    law=st.dictionaries(odd_texts, odd_texts, max_size=3),
    authorised=st.lists(st.builds(Authorised, odd_texts, odd_texts, optional),
                        max_size=3).map(tuple),
    missing=st.lists(st.builds(Missing, odd_texts, odd_texts, odd_texts, optional, optional,
                               optional), max_size=3).map(tuple),
    violations=st.lists(st.builds(Violation, odd_texts, odd_texts, optional, optional),
                        max_size=3).map(tuple),
    alternatives=st.lists(odd_texts, max_size=3).map(tuple),
    steps=st.lists(steps, max_size=4).map(tuple),
)


@given(decisions, st.integers(0, 10**12))
def test_encoder_on_any_texts(d: Decision, line: int) -> None:
    assert_same_encoding(d, line)
    assert_same_encoding(d, line)  # from what it remembered


@given(decisions, st.integers(0, 10**12), odd_texts, odd_texts)
def test_outcome_parts_on_any_texts(d: Decision, line: int, op_id: str, date: str) -> None:
    """Odd texts everywhere, placeholders among them: the parts give the canonical record, or
    none are made."""
    d = attrs.evolve(d, operation=op_id, steps=(("start", "T", "1", op_id, date), *d.steps))
    assert_same_outcome_encoding(d, line)


def test_encoder_reuses_nothing_stale() -> None:
    """Records remembered by identity stay right when equal-looking or new records come, and a
    law dict is never taken for another with equal items of other types."""
    a = Authorised("c", "p", "art. 1")
    m = Missing("r", "safeguard", "p", None, because="x")
    d1 = Decision("op-1", "requires", {"title": "T", "version": "1"}, (a,), (m,))
    assert_same_encoding(d1)
    for i in range(3 * 4096):  # more than the encoder remembers of each kind
        assert_same_encoding(Decision(f"op-{i}", "denied", {"title": "T", "version": str(i)},
                                      (Authorised(f"c{i}", "p", None),),
                                      violations=(Violation("x", f"m{i}"),)))
    assert_same_encoding(d1)
    assert_same_encoding(attrs.evolve(d1, missing=(msgspec.structs.replace(m, note="late"),)))


def test_encoder_on_values_of_other_types() -> None:
    """An evaluator that put something other than text in a decision still gets the bytes that
    `to_json` and `dumps` give (or the same error)."""
    odd: Any = Decision(
        "op", "denied", {"title": "T", "version": 2},  # type: ignore[dict-item]
        (Authorised("c", "p", 3),),  # type: ignore[arg-type]
        (Missing("r", "safeguard", "p", None, note=1.5),),  # type: ignore[arg-type]
        (Violation("code", "message", None, ["h"]),),  # type: ignore[arg-type]
        ("alt", None),  # type: ignore[arg-type]
        (("verdict", "denied"),),
    )
    assert_same_encoding(odd)


# ---- the validator ----------------------------------------------------------------------------


def outcome(validate: Any, value: object) -> object:
    try:
        return validate(value)
    except OperationError as exc:
        return "error", exc.path, exc.message


def assert_wire_agrees(raw: bytes) -> bool:
    """`operation.decode` on a line either gives up or gives what the plain way gives (which
    must then be an operation, not an error); returns whether it gave an operation."""
    got = operation.decode(raw)
    if got is None:
        return False
    plain = outcome(operation._checked, json.loads(raw))
    assert got == plain, raw
    renamed = operation.decode(raw, (got.id, "\x00id\x00"))
    assert renamed == replace(got, id="\x00id\x00")
    assert operation.decode(raw, (got.id + "x", "other")) is None
    return True


def wire_lines(value: object) -> list[bytes]:
    """A value as JSON lines written in different ways: escaped, and as UTF-8 where it can be
    (a lone surrogate has no UTF-8 form, only its escape)."""
    lines = [json.dumps(value).encode()]
    for separators in ((", ", ": "), (",", ":")):
        text = json.dumps(value, separators=separators, ensure_ascii=False)
        with contextlib.suppress(UnicodeEncodeError):
            lines.append(text.encode())
    return lines


def test_validator_on_generated_lines() -> None:
    """Every line of a log with many malformed lines: the same operation or the same error."""
    gen = gen_ops()
    seen_errors = 0
    for line in gen.generate(SPECS, 4000, seed=5, malformed=0.3):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        fast, slow = outcome(from_json, value), outcome(operation._checked, value)
        assert fast == slow, value
        seen_errors += isinstance(slow, tuple)
        assert_wire_agrees(line if isinstance(line, bytes) else line.encode())
    assert seen_errors > 50


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_texts
    | st.sampled_from(["2024-03-01", "2024-02-30", "3 months", "0 days", "evaluated",
                       "unevaluated", "x" * 1001, "2024-3-1", "١٢٣٤-٠١-٠١"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["safeguard", "date", "role", "protected", "recipient", "country",
                         "data", "with", "extra"]) | odd_texts, inner, max_size=4),
    max_leaves=8)
FIELDS = (*operation.OPERATION_KEYS, "colour", "Id")


_VOCABULARY: list[Any] = []


@st.composite
def operation_values(draw: st.DrawFn) -> object:
    """A valid operation's JSON with some fields replaced, added or removed."""
    gen = gen_ops()
    if not _VOCABULARY:
        _VOCABULARY.append(gen.vocabulary(SPECS[1]))
    value: dict[str, Any] = json.loads(gen.Generator(
        _VOCABULARY, draw(st.integers(0, 10**6)), 0.0).line())
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(FIELDS))
        action = draw(st.sampled_from(["replace", "remove", "inner"]))
        if action == "remove":
            value.pop(field, None)
        elif action == "inner" and isinstance(value.get(field), list) and value[field]:
            items = value[field]
            i = draw(st.integers(0, len(items) - 1))
            if isinstance(items[i], dict) and items[i]:
                key = draw(st.sampled_from([*sorted(items[i]), "extra", "date"]))
                items[i][key] = draw(json_values)
            else:
                items[i] = draw(json_values)
        else:
            value[field] = draw(json_values)
    return value if draw(st.integers(0, 20)) else draw(json_values)


@given(operation_values())
@example({"\ud800": None})  # a lone surrogate, which UTF-8 cannot write
def test_validator_on_mutated_operations(value: object) -> None:
    assert outcome(from_json, value) == outcome(operation._checked, value)
    for raw in wire_lines(value):
        assert_wire_agrees(raw)


BASE: dict[str, Any] = {
    "id": "op-1", "date": "2024-03-01", "service": "AIVD", "threat": "terrorism",
    "technique": "phone_implant", "capabilities": ["covert_system_access"],
    "subjects": [{"role": "target", "protected": ["journalist"]}], "duration": "3 months",
    "urgent": False, "retention": "12 months",
    "approvals": ["minister", {"safeguard": "review_board", "date": "2024-02-27"}],
    "assessments": ["necessity"],
    "sharing": [{"recipient": "partner", "country": "BE", "data": "evaluated", "with": ["x"]}],
}
# Where a value can go wrong: a field, or a path into a list and an object.
PLACES: list[tuple[object, ...]] = [
    *((key,) for key in (*BASE, "colour")),
    ("capabilities", 0), ("assessments", 0),
    ("subjects", 0), ("subjects", 0, "role"), ("subjects", 0, "protected"),
    ("subjects", 0, "protected", 0), ("subjects", 0, "extra"),
    ("approvals", 0), ("approvals", 1), ("approvals", 1, "safeguard"), ("approvals", 1, "date"),
    ("approvals", 1, "extra"),
    ("sharing", 0), ("sharing", 0, "recipient"), ("sharing", 0, "country"),
    ("sharing", 0, "data"), ("sharing", 0, "with"), ("sharing", 0, "with", 0),
]
_ABSENT = object()
VALUES: list[object] = [
    _ABSENT, None, True, False, 0, 1.5, "", "x", "x" * 1000, "x" * 1001, [], ["x"], [""],
    ["x" * 1001], ["x"] * 1001, [None], {}, {"safeguard": "g"}, {"recipient": "r"},
    "2024-03-01", "2024-02-30", "2024-3-1", "3 months", "1 fortnight",
    "100000000000000000000 years", "evaluated", "unevaluated", "target",
]


def test_validator_on_every_kind_of_bad_value() -> None:
    """Each value at each place: the fast path agrees with the validator, error for error."""
    checked = 0
    for place in PLACES:
        for bad in VALUES:
            value = json.loads(json.dumps(BASE))
            where: Any = value
            for step in place[:-1]:
                where = where[step]
            if bad is _ABSENT:
                if isinstance(where, dict):
                    where.pop(place[-1], None)
                else:
                    del where[place[-1]]
            else:
                where[place[-1]] = bad
            fast, slow = outcome(from_json, value), outcome(operation._checked, value)
            assert fast == slow, (place, bad)
            for raw in wire_lines(value):
                assert_wire_agrees(raw)
            checked += 1
    assert checked == len(PLACES) * len(VALUES)
    assert all(assert_wire_agrees(raw) for raw in wire_lines(BASE))


WIRE_LINES = [
    # JSON the plain way reads differently or refuses: duplicate keys (refused), escapes,
    # control characters, surrounding space, trailing data, numbers for names.
    b'{"id": "a", "id": "b", "date": "2024-03-01"}',
    b'{"id": "a", "date": "2024-03-01", "threat": "x", "threat": "y"}',
    b'{"id": "a", "date": "\\u0032024-03-01", "threat": "\\u0074"}',
    b'{"id": "a\tb", "date": "2024-03-01"}',
    b'{"id": "a\x7fb", "date": "2024-03-01"}',
    b'  {"id": "a", "date": "2024-03-01"}  ',
    b'{"id": "a", "date": "2024-03-01"} x',
    b'{"id": "a", "date": "2024-03-01"}{}',
    b'{"id": 1, "date": "2024-03-01"}',
    b'{"id": "a", "date": "2024-03-01", "urgent": 1}',
    b'{"id": "a", "date": "2024-03-01", "urgent": null}',
    b'{"id": "a", "date": "2024-03-01", "service": null, "threat": null, "duration": null}',
    b'{"id": "a", "date": "2024-03-01", "capabilities": null}',
    b'{"id": "a", "date": "2024-03-01", "subjects": [{"role": null}]}',
    b'{"id": "a", "date": "2024-03-01", "subjects": [{}]}',
    b'{"id": "a", "date": "2024-03-01", "approvals": [{"safeguard": "g", "date": null}]}',
    b'{"id": "a", "date": "2024-03-01", "approvals": [{"date": "2024-03-01"}]}',
    b'{"id": "a", "date": "2024-03-01", "sharing": [{"recipient": "r", "data": "raw"}]}',
    b'{"id": "a", "date": "2024-03-01", "sharing": [{"recipient": "r", "country": null}]}',
    b'{"id": "a", "date": "+2024-03-01"}', b'{"id": "a", "date": "2024-03-01T00:00:00"}',
    b'{"id": "a", "date": "0000-01-01"}', b'{"id": "a", "date": "2024-02-30"}',
    '{"id": "a", "date": "\uff12024-03-01"}'.encode(),
    '{"id": "a", "date": "٢٠٢٤-٠٣-٠١"}'.encode(),
    ('{"id": "' + "\U0001F600" * 1000 + '", "date": "2024-03-01"}').encode(),
    ('{"id": "' + "\U0001F600" * 1001 + '", "date": "2024-03-01"}').encode(),
    ('{"id": "' + "é" * 1001 + '", "date": "2024-03-01"}').encode(),
    b'{"id": "a", "date": "2024-03-01", "duration": "3 Months", "retention": "1 year"}',
    b'{"id": "a", "date": "2024-03-01", "duration": "3 fortnights"}',
    b'{"id": "a", "date": "2024-03-01", "capabilities": [' + b'"c", ' * 999 + b'"c"]}',
    b'{"id": "a", "date": "2024-03-01", "capabilities": [' + b'"c", ' * 1000 + b'"c"]}',
    b'{"id": "a", "date": "2024-03-01", "capabilities": [1e400]}',
    b'{"id": "a", "date": "2024-03-01", "extra": NaN}',
    b'[]', b'"x"', b'null', b'{}', b'{"id": "a", "date": "2024-03-01", "Id": "b"}',
]
# Lines the audit reports before reading any JSON: the wire path must refuse them all.
REFUSED_LINES = [
    b"", b"   ", b"\t", b'{"id": "a\x00", "date": "2024-03-01"}',
    b'{"id": "a", "date": "2024-03-01"}\x00', b'\x00{"id": "a", "date": "2024-03-01"}',
    b'{"id": "a\xff", "date": "2024-03-01"}', b'{"id": "a\xc3", "date": "2024-03-01"}',
    b'{"id": "a\xed\xa0\x80", "date": "2024-03-01"}',  # a surrogate encoded in UTF-8
    b'{"id": "a\\ud800", "date": "2024-03-01"}', b'{"id": "a\\udc00", "date": "2024-03-01"}',
    b'{"id": "\\ud800\\u0041", "date": "2024-03-01"}',
    b'{"id": "\\udc00\\ud800", "date": "2024-03-01"}',
    b'{"id": "a", "date": "2024-03-01", "threat": "\\ud83d"}',
]


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255),
                          st.sampled_from(["replace", "insert", "delete"])), max_size=4))
def test_wire_path_on_damaged_lines(edits: list[tuple[int, int, str]]) -> None:
    """A valid line with bytes replaced, inserted or deleted: the wire path refuses it or reads
    what `json.loads` and the validator read."""
    raw = bytearray(json.dumps(BASE, ensure_ascii=False).encode())
    for where, byte, action in edits:
        i = where % (len(raw) + 1)
        if action == "insert":
            raw[i:i] = bytes([byte])
        elif i < len(raw):
            if action == "replace":
                raw[i] = byte
            else:
                del raw[i]
    assert_wire_agrees(bytes(raw))


def test_wire_path_on_odd_lines() -> None:
    """Lines where a JSON reader could differ from `json.loads`: same operation or gives up."""
    accepted = [assert_wire_agrees(raw) for raw in WIRE_LINES]
    assert sum(accepted) >= 10  # the valid ones among them are read on the wire path
    for raw in REFUSED_LINES:
        assert operation.decode(raw) is None, raw
    assert operation.decode(b'{"id": "\\ud83d\\ude00", "date": "2024-03-01"}') is not None


def test_validator_round_trips() -> None:
    op = Operation("op", dt.date(2024, 3, 1), "t", "s", "k", ("c",),
                   (operation.Subject("contact", ("journalist",)),),
                   urgent=True, approvals=(operation.Approval("g"),
                                           operation.Approval("h", dt.date(2024, 2, 1))),
                   sharing=(operation.Sharing("partner", None, "evaluated", ("g",)),))
    assert from_json(op.to_json()) == op
    assert operation._fast(op.to_json()) == op


# ---- the audit as a whole ---------------------------------------------------------------------


def plain_audit(laws_: Sequence[Law], data: bytes) -> bytes:
    """What the audit writes, computed the plain way: each line decoded, validated field by field,
    decided and written by `dumps`. Lines are split the way `read_chunks` splits them."""
    versions = audit.Versions(laws_)
    auditor = audit.Auditor(laws_, memo=False)
    out = []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, 1):
        raw = raw.removesuffix(b"\r")
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        out.append(plain_line(versions, auditor, number, raw))
    text = "".join(line + "\n" for line in out)
    for char, escape in audit._LINE_BREAKS:
        text = text.replace(char, escape)
    return text.encode("utf-8")


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as its key-value pairs, in order, duplicates kept."""


def first_repeated_key(text: str) -> tuple[str, str] | None:
    """(path, key) of the first object (outer before inner, in order) that gives a key twice,
    and the first key whose second mention comes first; None if none does."""
    def walk(value: object, path: str) -> tuple[str, str] | None:
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            for key, _ in value:
                if key in seen:
                    return path, key
                seen.add(key)
            children = [(f"{path}.{k}" if re.fullmatch(r"[A-Za-z_]\w*", k, re.ASCII) else
                         f"{path}[{json.dumps(k, ensure_ascii=not k.isprintable())}]", v)
                        for k, v in dict(value).items()]
        elif isinstance(value, list):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            return None
        for where, child in children:
            found = walk(child, where)
            if found is not None:
                return found
        return None

    return walk(json.loads(text, object_pairs_hook=_Pairs), "$")


def id_given_twice(text: str) -> bool:
    """Whether the operation's own object names `id` twice."""
    value = json.loads(text, object_pairs_hook=_Pairs)
    return isinstance(value, _Pairs) and [k for k, _ in value].count("id") > 1


def plain_line(versions: audit.Versions, auditor: audit.Auditor, number: int, raw: bytes) -> str:
    def error(code: str, message: str, value: object = None) -> str:
        record: dict[str, object] = {"line": number, "code": code, "error": message}
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            record["operation"] = value["id"]
        return dumps(record)

    if not raw.strip():
        return error("empty-line", "empty line: expected an operation as a JSON object")
    nul = raw.find(b"\x00")
    if nul >= 0:
        return error("nul-byte", f"NUL byte at byte {nul + 1}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error("invalid-utf8",
                     f"invalid UTF-8 byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return error("invalid-json",
                     f"invalid JSON at column {exc.colno}: {exc.msg[:1].lower()}{exc.msg[1:]}")
    except RecursionError:
        return error("invalid-json", "invalid JSON: nested too deeply")
    except ValueError as exc:
        reason = "a number has too many digits" if "integer string" in str(exc) else str(exc)
        return error("invalid-json", f"invalid JSON: {reason}")
    repeated = first_repeated_key(text)
    if repeated is not None:
        where, key = repeated
        return error("duplicate-key", f"{where}: key {json.dumps(key, ensure_ascii=False)} is "
                     "given twice in one object: which value counts is a guess (JSON readers "
                     "differ), so the operation is not read",
                     None if id_given_twice(text) else value)
    try:
        op = operation._checked(value)
    except OperationError as exc:
        message = exc.message
        if message.startswith(f"{exc.path}: "):
            message = message[len(exc.path) + 2:]
        return error("invalid-operation", f"{exc.path}: {message}", value)
    except RecursionError:
        return error("invalid-operation", "$: nested too deeply", value)
    version = versions.pick(op.date)
    d = versions.outside(op) if version is None else version.engine.decide(op)
    return canonical(d, number)


def test_audit_writes_what_the_plain_way_writes(example_laws: list[Law]) -> None:
    gen = gen_ops()
    lines = list(gen.generate(SPECS, 3000, seed=13, malformed=0.1, repeat=0.3))
    lines[0] = b"\xef\xbb\xbf" + lines[0]  # a byte order mark
    lines[5] = lines[5].replace(b"\n", b"\r\n")
    lines.insert(7, b'  {"id": "spaced", "date": "2024-03-01", "threat": "terrorism"}  \n')
    lines.insert(8, b'{"id": "op-\\u00e9", "date": "2024-03-01", "threat": "x\\u2028"}\n')
    lines.insert(9, b'{"id": "op-dup", "date": "2024-03-01", "id": "op-dup2"}\n')
    lines.insert(10, b'{"id": "op-\xc3\xa9\xe2\x80\xa8", "date": "2024-03-01"}\n')
    data = b"".join(lines)
    expected = plain_audit(example_laws, data)
    for memo in (True, False):
        out = Path(TMP) / f"out-{memo}.jsonl"
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            summary, stopped = audit.run(example_laws, io.BytesIO(data), fd, memo=memo)
        finally:
            os.close(fd)
        assert not stopped and summary.lines == len(lines)
        got = out.read_bytes()
        assert got.count(b"\n") == len(lines)
        for number, (a, b) in enumerate(zip(got.split(b"\n"), expected.split(b"\n"),
                                            strict=True), 1):
            assert a == b, (number, a, b)
        if memo:
            assert summary.memo_hits > 100  # the repeats


def test_memo_steps_aside_and_comes_back(example_laws: list[Law],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines that do not repeat pause the memo; once the pause is over, repeats hit it again;
    the output is the same bytes as without a memo throughout."""
    monkeypatch.setattr(audit, "MEMO_REVIEW", 50)
    monkeypatch.setattr(audit, "MEMO_PAUSE", 120)
    gen = gen_ops()
    unique = list(gen.generate(SPECS, 100, seed=3, malformed=0.0, repeat=0.0))
    repeated = list(gen.generate(SPECS, 400, seed=4, malformed=0.0, repeat=0.9))
    memo, plain = audit.Auditor(example_laws), audit.Auditor(example_laws, memo=False)
    first = [line.rstrip(b"\n") for line in unique]
    got, summary = memo.chunk((1, list(first)))
    assert got == plain.chunk((1, list(first)))[0]
    assert memo.memo_pause > 0 and summary.memo_hits == 0
    assert memo.next_pause == 240  # the next pause, if lines still do not repeat, is twice as long
    second = [line.rstrip(b"\n") for line in repeated]
    got, summary = memo.chunk((101, list(second)))
    assert got == plain.chunk((101, list(second)))[0]
    assert summary.memo_hits > 100
    assert memo.next_pause == 120  # repeats again: back to the first length


def test_full_collections_keep_the_output(example_laws: list[Law],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With a full garbage collection after every line's chunk, the same bytes."""
    gen = gen_ops()
    data = b"".join(gen.generate(SPECS, 2 * audit.CHUNK_LINES + 10, seed=3, malformed=0.05))
    outputs = []
    for every in (audit.FULL_COLLECTION, 1):
        monkeypatch.setattr(audit, "FULL_COLLECTION", every)
        out = Path(TMP) / f"gc-{every}.jsonl"
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            audit.run(example_laws, io.BytesIO(data), fd)
        finally:
            os.close(fd)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == plain_audit(example_laws, data)


def test_remembered_durations_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """`operation.decode` remembers the duration of each text it meets, a bounded number of them,
    and reads every duration right whether remembered or not."""
    monkeypatch.setattr(operation, "_REMEMBER", 3)
    monkeypatch.setattr(operation, "_durations", {})
    sizes = []
    for months in [*range(1, 9), *range(1, 9)]:
        line = json.dumps({"id": "op-1", "date": "2030-01-01", "duration": f"{months} months",
                           "retention": f"{months + 1} months"}).encode()
        op = operation.decode(line)
        assert op is not None and op.duration is not None and op.retention is not None
        assert (op.duration.amount, op.retention.amount) == (months, months + 1)
        assert op.duration.unit is op.retention.unit is Unit.MONTHS
        sizes.append(len(operation._durations))
    assert max(sizes) == 3


def test_the_writer_keeps_order_and_raises_its_error_in_the_caller(tmp_path: Path) -> None:
    """One job writes chunks' output from a thread of its own: in order, all of it by `close`;
    an error in writing (here a closed pipe) is raised in the caller, and nothing is written
    after it."""
    out = tmp_path / "out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    writer = audit._Writer(fd, ahead=1)
    for i in range(200):
        writer.write(b"%d\n" % i)
    writer.close()
    os.close(fd)
    assert out.read_bytes() == b"".join(b"%d\n" % i for i in range(200))

    read_end, write_end = os.pipe()
    os.close(read_end)
    writer = audit._Writer(write_end)
    try:
        with pytest.raises(BrokenPipeError):
            for _ in range(20):
                writer.write(b"x" * 100_000)
            writer.close()
    finally:
        writer.close(check=False)
        os.close(write_end)
    assert not writer.thread.is_alive()
    with pytest.raises(BrokenPipeError):
        writer.close()


def test_a_job_of_several_writes_before_it_goes_on(tmp_path: Path) -> None:
    """With `ahead=0` (each job of a run with several) the writer starts no thread: each write
    is done when `write` returns, in order; an error in writing is raised there, again at
    `close`, and nothing is written after it."""
    out = tmp_path / "out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        writer = audit._Writer(fd, ahead=0)
        for i in range(50):
            writer.write(b"%d\n" % i)
            assert out.stat().st_size == len(b"".join(b"%d\n" % j for j in range(i + 1)))
        writer.close()
    finally:
        os.close(fd)
    assert not writer.thread.is_alive()
    assert out.read_bytes() == b"".join(b"%d\n" % i for i in range(50))

    read_end, write_end = os.pipe()
    os.close(read_end)
    writer = audit._Writer(write_end, ahead=0)
    try:
        with pytest.raises(BrokenPipeError):
            writer.write(b"x" * 100)
        with pytest.raises(BrokenPipeError):
            writer.write(b"y" * 100)
        with pytest.raises(BrokenPipeError):
            writer.close()
    finally:
        os.close(write_end)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs signal masks")
def test_a_ctrl_c_during_a_write_comes_after_it(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A job of several writes in its own thread of control: a Ctrl-C that comes while it
    writes a chunk (a second one, which stops a run at once) is raised once the whole chunk is
    written, so the output still ends at a chunk's end."""
    out = tmp_path / "out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    events: list[str] = []
    write_all = audit.write_all

    def interrupted(fd: int, data: bytes | memoryview) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # comes while the chunk is being written
        events.append("interrupted")
        write_all(fd, data)
        events.append("written")

    monkeypatch.setattr(audit, "write_all", interrupted)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        writer = audit._Writer(fd, ahead=0)
        with pytest.raises(KeyboardInterrupt):
            writer.write(b'{"line":1}\n{"line":2}\n')
    finally:
        signal.signal(signal.SIGINT, previous)
        os.close(fd)
    assert events == ["interrupted", "written"]
    assert out.read_bytes() == b'{"line":1}\n{"line":2}\n'


def test_deciding_makes_no_reference_cycles(example_laws: list[Law]) -> None:
    """Full garbage collections can be rare (every FULL_COLLECTION lines) because deciding lines
    makes no reference cycles: with the collector off, lines of every kind, malformed ones and
    misspelt names included, leave nothing for it to find."""
    gen = gen_ops()
    lines: audit.Lines = [line.rstrip(b"\n")
                          for line in gen.generate(SPECS, 3000, seed=21, malformed=0.2)]
    lines += [b"", b"\x00", b"\xff", b'{"id": 1}', b"[" * 100_000, b'{"id": "x"} {}']
    auditor = audit.Auditor(example_laws)
    auditor.chunk((1, lines[:500]))  # what lasts (caches, compiled conditions) is made first
    gc.collect()
    gc.disable()
    try:
        output = auditor.chunk((501, lines[500:]))[0]
        found = gc.collect()
    finally:
        gc.enable()
    assert output.count(b"\n") == len(lines) - 500
    assert found == 0


def test_packed_chunks_hold_every_line() -> None:
    """The chunks sent to worker processes hold every line, numbered in order, whatever the
    size of the reads; lines longer than the limit become too-long lines, read past. Both
    readers read the same lines."""
    lines = [b"a", b"", b"x" * 30, b"bb\r", b"y" * 11, b"", b"c" * 10, b"z" * 70, b"last"]
    for ending in (b"", b"\n"):
        data = b"\n".join(lines) + ending
        expected = [None if len(line) > 10 else line for line in lines]
        for block in (1, 2, 3, 7, 10, 11, 64, 1 << 20):
            chunks = list(audit.read_packed(io.BytesIO(data), max_line=10, block=block))
            got: audit.Lines = []
            for packed, _ in chunks:
                start, chunk_lines = audit._unpack(packed)
                assert start == len(got) + 1
                got += chunk_lines
            assert got == expected, block
            assert sum(size for _, size in chunks) == len(data)
            # The reader of a single process reads the same lines.
            one = list(audit.read_chunks(io.BytesIO(data), chunk_lines=3, max_line=10,
                                         block=block))
            assert [line for (_, c), _ in one for line in c] == expected, block
    assert list(audit.read_packed(io.BytesIO(b""))) == []
    assert [audit._unpack(p) for p, _ in audit.read_packed(io.BytesIO(b"\n"))] == [(1, [b""])]


def test_parallel_run_with_too_long_lines(example_laws: list[Law], tmp_path: Path) -> None:
    """--jobs 2 writes the same bytes as --jobs 1 when some lines are too long."""
    gen = gen_ops()
    lines = list(gen.generate(SPECS, 300, seed=8, malformed=0.05))
    lines.insert(100, b'{"id": "long", "x": "' + b"y" * (audit.MAX_LINE + 10) + b'"}\n')
    lines.append(b"z" * (audit.MAX_LINE + 1))  # too long, and no final newline
    source = tmp_path / "ops.jsonl"
    source.write_bytes(b"".join(lines))
    outputs = [run_file(example_laws, source, jobs) for jobs in (1, 2)]
    assert outputs[0] == outputs[1]
    records = [json.loads(line) for line in outputs[0].splitlines()]
    assert len(records) == len(lines)
    assert records[100]["code"] == records[-1]["code"] == "line-too-long"


def test_a_failing_decision_is_an_error_record_on_every_path(
        example_laws: list[Law], monkeypatch: pytest.MonkeyPatch) -> None:
    """An evaluator that fails on one operation gives that line an `internal-error` record
    naming the operation, and every other line its decision: on the short path (no memo), and
    on the memo's path, where the line repeats."""
    gen = gen_ops()
    lines = [line.rstrip(b"\n") for line in gen.generate(SPECS, 40, seed=5, malformed=0.0)]
    victim = json.loads(lines[3])["id"]
    bad = replace(from_json(json.loads(lines[3])), id="")
    lines.append(lines[3])  # a repeat, for the memo's path
    expected, _ = audit.Auditor(example_laws, memo=False).chunk((1, list(lines)))
    real = audit.Auditor.decide

    def failing(self: audit.Auditor, op: Operation) -> Any:
        if replace(op, id="") == bad:  # the memo's path decides it under a placeholder id
            raise RuntimeError("boom")
        return real(self, op)

    monkeypatch.setattr(audit.Auditor, "decide", failing)
    for memo in (False, True):
        auditor = audit.Auditor(example_laws, memo=memo)
        got, summary = auditor.chunk((1, list(lines)))
        records = [json.loads(r) for r in got.decode().splitlines()]
        assert len(records) == len(lines)
        for number in (4, len(lines)):
            assert records[number - 1] == {
                "line": number, "code": "internal-error", "operation": victim,
                "error": "cannot decide: internal error RuntimeError: boom"}
        assert summary.errors == {"internal-error": 2}
        kept = [r for i, r in enumerate(got.split(b"\n")) if i + 1 not in (4, len(lines))]
        assert kept == [r for i, r in enumerate(expected.split(b"\n"))
                        if i + 1 not in (4, len(lines))]


def test_parallel_outputs_larger_than_a_slot(example_laws: list[Law], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk whose output does not fit its slot of shared memory is sent back whole: the
    output is the same bytes as with one job. (Chunks are sent for input that is not a file.)"""
    monkeypatch.setattr(audit, "_input_file", lambda stream: None)
    gen = gen_ops()
    source = tmp_path / "ops.jsonl"
    source.write_bytes(b"".join(gen.generate(SPECS, 600, seed=4, malformed=0.05)))
    outputs = []
    for jobs, slot_size in ((1, audit.SLOT_SIZE), (2, audit.SLOT_SIZE), (2, 28_000)):
        monkeypatch.setattr(audit, "SLOT_SIZE", slot_size)
        monkeypatch.setattr(audit, "PACKED_BLOCK", 16_384)  # outputs of 2-31 KB: some fit
        outputs.append(run_file(example_laws, source, jobs))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count(b"\n") == 600


def run_file(laws: list[Law], source: Path, jobs: int) -> bytes:
    """What `audit.run` writes for the lines of `source` with `jobs` processes."""
    out = source.with_name(f"{source.stem}-out-{jobs}.jsonl")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with source.open("rb") as stream:
            audit.run(laws, stream, fd, jobs=jobs)
    finally:
        os.close(fd)
    return out.read_bytes()


def test_kept_record_parts_are_bounded(example_laws: list[Law]) -> None:
    """The record parts an auditor keeps stay within its bound for each version (when full, the
    half kept last goes), and the bound does not change the output."""
    gen = gen_ops()
    generated = gen.generate(SPECS, 3000, seed=12, malformed=0.02)
    lines: audit.Lines = [line.rstrip(b"\n") for line in generated]
    small = audit.Auditor(example_laws, memo=False, kept=4)
    one = audit.Auditor(example_laws, memo=False, kept=1)  # the least bound holds too
    sizes = []
    outputs = []
    for start in range(0, len(lines), 100):
        chunk = start + 1, lines[start:start + 100]
        outputs.append(small.chunk(chunk)[0])
        sizes += [(len(u.records), len(u.seen)) for u in small.under.values()]
        for u in small.under.values():  # one copy of each text the kept records use, no other
            assert set(u.texts) == {t for r in u.records.values() for t in r.parts}
        one.chunk(chunk)
        assert all(len(u.records) <= 1 for u in one.under.values())
    assert max(max(pair) for pair in sizes) == 4
    plain = audit.Auditor(example_laws, memo=False).chunk((1, lines))[0]
    assert b"".join(outputs) == plain


def test_one_job_caches_are_larger_only_while_it_runs(example_laws: list[Law], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """With one job, the evaluator's caches and the record fragments hold `_CACHES_ONE_JOB`
    times their usual number of entries while the audit runs, and their usual number after it
    (several jobs keep the usual bounds; their output is compared with one job's above)."""
    def bounds() -> tuple[int, ...]:
        return (compiled.PLANS_SIZE, compiled.TEMPLATES_SIZE, compiled.GRANTED_SIZE,
                decision_module._REMEMBERED)

    usual = bounds()
    during: set[tuple[int, ...]] = set()
    chunk = audit.Auditor.chunk

    def spy(self: audit.Auditor, *args: Any) -> Any:
        during.add(bounds())
        return chunk(self, *args)

    monkeypatch.setattr(audit.Auditor, "chunk", spy)
    source = tmp_path / "ops.jsonl"
    source.write_bytes(b"".join(gen_ops().generate(SPECS, 50, seed=5, malformed=0.0)))
    assert run_file(example_laws, source, 1).count(b"\n") == 50
    assert during == {tuple(audit._CACHES_ONE_JOB * bound for bound in usual)}
    assert audit._CACHES_ONE_JOB > 1
    assert bounds() == usual


def test_full_collections_come_by_lines_not_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks (a slow pipe) do not make full garbage collections more frequent."""
    collections: list[int] = []
    monkeypatch.setattr(audit, "FULL_COLLECTION", 250)
    monkeypatch.setattr(audit.gc, "collect", lambda: collections.append(1) or 0)
    collector = audit._Collector()
    try:
        for _ in range(5):
            collector.chunk_done(100)
        assert len(collections) == 1  # after 300 lines; then 200 more
        for _ in range(50):
            collector.chunk_done(1)
        assert len(collections) == 2  # after 250 more
    finally:
        collector.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_a_pipe_is_given_room_for_a_block() -> None:
    """Reading a pipe, the audit gives it room for a whole block, so that each read can give one
    while the writer runs ahead (64 KiB at a time otherwise)."""
    import fcntl

    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "rb", buffering=0, closefd=False) as stream:
            os.write(write_end, b"a\n")
            os.close(write_end)
            write_end = -1
            assert list(audit._reads(stream, 1 << 18)) == [b"a\n"]
            assert fcntl.fcntl(read_end, getattr(fcntl, "F_GETPIPE_SZ", 1032)) >= 1 << 18
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_the_field_order_the_fast_paths_unpack() -> None:
    """`operation.decode` and `CompiledLaw.outcome` unpack all the fields of an operation at once,
    by position: a field added, removed or moved must be reflected there."""
    assert Operation.__struct_fields__ == (
        "id", "date", "threat", "service", "technique", "capabilities", "subjects", "duration",
        "urgent", "retention", "approvals", "assessments", "sharing")
    assert operation._WireOperation.__struct_fields__ == (
        "id", "date", "service", "threat", "technique", "capabilities", "subjects", "duration",
        "urgent", "retention", "approvals", "assessments", "sharing")
