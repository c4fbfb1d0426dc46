"""`diagnostics.closest`, the did-you-mean search, against `difflib.get_close_matches`; which
comments are `# allow:` directives."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from authority_dsl.checker import check_file, load_law
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
