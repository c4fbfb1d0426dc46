"""The formatter: canonical layout, comments kept, and its own output parsing back unchanged."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority_dsl import ast, formatter
from authority_dsl.cli import main
from authority_dsl.diagnostics import DiagnosticError
from authority_dsl.durations import Duration, Unit
from authority_dsl.formatter import format_expr, format_module, format_operation, format_source
from authority_dsl.parser import parse, parse_condition
from tests import strategies as s

SPEC_DIR = Path(__file__).parent.parent / "specs"
SPECS = sorted(SPEC_DIR.rglob("*.auth"))  # the laws, and the case files under specs/cases/


def fmt(text: str) -> str:
    return format_source(textwrap.dedent(text).lstrip("\n"))


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ---- properties over generated trees ----------------------------------------------------------


@given(s.modules())
def test_generated_module_round_trips(module: ast.Module) -> None:
    text = format_module(module)
    again = parse(text)
    assert again == module
    assert format_module(again) == text
    assert format_source(text) == text
    assert text == "" or (text.endswith("\n") and not text.endswith("\n\n"))
    assert "\n\n\n" not in text
    assert not text.startswith("\n")
    assert all(line == line.rstrip(" ") for line in text.split("\n"))


@given(s.conditions)
def test_condition_round_trips(expr: ast.Expr) -> None:
    assert parse_condition(format_expr(expr)) == expr


@given(s.operations)
def test_operation_block_round_trips(op: ast.OperationSpec) -> None:
    assert parse(format_operation(op)).items == (op,)


@st.composite
def commented_sources(draw: st.DrawFn) -> tuple[ast.Module, str]:
    """A formatted module with comments sprinkled in: own-line ones anywhere (at any indent) and
    trailing ones after code."""
    module = draw(s.modules(max_items=5))
    lines = format_module(module).split("\n")[:-1]
    out: list[str] = []
    for i, line in enumerate([*lines, ""]):
        if draw(st.booleans()):
            out.append(" " * draw(st.integers(0, 6)) + f"# own {i}")
        if i == len(lines):
            break
        trailing = line.strip() and draw(st.booleans())
        out.append(f"{line}  # after {i}" if trailing else line)
    return module, "\n".join(out) + "\n"


@given(commented_sources())
def test_comments_are_kept_and_stable(case: tuple[ast.Module, str]) -> None:
    module, text = case
    once = format_source(text)
    assert parse(once) == module
    assert sorted(c.text for c in parse(once).comments) == sorted(
        c.text for c in parse(text).comments
    )
    assert format_source(once) == once
    assert format_module(parse(once)) == once  # without the source text too


@st.composite
def messy_sources(draw: st.DrawFn) -> tuple[ast.Module, str]:
    """A formatted module laid out badly: lines re-indented, joined and spaced apart, with
    comments anywhere."""
    module = draw(s.modules(max_items=5))
    out: list[str] = []
    joined = False
    for i, line in enumerate(format_module(module).split("\n")):
        if draw(st.booleans()):
            out.append(" " * draw(st.integers(0, 9)) + f"# own {i}")
            joined = False
        text = " " * draw(st.integers(1 if joined else 0, 9)) + line.strip()
        if joined:
            out[-1] += text
        else:
            out.append(text)
        choice = draw(st.sampled_from(["newline", "join", "trailing", "blank"]))
        joined = choice == "join" and bool(line.strip())
        if choice == "trailing" and line.strip():
            out[-1] += f"  # after {i}"
        elif choice == "blank":
            out.append("")
    return module, "\n".join(out)


@given(messy_sources())
def test_messy_layout_formats_stably(case: tuple[ast.Module, str]) -> None:
    module, text = case
    assert parse(text) == module
    once = format_source(text)
    assert parse(once) == module
    assert format_source(once) == once
    assert format_module(parse(once)) == once


# ---- canonical layout -------------------------------------------------------------------------


def test_empty_module_formats_to_nothing() -> None:
    assert format_source("") == ""
    assert format_source("\n\n  \n") == ""


def test_layout_of_blocks_and_one_liners() -> None:
    source = """
        import "b.auth" import "a.auth"
        set states = { "RU" ,"IR" }
        threat national_security  threat terrorism under national_security { severity: 4
          description: "tab\\there, \\"quoted\\", back\\\\slash" }
        technique t -> c1,c2 technique u -> c1 {}
        protected journalist protected lawyer
        capability c1 { scope: bulk intrusion: 3 }
        power p { retention: 1 month threats: terrorism max_duration: 3 months
          valid: 2027-01-01..2031-12-31 capabilities: c1 }
        forbid f { when not a == b }
        law "Act" { in_force: 2027-01-01 .. }
        register "R" {}
    """
    assert fmt(source) == dedent("""
        import "b.auth"
        import "a.auth"

        set states = {"RU", "IR"}

        threat national_security

        threat terrorism under national_security {
            description: "tab\\there, \\"quoted\\", back\\\\slash"
            severity: 4
        }

        technique t -> c1, c2
        technique u -> c1

        protected journalist
        protected lawyer

        capability c1 {
            intrusion: 3
            scope: bulk
        }

        power p {
            threats: terrorism
            capabilities: c1
            max_duration: 3 months
            retention: 1 month
            valid: 2027-01-01 .. 2031-12-31
        }

        forbid f {
            when not a == b
        }

        law "Act" {
            in_force: 2027-01-01 ..
        }

        register "R" {}
    """)


def test_members_follow_fields_and_nest() -> None:
    source = """
        share s { forbid when country in sanctioned when foreign requires g
          recipients: foreign_service }
        case "c" { operation op { share foreign_service { country: "DE" }
          subject target { protected: journalist } date: 2027-08-01
          approvals: minister on 2027-08-28, court } expect: permit }
        operation "op 2" { subject bystander }
    """
    assert fmt(source) == dedent("""
        share s {
            recipients: foreign_service
            when foreign requires g
            forbid when country in sanctioned
        }

        case "c" {
            expect: permit
            operation op {
                date: 2027-08-01
                approvals: minister on 2027-08-28, court
                subject target {
                    protected: journalist
                }
                share foreign_service {
                    country: "DE"
                }
            }
        }

        operation "op 2" {
            subject bystander
        }
    """)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("a and b and c", "a and b and c"),
        ("(a and b) and c", "(a and b) and c"),
        ("a or (b or c)", "a or (b or c)"),
        ("((a)) or b and c", "a or b and c"),
        ("(a or b) and not (c and d)", "(a or b) and not (c and d)"),
        ("not (a == b)", "not a == b"),
        ("not not urgent", "not not urgent"),
        ("a not in {x, \"y\"}", "a not in {x, \"y\"}"),
        ("any share ((country == \"RU\"))", "any share (country == \"RU\")"),
        ("duration > 1 months or retention >= 18 month",
         "duration > 1 month or retention >= 18 months"),
        ("threat under national_security and protected contains journalist",
         "threat under national_security and protected contains journalist"),
        ("recipient == foreign_service", "recipient == foreign_service"),
        ("date >= 2028-01-01 and flag == false", "date >= 2028-01-01 and flag == false"),
    ],
)
def test_conditions_print_minimal_parentheses(written: str, canonical: str) -> None:
    expr = parse_condition(written)
    assert format_expr(expr) == canonical
    assert parse_condition(canonical) == expr


def test_literal_true_is_not_the_number_one() -> None:
    assert format_expr(ast.Literal(True)) == "true"
    assert format_expr(ast.Literal(1)) == "1"


def test_durations_are_singular_for_one() -> None:
    assert format_expr(ast.Literal(Duration(1, Unit.DAYS))) == "1 day"
    assert format_expr(ast.Literal(Duration(3, Unit.HOURS))) == "3 hours"


def test_operation_ids_are_bare_when_they_can_be() -> None:
    assert format_operation(ast.OperationSpec("op_1")) == "operation op_1 {}"
    assert format_operation(ast.OperationSpec("case")) == 'operation "case" {}'
    assert format_operation(ast.OperationSpec("op-1")) == 'operation "op-1" {}'


# ---- comments ---------------------------------------------------------------------------------


def test_comments_own_line_trailing_closing_brace_and_end_of_file() -> None:
    source = """
        # file header

        power p {   # opening
          # about threats
          threats: terrorism # trailing
          description: "x"
             # before the closing brace
        }
        power q {
        # inside an empty body
        }
        power r {
        }  # after an empty body
        technique t -> c  # one-liner
        # last words

        # really last
    """
    expected = """
        # file header

        power p {  # opening
            # about threats
            threats: terrorism  # trailing
            description: "x"
            # before the closing brace
        }

        power q {
            # inside an empty body
        }

        power r {}  # after an empty body

        technique t -> c  # one-liner
        # last words

        # really last
    """
    once = fmt(source)
    assert once == dedent(expected)
    assert format_source(once) == once


def test_comments_collapsed_onto_one_line_do_not_pile_up() -> None:
    source = """
        forbid f {
            when a  # first
              and b  # second
        }
        threat x
    """
    once = fmt(source)
    assert once == dedent("""
        forbid f {
            # second
            when a and b  # first
        }

        threat x
    """)
    assert format_source(once) == once


def test_blank_line_after_a_section_comment_is_kept() -> None:
    source = """
        threat a

        # ---- section ----

        threat b
        # attached
        threat c
        protected journalist

        # gap kept inside a run of one-liners
        protected lawyer
        # no gap
        protected doctor
    """
    assert fmt(source) == dedent("""
        threat a

        # ---- section ----

        threat b

        # attached
        threat c

        protected journalist

        # gap kept inside a run of one-liners
        protected lawyer
        # no gap
        protected doctor
    """)


def test_comments_in_nested_blocks() -> None:
    source = """
        case "c" {
            # expectation
            expect: deny
            operation op {
                # subject
                subject s {
                    protected: journalist  # who
                    # end of subject
                }
                # end of operation
            }
        }
    """
    once = fmt(source)
    assert once == dedent(source)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(SPEC_DIR)))
def test_specs_format_to_themselves(spec: Path) -> None:
    text = spec.read_text("utf-8")
    assert format_source(text, str(spec)) == text


# ---- the round-trip check ---------------------------------------------------------------------


def test_fmt_refuses_when_the_tree_would_change(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.format_module

    def lossy(module: ast.Module, source: str | None = None) -> str:
        return real(attrs.evolve(module, items=module.items[1:]), source)

    monkeypatch.setattr(formatter, "format_module", lossy)
    with pytest.raises(DiagnosticError) as raised:
        format_source("threat a\nthreat b\n", "law.auth")
    assert [d.code for d in raised.value.diagnostics] == ["fmt-changed-ast"]
    assert raised.value.diagnostics[0].span.file == "law.auth"


COMMENTED = "# The threats.\nthreat a  # the first\n\n# Last.\nthreat b\n"


@pytest.mark.parametrize("change", [
    lambda text: text.replace("  # the first", ""),  # a comment dropped
    lambda text: text.replace("# Last.", "# Lost."),  # a comment altered
    lambda text: text.replace("# The threats.\n", ""),  # a comment on a line of its own
], ids=["trailing-dropped", "altered", "own-line-dropped"])
def test_fmt_refuses_when_a_comment_would_be_lost(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path, change: Callable[[str], str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Comments are not part of the tree: the formatter checks them apart, and refuses output
    that loses or alters one (the tree alone would be unchanged), leaving the file as it was."""
    real = formatter.format_module

    def lossy(module: ast.Module, source: str | None = None) -> str:
        out = real(module, source)
        changed = change(out)
        assert changed != out
        return changed

    assert format_source(COMMENTED) == COMMENTED
    monkeypatch.setattr(formatter, "format_module", lossy)
    with pytest.raises(DiagnosticError) as raised:
        format_source(COMMENTED, "law.auth")
    (refusal,) = raised.value.diagnostics
    assert (refusal.code, refusal.span.file) == ("fmt-changed-ast", "law.auth")
    assert "comments" in refusal.message
    path = tmp_path / "law.auth"
    path.write_text(COMMENTED.replace("threat b", "threat   b"))
    assert main(["fmt", str(path)]) == 1
    assert "comments" in capsys.readouterr().err
    assert path.read_text() == COMMENTED.replace("threat b", "threat   b")


