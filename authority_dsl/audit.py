"""Streaming batch decisions: JSON Lines of operations in, one JSON line out per input line.

Every input line gives exactly one output line, in input order: `{"line": N, ...the decision}` or
`{"line": N, "code": ..., "error": ...}` for a line that is not an operation (empty, NUL byte,
invalid UTF-8, invalid JSON, a malformed operation, longer than MAX_LINE). Unknown names are not
errors: the evaluator denies them (fail closed), as it does for `decide`. Records are canonical JSON
(`decision.dumps`), except that U+0085, U+2028 and U+2029 are escaped, so that no reader splits a
record in two.

Memory stays flat: input is read in blocks, lines are at most MAX_LINE bytes, work goes in chunks
of CHUNK_LINES lines with a bounded number in flight, the summary counts by names of the laws, and
the memo of recent decisions is bounded. The memo keys a decision on the bytes of the line after its
leading `"id"` (an operation minus its id), renders it once with a placeholder id and line number,
and fills in the real ones on a hit, so output is the same bytes with or without it.

Speed: a line takes the fast path of each step, each of which gives up to the plain way on anything
unusual: `operation.decode` reads the line's bytes straight into the operation model with msgspec,
checking the JSON and the shape in one pass (a line it refuses is read with `json` and
`operation.from_json`, which word every error with its place); the evaluator's fast path gives an
outcome without the operation's id and date (`CompiledLaw.outcome`), whose record is written
straight from it in parts around the line number, id and date (`decision.outcome_parts`, with what
repeats remembered), and the parts and summary entries of an outcome seen before are kept; any
other decision is written by `decision.record_parts`. Small caches remember the version in force
on each day and the capabilities counted for each kind of operation. Objects that outlive a chunk
are frozen out of garbage collection after it (`_Collector`).

With several processes on Linux, a file is cut into shares of whole lines, found and numbered as
they are handed out; the main process and forked workers each decide a share at a time as a single
job would, into a temporary file, and the main process writes the shares in input order, tending
to the workers between the chunks of its own shares (`_run_shares`); the next share to write goes
straight to the output instead, from whichever process decides it (`_Head`). Each of those jobs
writes as it goes, without the writer thread of one job (`_Writer`). Other
input (a pipe), or where workers cannot be forked, goes in chunks: the whole lines of one read,
sent to a worker as one bytes object (`read_packed`); forked workers put each chunk's output in
shared memory, from where the main process writes it (`_run_parallel`).

Several versions of a law: each operation is decided under the version in force on its date (where
windows overlap, the version that entered into force last); an operation dated outside every
version is denied with that reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import io
import itertools
import json
import mmap
import os
import re
import signal
import sys
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from json.encoder import encode_basestring as _encode_str
from typing import Any, BinaryIO, NamedTuple, cast

import attrs

from .decision import Decision, Violation, dumps, outcome_parts, record_parts
from .decision import scale_caches as scale_record_caches
from .diagnostics import Diagnostic
from .engine import CompiledLaw, compile_law
from .engine.compiled import OutcomeTuple
from .engine.compiled import scale_caches as scale_engine_caches
from .lines import MAX_DEPTH, count_lines, deeper_than, repeated_key, repeats_a_key, split_lines
from .model import Law
from .operation import (
    LONE_SURROGATE,
    Operation,
    OperationError,
    decode,
    from_json,
    repeated_key_message,
    surrogate_path,
)

MAX_LINE = 1 << 20  # bytes; a longer line is an error record, read past without keeping it
CHUNK_LINES = 1000
MEMO_SIZE = 512  # lines: a repeat comes soon after the request it repeats
MEMO_MAX_KEY = 4096  # bytes; longer lines are not memoised
MEMO_REVIEW = 1024  # lookups between two reviews of how often the memo is hit
MEMO_PAUSE = 8192  # lines decided without the memo after a review found it seldom hit...
MEMO_PAUSE_MAX = 1 << 17  # ...doubled after each such review in a row, up to this
READ_BLOCK = 1 << 18  # bytes read at a time: a few hundred lines, a fraction of a chunk
PACKED_BLOCK = 3 << 17  # bytes read at a time with several processes: a chunk, some 850 lines
SLOT_SIZE = 1 << 22  # bytes of shared memory for a chunk's output (larger outputs are sent back)
COUNTED = 1 << 14  # kinds of decision counted before they are added to the summary (one job)
# Lines between two full garbage collections (whatever the chunks). Deciding makes no reference
# cycles (tests/test_audit_fast.py), so a full collection only walks what lasts: with one job's
# caches, about 0.2 s each.
FULL_COLLECTION = 1 << 20
YOUNG_OBJECTS = 20_000  # allocations between two collections of young objects (Python's: 700)
# The signals that stop a run at a chunk's end (the CLI's handlers; workers leave them to the
# main process): Ctrl-C, `kill`, a terminal closed.
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))
UNKNOWN = "(unknown)"
NO_VERSION = "(no version in force)"

Lines = list[bytes | None]  # None: a line longer than MAX_LINE
Chunk = tuple[int, Lines]  # the number of its first line, its lines

# A line that starts with its id: `{"id": "op-1", ...`; the id has no escapes or control bytes.
_LEADING_ID = re.compile(rb'\{[ \t]*"id"[ \t]*:[ \t]*"([^"\\\x00-\x1f]{0,1000})"[ \t]*,')
# The placeholder id of a memoised record. A NUL never comes from a law (sources refuse it) nor
# from a memoised line (rejected below), so it only appears in the record where it was put.
_ID = "\x00id\x00"
_ID_TOKEN = json.dumps(_ID)[1:-1]
# `decision.dumps` with its encoder built once: the same canonical JSON, without per-call set-up.
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
_decoder = json.JSONDecoder()
_decode = _decoder.decode
# One JSON value from an index: (value, where it ends); the scanner `decode` itself uses.
_scan_once: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]
_REMEMBER = 1 << 14  # entries of the auditor's small caches (days, kinds of operation)
# Outcomes whose record parts are remembered, per version (about 1 KB each): in each process
# with several, more with one (the memory the workers would each take).
_RECORDS, _RECORDS_ONE_JOB = 1 << 11, 1 << 14
# With one job, the evaluator's caches and the record fragments hold this many times their usual
# number of entries (`compiled.scale_caches`, `decision.scale_caches`): fewer of them are made
# again, for some 30 MB more. Workers given chunks (`_run_parallel`) keep the usual bounds.
_CACHES_ONE_JOB = 8
# With several jobs on a file, each job (the main process and each worker) decides shares of it as
# a single job does, with caches half as large (`_run_shares`): each sees part of the input, and
# their memory adds up.
_RECORDS_SHARE, _CACHES_SHARE = _RECORDS_ONE_JOB // 2, _CACHES_ONE_JOB // 2
# A share of a file is an eighth of what is left of it per job, within SHARE_MIN and SHARE_MAX
# bytes: the last shares are small, so that no worker is left deciding a large one alone.
SHARE_PART = 8
SHARE_MIN, SHARE_MAX = 1 << 20, 1 << 24
FILES_RESERVED, FILES_PER_JOB = 64, 8  # open files kept for the rest, and needed per job
# Characters some readers take for line breaks (str.splitlines, JavaScript); JSON escapes none of
# them, so they are escaped here to keep one record per line for every reader.
_LINE_BREAKS = (("\x85", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_SHARING_NUMBER = re.compile(r"^sharing #\d+: ")


class VersionError(ValueError):
    """Two versions of the law cannot be told apart by date."""


@attrs.frozen
class Version:
    law: Law
    engine: CompiledLaw

    @property
    def label(self) -> str:
        return f"{self.law.id} {self.law.version}"


def _named(law: Law) -> str:
    """A version of a law as a message names it: its file, title and version."""
    where = f"`{law.files[0]}` " if law.files else ""
    return f"{where}(`{law.title}` version {law.version})"


class Versions:
    """The versions of a law, each in force in its own window."""

    def __init__(self, laws: Sequence[Law]) -> None:
        if not laws:
            raise VersionError("no law given")
        ordered = sorted(laws, key=lambda law: law.in_force.start or dt.date.min)
        for a, b in itertools.pairwise(ordered):
            if (a.in_force.start or dt.date.min) == (b.in_force.start or dt.date.min):
                when = (f"both enter into force on {a.in_force.start}" if a.in_force.start
                        else "neither says when it enters into force")
                raise VersionError(
                    f"{_named(a)} and {_named(b)}: {when}, so no date tells which is in force; "
                    "give each version its own `in_force` start")
        self.items = tuple(Version(law, compile_law(law)) for law in ordered)

    def pick(self, day: dt.date) -> Version | None:
        """The version in force on `day`; with one version, always that one."""
        items = self.items
        if len(items) == 1:
            return items[0]
        chosen = None
        for version in items:
            if version.law.in_force.contains(day):
                chosen = version
        return chosen

    def nearest(self, day: dt.date) -> Version:
        """The version that entered into force last before `day`, or the first one."""
        before = [v for v in self.items if (v.law.in_force.start or dt.date.min) <= day]
        return before[-1] if before else self.items[0]

    def outside(self, op: Operation) -> Decision:
        """Denied: no version is in force on the operation's date."""
        decision = self.nearest(op.date).engine.decide(op)
        windows = "; ".join(f"`{v.law.title}` version {v.law.version} in force {v.law.in_force}"
                            for v in self.items)
        violation = Violation("law-not-in-force",
                              f"no version of the law is in force on {op.date} ({windows})")
        return attrs.evolve(decision, verdict="denied", authorised=(), missing=(),
                            violations=(violation,), alternatives=())


