"""docs/tutorial.md is a transcript: its REPL lines must give the verdicts and output it shows.

In each fenced block, `authority> ` lines are commands, `      ... ` lines continue a pasted
block, `$ authority repl SPEC` loads SPEC, a `…` line stands for output left out, and every other
line is output the command must show. The verdicts (PERMITTED, REQUIRES, DENIED) the tutorial
shows for a command must be exactly the verdicts the REPL gives, in order.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import attrs
import pytest

from authority_dsl.repl import Session
from authority_dsl.repl.session import CONTINUATION, PROMPT

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
SPECS = ("specs/wiv_threat_draft.auth", "specs/wiv2017.auth", "specs/techniques.auth")
VERDICT = re.compile(r"\b(PERMITTED|REQUIRES|DENIED)\b")
WIDTH = 100


@attrs.define
class Step:
    command: str
    line: int  # in the tutorial, for messages
    expected: list[str] = attrs.field(factory=list)


def steps(text: str) -> list[Step]:
    """The commands of every fenced block, in order, each with the output lines shown."""
    out: list[Step] = []
    in_block = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        if line.startswith("$ authority repl "):
            out.append(Step(f"load {line.removeprefix('$ authority repl ').strip()}", number))
        elif line.startswith(PROMPT):
            out.append(Step(line.removeprefix(PROMPT), number))
        elif line.startswith(CONTINUATION) and out:
            out.append(Step(line.removeprefix(CONTINUATION), number))
        elif out and line.strip() and line.strip() != "…":
            out[-1].expected.append(line)
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_tutorial_uses_the_repl() -> None:
    found = steps(TUTORIAL.read_text(encoding="utf-8"))
    commands = {step.command.split()[0] for step in found}
    assert len(found) > 40
    assert {"load", "set", "add", "unset", "decide", "why", "whatif", "compare", "show", "list",
            "undo", "redo", "new", "history", "quit"} <= commands
    text = TUTORIAL.read_text(encoding="utf-8")
    assert "journalist" in text and "compare specs/wiv2017.auth" in text


@pytest.mark.skipif(not all((ROOT / s).exists() for s in SPECS),
                    reason="the example specs are not there")
def test_the_tutorial_transcript(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    session = Session(today=dt.date(2030, 1, 1))
    problems: list[str] = []
    for step in steps(TUTORIAL.read_text(encoding="utf-8")):
        output = session.execute(step.command)
        actual = output.text(WIDTH)
        where = f"docs/tutorial.md:{step.line}: `{step.command}`"
        shown = "\n".join(step.expected)
        if output.error != any(e.startswith("error") for e in step.expected):
            problems.append(f"{where}: {'fails' if output.error else 'succeeds'}, unlike the "
                            f"tutorial:\n{actual}")
        expected_verdicts = VERDICT.findall(shown)
        actual_verdicts = VERDICT.findall(actual)
        if expected_verdicts and expected_verdicts != actual_verdicts:
            problems.append(f"{where}: the tutorial shows {expected_verdicts}, the REPL gives "
                            f"{actual_verdicts}:\n{actual}")
        for line in step.expected:
            if flat(line) not in flat(actual):
                problems.append(f"{where}: missing line {line!r} in:\n{actual}")
        if output.quit:
            break
    assert not problems, "\n\n".join(problems)
    assert session.operation.id == "share-1"