def test_fmt_refuses_output_that_does_not_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatter, "format_module", lambda module, source=None: "threat {\n")
    with pytest.raises(DiagnosticError) as raised:
        format_source("threat a\n")
    assert [d.code for d in raised.value.diagnostics] == ["fmt-changed-ast"]


def test_syntax_errors_pass_through() -> None:
    with pytest.raises(DiagnosticError) as raised:
        format_source("threat {")
    assert raised.value.diagnostics[0].code == "syntax-error"


# ---- comments stay with what they annotate ----------------------------------------------------

LAW = dedent("""
    law "T" {
        version: "1"
    }

    threat national_security

    capability system_access {
        intrusion: 5
    }

    protected journalist

    safeguard minister_approval {
        by: minister
    }

    safeguard court_approval {
        by: court
    }
""")


def test_comment_after_a_declaration_on_one_line_stays_on_its_first_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An `# allow:` after a one-line declaration fmt spreads over lines still applies: it stays
    on the declaration's line, not on its `}`."""
    law = """
        law "T" {
            version: "1"
        }

        protected lawyer { description: "reserved for the next version" }  # allow: unused

        capability tap { intrusion: 1 }  # allow: technology-word, unused, capability-not-granted
    """
    once = fmt(law)
    assert once.endswith(dedent("""
        protected lawyer {  # allow: unused
            description: "reserved for the next version"
        }

        capability tap {  # allow: technology-word, unused, capability-not-granted
            intrusion: 1
        }
    """))
    assert format_source(once) == once
    spec = tmp_path / "law.auth"
    spec.write_text(dedent(law), "utf-8")
    assert main(["check", "--strict", str(spec)]) == 0
    assert main(["fmt", str(spec)]) == 0
    assert spec.read_text("utf-8") == once
    assert main(["check", "--strict", str(spec)]) == 0, capsys.readouterr().out
    nested = 'case "c" { operation o { subject s { protected: journalist } } }  # end of case\n'
    assert format_source(nested) == dedent("""
        case "c" {  # end of case
            operation o {
                subject s {
                    protected: journalist
                }
            }
        }
    """)