@attrs.define
class Summary:
    """What a run found, merged over chunks. Every counter is keyed by names of the laws (or
    UNKNOWN), so the summary stays small however long the input."""

    lines: int = 0
    memo_hits: int = 0
    errors: Counter[str] = attrs.field(factory=Counter)  # error records by code
    verdicts: Counter[str] = attrs.field(factory=Counter)
    versions: Counter[str] = attrs.field(factory=Counter)  # decisions per law version
    threats: Counter[tuple[str, str]] = attrs.field(factory=Counter)  # (threat, verdict)
    capabilities: Counter[tuple[str, str]] = attrs.field(factory=Counter)  # (capability, verdict)
    missing: Counter[str] = attrs.field(factory=Counter)  # decisions missing each requirement
    prohibitions: Counter[str] = attrs.field(factory=Counter)  # decisions each one denied

    _COUNTERS = ("errors", "verdicts", "versions", "threats", "capabilities", "missing",
                 "prohibitions")

    def merge(self, other: Summary) -> None:
        self.lines += other.lines
        self.memo_hits += other.memo_hits
        for name in self._COUNTERS:
            getattr(self, name).update(getattr(other, name))

    @property
    def decided(self) -> int:
        return sum(self.verdicts.values())

    def add(self, tallies: Counter[Tally]) -> None:
        """Count decisions, given how often each kind of decision was made. Kinds are many
        (thousands in a share of a log) and share their parts: each part (the version, verdict
        and threat; the capabilities; the requirements missing; the prohibitions) is first
        counted once over all kinds, in one pass over them, and only then name by name."""
        kinds: dict[tuple[str, str, str], int] = {}
        counted: dict[tuple[tuple[str, ...], str], int] = {}
        lacking: dict[tuple[str, ...], int] = {}
        prohibited: dict[tuple[str, ...], int] = {}
        for (version, verdict, threat, capabilities, missing, prohibitions), n in tallies.items():
            kind = version, verdict, threat
            kinds[kind] = kinds.get(kind, 0) + n
            if capabilities:
                part = capabilities, verdict
                counted[part] = counted.get(part, 0) + n
            if missing:
                lacking[missing] = lacking.get(missing, 0) + n
            if prohibitions:
                prohibited[prohibitions] = prohibited.get(prohibitions, 0) + n
        for (version, verdict, threat), n in kinds.items():
            self.verdicts[verdict] += n
            self.versions[version] += n
            self.threats[threat, verdict] += n
        for (capabilities, verdict), n in counted.items():
            for capability in capabilities:
                self.capabilities[capability, verdict] += n
        for missing, n in lacking.items():
            for requirement in missing:
                self.missing[requirement] += n
        for prohibitions, n in prohibited.items():
            for prohibition in prohibitions:
                self.prohibitions[prohibition] += n


# What one decision adds to the summary: the label of its law's version, its verdict, its threat,
# the capabilities counted, the requirements missing and the prohibitions hit. A plain tuple: one
# is made per line.
Tally = tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _error(number: int, code: str, message: str, operation: object = None) -> str:
    record: dict[str, object] = {"line": number, "code": code, "error": message}
    if isinstance(operation, dict) and isinstance(operation.get("id"), str):
        record["operation"] = operation["id"]
    return dumps(record)


class _Under:
    """One version as the auditor uses it: its label, law and evaluator (`outcome`, and
    `decision` for an outcome whose record is not remembered), and, remembered, the
    capabilities counted for each kind of operation (technique, capabilities) and the record
    parts and summary entries of each outcome of the evaluator's fast path."""

    __slots__ = ("capabilities", "decision", "info", "label", "law", "outcome", "records",
                 "seen", "texts", "title", "version")

    def __init__(self, version: Version) -> None:
        self.label = version.label
        self.law = version.law
        self.outcome, self.decision = version.engine.outcome, version.engine.decision
        self.info, self.title, self.version = version.law.info, version.law.title, \
            version.law.version
        self.capabilities: dict[tuple[str | None, tuple[str, ...]], tuple[str, ...]] = {}
        self.records: dict[OutcomeTuple, _Record] = {}
        self.texts: dict[str, str] = {}  # the one copy of each text of those records
        self.seen: set[int] = set()  # hashes of outcomes seen once (a collision costs nothing)


class _Record(NamedTuple):
    """What an outcome of the fast path writes and counts: the parts of its record
    (`decision.outcome_parts`), its verdict, missing requirements and prohibitions hit."""

    parts: tuple[str, str, str, str, str]
    verdict: str
    missing: tuple[str, ...]
    prohibitions: tuple[str, ...]


