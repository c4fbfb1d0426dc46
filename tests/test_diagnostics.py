"""`diagnostics.closest`, the did-you-mean search, against `difflib.get_close_matches`; which
comments are `# allow:` directives; the wording of a few messages."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from authority_dsl.checker import check_file, load_law
from authority_dsl.cli import main
from authority_dsl.diagnostics import closest, did_you_mean

from .test_decide import ROOT

# A small alphabet makes near matches, equal ratios and equal bounds common.
words = st.text(alphabet="abcde_", max_size=12)


def expected(word: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, sorted(set(known)), n=1, cutoff=0.6)
    return matches[0] if matches else None


@st.composite
def near_words(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A word and candidates made from it by a few edits (swapped, dropped, doubled or changed
    letters, and shuffles), with some unrelated words: many candidates whose bound is far above
    their ratio, and many close calls."""
    word = draw(st.text(alphabet="abcde_", min_size=1, max_size=10))
    known = draw(st.lists(words, max_size=5))
    for _ in range(draw(st.integers(0, 12))):
        letters = list(word)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(letters)))
            action = draw(st.sampled_from(["swap", "drop", "double", "change", "shuffle"]))
            if action == "shuffle":
                letters = draw(st.permutations(letters))
            elif i < len(letters):
                if action == "swap" and i + 1 < len(letters):
                    letters[i], letters[i + 1] = letters[i + 1], letters[i]
                elif action == "drop":
                    del letters[i]
                elif action == "double":
                    letters.insert(i, letters[i])
                elif action == "change":
                    letters[i] = draw(st.sampled_from("abcde_"))
        known.append("".join(letters))
    return word, known


@given(words, st.lists(words, max_size=30))
@example("ab", ["ba", "ab_", "_ab"])  # equal ratios: the greater text wins
@example("", ["", "a"])
@example("abcde", ["abced", "abcd"])  # the highest bound is not the best ratio
@example("cba", ["bac", "bad"])  # equal ratios, the greater text has the lower bound
def test_closest_is_difflibs_answer(word: str, known: list[str]) -> None:
    assert closest(word, set(known)) == expected(word, known)


@given(near_words())
def test_closest_is_difflibs_answer_among_near_words(case: tuple[str, list[str]]) -> None:
    word, known = case
    assert closest(word, set(known)) == expected(word, known)


