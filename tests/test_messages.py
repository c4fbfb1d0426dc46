"""Syntax errors say what is wrong in the drafter's words, at the place that is wrong: never the
grammar's internal token names, and never only at the next line where the parser stumbled."""

from __future__ import annotations

import unicodedata

import pytest

from authority_dsl import ast
from authority_dsl.diagnostics import Diagnostic, DiagnosticError
from authority_dsl.durations import parse_date, parse_duration
from authority_dsl.parser import parse

HEADER = 'law "x" {\n    version: "1"\n}\n'


def diagnose(text: str) -> Diagnostic:
    """The one diagnostic parsing `text` gives."""
    with pytest.raises(DiagnosticError) as caught:
        parse(text, "t.auth")
    [found] = caught.value.diagnostics
    return found


def where(d: Diagnostic) -> tuple[int, int, int]:
    return d.span.line, d.span.column, d.span.end_column


def power(duration: str) -> str:
    return (f"{HEADER}power p {{\n    threats: t\n    max_duration: {duration}\n"
            "    renewable: true\n}\n")


# ---- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "unit", "help_text"), [
    ("1 fortnight", "fortnight", "a duration is a whole number and a unit, like `3 months`"),
    ("3 mnths", "mnths", "did you mean `months`?"),
    ("3 Months", "Months", "units are written in lower case: `months`"),
    ("1 mins", "mins", "the smallest unit is hours: write minutes or seconds as hours"),
])
def test_an_unknown_unit_is_reported_at_the_unit(written: str, unit: str, help_text: str) -> None:
    d = diagnose(power(written))
    assert d.message == f"unknown unit `{unit}`; use hours, days, weeks, months or years"
    column = 19 + written.index(" ") + 1
    assert where(d) == (6, column, column + len(unit))
    assert d.help == help_text


def test_an_unknown_unit_at_the_end_of_a_body_or_file() -> None:
    assert where(diagnose(f"{HEADER}forbid f {{ when duration > 3 mnths }}\n")) == (4, 30, 35)
    assert diagnose(f"{HEADER}operation o {{\n    duration: 2 dys").message.startswith(
        "unknown unit `dys`")


def test_a_number_with_an_underscore() -> None:
    d = diagnose(power("1_000 days"))
    assert (d.message, d.help, where(d)) == (
        "`1_000` is not a number: write digits only", "write `1000`", (6, 19, 24))


def test_a_number_run_into_its_unit() -> None:
    d = diagnose(power("3months"))
    assert (d.message, where(d)) == ("write a number and a unit apart: `3 months`", (6, 19, 26))
    d = diagnose(power("3mnths"))
    assert d.message.startswith("unknown unit `mnths`")
    assert d.help == "write the unit apart from the number; did you mean `months`?"


def test_a_decimal_number() -> None:
    d = diagnose(power("1.5 months"))
    assert (d.message, where(d)) == ("`1.5` is not a whole number", (6, 19, 22))
    assert "field_keyword" not in (d.help or "")
    assert "6 weeks" in (d.help or "")


def test_expected_tokens_never_show_internal_names() -> None:
    d = diagnose(f"{HEADER}power p {{\n    threats: t\n    max_duration: 3 months\n    3")
    assert d.help is not None
    assert "field_keyword" not in d.help and "_" not in d.help


# ---- unclosed bodies --------------------------------------------------------------------------


def test_an_unclosed_law_header_is_reported_at_its_brace() -> None:
    d = diagnose('law "x" {\n    version: "1"\n    description: "y"\n')
    assert (d.message, where(d)) == ("the `{` of `law` is never closed", (1, 9, 10))
    assert d.help == "close it with `}`"


def test_the_innermost_unclosed_brace_is_named() -> None:
    d = diagnose(f"{HEADER}operation o {{\n    subject target {{\n        protected: journalist\n")
    assert (d.message, where(d)) == ("the `{` of `subject` is never closed", (5, 20, 21))


def test_a_file_that_ends_inside_a_field_says_what_was_expected() -> None:
    d = diagnose('law "x" {\n    version:\n')
    assert d.message == "unexpected end of file"
    assert d.help is not None and "a string" in d.help and "_" not in d.help


# ---- conditions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "operator", "column"), [
    ("a < b < c", "<", 23), ("a == b == c", "==", 24), ("(a <= b >= c)", ">=", 25),
    ("a in b < c", "<", 24), ("a not in b contains c", "contains", 28),
])
def test_a_chained_comparison(condition: str, operator: str, column: int) -> None:
    d = diagnose(f"{HEADER}forbid f {{ when {condition} }}\n")
    assert d.message == (f"`{operator}` cannot follow a comparison: compare two values at a "
                         "time, joined by `and`")
    assert where(d) == (4, column, column + len(operator))
    assert "operation" not in (d.help or "")


# ---- strings ----------------------------------------------------------------------------------


def test_an_invalid_escape_is_reported_at_its_backslash() -> None:
    d = diagnose('law "x" {\n    description: "see C:\\docs\\wiv.pdf"\n}\n')
    assert (d.message, where(d)) == ("invalid escape `\\d` in a string", (2, 25, 27))
    assert d.help is not None and d.help.startswith("write `\\\\` for a backslash")