class Auditor:
    """Decides chunks of lines; one per process."""

    def __init__(self, laws: Sequence[Law], memo: bool = True, kept: int = _RECORDS) -> None:
        self.kept = kept  # outcomes whose record parts are kept, per version
        self.versions = Versions(laws)
        self.memo: OrderedDict[bytes, tuple[list[str], list[str], Tally]] | None = \
            OrderedDict() if memo else None
        from .engine import messages

        self.prohibited = {
            messages.prohibited(p.name, p.text, p.cites): f"prohibition `{p.name}`"
            for v in self.versions.items for p in v.law.prohibitions}
        self.under = {id(v): _Under(v) for v in self.versions.items}
        # The version in force on each day, and the day in ISO form.
        self.by_day: dict[dt.date, tuple[_Under | None, str]] = {}
        self.memo_lookups = self.memo_found = self.memo_pause = 0
        self.next_pause = MEMO_PAUSE

    def chunk(self, chunk: Chunk, counted: Counter[Tally] | None = None,
              ) -> tuple[bytes, Summary]:
        """The output lines of a chunk, joined, and what they add to the summary; with
        `counted`, the decisions are counted there (for `Summary.add`) rather than in it."""
        start, lines = chunk
        summary = Summary()
        tallies: list[Tally] = []
        line, decide = self.line, self.decide
        count = tallies.append
        out: list[str] = []
        append = out.append
        no_memo = self.memo is None
        for number, raw in enumerate(lines, start):
            # Without a memo, or while it steps aside, most lines take this short way: read in
            # one pass, decided (as `decided` does without a memo key). Anything else goes
            # through `line`.
            if raw is not None and (no_memo or self.memo_pause):
                op = decode(raw)
                if op is not None:
                    if not no_memo:
                        self.memo_pause -= 1
                    try:
                        head, tail, tally = decide(op)
                    except Exception as exc:  # one bad decision must not stop the audit
                        append(self.internal_error(number, op, None, summary, exc))
                        continue
                    count(tally)
                    append(f"{head}{number}{tail}")
                    continue
            append(line(number, raw, summary, tallies))
        out.append("")
        summary.lines = len(lines)
        if counted is None:
            summary.add(Counter(tallies))
        else:
            counted.update(tallies)
        text = "\n".join(out)
        for char, escape in _LINE_BREAKS:
            if char in text:  # only inside JSON strings: escaping them keeps the same value
                text = text.replace(char, escape)
        return text.encode("utf-8"), summary

    def line(self, number: int, raw: bytes | None, summary: Summary,
             tallies: list[Tally]) -> str:
        """The output line for one input line (without its newline)."""
        if raw is None:
            return self.fail(summary, number, "line-too-long",
                             f"line is longer than {MAX_LINE} bytes")
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        memo = self.memo
        key = None
        if self.memo_pause:
            self.memo_pause -= 1
        elif memo is not None and len(raw) <= MEMO_MAX_KEY:
            match = _LEADING_ID.match(raw)
            if match is not None:
                rest = raw[match.end():]
                hit = memo.get(rest)
                self.memo_lookups += 1
                if self.memo_lookups >= MEMO_REVIEW:
                    self.review_memo()
                if hit is not None:
                    try:
                        op_id = match.group(1).decode("utf-8")
                    except UnicodeDecodeError:
                        pass
                    else:
                        head, tail, tally = hit
                        summary.memo_hits += 1
                        self.memo_found += 1
                        tallies.append(tally)
                        return f"{op_id.join(head)}{number}{op_id.join(tail)}"
                # No second id, and no escape at all (one could spell an id). `bytes.find`, not
                # `in`: `in` tries its operand as an int first, at the cost of an exception. A line
                # with a NUL byte is refused before its key is used: keys never hold one.
                elif rest.find(b"\\") < 0 and rest.find(b'"id"') < 0:
                    try:
                        key = rest, match.group(1).decode("utf-8")
                    except UnicodeDecodeError:
                        key = None
        return self.slow(number, raw, key, summary, tallies)

    def review_memo(self) -> None:
        """The memo steps aside for a while when lines hardly repeat (under 1 in 20 lookups
        hit since the last review): keys and placeholders would then only cost time. The while
        doubles as long as lines keep not repeating."""
        if self.memo_found * 20 < self.memo_lookups:
            self.memo_pause = self.next_pause
            self.next_pause = min(2 * self.next_pause, MEMO_PAUSE_MAX)
        else:
            self.next_pause = MEMO_PAUSE
        self.memo_lookups = self.memo_found = 0

    def fail(self, summary: Summary, number: int, code: str, message: str,
             value: object = None) -> str:
        summary.errors[code] += 1
        return _error(number, code, message, value)

    def slow(self, number: int, raw: bytes, key: tuple[bytes, str] | None, summary: Summary,
             tallies: list[Tally]) -> str:
        """Decode, validate and decide one line; memoise it under `key` (the line after its id,
        and the id) when given."""
        # The common case: a well-formed operation, read in one pass (`operation.decode`, which
        # refuses empty lines, NUL bytes, invalid UTF-8 and lone surrogates, among all else).
        op = decode(raw, None if key is None else (key[1], _ID))
        if op is not None:
            return self.decided(number, op, key, summary, tallies)
        return self.refused(number, raw, key, summary, tallies)

    def refused(self, number: int, raw: bytes, key: tuple[bytes, str] | None, summary: Summary,
                tallies: list[Tally]) -> str:
        """A line `operation.decode` gave up on: an error record saying what is wrong with it,
        or the decision of a valid operation of an unusual kind."""
        if not raw or raw.isspace():
            return self.fail(summary, number, "empty-line", "empty line: expected an operation "
                             "as a JSON object")
        nul = raw.find(b"\x00")
        if nul >= 0:
            return self.fail(summary, number, "nul-byte", f"NUL byte at byte {nul + 1}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.fail(summary, number, "invalid-utf8",
                             f"invalid UTF-8 byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}")
        # Nested deeper than any operation, and than the reading below can follow whatever the
        # process (a worker's stack is deeper): refused before it is read.
        if deeper_than(raw, MAX_DEPTH):
            return self.fail(summary, number, "invalid-json", "invalid JSON: nested too deeply")
        # Decoded with `json` and validated with `from_json`, which word every error with its
        # place. A line that is one JSON value and nothing else, as almost all are: scanned at once.
        # Anything else (surrounding whitespace, extra data, an error) is decoded again in full,
        # which reports the error exactly as it always has.
        try:
            value, end = _scan_once(text, 0)
        except Exception:  # decoded again below, with its proper error
            end = -1
        if end != len(text):
            try:
                value = _decode(text)
            except json.JSONDecodeError as exc:
                message = exc.msg[:1].lower() + exc.msg[1:]
                return self.fail(summary, number, "invalid-json",
                                 f"invalid JSON at column {exc.colno}: {message}")
            except RecursionError:
                return self.fail(summary, number, "invalid-json",
                                 "invalid JSON: nested too deeply")
            except ValueError as exc:
                reason = ("a number has too many digits" if "integer string" in str(exc)
                          else str(exc))
                return self.fail(summary, number, "invalid-json", f"invalid JSON: {reason}")
        # A string no UTF-8 output can carry (`"\\ud800"`), located, with the id if it has one
        # that can be written.
        where = surrogate_path(value) if raw.find(b"\\u") >= 0 else None
        if where is not None:
            named = value if type(value) is dict and surrogate_path(value.get("id")) is None \
                else None
            return self.fail(summary, number, "invalid-unicode", f"{where}: {LONE_SURROGATE}",
                             named)
        # A key given twice in one object: which value counts is a guess, so the line is refused
        # (with the id, unless the id is given twice too).
        if repeats_a_key(raw):
            repeated = repeated_key(text)
            if repeated is not None:
                return self.fail(summary, number, "duplicate-key",
                                 f"{repeated.path}: {repeated_key_message(repeated.key)}",
                                 None if "id" in repeated.outermost else value)
        op_id = None
        if key is not None:
            # Decide the operation with a placeholder id, to fill in any id on a later hit.
            if type(value) is dict and value.get("id") == key[1]:
                op_id = key[1]
                value["id"] = _ID
            else:
                key = None
        try:
            op = from_json(value)
        except (OperationError, RecursionError) as exc:
            if op_id is not None:
                value["id"] = op_id
            message = _operation_error(exc)
            return self.fail(summary, number, "invalid-operation", message, value)
        if op_id is not None:
            value["id"] = op_id
        return self.decided(number, op, key, summary, tallies, value)

    def decided(self, number: int, op: Operation, key: tuple[bytes, str] | None,
                summary: Summary, tallies: list[Tally], value: object = None) -> str:
        """The record of a valid operation (with the placeholder id when `key` is given, and
        memoised under it); `value`, the decoded line if at hand, names it in an error record."""
        try:
            head, tail, tally = self.decide(op)
        except Exception as exc:  # one bad decision must not stop the audit: fail closed
            return self.internal_error(number, op, key, summary, exc, value)
        tallies.append(tally)
        if key is None:
            return f"{head}{number}{tail}"
        op_id = key[1]
        memo = self.memo
        assert memo is not None
        if len(memo) >= MEMO_SIZE:
            memo.popitem(last=False)
        heads, tails = head.split(_ID_TOKEN), tail.split(_ID_TOKEN)
        memo[key[0]] = (heads, tails, tally)
        return f"{op_id.join(heads)}{number}{op_id.join(tails)}"

    def internal_error(self, number: int, op: Operation, key: tuple[bytes, str] | None,
                       summary: Summary, exc: Exception, value: object = None) -> str:
        """The error record of an operation whose decision failed (fail closed)."""
        if value is None:
            value = {"id": op.id if key is None else key[1]}
        return self.fail(summary, number, "internal-error",
                         f"cannot decide: internal error {type(exc).__name__}: {exc}", value)

    def decide(self, op: Operation) -> tuple[str, str, Tally]:
        """The record of an operation in two parts, around its line number, and what it adds to
        the summary."""
        day = op.date
        known = self.by_day.get(day)
        if known is None:
            version = self.versions.pick(day)
            if len(self.by_day) >= _REMEMBER:
                self.by_day.clear()
            known = self.by_day[day] = (
                None if version is None else self.under[id(version)], day.isoformat())
        under: _Under | None  # a typed variable in the compiled build (audit.pxd)
        under, iso = known
        threat = op.threat
        if under is None:
            # Counted by threat and capability as under the nearest version, whose names they
            # are, as a single version's law counts an operation outside its window.
            decision = self.versions.outside(op)
            nearest = self.versions.nearest(day).law
            return (*record_parts(decision), (
                NO_VERSION, decision.verdict, "(none)" if threat is None else threat
                if threat in nearest.threats else UNKNOWN, _capabilities(op, nearest), (), ()))
        law = under.law
        kind = op.technique, op.capabilities
        capabilities = under.capabilities.get(kind)
        if capabilities is None:
            capabilities = _capabilities(op, law)
            if len(under.capabilities) >= _REMEMBER:
                under.capabilities.clear()
            under.capabilities[kind] = capabilities
        outcome = under.outcome(op)
        if type(outcome) is tuple:
            # The fast path's outcome: its record parts and counts, straight from it. Those of
            # an outcome seen before are kept (many come only once: combinations of grants and
            # missing requirements).
            record = under.records.get(outcome)
            if record is None:
                record = self._record(under, outcome)
            if record is not None:
                a, b, c, d, f = record.parts
                e = _encode_str(op.id)[1:-1]
                # The fast path decided it: its threat is one of the law's (not None).
                return a, f"{b}{e}{c}{e}{d}{iso}{f}", (  # type: ignore[return-value]
                    under.label, record.verdict, threat, capabilities, record.missing,
                    record.prohibitions)
            outcome = under.decision(op, outcome)
        outcome = cast(Decision, outcome)
        threat_label = "(none)" if threat is None else threat if threat in law.threats \
            else UNKNOWN
        return (*record_parts(outcome), (
            under.label, outcome.verdict, threat_label, capabilities,
            tuple([m.requirement for m in outcome.missing]),
            self._prohibitions(outcome.violations)))

    def _record(self, under: _Under, outcome: OutcomeTuple) -> _Record | None:
        """The record parts and summary entries of an outcome of the fast path (None if its law
        has no start template), kept from the second time the outcome comes."""
        parts = outcome_parts(*outcome, under.info, under.title, under.version)
        if parts is None:
            return None
        seen, marker = under.seen, hash(outcome)
        keep = marker in seen
        if not keep:
            if len(seen) >= self.kept:
                seen.clear()
            seen.add(marker)
        else:
            records = under.records
            if len(records) >= self.kept:
                # Full: the half kept first, the most frequent outcomes (they came twice
                # soonest), stays; the rest goes, with the texts only it used.
                for late in list(itertools.islice(reversed(records),
                                                  len(records) - self.kept // 2)):
                    del records[late]
                under.texts = {t: t for r in records.values() for t in r.parts}
            # Outcomes share most of their texts (the trace's start, the same authorised
            # powers): one copy of each is kept.
            texts = under.texts
            parts = cast(tuple[str, str, str, str, str],
                         tuple([texts.setdefault(t, t) for t in parts]))
        record = _Record(parts, outcome[0], tuple([m.requirement for m in outcome[2]]),
                         self._prohibitions(outcome[3]))
        if keep:
            under.records[outcome] = record
        return record

    def _prohibitions(self, violations: tuple[Violation, ...]) -> tuple[str, ...]:
        """The prohibitions and sharing prohibitions a decision's violations name."""
        if not violations:
            return ()
        # Each once: two sharings forbidden by the same rule are one operation it denied.
        return tuple(dict.fromkeys([
            self.prohibited.get(v, v.message) if v.code == "prohibited"
            else _SHARING_NUMBER.sub("", v.message)
            for v in violations if v.code in ("prohibited", "sharing-forbidden")]))


def _operation_error(exc: Exception) -> str:
    if not isinstance(exc, OperationError):
        return "$: nested too deeply"
    message = exc.message
    if message.startswith(f"{exc.path}: "):  # some validators repeat the path
        message = message[len(exc.path) + 2:]
    return f"{exc.path}: {message}"


def _capabilities(op: Operation, law: Law) -> tuple[str, ...]:
    caps = set(law.techniques.get(op.technique or "", ()))
    for name in op.capabilities:
        caps.add(name if name in law.capabilities else UNKNOWN)
    if op.technique is not None and op.technique not in law.techniques:
        caps.add(UNKNOWN)
    return tuple(sorted(caps))


# ---- reading and running ----------------------------------------------------------------------


def _reads(stream: BinaryIO, block: int) -> Iterator[bytes]:
    """The bytes of a stream, a read of at most `block` bytes at a time, from its start (a pipe
    gives what it holds, up to that)."""
    # Read a buffered file through its raw stream: one system call per block, and no buffer lock
    # held by a reader thread that may still be blocked on a pipe when the process exits.
    raw = stream.raw if isinstance(stream, io.BufferedReader) else stream
    read = getattr(raw, "read1", raw.read)
    _make_room(raw, block)
    while data := read(block):
        yield data


def _make_room(raw: object, block: int) -> None:
    """On Linux, a pipe is given room for a block (64 KiB by default), so that its writer can
    fill one while a chunk is decided and each read gives a whole block."""
    if not sys.platform.startswith("linux"):
        return
    import fcntl
    import stat

    try:
        fd = raw.fileno()  # type: ignore[attr-defined]
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), block)
    except (AttributeError, OSError, ValueError):  # not a file (io.UnsupportedOperation is an
        return  # OSError), or more than this user may give a pipe: it stays as it is