def test_closest_on_misspelt_names_of_the_example_laws() -> None:
    law, _ = load_law(str(ROOT / "specs" / "wiv_threat_draft.auth"))
    assert law is not None
    for names in (law.techniques, law.capabilities, law.threats, law.safeguards):
        known = sorted(names)
        for name in known:
            for typo in (name[1:], name[:-1], name + name[-1], name[1] + name[0] + name[2:],
                         name.upper(), name[: len(name) // 2]):
                assert closest(typo, set(known)) == expected(typo, known), typo
    assert did_you_mean("terorism", ["terrorism", "espionage"]) == "did you mean `terrorism`?"
    assert did_you_mean("xyz", ["terrorism"]) is None


@pytest.mark.parametrize(("comment", "allows"), [
    ("# allow: unused", True),
    ("#allow:unused", True),
    ("  #   allow: mixed-script, unused  (kept for the annex)", True),
    ("threat other  # allow: unused", True),
    ("# we do not allow: unused threats here", False),
    ("# TODO allow: unused", False),
    ("## allow: unused", False),
    ('threat other { description: "not # allow: unused" }', False),
    ('threat other { description: "say \\"hi\\"" } # allow: unused', True),
])
def test_only_an_allow_directive_allows(comment: str, allows: bool, tmp_path: Path) -> None:
    """A comment whose text begins with `allow:` is a directive; prose that mentions it is not,
    nor is a `#` inside a string."""
    declaration = comment if comment.startswith("threat") else f"{comment}\nthreat other"
    spec = tmp_path / "law.auth"
    spec.write_text(f'law "x" {{}}\n{declaration}\n', "utf-8")
    codes = [d.code for d in check_file(spec)]
    assert codes == ([] if allows else ["unused"])


@pytest.mark.parametrize("hidden", ["\x00", "\x1b[2J", "\u202e", "\u200b", "\u2028"])
def test_the_source_line_shown_hides_nothing_and_keeps_the_caret(hidden: str) -> None:
    """A control or format character in the quoted line (a NUL, an escape sequence that would
    act on the terminal, a bidirectional override that would reorder the line) is shown as
    U+FFFD, one for one, so the caret stays under the column it names."""
    from authority_dsl.diagnostics import Diagnostic, Severity, Span
    from authority_dsl.render import diagnostic_text

    line = f'  version: "a{hidden}b" zz'
    column = line.index("zz") + 1
    d = Diagnostic(Severity.ERROR, "syntax-error", "unexpected name",
                   Span("x.auth", 1, column, 1, column + 2))
    text = diagnostic_text(d, {"x.auth": line + "\n"}).plain
    shown, caret = text.splitlines()[1:3]
    assert shown.isprintable()
    assert shown.count("\ufffd") == sum(not c.isprintable() for c in hidden)
    assert caret.index("^") == shown.index("zz")


@pytest.mark.parametrize(("item", "what"), [
    ('case "c" {\n expect: denied\n operation x { date: 2024-01-01 }\n}', "a case"),
    ("operation x {\n date: 2024-01-01\n}", "an operation"),
])
def test_a_law_holding_a_case_or_an_operation_says_which(
        item: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the article its noun takes: `a case`, `an operation`."""
    spec = tmp_path / "law.auth"
    spec.write_text(f'law "x" {{}}\n{item}\n', "utf-8")
    [d] = [d for d in check_file(spec) if d.code == "file-kind"]
    noun = what.split()[1]
    assert (d.message, d.help) == (f"a law may not contain {what}",
                                   f"put {noun}s in a file of their own")
    # A case file given as the law, as `authority test` reads it.
    cases = tmp_path / "cases.auth"
    cases.write_text(f"{item}\n", "utf-8")
    assert main(["test", str(cases), str(cases)]) == 1
    assert f"error[file-kind]: a law may not contain {what}\n" in capsys.readouterr().err


@pytest.mark.parametrize(("line", "word"), [
    ("\twhen intrusion > 3 months", "intrusion > 3 months"),
    ("\t\tthreats: a,\tb", "b"),
    ("  x\t\twhen y", "y"),
    ("    threats: 国家安全, 国家安全x", "国家安全x"),
    ("\t国家\tx == 1", "x"),
    ('    description: "e\u0301" zz', "zz"),
])
def test_the_caret_goes_by_the_cells_the_line_takes(line: str, word: str) -> None:
    """The line is shown with its tabs expanded to stops every 4 cells, and a wide character
    (CJK) takes 2 cells, a combining accent none: the caret counts cells, not characters, so it
    stays under the text it names."""
    from rich.cells import cell_len

    from authority_dsl.diagnostics import Diagnostic, Severity, Span
    from authority_dsl.render import diagnostic_text

    column = line.rindex(word) + 1
    d = Diagnostic(Severity.ERROR, "unknown-name", "unknown threat",
                   Span("x.auth", 1, column, 1, column + len(word)))
    shown, caret = diagnostic_text(d, {"x.auth": line + "\n"}).plain.splitlines()[1:3]
    assert "\t" not in shown
    assert caret.index("^") == cell_len(shown[:shown.rindex(word)])
    assert caret.count("^") == cell_len(word)


def test_the_caret_under_a_tab_indented_law(tmp_path: Path) -> None:
    from authority_dsl.render import diagnostic_text

    spec = tmp_path / "law.auth"
    spec.write_text('law "T" {\n\tversion: "1"\n}\n\nforbid f {\n\twhen intrusion > 3 months\n}\n',
                    "utf-8")
    [d] = check_file(spec)
    assert d.code == "type-error"
    shown, caret = diagnostic_text(d).plain.splitlines()[1:3]
    assert shown == "6 |     when intrusion > 3 months"
    assert caret == "  |          ^^^^^^^^^^^^^^^^^^^^"


def test_sarif_uris_are_percent_encoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative path is a URI reference too: a space or `#` in it is percent-encoded, as the
    `file:` URI of an absolute path has it."""
    from authority_dsl.analysis.sarif import to_sarif

    def uri(file: str) -> str:
        [d] = check_file(Path(file))
        [result] = to_sarif([d])["runs"][0]["results"]
        return str(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])

    monkeypatch.chdir(tmp_path)
    (tmp_path / "laws").mkdir()
    for name in ("draft v2#final.auth", "laws/été 100%.auth"):
        (tmp_path / name).write_text('law "x" {}\nthreat unused_one\n', "utf-8")
    assert uri("draft v2#final.auth") == "draft%20v2%23final.auth"
    assert uri("laws/été 100%.auth") == "laws/%C3%A9t%C3%A9%20100%25.auth"
    assert uri(str(tmp_path / "draft v2#final.auth")) == \
        (tmp_path / "draft v2#final.auth").as_uri()
    assert uri(str(tmp_path / "draft v2#final.auth")).endswith("/draft%20v2%23final.auth")


@pytest.mark.parametrize(("decl", "message", "help_start"), [
    ("power p {\n    threats: t\n    when urgent\n}",
     "a `when` clause in a power needs `requires NAME, ...`",
     "write `when CONDITION requires NAME, ...` as one clause"),
    ("share s {\n    recipients: r\n    when urgent\n}",
     "a `when` clause in a share rule needs `requires NAME, ...`",
     "write `when CONDITION requires NAME, ...` as one clause"),
    ("forbid f1 { when urgent requires minister_approval }",
     "a `when` clause in a prohibition takes no `requires`",
     "a prohibition forbids when its condition holds"),
    ("principle p { requires: court when urgent requires minister_approval }",
     "a `when` clause in a principle takes no `requires`",
     "the `when` says which operations the principle is about"),
])
def test_a_when_clause_of_the_wrong_kind_says_what_it_lacks_or_has(
        decl: str, message: str, help_start: str) -> None:
    """Powers and share rules take `when COND requires ...`, prohibitions and principles a bare
    `when COND`: the other kind is not refused as if no `when` were allowed."""
    from authority_dsl.diagnostics import DiagnosticError
    from authority_dsl.parser import parse

    with pytest.raises(DiagnosticError) as raised:
        parse(decl)
    [d] = raised.value.diagnostics
    assert (d.code, d.message) == ("bad-field", message)
    assert d.help is not None and d.help.startswith(help_start)


@pytest.mark.parametrize("kind", ["forbid", "principle"])
def test_a_prohibition_or_principle_without_when_is_located_at_its_name(kind: str,
                                                                        tmp_path: Path) -> None:
    """The caret is under the name (it covered `name {`)."""
    spec = tmp_path / "law.auth"
    spec.write_text(f'law "T" {{\n    version: "1"\n}}\n\n{kind} nothing {{\n'
                    '    description: "x"\n}\n', "utf-8")
    [d] = [d for d in check_file(spec) if "needs a `when` condition" in d.message]
    assert (d.span.line, d.span.column, d.span.end_line, d.span.end_column) == \
        (5, len(kind) + 2, 5, len(kind) + 2 + len("nothing"))


def test_a_vocabulary_file_has_its_imports_checked(tmp_path: Path) -> None:
    """`check` on a file without a law checked nothing of its imports: a missing one, one
    leaving the folder and a cycle all gave "0 errors"."""
    cases = {'import "nope.auth"': "unknown-name", 'import "../x.auth"': "import-outside-folder",
             'import "v.auth"': "import-cycle"}
    for line, code in cases.items():
        spec = tmp_path / "v.auth"
        spec.write_text(f"{line}\nassessment q\n", "utf-8")
        assert [d.code for d in check_file(spec) if d.is_error] == [code], line
    (tmp_path / "x.auth").write_text("assessment r\n", "utf-8")
    spec.write_text('import "x.auth"\nassessment q\n', "utf-8")
    assert check_file(spec) == []


def test_a_threat_never_in_force_and_the_article_of_a_kind(tmp_path: Path) -> None:
    spec = tmp_path / "law.auth"
    spec.write_text('law "T" {\n    version: "1"\n}\n\nthreat a {\n    valid: 2022-01-01 .. '
                    '2025-12-31\n}\n\nthreat b under a {\n    valid: 2026-01-01 .. 2030-12-31\n'
                    '}\n\ncapability cap {\n    intrusion: 3\n}\n\nassessment necessity\n\n'
                    'power pa {\n    threats: a, b\n    capabilities: cap\n'
                    '    requires: necessity\n}\n\npower pb {\n    threats: necessity\n'
                    '    capabilities: cap\n    requires: necessity\n}\n', "utf-8")
    diags = check_file(spec)
    [never] = [d for d in diags if d.code == "threat-never-in-force"]
    assert (never.span.line, never.message) == (
        9, "threat `b` is never in force: its `valid` window lies outside that of a threat "
        "above it")
    assert "`necessity` is an assessment, not a threat" in {d.message for d in diags}


def test_a_law_header_in_an_imported_file_is_one_error(tmp_path: Path) -> None:
    """It was also "a second law header" (`duplicate-definition`) besides `file-kind`."""
    (tmp_path / "a.auth").write_text('law "A" {\n    version: "1"\n}\n\nimport "b.auth"\n',
                                     "utf-8")
    (tmp_path / "b.auth").write_text('law "B" {\n    version: "1"\n}\n\nassessment r\n', "utf-8")
    errors = [(d.code, d.message) for d in check_file(tmp_path / "a.auth") if d.is_error]
    assert errors == [("file-kind", "an imported file may not have a law header")]


def test_sarif_says_its_columns_count_characters(tmp_path: Path) -> None:
    """SARIF's default column is a UTF-16 code unit; the tool counts characters, so it says so
    (an emoji before a name moved a SARIF reader's underline)."""
    from authority_dsl.analysis.sarif import to_sarif

    spec = tmp_path / "law.auth"
    spec.write_text('law "x" {\n    version: "1"\n}\n\nthreat t {\n    description: "😀" }\n'
                    "power q { description: \"😀😀\" threats: terorism }\n", "utf-8")
    [run] = to_sarif(check_file(spec))["runs"]
    assert run["columnKind"] == "unicodeCodePoints"


def test_a_number_too_large_is_quoted_whole_or_marked_cut(tmp_path: Path) -> None:
    spec = tmp_path / "law.auth"
    spec.write_text('law "x" {\n    version: "1"\n}\n\ncapability look {\n'
                    "    intrusion: 99999999999999999999999\n}\n", "utf-8")
    messages = [d.message for d in check_file(spec) if d.code == "bad-value"]
    assert messages == ["number `99999999999999999999…` is too large"]