def test_comments_move_with_the_members_fmt_reorders() -> None:
    source = LAW + dedent("""
        power access {
            threats: national_security
            capabilities: system_access
            # art. 30: a journalist's sources need the court
            when protected contains journalist requires court_approval
            # art. 45(2): the minister always approves
            requires: minister_approval  # the field
            when urgent requires court_approval  # the clause
        }
    """)
    once = format_source(source)
    assert once.endswith(dedent("""
        power access {
            threats: national_security
            capabilities: system_access
            # art. 45(2): the minister always approves
            requires: minister_approval  # the field
            # art. 30: a journalist's sources need the court
            when protected contains journalist requires court_approval
            when urgent requires court_approval  # the clause
        }
    """))
    assert format_source(once) == once


def test_commented_items_of_a_list_stay_one_a_line() -> None:
    """Items of a list written over several lines with comments keep one item a line, each with
    its comment; a list without comments is joined."""
    source = LAW + dedent("""
        set sanctioned_states = {
            "RU",  # Russia
            # then
            "BY",  # Belarus
            "IR"   # Iran
        }

        set none_yet = {
            # to be decided
        }

        set joined = {
            "RU",
            "BY"
        }  # no comment among the items

        technique tap -> system_access,  # the main one
            other { description: "d" }

        power access {
            threats: national_security,  # art. 6
                terrorism  # art. 7
            capabilities: system_access
            when urgent requires minister_approval,  # first
                court_approval
            requires: minister_approval
        }

        case "c" {
            operation o {
                approvals: minister_approval on 2027-01-01,
                    # and then
                    court_approval
            }
        }
    """)
    once = format_source(source)
    assert once.endswith(dedent("""
        set sanctioned_states = {
            "RU",  # Russia
            # then
            "BY",  # Belarus
            "IR"  # Iran
        }

        set none_yet = {
            # to be decided
        }

        set joined = {"RU", "BY"}  # no comment among the items

        technique tap ->
            system_access,  # the main one
            other {
            description: "d"
        }

        power access {
            threats:
                national_security,  # art. 6
                terrorism  # art. 7
            capabilities: system_access
            requires: minister_approval
            when urgent requires
                minister_approval,  # first
                court_approval
        }

        case "c" {
            operation o {
                approvals:
                    minister_approval on 2027-01-01,
                    # and then
                    court_approval
            }
        }
    """))
    assert format_source(once) == once
    assert format_module(parse(once)) == once