def read_packed(stream: BinaryIO, max_line: int = MAX_LINE, block: int = PACKED_BLOCK,
                ) -> Iterator[tuple[Packed, int]]:
    """The input in chunks as sent to a worker (`Packed`): the whole lines of each read, with the
    input bytes each chunk took. A line longer than `max_line` is one too-long line, read past
    without being kept. Each read that ends a line gives a chunk, so that piped input is decided as
    it arrives. The stream is read from the start: nothing may have been read from it through its
    buffer."""
    number, size = 1, 0
    tail = b""  # the start of the line not ended yet
    skipping = False  # the line not ended yet is already too long (and not kept)
    for data in _reads(stream, block):
        size += len(data)
        cut = data.rfind(b"\n")
        if cut < 0:  # no line ends here
            if not skipping:
                tail += data
                if len(tail) > max_line:
                    tail, skipping = b"", True
            continue
        too_long: tuple[int, ...] = ()
        if skipping:  # the first line ends the one being skipped: an empty line, marked
            body, too_long = data[data.find(b"\n"):cut], (0,)
        else:
            body = b"".join((tail, memoryview(data)[:cut])) if tail else data[:cut]
        if len(body) > max_line:  # only then can a line be too long
            lines = split_lines(body)
            too_long = tuple(sorted({*too_long, *(
                i for i, line in enumerate(lines) if len(line) > max_line)}))
            body = b"\n".join([b"" if i in too_long else line for i, line in enumerate(lines)])
        count = count_lines(body) + 1
        yield (number, count, body, too_long), size
        number += count
        size = 0
        tail, skipping = data[cut + 1:], False
        if len(tail) > max_line:
            tail, skipping = b"", True
    if skipping:
        yield (number, 1, b"", (0,)), size
    elif tail:
        yield (number, 1, tail, ()), size


