"""The students' REPL: the Session's commands, completion, and both front ends.

The session is driven directly, through the piped line loop, through prompt_toolkit's pipe input
(with real key presses: Tab, Ctrl-C, Ctrl-D, bracketed paste) and through the `authority` command.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from authority_dsl.repl import COMMANDS, Output, Session, run_lines
from authority_dsl.repl.app import history_file, run_interactive, run_piped, toolbar
from authority_dsl.repl.completer import ReplCompleter
from authority_dsl.repl.completion import candidates
from authority_dsl.repl.session import CONTINUATION, PROMPT

FIXTURES = Path(__file__).parent / "fixtures" / "repl"
SMALL = str(FIXTURES / "small.auth")
MEANS = str(FIXTURES / "means.auth")
BROKEN = str(FIXTURES / "broken.auth")
TODAY = dt.date(2031, 5, 17)

# An operation that the small law permits, built command by command.
PERMITTED = [
    "set threat terrorism",
    "set technique phone_tap",
    "set duration 2 months",
    "add approval minister_approval, review_board",
    "add assessment necessity",
]


@pytest.fixture
def session() -> Session:
    s = Session(today=TODAY)
    assert not s.load(SMALL).error
    return s


def run(session: Session, *lines: str) -> str:
    return "".join(out.text(100) for out in run_lines(session, lines))


def one(session: Session, line: str) -> tuple[str, bool]:
    out = session.execute(line)
    return out.text(100), out.error


def flat(text: str) -> str:
    return " ".join(text.split())


# ---- loading ------------------------------------------------------------------------------------


def test_load_reports_the_law_and_default_date(session: Session) -> None:
    text, error = one(session, f"load {SMALL}")
    assert not error
    assert "loaded Small threat law (1)" in text
    assert "operation date 2030-01-01 (the default)" in text
    assert session.operation.date == dt.date(2030, 1, 1)


def test_without_a_law_the_date_is_today_and_deciding_asks_for_one() -> None:
    s = Session(today=TODAY)
    assert s.operation.date == TODAY
    text, error = one(s, "decide")
    assert error and "no law loaded" in text and "load SPEC" in text
    # names are not checked without a law; they are once it is loaded
    assert not one(s, "set threat anything")[1]


def test_a_bad_spec_is_reported_and_the_old_law_kept(session: Session) -> None:
    text, error = one(session, f"load {BROKEN}")
    assert error
    # flat: the message follows the fixture's absolute path, which may wrap it
    assert "error[unknown-name]: unknown threat `nowhere`" in flat(text)
    assert "was not loaded; still using" in flat(text)
    assert session.law is not None and session.law.title == "Small threat law"
    text, error = one(session, "load no/such/file.auth")
    assert error and "not found" in text
    text, error = one(session, "load")
    assert error and "`load` needs one file name" in text
    text, error = one(session, 'load "unclosed')
    assert error and "cannot read the file name" in text
    # the REPL goes on
    assert "threat: terrorism" in run(session, "set threat terrorism")


def test_reload_reads_the_spec_again(session: Session, tmp_path: Path) -> None:
    spec = tmp_path / "law.auth"
    spec.write_text((FIXTURES / "means.auth").read_text().replace('import "register.auth"', ""))
    assert not one(session, f"load {spec}")[1]
    assert session.law is not None and session.law.title == "Small means law"
    spec.write_text(spec.read_text().replace("Small means law", "Edited law"))
    text, error = one(session, "reload")
    assert not error and "Edited law" in text
    assert one(session, "reload now")[1]
    assert "no law loaded yet" in one(Session(), "reload")[0]


def test_loading_another_law_moves_a_default_date_but_not_a_set_one(session: Session) -> None:
    run(session, f"load {MEANS}")
    assert session.operation.date == dt.date(2020, 1, 1)
    run(session, "set date 2031-02-03", f"load {SMALL}")
    assert session.operation.date == dt.date(2031, 2, 3)
    text = run(session, "unset date")
    assert "date: 2030-01-01 (the default)" in text


def test_open_reads_an_operation_file(session: Session) -> None:
    text, error = one(session, f"open {FIXTURES / 'op.json'}")
    assert not error and "operation `op-json`" in text
    assert session.operation.id == "op-json" and session.operation.date == dt.date(2030, 2, 1)
    assert "PERMITTED" in run(session, "decide")
    text, error = one(session, "open nothing.json")
    assert error and "not found" in text
    assert one(session, "open -")[1]


# ---- building an operation ----------------------------------------------------------------------


def test_set_every_field(session: Session) -> None:
    text = run(session, "set threat terrorism", "set technique spyware", "set date 2030-03-04",
               "set duration 3 months", "set retention 18 months", "set urgent",
               'set service "AIVD"', "set id op-7")
    assert "technique: spyware (exercises enter_device, intercept_content)" in text
    op = session.operation
    assert (op.threat, op.technique, op.date, str(op.duration), str(op.retention), op.urgent,
            op.service, op.id) == ("terrorism", "spyware", dt.date(2030, 3, 4), "3 months",
                                   "18 months", True, "AIVD", "op-7")
    run(session, "set urgent false")
    assert not session.operation.urgent
    run(session, "set urgent yes")
    assert session.operation.urgent


@pytest.mark.parametrize(("line", "message", "hint"), [
    ("set threat terorism", "unknown threat `terorism`", "did you mean `terrorism`?"),
    ("set technique phone_tapp", "unknown technique `phone_tapp`", "did you mean `phone_tap`?"),
    ("set technique enter_device", "`enter_device` is a capability, not a technique",
     "add capability enter_device"),
    ("set threat spyware", "`spyware` is a technique, not a threat", None),
    ("add capability spyware", "`spyware` is a technique, not a capability",
     "set technique spyware"),
    ("add approval necessity", "`necessity` is an assessment, not a safeguard",
     "add assessment necessity"),
    ("add assessment review_board", "`review_board` is a safeguard, not an assessment",
     "add approval review_board"),
    ("add subject target journalst", "unknown protected category `journalst`",
     "did you mean `journalist`?"),
    ("add share foreign_servce", "unknown recipient `foreign_servce`",
     "did you mean `foreign_service`?"),
    ("add capability zzz", "unknown capability `zzz`", "`list capabilities` shows them all"),
    ("set colour red", "unknown field `colour`", None),
    ("set date 2030-02-30", "`2030-02-30` is not a valid calendar date", None),
    ("set date tomorrow", "`tomorrow` is not a date", None),
    ("set duration 3 fortnights", "unknown unit `fortnights`", None),
    ("set duration", "`set duration` needs a value", None),
    ("set urgent maybe", "`set urgent` takes `true` or `false`", None),
    ("set threat a b", "expected one threat, got 2 words", None),
    ("set", "`set` needs a field and a value", None),
    ("add", "`add` needs what to add", None),
    ("add lawyer x", "unknown kind of item `lawyer`", None),
    ("add approval minister_approval on", "`on` after `minister_approval` needs a date", None),
    ("add share foreign_service data raw", "unknown kind of data `raw`", None),
    ("add share foreign_service quickly", "unexpected `quickly` in `add share`", None),
    ("unset", "`unset` needs a field or an item", None),
    ("unset capability enter_device", "the operation has no capability `enter_device`", None),
    ("unset threat", "the operation has no threat", None),
    ("unset threat now", "`unset threat` takes no value", None),
    ("unset capabilities all", "`unset capabilities` clears the whole list", None),
    ("unset approval", "`unset approval` needs a name", None),
])
def test_bad_edits_say_why_and_change_nothing(session: Session, line: str, message: str,
                                              hint: str | None) -> None:
    before = session.operation
    text, error = one(session, line)
    assert error, text
    assert text.startswith("error: ")
    assert message in flat(text)
    if hint:
        assert f"= help: {hint}" in flat(text) or hint in flat(text)
    assert session.operation == before
    assert not session.undo_stack


def test_add_items(session: Session) -> None:
    text = run(session, "add capability watch_in_public, enter_device",
               "add subject target journalist", "add subject journalist", "add subject contact",
               "add approval minister_approval on 2029-12-30, review_board",
               "add assessment necessity",
               "add share foreign_service country BE data unevaluated with weighing_note",
               "add share foreign_service evaluated")
    op = session.operation
    assert op.capabilities == ("watch_in_public", "enter_device")
    assert [(s.role, s.protected) for s in op.subjects] == [
        ("target", ("journalist",)), ("target", ("journalist",)), ("contact", ())]
    assert [(a.safeguard, a.date) for a in op.approvals] == [
        ("minister_approval", dt.date(2029, 12, 30)), ("review_board", None)]
    assert op.assessments == ("necessity",)
    assert [(s.recipient, s.country, s.data, s.with_) for s in op.sharing] == [
        ("foreign_service", "BE", "unevaluated", ("weighing_note",)),
        ("foreign_service", None, "evaluated", ())]
    assert "share: foreign_service country BE data unevaluated with weighing_note" in text
    # a later approval of the same safeguard replaces the earlier one
    run(session, "add approval minister_approval on 2029-12-31")
    assert [(a.safeguard, a.date) for a in session.operation.approvals] == [
        ("review_board", None), ("minister_approval", dt.date(2029, 12, 31))]
    text, error = one(session, "add capability enter_device")
    assert error and "already has capability `enter_device`" in text


def test_unset_fields_items_and_lists(session: Session) -> None:
    run(session, *PERMITTED, "add capability watch_in_public", "add subject target journalist",
        "add subject contact", "add share foreign_service with weighing_note", "set urgent",
        "set service AIVD", "set retention 1 year", "set id x")
    run(session, "unset protected journalist")
    assert [s.protected for s in session.operation.subjects] == [(), ()]
    run(session, "unset subject contact", "unset approval review_board",
        "unset assessment necessity", "unset capability watch_in_public",
        "unset share foreign_service", "unset urgent", "unset service", "unset retention",
        "unset duration", "unset technique", "unset threat", "unset id")
    op = session.operation
    assert op.subjects and op.subjects[0].role == "target"
    assert [a.safeguard for a in op.approvals] == ["minister_approval"]
    assert (op.assessments, op.capabilities, op.sharing, op.urgent, op.service, op.retention,
            op.duration, op.technique, op.threat, op.id) == (
        (), (), (), False, None, None, None, None, None, "repl")
    run(session, "unset subjects", "unset approvals", "unset assessments", "unset sharing",
        "unset capabilities")
    assert not session.operation.subjects and not session.operation.approvals
    text, error = one(session, "unset approval review_board")
    assert error and "it has no approvals" in text


def test_an_edit_that_changes_nothing_is_not_an_undo_step(session: Session) -> None:
    run(session, "set threat terrorism")
    steps = len(session.undo_stack)
    text = run(session, "set threat terrorism")
    assert "(no change)" in text and len(session.undo_stack) == steps


def test_new_starts_an_empty_operation(session: Session) -> None:
    run(session, *PERMITTED)
    text = run(session, "new op-9")
    assert "new operation `op-9` on 2030-01-01" in text
    assert session.operation.threat is None and session.operation.id == "op-9"
    run(session, "undo")
    assert session.operation.threat == "terrorism"


# ---- pasting an operation block -----------------------------------------------------------------

BLOCK = """operation pasted {
    threat: terrorism  # a comment with a } brace
    technique: phone_tap
    duration: 1 month
    approvals: minister_approval, review_board
    assessments: necessity
    subject target {
        protected: journalist
    }
}"""


def test_paste_an_operation_block_line_by_line(session: Session) -> None:
    lines = BLOCK.splitlines()
    for line in lines[:-1]:
        out = session.execute(line)
        assert not out.parts and not out.error
        assert session.prompt == CONTINUATION
    text, error = one(session, lines[-1])
    assert not error and "operation `pasted` on 2030-01-01" in text
    assert session.prompt == PROMPT
    op = session.operation
    assert op.id == "pasted" and op.subjects[0].protected == ("journalist",)
    assert session.history[-1] == BLOCK
    assert "court_approval" in run(session, "decide")


def test_paste_in_one_piece_and_on_one_line(session: Session) -> None:
    _, error = one(session, BLOCK)
    assert not error and session.operation.id == "pasted"
    _, error = one(session, 'operation "one line" { threat: terrorism date: 2030-06-01 }')
    assert not error and session.operation.id == "one line"
    assert session.operation.date == dt.date(2030, 6, 1) and session.state.date_set


def test_a_bad_block_is_reported_and_the_operation_kept(session: Session) -> None:
    run(session, "set threat terrorism")
    before = session.operation
    text, error = one(session, "operation x {\n    threat terrorism\n}")
    assert error and "<operation>:2:" in text and "error[syntax-error]" in text
    assert "the operation was not changed" in text
    text, error = one(session, "operation x { colour: red }")
    assert error and "unknown field `colour`" in text
    assert session.operation == before
    text, error = one(session, "operation x {} operation y {}")
    assert error and "exactly one" in text


def test_a_block_with_unknown_names_is_used_with_a_warning(session: Session) -> None:
    text, error = one(session, "operation x { threat: terorism technique: phone_tap }")
    assert not error and "warning: unknown threat `terorism`; did you mean `terrorism`?" in text
    assert "DENIED" in run(session, "decide")


def test_ctrl_c_drops_a_half_pasted_block(session: Session) -> None:
    session.execute("operation x {")
    assert session.pending
    session.cancel()
    assert session.prompt == PROMPT and session.operation.id == "repl"


# ---- deciding and explaining --------------------------------------------------------------------


def test_decide_shows_the_verdict_and_what_is_missing(session: Session) -> None:
    run(session, "set threat terrorism", "set technique spyware", "set duration 1 month")
    text = flat(run(session, "decide"))
    assert text.startswith("REQUIRES operation repl on 2030-01-01 under Small threat law (1)")
    assert "✓ enter_device by power intrusive (arts. 3-4)" in text
    assert "• minister_approval safeguard by the minister, imposed by intrusive" in text
    run(session, "add approval minister_approval, review_board", "add assessment necessity")
    assert run(session, "decide").startswith("PERMITTED")


def test_decide_denied_with_violations(session: Session) -> None:
    run(session, "set threat petty_crime", "add capability watch_in_public")
    text = flat(run(session, "decide"))
    assert text.startswith("DENIED")
    assert "[no-legal-basis] no power in force grants `watch_in_public`" in text
    assert "[prohibited] prohibition `nothing_for_petty_crime` applies" in text
    assert "→ power `watching` grants `watch_in_public` for `security`" in text


def test_why_gives_the_reasoning_and_the_provisions_cited(session: Session) -> None:
    run(session, *PERMITTED, "add subject target journalist")
    text = flat(run(session, "why"))
    assert text.startswith("REQUIRES")
    assert "reasoning: 1. law `Small threat law` version 1" in text
    assert "verdict: requires" in text
    for provision in ("threat terrorism (art. 1(a)): Preparing terrorist crimes",
                      "threat security (art. 1)", "capability intercept_content (art. 3)",
                      "power intrusive (arts. 3-4)", "safeguard court_approval (art. 9)"):
        assert provision in text
    assert "when protected contains journalist" in text
    run(session, "set threat petty_crime")
    assert "prohibition nothing_for_petty_crime (art. 1(z))" in flat(run(session, "why"))


def test_whatif_shows_before_and_after_without_changing_the_operation(session: Session) -> None:
    run(session, *PERMITTED)
    before, undo = session.operation, len(session.undo_stack)
    text = flat(run(session, "whatif add subject target journalist"))
    assert "what if `add subject target journalist`?" in text
    assert "PERMITTED" in text and "REQUIRES" in text
    assert "verdict permitted → requires" in text
    assert "now also missing: court_approval (when protected contains journalist)" in text
    assert session.operation == before and len(session.undo_stack) == undo
    text = flat(run(session, "whatif unset approval review_board"))
    assert "no longer" not in text and "now also missing: review_board" in text
    text = flat(run(session, "whatif set threat petty_crime"))
    assert "verdict permitted → denied" in text and "new violation:" in text
    for line, message in (("whatif", "`whatif` needs a change"),
                          ("whatif decide", "`decide` does not change the operation"),
                          ("whatif set threat terorism", "did you mean `terrorism`?")):
        text, error = one(session, line)
        assert error and message in text
    assert "no law loaded" in one(Session(), "whatif set threat x")[0]


def test_compare_decides_under_a_second_law(session: Session) -> None:
    run(session, *PERMITTED, "add subject target journalist")
    text = flat(run(session, f"compare {MEANS}"))
    assert "operation repl on 2030-01-01 under two laws" in text
    assert "Small threat law (1)" in text and "Small means law (1)" in text
    assert "verdict requires → permitted" in text
    assert "no longer missing: court_approval" in text
    assert "now authorised by tapping instead of intrusive" in text
    run(session, "set date 2030-01-01", f"load {MEANS}", "set date 2021-01-01")
    assert "hint: `" in run(session, f"compare {SMALL}")
    assert "set date` to a day both laws are in force" in flat(run(session, f"compare {SMALL}"))
    run(session, f"load {SMALL}", "set date 2030-01-01")
    text, error = one(session, f"compare {BROKEN}")
    assert error and "unknown threat `nowhere`" in flat(text)
    assert one(session, "compare")[1]
    # the session's own law is unchanged
    assert session.law is not None and session.law.title == "Small threat law"


def test_sharing_decisions(session: Session) -> None:
    run(session, "add share foreign_service country KP data evaluated with weighing_note")
    assert "sharing-forbidden" in run(session, "decide")
    run(session, "unset sharing", "add share foreign_service country BE with weighing_note")
    text = flat(run(session, "decide"))
    assert "REQUIRES" in text and "minister_approval" in text and "partner_sharing" in text


# ---- undo, redo, history ------------------------------------------------------------------------


def test_undo_and_redo(session: Session) -> None:
    run(session, "set threat terrorism", "set technique spyware")
    text = run(session, "undo")
    assert "1 more change to undo" in text and session.operation.technique is None
    run(session, "undo")
    assert session.operation.threat is None
    text, error = one(session, "undo")
    assert error and "nothing to undo" in text
    run(session, "redo", "redo")
    assert session.operation.technique == "spyware"
    assert one(session, "redo")[1]
    run(session, "undo", "set threat security")
    assert one(session, "redo")[1]  # a new change clears the redo stack


def test_undo_keeps_a_default_date_in_step_with_the_law(session: Session) -> None:
    run(session, "set threat terrorism", f"load {MEANS}", "undo")
    assert session.operation.date == dt.date(2020, 1, 1)


def test_history_lists_the_commands(session: Session) -> None:
    run(session, "set threat terrorism", "   ", "# a comment", "decide", "bogus")
    text = run(session, "history")
    assert text.splitlines() == ["1  set threat terrorism", "2  decide", "3  bogus", "4  history"]
    run(session, "operation x {", "threat: terrorism", "}")
    assert "5  operation x { … (2 more lines)" in run(session, "history")


# ---- the law ------------------------------------------------------------------------------------


def test_show_the_operation(session: Session) -> None:
    run(session, *PERMITTED, "add subject target journalist")
    text = run(session, "show")
    assert text.startswith("operation repl {\n    date: 2030-01-01\n    threat: terrorism\n")
    assert "subject target {\n        protected: journalist\n    }" in text
    assert "is the default" in text
    run(session, "set date 2030-01-05")
    assert "is the default" not in run(session, "show")


def test_show_says_where_a_default_date_comes_from(session: Session, tmp_path: Path) -> None:
    assert "2030-01-01 is the default: the law's first day in force" in flat(run(session, "show"))
    s = Session(today=TODAY)
    text = flat(run(s, "set threat terrorism", "show"))
    assert f"{TODAY} is the default: today, as no law is loaded" in text
    assert "first day in force" not in text
    undated = tmp_path / "undated.auth"
    undated.write_text('law "Undated" {\n    id: "u"\n    version: "1"\n}\n')
    assert not s.load(str(undated)).error
    assert (f"{TODAY} is the default: today, as the law states no first day in force"
            in flat(run(s, "show")))
    metas = {c.text: c.meta for c in candidates(s, "set date ")}
    assert metas == {TODAY.isoformat(): "today, as the law states no first day in force"}


def test_show_a_declaration_with_citation_and_uses(session: Session) -> None:
    text = run(session, "show terrorism")
    assert "threat terrorism  declared at" in text and "small.auth:17:" in text
    assert 'cites: "art. 1(a)"' in text and text.count("}") >= 1
    assert "power watching: covers it through security" in text
    text = run(session, "show court_approval")
    assert "power intrusive: requires it when protected contains journalist" in text
    text = run(session, "show journalist")
    assert "power intrusive: when protected contains journalist" in text
    text = run(session, "show intercept_content")
    assert "technique phone_tap exercises it" in text and "power intrusive: grants it" in text
    text = run(session, "show weighing_note")
    assert "share rule partner_sharing: requires it" in text
    text = run(session, "show sanctioned")
    assert text.startswith("set sanctioned") and "forbid when country in sanctioned" in text
    text = run(session, "show phone_tap")
    assert text.startswith("technique phone_tap") and "register.auth" in text
    for name, kind in (("nothing_for_petty_crime", "prohibition"),
                       ("partner_sharing", "share rule"), ("intrusive", "power"),
                       ("necessity", "assessment"), ("foreign_service", "recipient")):
        assert run(session, f"show {name}").startswith(f"{kind} {name}")
    text, error = one(session, "show terrorsm")
    assert error and "the law declares no `terrorsm`" in text and "`terrorism`" in text


def test_show_keeps_the_comments_above_a_declaration(tmp_path: Path) -> None:
    spec = tmp_path / "law.auth"
    spec.write_text('law "L" {\n    in_force: 2030-01-01 ..\n}\n\n# unverified [M]\n'
                    'threat t {\n    cites: "art. 1"\n}\n')
    s = Session()
    run(s, f"load {spec}")
    text = run(s, "show t")
    assert "5 # unverified [M]" in text and "8 }" in text
    assert "not used by any power" in text


@pytest.mark.parametrize(("kind", "expected"), [
    ("threats", ["security", "  terrorism", "petty_crime"]),
    ("capabilities", ["watch_in_public", "intrusion 2, targeted"]),
    ("techniques", ["spyware", "→ enter_device, intercept_content"]),
    ("protected", ["journalist", "art. 9"]),
    ("safeguards", ["review_board", "when urgent, within 2 days"]),
    ("assessments", ["necessity", "art. 7"]),
    ("recipients", ["foreign_service", "foreign"]),
    ("powers", ["intrusive", "enter_device, intercept_content for security"]),
    ("prohibitions", ["nothing_for_petty_crime", "when threat under petty_crime"]),
    ("shares", ["partner_sharing", "with foreign_service"]),
    ("principles", ["the law declares no principles"]),
    ("sets", ["sanctioned", "{KP}"]),
    ("threat", ["security"]),
])
def test_list(session: Session, kind: str, expected: Sequence[str]) -> None:
    text, error = one(session, f"list {kind}")
    assert not error
    for item in expected:
        assert item in text


def test_list_errors(session: Session) -> None:
    text, error = one(session, "list threads")
    assert error and "did you mean `threats`?" in text
    text, error = one(session, "list")
    assert error and "kinds: threats" in text


# ---- help, bad commands, quitting ---------------------------------------------------------------


def test_help(session: Session) -> None:
    text = run(session, "help")
    for name in COMMANDS:
        assert f"  {COMMANDS[name].usage}" in text
    assert "first day the law is in force" in flat(text)
    assert "operation NAME { ... }" in text
    text = run(session, "help add")
    assert text.startswith("add ITEM ...") and "add approval NAME [on DATE]" in text
    assert "the date defaults to" in flat(run(session, "help set")).lower()
    assert "paste" in run(session, "help operation")
    text, error = one(session, "help frobnicate")
    assert error and "no command `frobnicate`" in text
    assert not one(session, "? exit")[1]


def test_every_command_has_a_handler_and_help(session: Session) -> None:
    for name, command in COMMANDS.items():
        assert callable(getattr(session, f"cmd_{name}")), name
        assert command.usage.split()[0] == name and command.summary


def test_a_bad_command_suggests_the_nearest(session: Session) -> None:
    text, error = one(session, "decid")
    assert error and text == "error: unknown command `decid`\n  = help: did you mean `decide`?\n"
    text, error = one(session, "xyzzy")
    assert error and "`help` lists the commands" in text
    assert "threat: terrorism" in run(session, "set threat terrorism")


def test_quit_stops_a_script(session: Session) -> None:
    outputs = run_lines(session, ["set threat terrorism", "quit", "set threat security"])
    assert len(outputs) == 2 and outputs[-1].quit
    assert session.operation.threat == "terrorism"
    assert session.execute("exit").quit


def test_several_lines_at_once(session: Session) -> None:
    out = session.execute("set threat terrorism\nbogus\nset technique spyware\nquit\nnew")
    assert out.error and out.quit
    assert session.operation.technique == "spyware"
    assert "unknown command `bogus`" in out.text()


def test_an_internal_error_does_not_end_the_session(session: Session,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(session, "cmd_decide", broken)
    text, error = one(session, "decide")
    assert error and "internal error: RuntimeError: boom" in text
    assert not one(session, "set threat terrorism")[1]


# ---- completion ---------------------------------------------------------------------------------


def offered(session: Session, text: str) -> list[str]:
    return [c.text for c in candidates(session, text)]


def test_completion_of_commands(session: Session) -> None:
    assert offered(session, "de") == ["decide"]
    assert set(offered(session, "")) >= {*COMMANDS, "operation"}
    assert sorted(offered(session, "un")) == ["undo", "unset"]
    assert offered(session, "help wh") == ["why", "whatif"]


def test_completion_of_every_kind_of_name(session: Session) -> None:
    assert offered(session, "set ") == ["threat", "technique", "date", "duration", "retention",
                                        "urgent", "service", "id"]
    assert offered(session, "set threat ") == ["petty_crime", "security", "terrorism"]
    assert offered(session, "set threat te") == ["terrorism"]
    assert offered(session, "set technique ") == ["city_camera", "phone_tap", "spyware"]
    assert offered(session, "set date ") == ["2030-01-01"]
    assert offered(session, "set urgent ") == ["true", "false"]
    assert offered(session, "add ") == ["capability", "subject", "approval", "assessment",
                                        "share"]
    assert offered(session, "add capability ") == ["enter_device", "intercept_content",
                                                   "watch_in_public"]
    assert offered(session, "add capability enter_device, w") == ["watch_in_public"]
    assert offered(session, "add subject ") == ["target", "journalist"]
    assert offered(session, "add subject target ") == ["journalist"]
    assert offered(session, "add approval m") == ["minister_approval"]
    assert offered(session, "add approval minister_approval ")[0] == "on"
    assert offered(session, "add approval minister_approval on ") == ["2030-01-01"]
    assert offered(session, "add assessment ") == ["necessity"]
    assert offered(session, "add share ") == ["foreign_service"]
    assert offered(session, "add share foreign_service ") == ["country", "data", "with"]
    assert offered(session, "add share foreign_service data ") == ["evaluated", "unevaluated"]
    assert offered(session, "add share foreign_service country ") == []
    assert "weighing_note" in offered(session, "add share foreign_service with ")
    assert "necessity" in offered(session, "add share foreign_service with ")
    show = offered(session, "show ")
    for name in ("terrorism", "enter_device", "spyware", "journalist", "review_board",
                 "necessity", "foreign_service", "intrusive", "nothing_for_petty_crime",
                 "partner_sharing", "sanctioned"):
        assert name in show
    assert offered(session, "list p") == ["protected", "powers", "prohibitions", "principles"]
    assert offered(session, "whatif ") == ["set", "add", "unset"]
    assert offered(session, "whatif add subject j") == ["journalist"]
    assert offered(session, "decide ") == []


def test_completion_meta_says_what_a_name_is(session: Session) -> None:
    metas = {c.text: c.meta for c in candidates(session, "set technique ")}
    assert metas["spyware"] == "technique → enter_device, intercept_content"
    metas = {c.text: c.meta for c in candidates(session, "set threat ")}
    assert metas["terrorism"] == "threat under security"


def test_completion_of_what_the_operation_holds(session: Session) -> None:
    run(session, *PERMITTED, "add subject contact journalist", "add capability enter_device",
        "add share foreign_service")
    assert offered(session, "unset ")[:3] == ["threat", "technique", "date"]
    assert offered(session, "unset approval ") == ["minister_approval", "review_board"]
    assert offered(session, "unset capability ") == ["enter_device"]
    assert offered(session, "unset subject ") == ["contact"]
    assert offered(session, "unset protected ") == ["journalist"]
    assert offered(session, "unset share ") == ["foreign_service"]
    assert offered(session, "unset assessment ") == ["necessity"]


def test_completion_of_file_names(session: Session, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "laws").mkdir()
    (tmp_path / "laws" / "a.auth").write_text("")
    (tmp_path / "laws" / "notes.txt").write_text("")
    (tmp_path / "op.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert offered(session, "load ") == ["laws/"]
    assert offered(session, "load laws/") == ["laws/a.auth"]
    assert offered(session, "compare la") == ["laws/"]
    assert offered(session, "open ") == ["laws/", "op.json"]
    assert offered(session, "load nowhere/x") == []
    assert f"{tmp_path}/laws/" in offered(session, f"load {tmp_path}/l")


def test_completion_inside_a_pasted_block(session: Session) -> None:
    session.execute("operation x {")
    assert "threat:" in offered(session, "    th")
    assert "terrorism" in offered(session, "    threat: te")


def test_completion_without_a_law() -> None:
    s = Session()
    assert offered(s, "set threat ") == []
    assert offered(s, "set urgent ") == ["true", "false"]
    assert offered(s, "show ") == []


def test_prompt_toolkit_completer(session: Session) -> None:
    completer = ReplCompleter(session)
    document = Document("set threat ter")
    completions = list(completer.get_completions(document, CompleteEvent()))
    assert [(c.text, c.start_position) for c in completions] == [("terrorism", -3)]
    assert completions[0].display_meta_text == "threat under security"


# ---- the piped front end ------------------------------------------------------------------------


def piped(lines: Sequence[str], *, echo: bool = True, spec: str | None = SMALL,
          ) -> tuple[int, str]:
    s = Session(today=TODAY)
    if spec:
        s.load(spec)
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None)
    code = run_piped(s, (line + "\n" for line in lines), console, echo=echo)
    return code, buffer.getvalue()


def test_quiet_script_names_the_line_of_a_failing_command() -> None:
    code, text = piped(["set threat terrorism", "", "set threat terorism", "show"], echo=False)
    assert code == 1
    assert "line 3: set threat terorism" in text
    assert "did you mean `terrorism`?" in flat(text)
    assert "line 1:" not in text and "line 4:" not in text  # only failing commands are named


def test_piped_echoes_commands_and_their_output() -> None:
    code, text = piped([*PERMITTED, "", "decide"])
    assert code == 0
    assert text.startswith(f"{PROMPT}set threat terrorism\nthreat: terrorism\n")
    assert f"{PROMPT}decide\nPERMITTED" in text
    code, quiet = piped([*PERMITTED, "decide"], echo=False)
    assert PROMPT not in quiet and quiet.startswith("threat: terrorism\n")


def test_piped_failures_set_the_exit_status_but_the_loop_goes_on() -> None:
    code, text = piped(["set threat terorism", "bogus", f"load {BROKEN}", "set threat terrorism",
                        "show"])
    assert code == 1
    assert "did you mean `terrorism`?" in text and "unknown command `bogus`" in text
    assert "threat: terrorism" in text and "operation repl {" in text


def test_piped_block_and_unfinished_block() -> None:
    code, text = piped([*BLOCK.splitlines(), "decide"])
    assert code == 0 and f"{CONTINUATION}    technique: phone_tap" in text
    assert "REQUIRES" in text
    code, text = piped(["operation x {", "threat: terrorism"])
    assert code == 1 and "the input ended inside an operation block" in text


def test_piped_quit() -> None:
    code, text = piped(["quit", "bogus"])
    assert code == 0 and "bogus" not in text


def test_the_authority_command_with_piped_stdin() -> None:
    script = "\n".join([*PERMITTED, "decide", "whatif add subject target journalist", "quit"])
    env = {**os.environ, "COLUMNS": "100", "AUTHORITY_HISTORY": ""}
    result = subprocess.run([sys.executable, "-m", "authority_dsl", "repl", SMALL],
                            input=script, capture_output=True, text=True, env=env, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded Small threat law (1)")
    assert f"{PROMPT}decide\nPERMITTED" in result.stdout
    assert "verdict permitted → requires" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "authority_dsl", "repl", BROKEN],
                         input="set threat x\ndecide\n", capture_output=True, text=True,
                         env=env, timeout=60, check=False)
    assert bad.returncode == 1 and "no law loaded" in bad.stdout
    assert "threat: x" in bad.stdout


def test_piped_start_up_does_not_import_prompt_toolkit_or_hypothesis() -> None:
    code = ("import sys, io; sys.stdin = io.StringIO('help\\n'); "
            "from authority_dsl.cli import main; main(['repl', '-q']); "
            "print(sorted(m for m in ('prompt_toolkit', 'hypothesis') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.stdout.strip().endswith("[]"), result.stdout + result.stderr


def test_history_file_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUTHORITY_HISTORY", str(tmp_path / "h"))
    assert history_file() == tmp_path / "h"
    monkeypatch.setenv("AUTHORITY_HISTORY", "")
    assert history_file() is None
    monkeypatch.delenv("AUTHORITY_HISTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_file() == tmp_path / "authority" / "history"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert history_file() == Path.home() / ".local" / "state" / "authority" / "history"


# ---- the prompt_toolkit front end ---------------------------------------------------------------


class Terminal:
    """Runs the prompt_toolkit REPL in a thread on a pipe input; `run` sends key presses.

    After a chunk that ends with Enter it waits until the session has executed the line; after
    other keys (Tab, Ctrl-C) it pauses, as a person would, so that completion can run."""

    def __init__(self, session: Session, history: Path | None = None) -> None:
        self.session = session
        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, width=100, color_system=None)
        self.history = history
        self.code: int | None = None
        self.executed = 0
        execute = session.execute

        def counting(line: str) -> Output:
            try:
                return execute(line)
            finally:
                self.executed += 1

        setattr(session, "execute", counting)  # noqa: B010

    def run(self, keys: Sequence[str], pause: float = 0.6) -> str:
        with create_pipe_input() as pipe:
            def target() -> None:
                self.code = run_interactive(self.session, self.console, history=self.history,
                                            input=pipe, output=DummyOutput())

            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            for chunk in keys:
                before = self.executed
                pipe.send_text(chunk)
                if chunk.endswith(ENTER):
                    deadline = time.monotonic() + 20
                    while (self.executed == before and thread.is_alive()
                           and time.monotonic() < deadline):
                        time.sleep(0.01)
                else:
                    time.sleep(pause)
            thread.join(20)
            assert not thread.is_alive(), "the REPL did not stop"
        return self.buffer.getvalue()


ENTER, TAB, CTRL_C, CTRL_D = "\r", "\t", "\x03", "\x04"


@pytest.fixture
def terminal(session: Session, tmp_path: Path) -> Iterator[Terminal]:
    yield Terminal(session, tmp_path / "state" / "history")


def test_terminal_runs_every_command(terminal: Terminal) -> None:
    lines = [*PERMITTED, "decide", "why", "whatif add subject target journalist",
             f"compare {MEANS}", "show", "show terrorism", "list threats", "history", "undo",
             "redo", "help", "help whatif", "new", "unset date", f"open {FIXTURES / 'op.json'}",
             f"load {SMALL}", "reload", "quit"]
    text = terminal.run([line + ENTER for line in lines])
    assert terminal.code == 0
    for expected in ("threat: terrorism", "PERMITTED", "reasoning:", "verdict permitted → requires",
                     "under two laws", "operation repl {", "threat terrorism  declared at",
                     "  terrorism", "1  set threat terrorism", "undone", "redone",
                     "commands:", "whatif CHANGE", "new operation `repl`",
                     "operation `op-json` read from", "loaded Small threat law"):
        assert expected in text, expected
    assert {line.split()[0] for line in terminal.session.history} == set(COMMANDS)
    saved = (terminal.history or Path()).read_text()
    assert "+set threat terrorism" in saved and "+quit" in saved


def test_terminal_tab_completes_names(terminal: Terminal) -> None:
    text = terminal.run(["set threat terr", TAB, ENTER, "set technique spy", TAB, ENTER,
                         "add approval minister", TAB, ENTER, "add subject target jour", TAB,
                         ENTER, "sh", TAB, " intru", TAB, ENTER, CTRL_D])
    assert terminal.session.history[:5] == [
        "set threat terrorism", "set technique spyware", "add approval minister_approval",
        "add subject target journalist", "show intrusive"]
    assert "power intrusive" in text


def test_terminal_bad_command_name_and_spec_keep_going(terminal: Terminal) -> None:
    text = terminal.run(["frobnicate" + ENTER, "set threat terorism" + ENTER,
                         f"load {BROKEN}" + ENTER, "set threat terrorism" + ENTER, CTRL_D])
    assert "unknown command `frobnicate`" in text
    assert "did you mean `terrorism`?" in text
    assert "unknown threat `nowhere`" in flat(text)
    assert terminal.session.operation.threat == "terrorism" and terminal.code == 0


def test_terminal_ctrl_c_cancels_the_line_and_ctrl_d_exits(terminal: Terminal) -> None:
    text = terminal.run(["set threat security", CTRL_C, "operation x {" + ENTER,
                         "threat: security" + ENTER, CTRL_C, "show" + ENTER, CTRL_D,
                         "set threat terrorism" + ENTER])
    assert terminal.code == 0
    assert terminal.session.history == ["show"]
    assert terminal.session.operation.threat is None and not terminal.session.pending
    assert "operation repl {" in text


def test_terminal_bracketed_paste_of_a_block(terminal: Terminal) -> None:
    terminal.run(["\x1b[200~" + BLOCK + "\x1b[201~", ENTER, "decide" + ENTER, CTRL_D])
    assert terminal.session.operation.id == "pasted"
    assert "court_approval" in terminal.buffer.getvalue()


def test_terminal_without_a_writable_history(session: Session, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    terminal = Terminal(session, blocker / "history")
    text = terminal.run(["decide" + ENTER, CTRL_D])
    assert "cannot write the history file" in text and terminal.code == 0


@pytest.mark.parametrize("kind", ["directory", "proc"])
def test_terminal_with_a_history_it_cannot_keep(session: Session, tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str],
                                                kind: str) -> None:
    # A directory, or a file that exists but refuses appending: prompt_toolkit would fail on the
    # first line entered, in its event loop.
    if kind == "directory":
        path, why = tmp_path, "it is a directory"
    else:
        path, why = Path("/proc/version"), "invalid argument"
        if not path.is_file():
            pytest.skip("no /proc/version here")
    terminal = Terminal(session, path)
    text = terminal.run(["set threat terrorism" + ENTER, "show" + ENTER, CTRL_D])
    first, *rest = text.splitlines()
    assert first == (f"warning: cannot write the history file {path} ({why}); history is kept "
                     "for this session only")
    assert "cannot write" not in "\n".join(rest)
    assert terminal.code == 0
    assert terminal.session.history == ["set threat terrorism", "show"]
    assert "threat: terrorism" in text
    assert "Unhandled exception" not in "".join(capfd.readouterr())


def test_toolbar_shows_the_law_and_the_verdict(session: Session) -> None:
    def plain() -> str:
        return "".join(piece[1] for piece in toolbar(session))

    assert "law small 1" in plain() and "denied (nothing-to-decide)" in plain()
    run(session, *PERMITTED[:3])
    assert "operation repl: terrorism / phone_tap" in plain()
    assert "requires (3 missing)" in plain()
    styles = [piece[0] for piece in toolbar(session)]
    assert "class:toolbar.requires" in styles
    run(session, *PERMITTED[3:])
    assert "permitted" in plain()
    session.execute("operation x {")
    assert "pasting an operation block" in plain()
    assert "none (load SPEC)" in "".join(piece[1] for piece in toolbar(Session()))


def test_operation_json_round_trip_of_a_built_operation(session: Session) -> None:
    run(session, *PERMITTED, "add share foreign_service country BE with weighing_note")
    data = session.operation.to_json()
    assert json.loads(json.dumps(data))["sharing"][0]["country"] == "BE"


def test_show_is_never_wrapped_so_it_reads_back(tmp_path: Path) -> None:
    """`show` prints the operation in the notation of the case files, to paste back or save:
    however narrow the screen, no line of it is wrapped (a long service name, the comment on
    the default date), and the block saved as a file decides."""
    from authority_dsl.cli import main

    service = "x" * 150
    code, out = piped([f'set service "{service}"', *PERMITTED, "show"], echo=False)
    assert code == 0
    assert f'    service: "{service}"' in out
    assert "(`set date` to change it)" in out or "date:" in out
    block = out[out.index("operation "):]
    block = block[:block.index("\n}\n") + 3]
    path = tmp_path / "shown.auth"
    path.write_text(block)
    assert main(["decide", SMALL, str(path)]) == 0


@pytest.mark.parametrize("line", ["undo 5", "redo 2", "decide now", "why not", "quit now",
                                  "history all", "reload x"])
def test_a_command_without_arguments_refuses_some(line: str) -> None:
    """`undo 5` undid one change, `quit now` quit: words the command ignores would mislead."""
    code, out = piped([*PERMITTED, "decide", line], echo=False)
    assert code == 1
    assert f"`{line.split()[0]}` takes no arguments" in out


def test_terminal_ctrl_d_inside_a_block_gives_it_up_and_a_second_leaves(
        terminal: Terminal) -> None:
    """Ctrl-D in the middle of a pasted block said nothing and left the REPL, losing the
    block unseen (piped input says the input ended inside it): it gives the block up, says so,
    and the REPL goes on; Ctrl-D again leaves."""
    text = terminal.run(["operation x {" + ENTER, "threat: security" + ENTER, CTRL_D,
                         "set threat terrorism" + ENTER, CTRL_D])
    assert terminal.code == 0
    assert "the operation block was cancelled" in text
    assert terminal.session.operation.threat == "terrorism" and not terminal.session.pending


def test_a_share_with_an_empty_country_says_so() -> None:
    code, out = piped(['add share foreign_service country "" data evaluated'], echo=False)
    assert code == 0
    assert 'share: foreign_service country "" data evaluated' in out


def test_the_authority_command_with_a_closed_stdin() -> None:
    """`authority repl SPEC <&-` ended in an AttributeError (no `sys.stdin`): a closed standard
    input is empty input, as `</dev/null`."""
    env = {**os.environ, "COLUMNS": "100", "AUTHORITY_HISTORY": ""}
    result = subprocess.run([sys.executable, "-m", "authority_dsl", "repl", SMALL],
                            stdin=None, capture_output=True, text=True, env=env, timeout=60,
                            check=False, preexec_fn=lambda: os.close(0))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("loaded Small threat law (1)")


@pytest.mark.parametrize("width", [100, 80, 60, 40, 30, 12])
def test_the_toolbar_shows_the_verdict_first_at_any_width(session: Session, width: int) -> None:
    """At 80 columns the verdict, last in the toolbar, was cut off (` verdict  d`), at 40 it was
    gone: it comes first, and the operation and the law are cut short with `…` to fit."""
    run(session, "set id a-long-operation-name", "set threat terrorism", "set duration 1 month",
        "add capability watch_in_public, enter_device, intercept_content")
    pieces = toolbar(session, width)
    plain = "".join(text for _, text in pieces)
    assert len(plain) <= width, plain
    assert pieces[0][0] == "class:toolbar.requires"
    assert plain.startswith(" requires (3 missing) " if width >= 22 else " requires ")
    if width >= 80:
        assert "a-long-operation-name: terrorism / watch_in_public" in plain
    if "…" in plain:
        assert plain.endswith("…") and "operation " not in plain
    wide = "".join(text for _, text in toolbar(session, 200))
    assert wide.startswith(" requires (3 missing)   operation a-long-operation-name: terrorism /")
    assert wide.endswith("  law small 1")
    session.execute("operation x {")
    assert len("".join(text for _, text in toolbar(session, width))) <= width


@pytest.mark.parametrize("line", ["add subject co-target journalist", "add subject target-2",
                                  "add subject 2nd_target", "add subject target.1",
                                  "add subject 123", "add subject {", 'add subject "two words"',
                                  'add subject "co target" journalist', 'add subject ""',
                                  "whatif add subject co-target"])
def test_a_subject_role_that_is_not_a_name_is_refused(session: Session, line: str) -> None:
    """`show` printed `subject co-target { ... }`, which does not read back (the grammar takes a
    name there, not a string); `add subject "two words"` took `words"` for a category."""
    text, error = one(session, line)
    assert error and "role" in text, text
    assert "protected category" not in text
    assert not session.operation.subjects and not session.undo_stack


def test_every_subject_role_added_reads_back(session: Session, tmp_path: Path) -> None:
    from authority_dsl.parser import parse

    text, error = one(session, "add subject co-target")
    assert error and "= help: e.g. `add subject co_target`" in text
    run(session, 'add subject "contact" journalist', "add subject été", "add subject _2",
        "add subject target")
    assert [s.role for s in session.operation.subjects] == ["contact", "été", "_2", "target"]
    shown = run(session, "show")
    block = parse(shown[:shown.index("\n}\n") + 2], "shown")
    assert [(s.role, [p.name for p in s.protected]) for s in block.items[0].subjects] == [
        ("contact", ["journalist"]), ("été", []), ("_2", []), ("target", [])]
    # An operation read from a .json file may hold any text: `show` says what does not read back.
    path = tmp_path / "op.json"
    path.write_text(json.dumps({"id": "x", "date": "2030-01-01", "threat": "terrorism",
                                "subjects": [{"role": "co-target", "protected": []}]}))
    run(session, f"open {path}")
    assert ("# warning: `co-target` is not a name: the block does not read back as it is"
            in run(session, "show"))
    assert "warning" not in run(session, "undo", "show")


@pytest.mark.parametrize(("line", "meant"), [
    ("add subject journalst", "add subject target journalist"),
    ("add subject Journalist", "add subject target journalist"),
    ("add subject JOURNALIST", "add subject target journalist"),
    ("add subjects jurnalist", "add subject target journalist"),
    ("whatif add subject journalst", "whatif add subject target journalist"),
])
def test_a_role_like_a_protected_category_is_warned_of(session: Session, line: str,
                                                       meant: str) -> None:
    """`add subject journalst` silently made a subject of role `journalst`, and `whatif` said
    "verdict unchanged": the misspelt category is taken as a role, and that is said."""
    text, error = one(session, line)
    assert not error
    role = line.split()[-1]
    assert (f"warning: `{role}` is taken as the subject's role; did you mean the protected "
            f"category `journalist`? write `{meant}`") in flat(text)
    for fine in ("add subject contact", "add subject target journalist", "add subject"):
        assert "warning" not in run(session, fine)


def test_whatif_and_compare_do_not_call_requirements_met_when_denied(session: Session) -> None:
    """`whatif set date 2010-01-01` said `verdict requires → denied` and `no longer missing:
    ...`, as if the requirements were met: a denied operation is not weighed further."""
    run(session, *PERMITTED[:3])
    text = flat(run(session, "whatif set date 2020-01-01"))
    assert "verdict requires → denied" in text
    assert "no longer missing" not in text
    assert ("not reported as missing, as the operation is denied: minister_approval, "
            "necessity, review_board") in text
    run(session, "set date 2025-01-01", f"load {MEANS}")
    text = flat(run(session, f"compare {SMALL}"))
    assert "verdict requires → denied" in text and "no longer missing" not in text
    assert "not reported as missing, as the operation is denied:" in text
    # a requirement met while the verdict is denied for another reason is still no longer missing
    text = flat(run(session, "whatif add approval minister_approval"))
    assert "no longer missing: minister_approval" in text


def test_echoed_commands_and_history_are_never_wrapped() -> None:
    """A piped transcript wrapped a long command at the width of the screen, as `history` did
    its entries: each is one line, to be read and copied as typed."""
    long = "add assessment necessity, necessity, necessity, necessity, necessity, necessity"
    s = Session(today=TODAY)
    s.load(SMALL)
    buffer = io.StringIO()
    console = Console(file=buffer, width=40, color_system=None)
    assert run_piped(s, [long + "\n", "history\n"], console) == 0
    lines = buffer.getvalue().splitlines()
    assert PROMPT + long in lines
    assert f"1  {long}" in lines
    assert f"1  {long}" in s.execute("history").text(30).splitlines()


@pytest.mark.parametrize(("lines", "where"), [
    (["operation a { date: 2030-02-01 }}"], "<operation>:1:33"),
    (["operation a {", "    threat: terrorism", "} }"], "<operation>:3:3"),
    (["operation a { } } {"], "<operation>:1:17"),
])
def test_an_extra_closing_brace_is_shown_in_its_place(lines: list[str], where: str) -> None:
    """`operation a { ... }}` said "the operation block does not close; end it with `}`": there
    is one `}` too many, and the error points at it."""
    code, out = piped(lines, echo=False)
    assert code == 1
    assert f"{where}: error[syntax-error]: one `}}` too many" in out
    assert "does not close" not in out and "= help: the block is closed before it" in out
    column = int(where.split(":")[-1])
    assert "  |" + " " * column + "^\n" in out
    code, out = piped(["operation a {}}}", "}", "set threat terrorism"], echo=False)
    assert "2 `}` too many" in out and "error: one `}` too many: no operation block is open" in out
    assert "threat: terrorism" in out


@pytest.mark.parametrize("command", ["load", "compare"])
def test_a_technique_register_is_not_loaded_but_imported(session: Session, command: str,
                                                         tmp_path: Path) -> None:
    """`load specs/techniques.auth` gave the right error (a law file needs a header) and then
    one `unknown capability` for every technique: the first is what there is to say."""
    register = str(FIXTURES / "register.auth")
    text, error = one(session, f"{command} {register}")
    assert error
    assert text.count("error[") == 1 and "error[file-kind]: a law file needs a" in flat(text)
    assert "unknown capability" not in text
    assert f"`{register}` is not a law" in flat(text)
    assert ('= help: a technique register is imported by a law (`import "register.auth"`): '
            "load the law instead") in flat(text)
    operation = tmp_path / "op.auth"
    operation.write_text("operation x {\n    threat: terrorism\n}\n")
    text, error = one(session, f"{command} {operation}")
    assert error and text.count("error[") == 1 and "may not contain" not in text
    assert f"then `open {operation}`" in flat(text)
    text, error = one(session, f"{command} {BROKEN}")
    assert error and text.count("error[") == 2 and "has errors" in text
    assert session.law is not None and session.law.title == "Small threat law"


@pytest.mark.parametrize(("line", "hint"), [
    ("exti", "did you mean `exit`?"), ("SET threat terrorism", "did you mean `set`?"),
    ("Decide", "did you mean `decide`?"),
])
def test_a_bad_command_in_capitals_or_near_an_alias_is_suggested(session: Session, line: str,
                                                                 hint: str) -> None:
    text, error = one(session, line)
    assert error and f"error: unknown command `{line.split()[0]}`\n  = help: {hint}" in text


@pytest.mark.parametrize(("line", "message"), [
    ("show terrorism extra", "`show` takes one name"), ("show a, b", "`show` takes one name"),
    ("list threats all", "`list` takes one kind"), ("ls threats all", "`ls` takes one kind"),
    ("help set add", "`help` takes one command"),
])
def test_a_command_with_one_argument_refuses_more(session: Session, line: str,
                                                  message: str) -> None:
    """`show terrorism extra` showed `terrorism` and ignored `extra`, where commands without
    arguments refuse any."""
    text, error = one(session, line)
    assert error and text.startswith(f"error: {message}")


@pytest.mark.parametrize(("line", "hint"), [
    ("whatif new", "`new` starts a new operation"),
    ("whatif undo", "`undo` takes back the last change"),
    ("whatif decide", "`decide` does not change the operation"),
    ("whatif ad subject target", "did you mean `add`?"),
])
def test_whatif_says_what_it_takes_instead_of_another_command(session: Session, line: str,
                                                               hint: str) -> None:
    """`whatif new` said "`new` does not change the operation", which it does."""
    text, error = one(session, line)
    assert error and text.startswith("error: `whatif` takes a change to try: a `set`, `add` "
                                     "or `unset` command")
    assert f"= help: {hint}" in text