def test_comment_after_a_when_on_its_own_line_stays_with_it() -> None:
    source = """
        forbid f {
            description: "d"
            when  # the condition
                urgent
        }

        share s {
            recipients: foreign_service
            forbid  # the sanction
                when country in sanctioned
        }
    """
    assert fmt(source) == dedent("""
        forbid f {
            description: "d"
            when urgent  # the condition
        }

        share s {
            recipients: foreign_service
            forbid when country in sanctioned  # the sanction
        }
    """)


@st.composite
def split_sources(draw: st.DrawFn) -> tuple[ast.Module, str]:
    """A formatted module with lines broken after commas and `{` (lists, sets, conditions and
    bodies over several lines), and comments after and between the pieces."""
    module = draw(s.modules(max_items=5))
    text = format_module(module)
    out: list[str] = []
    start = 0
    for match in re.finditer(r'"(?:[^"\\\n]|\\.)*"|[,{]', text):
        if match.group() not in (",", "{"):
            continue  # a string
        out.append(text[start:match.end()])
        start = match.end()
        choice = draw(st.sampled_from(["keep", "newline", "trailing", "own"]))
        if choice == "newline":
            out.append("\n")
        elif choice == "trailing":
            out.append(f"  # after {len(out)}\n")
        elif choice == "own":
            out.append(f"\n# own {len(out)}\n")
    out.append(text[start:])
    return module, "".join(out)