def read_chunks(stream: BinaryIO, chunk_lines: int = CHUNK_LINES, max_line: int = MAX_LINE,
                block: int = 1 << 20, first: int = 1) -> Iterator[tuple[Chunk, int]]:
    """Chunks of at most `chunk_lines` lines, with the input bytes each took, numbered from
    `first`; a line longer than `max_line` becomes None and is read past without being kept. A
    short read (a pipe with no more data for now) ends a chunk early, so that piped input is
    decided as it arrives. The stream is read from the start: nothing may have been read from it
    through its buffer."""
    number, size = first, 0
    lines: Lines = []
    tail = b""
    skipping = False  # inside a line that is already too long
    for data in _reads(stream, block):
        size += len(data)
        parts = split_lines(data)
        rest = parts.pop()
        if parts:
            parts[0] = tail + parts[0]
            for part in parts:
                if skipping:
                    lines.append(None)
                    skipping = False
                else:
                    lines.append(part if len(part) <= max_line else None)
            tail = b""
        if not skipping:
            tail += rest
            if len(tail) > max_line:
                tail, skipping = b"", True
        while len(lines) >= chunk_lines:
            yield (number, lines[:chunk_lines]), size
            number += chunk_lines
            lines, size = lines[chunk_lines:], 0
        if lines and len(data) < block:
            yield (number, lines), size
            number += len(lines)
            lines, size = [], 0
    if skipping:
        lines.append(None)
    elif tail:
        lines.append(tail)
    if lines or size:
        yield (number, lines), size


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte (a chunk ends on a line boundary, so output never ends mid-line)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Collector:
    """Garbage collection for a long run. What outlives a chunk (the laws, and the bounded caches
    of the evaluator and of the auditor) is frozen after it, so that the collector does not walk
    it over and over again as new objects come; every FULL_COLLECTION lines (however small the
    chunks, as from a slow pipe) everything is thawed and collected in full, so that an
    unreachable cycle among frozen objects, should one come, does not live long. Young objects
    are collected after YOUNG_OBJECTS allocations rather than 700: a line allocates dozens,
    nearly all freed by reference counting. `close` thaws what is frozen and puts the
    thresholds back."""

    def __init__(self) -> None:
        self.lines = 0  # since the last full collection
        self.thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_OBJECTS, *self.thresholds[1:])
        gc.freeze()

    def chunk_done(self, lines: int) -> None:
        self.lines += lines
        if self.lines >= FULL_COLLECTION:
            self.lines = 0
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def close(self) -> None:
        gc.unfreeze()
        gc.set_threshold(*self.thresholds)


# The auditor of a worker process, its collector, and the slots of shared memory it writes a chunk's
# output to.
_worker: tuple[Auditor, _Collector, Sequence[mmap.mmap]] | None = None


