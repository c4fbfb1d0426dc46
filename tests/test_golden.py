"""Golden diagnostics: each bad file under tests/golden/bad has a `.expected` file listing every
diagnostic (severity, code, file, line, column, message); each good file checks clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from authority_dsl.checker import check_file
from authority_dsl.diagnostics import Diagnostic

GOLDEN = Path(__file__).parent / "golden"
BAD = sorted(p for p in (GOLDEN / "bad").glob("*.auth"))
GOOD = sorted((GOLDEN / "good").glob("*.auth"))

# Every diagnostic code the checker and parser can report, each with at least one bad file.
CODES = {
    "syntax-error", "bad-source", "bad-field", "bad-value", "too-deep", "file-kind",
    "unknown-name", "duplicate-definition", "threat-cycle", "type-error",
    "technique-as-capability", "import-outside-folder", "import-cycle", "wrong-kind",
    "no-safeguard", "unused", "hidden-character", "mixed-script",
}


def render(d: Diagnostic, base: Path) -> str:
    file = Path(d.span.file)
    shown = file.relative_to(base) if file.is_relative_to(base) else file
    return f"{d.severity.value} {d.code} {shown}:{d.span.line}:{d.span.column} {d.message}"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    actual = [render(d, path.parent) for d in check_file(path)]
    assert actual == expected
    assert any(line.startswith("error ") or line.startswith("warning ") for line in actual)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_file(path: Path) -> None:
    assert check_file(path) == []


def test_every_code_has_a_bad_file() -> None:
    seen = set()
    for path in BAD:
        for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
            seen.add(line.split()[1])
    assert seen == CODES


def regenerate() -> None:  # pragma: no cover - run by hand after reviewing a change
    for path in BAD:
        lines = [render(d, path.parent) for d in check_file(path)]
        path.with_suffix(".expected").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    regenerate()