@given(split_sources())
def test_split_layout_formats_stably(case: tuple[ast.Module, str]) -> None:
    module, text = case
    assert parse(text) == module
    once = format_source(text)
    assert parse(once) == module
    assert sorted(c.text for c in parse(once).comments) == sorted(
        c.text for c in parse(text).comments
    )
    assert format_source(once) == once
    assert format_module(parse(once)) == once


# ---- comments inside a member written over several lines ---------------------------------------

HEADER = 'law "x" {\n    version: "1"\n}\n\n'


def warnings(path: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int]]:
    """The codes and lines of the warnings `check` and `lint` report for a file."""
    found = []
    for verb in ("check", "lint"):
        main([verb, str(path), "--strict", "--format", "json"])
        found += json.loads(capsys.readouterr().out)["diagnostics"]
    return sorted({(d["code"], d["line"]) for d in found})


def formats_keeping_warnings(text: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> str:
    """Format a law in place; what it warns about (bar the lines) must not change."""
    spec = tmp_path / "law.auth"
    spec.write_text(text, "utf-8")
    before = [code for code, _ in warnings(spec, capsys)]
    assert main(["fmt", str(spec)]) == 0
    capsys.readouterr()
    once = spec.read_text("utf-8")
    assert [code for code, _ in warnings(spec, capsys)] == before
    assert format_source(once) == once
    return once


@pytest.mark.parametrize("head, rest", [
    ("protected", "journalist"),
    ("threat", "t under\n    u"),
    ("set", 'blocked = {"RU"}'),
    ("import", '"other.auth"'),
    ("power", "p {\n    threats: t\n}"),
])
def test_comment_after_a_keyword_stays_with_its_declaration(head: str, rest: str) -> None:
    """The header of a declaration is where its keyword is, even with the name on the next
    line: a comment after the keyword is not moved to the declaration before."""
    lawyer = 'protected lawyer { description: "x" }\n'
    source = f"{HEADER}{lawyer}{head}  # allow: unused\n    {rest}\n"
    once = format_source(source)
    last = once.split("\n\n")[-1]
    assert last.split("\n")[0].endswith("  # allow: unused")
    assert last.startswith(f"{head} ")
    assert "protected lawyer {\n" in once
    assert format_source(once) == once


def test_directive_after_a_keyword_still_applies(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    once = formats_keeping_warnings(
        f"{HEADER}protected  # allow: unused\n    journalist\n", tmp_path, capsys)
    assert once == HEADER + "protected journalist  # allow: unused\n"


def test_own_line_comment_inside_a_member_stays_above_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = HEADER + dedent("""
        threat th
        threat th2

        capability a {
            intrusion: 1
            description:
                # allow: technology-word
                "Access a smartphone"
        }

        safeguard g {
            by: minister
        }

        power p {
            threats:
             # both threats
             th, th2
            capabilities: a
            when intrusion > 1
                # art. 12: only for intrusive means
                requires g
            when intrusion > 3 requires g
        }

        set eu = {
            # founding members
            "BE", "NL"
        }
    """)
    once = formats_keeping_warnings(source, tmp_path, capsys)
    assert once == HEADER + dedent("""
        threat th

        threat th2

        capability a {
            # allow: technology-word
            description: "Access a smartphone"
            intrusion: 1
        }

        safeguard g {
            by: minister
        }

        power p {
            # both threats
            threats: th, th2
            capabilities: a
            # art. 12: only for intrusive means
            when intrusion > 1 requires g
            when intrusion > 3 requires g
        }

        # founding members
        set eu = {"BE", "NL"}
    """)


def test_two_trailing_comments_keep_the_directive_on_the_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One output line takes one trailing comment, a directive first; the other goes above."""
    source = HEADER + dedent("""
        capability a {
            intrusion: 1
            description:  # art. 45
                "Access a smartphone"  # allow: technology-word
        }
    """)
    once = formats_keeping_warnings(source, tmp_path, capsys)
    assert once.endswith(dedent("""
        capability a {
            # art. 45
            description: "Access a smartphone"  # allow: technology-word
            intrusion: 1
        }
    """))


def test_directive_among_items_stays_on_the_declaration_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A directive after the first item of a list on the declaration's line is no reason to
    spread the list, and stays on the declaration's line when other comments spread it."""
    once = formats_keeping_warnings(
        f'{HEADER}set blocked = {{"RU",  # allow: unused\n    "BY"}}\n', tmp_path, capsys)
    assert once == HEADER + 'set blocked = {"RU", "BY"}  # allow: unused\n'
    once = formats_keeping_warnings(
        f'{HEADER}set blocked = {{"RU",  # allow: unused\n    "BY"  # Belarus\n}}\n',
        tmp_path, capsys)
    assert once == HEADER + dedent("""
        set blocked = {  # allow: unused
            "RU",
            "BY"  # Belarus
        }
    """)


def test_comment_between_a_key_and_its_colon_stays_with_the_field() -> None:
    source = HEADER + dedent("""
        power p {
            threats: th
            capabilities  # art. 45
                : a
        }
    """)
    assert format_source(source).endswith(dedent("""
        power p {
            threats: th
            capabilities: a  # art. 45
        }
    """))


@pytest.mark.parametrize("source, code, silenced", [
    # After other code a directive applies to that code's line, not to the next one ...
    ("threat t1  # allow: unused\nprotected b\n", "unused", False),
    ("capability a {\n    intrusion: 1  # allow: technology-word\n"
     '    description: "Access a smartphone"\n}\n', "technology-word", False),
    # ... unless that code is only the keyword or key the next line continues.
    ("protected  # allow: unused\n    b\n", "unused", True),
    ('capability a {\n    intrusion: 1\n    description:  # allow: technology-word\n'
     '        "Access a smartphone"\n}\n', "technology-word", True),
])
def test_fmt_and_the_checker_agree_on_where_a_directive_applies(
        source: str, code: str, silenced: bool, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    once = formats_keeping_warnings(HEADER + source, tmp_path, capsys)
    found = [c for c, _ in warnings(tmp_path / "law.auth", capsys)]
    assert (code not in found) == silenced, once


def test_a_second_trailing_comment_of_a_folded_line_goes_above_it(tmp_path: Path) -> None:
    """`technique# c1` / `spyware -> a, b # c2`: `# c2` went below the declaration, to the end
    of the file; it goes above, as a second trailing comment does elsewhere."""
    path = tmp_path / "reg.auth"
    path.write_text('register "R" {\n    version: "1"\n}\n\ntechnique# c1\n'
                    "     spyware -> a, b # c2\n\ntechnique other -> a\n", "utf-8")
    assert main(["fmt", str(path)]) == 0
    text = path.read_text("utf-8")
    assert text.index("# c2") < text.index("technique spyware") < text.index("technique other")
    assert "technique spyware -> a, b  # c1" in text
    assert main(["fmt", "--check", str(path)]) == 0