def keep_chunk_buffers() -> None:
    """Fix how the C allocator (glibc) treats the buffers of a chunk (its input and output, up to
    about a megabyte each). Left alone, glibc raises its threshold for mapping large buffers apart
    as they are freed, and the memory it keeps grows by some ten megabytes per process over a long
    run. Mapping each one apart instead costs page faults on every chunk (about a tenth of the
    CPU time with two jobs). So: buffers up to 1 MiB come from the heap and are reused, larger
    ones are mapped apart, and at most 4 MiB of free heap is kept. It changes the whole process,
    so the command and the worker processes call it, not `run`. Without glibc, nothing."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # no such function, or no C library to open
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    mallopt(m_mmap_threshold, 1 << 20)  # setting it also ends the raising
    mallopt(m_trim_threshold, 4 << 20)


def _as_worker() -> None:
    """Set up a worker process: the main process alone answers the signals that stop a run (at
    a line boundary); on Linux the worker ends with it however it ends (PR_SET_PDEATHSIG), even
    killed outright, rather than deciding on for nobody."""
    for signum in STOPPING:
        signal.signal(signum, signal.SIG_IGN)
    import multiprocessing

    parent = multiprocessing.parent_process()
    if not sys.platform.startswith("linux") or parent is None or parent.pid != os.getppid():
        return  # not forked by the main process itself (a fork server's child)
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent.pid:  # it ended before that took effect
        os._exit(1)


def _init_worker(laws: Sequence[Law], memo: bool, slots: Sequence[mmap.mmap]) -> None:
    _as_worker()
    keep_chunk_buffers()
    global _worker
    _worker = Auditor(laws, memo), _Collector(), slots


# A chunk as sent to a worker process: its first line number, its number of lines, the lines
# joined by newlines (a line too long as an empty one), and which lines were too long. One bytes
# object pickles, travels and is freed far more cheaply than thousands of small ones.
Packed = tuple[int, int, bytes, tuple[int, ...]]


def _unpack(packed: Packed) -> Chunk:
    start, count, joined, too_long = packed
    lines = cast(Lines, split_lines(joined)) if count else []  # a new list
    for i in too_long:
        lines[i] = None
    return start, lines


def _work(packed: Packed, slot: int | None) -> tuple[bytes | int, Summary]:
    """A chunk's output and what it adds to the summary. The output is put in shared memory
    when a slot is given and it fits there: then only its size travels back."""
    assert _worker is not None
    auditor, collector, slots = _worker
    data, summary = auditor.chunk(_unpack(packed))
    collector.chunk_done(packed[1])
    if slot is not None and len(data) <= SLOT_SIZE:
        slots[slot][:len(data)] = data
        return len(data), summary
    return data, summary


Progress = Callable[[int, int], None]  # (lines done, input bytes done)


def run(laws: Sequence[Law], stream: BinaryIO, fd: int, *, jobs: int = 1, memo: bool = True,
        progress: Progress | None = None, stop: Callable[[], bool] = lambda: False,
        keep: list[object] | None = None) -> tuple[Summary, bool]:
    """Audit every line of `stream`, writing to `fd`; returns the summary and whether the run
    was stopped early (by `stop`). With several jobs, a regular file is cut into shares that
    this process and workers decide in turn (`_run_shares`); other input (a pipe) is sent to
    workers in chunks (`_run_parallel`). With `keep`, this process's auditor goes there rather
    than being freed on return: a caller that ends the process next (`authority audit`) saves
    freeing its caches one object at a time (some 0.2 s)."""
    jobs = room_for_jobs(jobs)
    if jobs <= 1:
        auditor = Auditor(laws, memo, _RECORDS_ONE_JOB)
        if keep is not None:
            keep.append(auditor)
        _scale_caches(_CACHES_ONE_JOB)
        try:
            return _run_one(auditor, read_chunks(stream, block=READ_BLOCK), fd, progress, stop)
        finally:
            _scale_caches(1)
    context = _start_method()
    source = _input_file(stream) if context.get_start_method() == "fork" else None
    if source is not None:
        temporary = _temporary_files(fd, 2 * jobs + 1)
        if temporary is not None:
            return _run_shares(laws, source, jobs, temporary, fd, memo, progress, stop, keep)
    chunks = read_packed(stream, block=PACKED_BLOCK)
    return _run_parallel(laws, chunks, fd, jobs, memo, progress, stop, Summary())


def room_for_jobs(jobs: int) -> int:
    """Room for the open files of `jobs` workers (pipes, temporary files, shared memory: a few
    each): the limit on open files is raised as far as this user may, and the jobs are fewer if
    that is not enough. Without such limits (not Unix), `jobs`."""
    try:
        import resource
    except ImportError:
        return jobs
    need = FILES_RESERVED + FILES_PER_JOB * jobs
    with contextlib.suppress(OSError, ValueError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < need:
            raised = need if hard == resource.RLIM_INFINITY else min(need, hard)
            with contextlib.suppress(OSError, ValueError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            if soft != resource.RLIM_INFINITY and soft < need:
                return max(1, (soft - FILES_RESERVED) // FILES_PER_JOB)
    return jobs


def _run_one(auditor: Auditor, chunks: Iterator[tuple[Chunk, int]], fd: int,
             progress: Progress | None, stop: Callable[[], bool],
             head: _Head | None = None) -> tuple[Summary, bool]:
    """Decide chunks in this process, writing to `fd`; with `head`, a share's temporary file,
    until the share may go straight to the output (`_Head`)."""
    summary = Summary()
    collector = _Collector()
    # Decisions are counted over many chunks before they go into the summary: each kind of
    # decision is then added once per many chunks rather than once per chunk.
    counted: Counter[Tally] = Counter()
    # A job of several writes as it goes (`_Writer`); one job, from a thread.
    writer = _Writer(fd, 2 if head is None else 0)
    stopped = False
    try:
        for chunk, size in chunks:
            if stop():
                stopped = True
                break
            if head is not None and head.ready():
                writer.close()
                writer = head.take(fd)
            data, part = auditor.chunk(chunk, counted)
            collector.chunk_done(len(chunk[1]))
            _emit(writer.write, data, part, size, summary, progress)
            if len(counted) >= COUNTED:
                summary.add(counted)
                counted.clear()
    except BaseException:
        writer.close(check=False)
        raise
    finally:
        summary.add(counted)
        collector.close()
    writer.close()
    return summary, stopped


def _write_held(fd: int, data: bytes | memoryview) -> None:
    """`write_all`, with Ctrl-C (and the other STOPPING signals) held off until all of `data`
    is written: a second one, which stops a run at once (KeyboardInterrupt), is then raised
    after the write, so the output still ends at a chunk's end, as with a writer thread. Only
    the main thread takes signals; elsewhere, or where signals cannot be held, a plain
    `write_all`."""
    if not hasattr(signal, "pthread_sigmask") or \
            threading.current_thread() is not threading.main_thread():
        write_all(fd, data)
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        write_all(fd, data)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _Writer:
    """Writes the output of chunks to `fd`, in order, from a thread of its own while the next
    chunks are decided (one job): the system calls of writing, a few percent of a run, overlap
    deciding on a processor that would otherwise be idle. At most `ahead` outputs wait. An error
    in writing (a closed pipe, a full disk) stops the writing and is raised in the caller at its
    next `write` or at `close`, which returns once everything given before is written: output
    always ends at a chunk's end.

    With `ahead=0`, no thread: `write` writes before it returns. So do the jobs of a run with
    several (`_run_shares`): every processor is deciding already, and a thread per job only
    adds switches between threads (thousands a run, measured: docs/reviewers.md)."""

    def __init__(self, fd: int, ahead: int = 2) -> None:
        import queue

        self.fd = fd
        self.error: BaseException | None = None
        self.waiting: queue.Queue[bytes | memoryview | None] = queue.Queue(max(ahead, 1))
        self.thread = threading.Thread(target=self._run, name="authority-audit-writer")
        self.threaded = ahead > 0
        if self.threaded:
            self.thread.start()

    def _run(self) -> None:
        while (data := self.waiting.get()) is not None:
            if self.error is None:
                try:
                    write_all(self.fd, data)
                except BaseException as exc:  # raised in the caller
                    self.error = exc

    def write(self, data: bytes | memoryview) -> None:
        if self.error is not None:
            raise self.error
        if self.threaded:
            self.waiting.put(data)
            return
        try:
            _write_held(self.fd, data)
        except BaseException as exc:  # raised again at `close`, as from the thread
            self.error = exc
            raise

    def close(self, check: bool = True) -> None:
        """Wait until everything given is written; then raise the writing's error, if any and
        `check`."""
        if self.thread.is_alive():
            self.waiting.put(None)
            self.thread.join()
        if check and self.error is not None:
            raise self.error


def _scale_caches(scale: int) -> None:
    scale_engine_caches(scale)
    scale_record_caches(scale)


def _emit(write: Callable[[bytes | memoryview], None], data: bytes | memoryview, part: Summary,
          size: int, summary: Summary, progress: Progress | None) -> None:
    """Write a chunk's output and count it."""
    write(data)
    summary.merge(part)
    if progress is not None:
        progress(part.lines, size)