def test_valid_escapes_and_an_unterminated_string() -> None:
    assert diagnose('law "x" {\n    description: "a \\" \\\\ \\n \\t\n}\n').message == (
        "unterminated string")
    assert diagnose('law "x\\').message == "unterminated string"


# ---- line endings -----------------------------------------------------------------------------


def test_a_lone_carriage_return_is_reported_where_it_is() -> None:
    d = diagnose(f"{HEADER}power p {{\n    requires: a  # std\r    requires: b\n}}\n")
    assert (d.code, d.message, where(d)) == (
        "bad-source", "a carriage return (CR) without a line feed", (5, 23, 24))
    assert d.help == "save the file with LF or CRLF line endings"


def test_a_file_with_only_carriage_returns_is_not_empty() -> None:
    d = diagnose("# a law\rlaw \"x\" {\r    version: \"1\"\r}\r")
    assert (d.message, where(d)) == ("a carriage return (CR) without a line feed", (1, 8, 9))


def test_crlf_line_endings_parse() -> None:
    module = parse(HEADER.replace("\n", "\r\n") + "threat a  # c\r\n", "t.auth")
    assert len(module.items) == 2 and module.items[1].span.line == 4


# ---- digits -----------------------------------------------------------------------------------


def test_a_full_width_digit_is_not_a_number() -> None:
    d = diagnose(f"{HEADER}capability c {{\n    intrusion: \uff15\n}}\n")
    assert (d.message, where(d)) == (
        "`\uff15` (U+FF15, fullwidth digit five) is not an ASCII digit", (5, 16, 17))
    assert d.help == "write numbers and dates with the digits 0-9: `5`"


def test_a_digit_of_another_script_inside_a_date() -> None:
    d = diagnose('law "x" {\n    in_force: 2028-\uff101-01 ..\n}\n')
    assert where(d) == (2, 20, 21)
    assert d.help == "write numbers and dates with the digits 0-9: `2028-01-01`"


@pytest.mark.parametrize("text", ["\uff11 month", "\u0663 days", "1\uff10 weeks"])
def test_parse_duration_takes_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="write numbers with the ASCII digits 0-9"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["\uff12028-06-01", "2028-06-\u0660\u0661"])
def test_parse_date_takes_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="write numbers with the ASCII digits 0-9"):
        parse_date(text)


# ---- decomposed characters --------------------------------------------------------------------


def test_a_decomposed_accent_is_shown_by_code_point_with_the_composed_name() -> None:
    decomposed = unicodedata.normalize("NFD", "espionag\u00e9")
    d = diagnose(f"{HEADER}threat {decomposed} under state_actors\n")
    assert (d.message, where(d)) == (
        "unexpected character U+0301 (combining acute accent)", (4, 17, 18))
    assert "\u0301" not in d.message
    assert d.help is not None and "`espionag\u00e9`" in d.help and "NFC" in d.help
    threat = parse(f"{HEADER}threat espionag\u00e9\n").items[1]
    assert isinstance(threat, ast.Threat) and threat.name.name == "espionag\u00e9"


# ---- reserved words ---------------------------------------------------------------------------


@pytest.mark.parametrize(("declaration", "what"), [
    ("threat true", "a threat"), ("threat under", "a threat"), ("threat day under t", "a threat"),
    ("capability any", "a capability"), ("protected on", "a protected category"),
    ("set and = {}", "a set"), ("power requires {\n    threats: t\n}", "a power"),
])
def test_a_reserved_word_cannot_be_declared(declaration: str, what: str) -> None:
    d = diagnose(f"{HEADER}{declaration}\n")
    word = declaration.split()[1]
    assert d.message == f"`{word}` is a reserved word and cannot name {what}"
    assert where(d) == (4, len(declaration.split()[0]) + 2, len(declaration.split()[0]) + 2
                        + len(word))


def test_keywords_still_name_facts_and_fields() -> None:
    """`threat` and `protected` are keywords and still name a fact in a condition and a field
    of an operation and of a subject."""
    module = parse(f"{HEADER}forbid f {{\n    when threat under t and protected contains j\n}}\n"
                   "operation o {\n    threat: t\n    subject target {\n"
                   "        protected: j\n    }\n}\n")
    law, forbid, operation = module.items
    assert isinstance(law, ast.Law)
    assert isinstance(forbid, ast.Prohibition) and forbid.name == ast.Ident("f")
    assert forbid.condition == ast.And((
        ast.Compare("under", ast.Path(("threat",)), ast.Path(("t",))),
        ast.Compare("contains", ast.Path(("protected",)), ast.Path(("j",)))))
    assert isinstance(operation, ast.OperationSpec) and operation.id == "o"
    assert operation.threat == ast.Ident("t")
    assert operation.subjects == (ast.SubjectSpec("target", (ast.Ident("j"),)),)


def test_a_carriage_return_inside_a_string_is_part_of_it() -> None:
    module = parse(f'{HEADER}# "a quote in a comment\nthreat t {{\n    description: "a\rb"\n}}\n')
    threat = module.items[1]
    assert isinstance(threat, ast.Threat) and threat.description == "a\rb"
    d = diagnose(f'{HEADER}# "a quote in a comment\r"\nthreat t\n')
    assert where(d) == (4, 24, 25)