def _start_method() -> Any:
    """How worker processes start. On Linux, while the process has a single thread, by `fork`:
    a worker starts as a copy of this process, sharing its pages until it writes them, with no
    helper processes (a fork server, a resource tracker) besides. Otherwise (other systems, or a
    thread already running, such as a progress bar's) from a fork server, or spawned."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run_parallel(laws: Sequence[Law], chunks: Iterator[tuple[Packed, int]], fd: int, jobs: int,
                  memo: bool, progress: Progress | None, stop: Callable[[], bool],
                  summary: Summary) -> tuple[Summary, bool]:
    """N processes decide chunks. A reader thread submits them, a few in flight; this thread
    writes each result in input order as soon as it is ready. Forked workers put a chunk's output
    in a slot of shared memory that this thread writes from, rather than sending it back."""
    import queue
    from concurrent.futures import Future, ProcessPoolExecutor

    context = _start_method()
    forked = context.get_start_method() == "fork"
    write = functools.partial(write_all, fd)
    # Chunks in flight: one being written, one being decided by each process and one ready for
    # the next process that is free; more would only hold input and output in memory. Each has
    # a slot while in flight (pages are only taken as they are written).
    slots = [mmap.mmap(-1, SLOT_SIZE) for _ in range(jobs + 2)] if forked else []
    free: queue.Queue[int | None] = queue.Queue()
    for index in range(len(slots)):
        free.put(index)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                               initargs=(tuple(laws), memo, slots))
    if forked:
        try:
            pool.submit(int)  # forks every worker now, while this is the only thread
        except BaseException:  # e.g. no file descriptors left for one more
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    Item = tuple[Future[tuple[bytes | int, Summary]], int, int | None] | BaseException | None
    pending: queue.Queue[Item] = queue.Queue(maxsize=jobs + 1)
    quit_reading = threading.Event()

    def reader() -> None:
        try:
            for packed, size in chunks:
                slot = free.get() if slots else None
                if quit_reading.is_set():
                    return
                pending.put((pool.submit(_work, packed, slot), size, slot))
            pending.put(None)
        except BaseException as exc:  # reported by the writing thread
            pending.put(exc)

    thread = threading.Thread(target=reader, name="audit-reader", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = pending.get(timeout=0.1)
            except queue.Empty:
                if stop():
                    return summary, True
                continue
            if item is None:
                return summary, False
            if isinstance(item, BaseException):
                raise item
            if stop():
                return summary, True
            future, size, slot = item
            data, part = future.result()
            if type(data) is int:
                assert slot is not None
                with memoryview(slots[slot]) as view:
                    _emit(write, view[:data], part, size, summary, progress)
            else:
                _emit(write, cast(bytes, data), part, size, summary, progress)
            if slot is not None:
                free.put(slot)
    finally:
        quit_reading.set()
        free.put(None)  # unblock the reader if it waits for a slot...
        while True:  # ...or for room
            try:
                pending.get_nowait()
            except queue.Empty:
                break
        pool.shutdown(wait=True, cancel_futures=True)
        for shared in slots:
            # A view of it may outlive the run in a traceback (a closed pipe): then it is unmapped
            # with its last view.
            with contextlib.suppress(BufferError):
                shared.close()


# ---- several jobs on a file: shares of it --------------------------------------------------


def _input_file(stream: BinaryIO) -> tuple[int, int, int] | None:
    """(descriptor, where reading starts, size) of an input that is a regular file; None for
    anything else (a pipe, a terminal, an object in memory)."""
    import stat

    try:
        fd = stream.fileno()
        info = os.fstat(fd)
        # A file that gives its size as 0 may still hold lines (those of /proc, /sys): it is read to
        # its end, as a pipe is.
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            return None
        start = stream.tell()  # nothing is read through its buffer yet: the file's offset
    except (AttributeError, OSError, ValueError):  # not a file (io.UnsupportedOperation too)
        return None
    return fd, start, max(info.st_size, start)


def _next_line(fd: int, offset: int, size: int) -> int:
    """Where the first line that starts at or after `offset` starts (`size` if none does)."""
    position = offset - 1  # a line starts at `offset` when the byte before it ends a line
    while position < size:
        data = os.pread(fd, 1 << 16, position)
        if not data:
            break
        found = data.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(data)
    return size


def _count_lines(fd: int, start: int, end: int) -> int:
    """The line ends in a part of a file, read in blocks small enough to come from the C heap
    (`keep_chunk_buffers`): larger ones would each be mapped apart, at the cost of page faults."""
    count, position = 0, start
    while position < end:
        data = os.pread(fd, min(1 << 19, end - position), position)
        if not data:
            break
        count += count_lines(data)
        position += len(data)
    return count


class _Range:
    """A part of a file as a stream (`_reads` reads it), read at explicit offsets: forked
    processes share the file's offset."""

    def __init__(self, fd: int, start: int, end: int | None) -> None:
        self.fd, self.position, self.end = fd, start, end

    def read(self, size: int = -1) -> bytes:
        if self.end is not None:
            size = min(size, self.end - self.position)
            if size <= 0:
                return b""
        data = os.pread(self.fd, size, self.position)
        self.position += len(data)
        return data


class _Head:
    """Whether a share, decided into its temporary file, may go straight to the output: once every
    share before it is written whole (`_Shares.write` sets `written` to its number), what it has
    so far is copied there and the rest is written there as it is decided, by whichever process
    decides it. That spares the writing and the copying of the temporary file for the rest of the
    share. The output then takes no other writes until the share's result comes back."""

    def __init__(self, written: Any, number: int, output: int) -> None:
        self.written, self.number, self.output = written, number, output
        self.direct = False

    def ready(self) -> bool:
        return not self.direct and self.written.value == self.number

    def take(self, temporary: int) -> _Writer:
        """Copy what the temporary file holds to the output; the writer for the rest."""
        _copy(temporary, self.output)
        self.direct = True
        return _Writer(self.output, 0)


def _temporary_files(fd: int, count: int) -> list[BinaryIO] | None:
    """Unnamed temporary files for the output of shares: next to the output when it is a file
    (on the same disk), else in the temporary directory. None if none can be made there."""
    import stat
    import tempfile

    places: list[str | None] = [None]
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            path = os.readlink(f"/proc/self/fd/{fd}")
            if os.path.isabs(path) and os.path.isdir(os.path.dirname(path)):
                places.insert(0, os.path.dirname(path))
    for place in places:
        files: list[BinaryIO] = []
        try:
            for _ in range(count):
                files.append(tempfile.TemporaryFile(dir=place))  # noqa: SIM115
        except OSError:
            for made in files:
                made.close()
            continue
        return files
    return None


# A share of the input as given to a worker: its number, where it starts and ends in the file
# (None: at the end of the file), the number of its first line and the temporary file it is
# written to.
Share = tuple[int, int, int | None, int, int]


def _share_worker(connection: Any, laws: Sequence[Law], memo: bool, source: int,
                  temporary: Sequence[int], index: int, counts: Any, quit_flag: Any,
                  output: int, written: Any) -> None:
    """A worker process: decides the shares it is given in turn, each as a single job would
    (one auditor, its caches kept from share to share), into the temporary file named or
    straight to the output (`_Head`), and sends back each one's summary, whether it stopped
    early and whether it went to the output, or the exception that ended it."""
    _as_worker()
    keep_chunk_buffers()
    auditor = Auditor(laws, memo, _RECORDS_SHARE)
    _scale_caches(_CACHES_SHARE)

    def progress(lines: int, size: int) -> None:
        counts[2 * index] += lines
        counts[2 * index + 1] += size

    def stop() -> bool:
        return bool(quit_flag.value)

    while (share := connection.recv()) is not None:
        number = cast(Share, share)[0]
        result: object
        try:
            result = _decide_share(auditor, source, share, temporary, progress, stop,
                                   _Head(written, number, output))
        except BaseException as exc:  # sent to the parent, which raises it
            result = exc
        try:
            connection.send((number, result))
        except Exception:  # an exception that does not pickle
            connection.send((number, RuntimeError(f"{type(result).__name__}: {result}")))
        if isinstance(result, BaseException):
            break
    connection.close()
    # Not freed: the process ends next (without tearing down the interpreter), and freeing the
    # caches one object at a time would keep the main process waiting for it (some 50 ms).
    _KEPT.append(auditor)


# What a worker of `_run_shares` keeps until it ends (its auditor).
_KEPT: list[object] = []


def _decide_share(auditor: Auditor, source: int, share: Share, temporary: Sequence[int],
                  progress: Progress, stop: Callable[[], bool],
                  head: _Head) -> tuple[Summary, bool, bool]:
    """Decide a share into its temporary file, as a single job would, or from the moment it
    may, straight to the output: its summary, whether it stopped early, and whether it went to
    the output."""
    _, start, end, first, slot = share
    out = temporary[slot]
    os.ftruncate(out, 0)
    os.lseek(out, 0, os.SEEK_SET)
    chunks = read_chunks(cast(BinaryIO, _Range(source, start, end)), block=READ_BLOCK, first=first)
    summary, stopped = _run_one(auditor, chunks, out, progress, stop, head)
    return summary, stopped, head.direct


class _Shares:
    """Several jobs on a file (`_run_shares`): which shares are given to whom, which are done,
    and how far the output is written. Job 0 is this process; jobs 1 and up are workers."""

    def __init__(self, source: tuple[int, int, int], jobs: int, slots: list[int], fd: int,
                 context: Any, progress: Progress | None, stop: Callable[[], bool]) -> None:
        from multiprocessing.connection import Connection

        self.input_fd, self.position, self.size = source
        self.jobs, self.slots, self.fd = jobs, slots, fd
        self.progress, self.stop = progress, stop
        self.counts = context.RawArray("q", 2 * jobs)  # per job: lines done, input bytes done
        self.quit_flag = context.RawValue("b", 0)
        # The number of the share that may go straight to the output (`_Head`): the next to
        # write, while nothing has stopped early; -1 after.
        self.head = context.RawValue("q", 0)
        self.free = list(range(len(slots)))
        self.workers: list[Any] = [None]  # the processes, by job
        self.connections: list[Connection | None] = [None]
        # The shares each job has, each with its temporary file.
        self.given: list[dict[int, int]] = [{} for _ in range(jobs)]
        self.done: dict[int, tuple[int, object]] = {}  # share: (slot, result), until written
        self.own: list[Share] = []  # the share given to this process, until it decides it
        self.summary = Summary()
        self.number, self.first, self.at_end = 0, 1, self.position >= self.size  # the next share
        self.written = 0
        self.ended = False  # a share that stopped early is written: nothing more is
        self.reported = (0, 0)

    def give(self, own: bool) -> None:
        """Give shares while a temporary file is free: to the job with the fewest, up to two
        each, a worker before this process, which takes one at a time and only when `own`."""
        jobs, given = self.jobs, self.given
        while not self.at_end and self.free and not self.quit_flag.value:
            room = [i for i in range(1, jobs) if len(given[i]) < 2]
            if own and not given[0]:
                room.append(0)
            if not room:
                return
            index = min(room, key=lambda i: len(given[i]))
            position, size = self.position, self.size
            step = (size - position) // (jobs * SHARE_PART)
            end = _next_line(self.input_fd, position + min(SHARE_MAX, max(SHARE_MIN, step)), size)
            self.at_end = end >= size  # the last share reads to the end of the file, as one job
            slot = self.free.pop()
            share: Share = (self.number, position, None if self.at_end else end, self.first, slot)
            if index:
                cast(Any, self.connections[index]).send(share)
            else:
                self.own.append(share)
            given[index][self.number] = slot
            if not self.at_end:
                self.first += _count_lines(self.input_fd, position, end)
                self.position = end
            self.number += 1

    def finished(self) -> bool:
        return self.written == self.number and bool(self.at_end or self.quit_flag.value)

    def collect(self, timeout: float) -> None:
        """Take the results the workers have sent, waiting up to `timeout` for one."""
        from multiprocessing.connection import Connection, wait

        waiting = [c for c, shares in zip(self.connections, self.given, strict=True)
                   if shares and c is not None]
        for ready in wait(waiting, timeout=timeout) if waiting else ():
            connection = cast(Connection, ready)
            index = self.connections.index(connection)
            try:
                share, result = connection.recv()
            except (EOFError, OSError):
                self.workers[index].join()
                raise RuntimeError(
                    f"worker process {index} ended without a result (exit status "
                    f"{self.workers[index].exitcode})") from None
            if isinstance(result, BaseException):
                raise result
            self.finish(index, share, result)

    def finish(self, index: int, share: int, result: object) -> None:
        self.done[share] = self.given[index].pop(share), result

    def write(self) -> bool:
        """Write the shares that are done, in order, as far as they go; True if one of them
        stopped early (the run then ends with it)."""
        self.report()
        if self.stop():
            self.quit_flag.value = 1
        while not self.ended and self.written in self.done:
            slot, result = self.done.pop(self.written)
            part, stopped, direct = cast(tuple[Summary, bool, bool], result)
            if not direct:
                _copy(self.slots[slot], self.fd)
            self.free.append(slot)
            self.summary.merge(part)
            self.written += 1
            if stopped:
                self.quit_flag.value = 1
                self.ended = True
                self.head.value = -1
            else:
                self.head.value = self.written
        return self.ended

    def report(self) -> None:
        if self.progress is not None:
            counts = self.counts
            now = sum(counts[0::2]), sum(counts[1::2])
            if now != self.reported:
                self.progress(now[0] - self.reported[0], now[1] - self.reported[1])
                self.reported = now


def _run_shares(laws: Sequence[Law], source: tuple[int, int, int], jobs: int,
                temporary: list[BinaryIO], fd: int, memo: bool, progress: Progress | None,
                stop: Callable[[], bool], keep: list[object] | None = None,
                ) -> tuple[Summary, bool]:
    """Several jobs on a file: it is cut into shares of whole lines (SHARE_PART), found and
    numbered as they are handed out. This process and `jobs - 1` forked workers each decide a
    share at a time, as a single job would, into one of the temporary files; this process writes
    each share's output to `fd` in input order, as soon as the shares before it are written, and
    between the chunks of its own shares gives the workers theirs. The next share to write goes
    straight to `fd` instead, from whichever process decides it (`_Head`): with two jobs, about
    half the output (the worker's shares, which come next in order while this process decides a
    later one) is not written to a temporary file and copied. A worker has up to two shares
    given at a time, so that it never waits for the next one; the temporary files bound how many
    shares are given or wait to be written. Stopped early, the output ends with the last share
    written whole, or the part of the next one its job decided (whole chunks)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    slots = [made.fileno() for made in temporary]
    state = _Shares(source, jobs, slots, fd, context, progress, stop)
    counts, quit_flag = state.counts, state.quit_flag
    _scale_caches(_CACHES_SHARE)
    try:
        for index in range(1, jobs):
            ours, theirs = context.Pipe()
            worker = context.Process(
                target=_share_worker, name=f"authority-audit-{index}", daemon=True,
                args=(theirs, laws, memo, state.input_fd, slots, index, counts, quit_flag, fd,
                      state.head))
            worker.start()
            theirs.close()
            state.workers.append(worker)
            state.connections.append(ours)
        auditor = Auditor(laws, memo, _RECORDS_SHARE)
        if keep is not None:
            keep.append(auditor)

        def own_progress(lines: int, size: int) -> None:
            counts[0] += lines
            counts[1] += size
            # Between two chunks of its own share, this process tends to the workers.
            state.collect(0)
            state.give(own=False)
            state.write()

        def own_stop() -> bool:
            return bool(quit_flag.value)

        while True:
            if state.write():
                return state.summary, True
            state.give(own=True)
            if state.finished():
                return state.summary, bool(quit_flag.value) and not state.at_end
            if state.own:
                share = state.own.pop()
                state.finish(0, share[0], _decide_share(auditor, state.input_fd, share, slots,
                                                        own_progress, own_stop,
                                                        _Head(state.head, share[0], fd)))
            else:
                state.collect(0.1)
    finally:
        quit_flag.value = 1
        _scale_caches(1)
        for connection in state.connections[1:]:
            with contextlib.suppress(OSError):
                cast(Any, connection).send(None)
        for worker in state.workers[1:]:
            worker.join()
        for connection in state.connections[1:]:
            cast(Any, connection).close()
        for made in temporary:
            # Emptied first: ext4 writes out on closing what a file truncated and written again
            # holds (`auto_da_alloc`), here up to a share's output per file, for nothing.
            with contextlib.suppress(OSError):
                os.ftruncate(made.fileno(), 0)
            made.close()


def _copy(source: int, fd: int) -> None:
    """Write the whole of file `source` to `fd`: in the kernel where it can (`sendfile`), else
    a block at a time."""
    size, offset = os.fstat(source).st_size, 0
    while offset < size:
        try:
            sent = os.sendfile(fd, source, offset, size - offset)
        except OSError as exc:
            import errno

            if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            break  # e.g. an output opened to append: written below
        if sent == 0:
            break
        offset += sent
    while offset < size:
        data = os.pread(source, min(1 << 20, size - offset), offset)
        if not data:
            break
        write_all(fd, data)
        offset += len(data)


def load_versions(specs: Sequence[str]) -> tuple[list[Law], list[Diagnostic]]:
    """Load each spec; returns the laws and the error diagnostics of those that failed."""
    from .checker import load_law

    laws: list[Law] = []
    errors: list[Diagnostic] = []
    for spec in specs:
        law, diags = load_law(spec)
        if law is None:
            errors.extend(d for d in diags if d.is_error)
        else:
            laws.append(law)
    return laws, errors
