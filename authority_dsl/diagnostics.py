"""Source spans and the one diagnostic type every phase reports with."""

from __future__ import annotations

import enum
import functools
from collections import Counter
from collections.abc import Iterable

import attrs


@attrs.frozen
class Span:
    """A region of a source file; 1-based lines and columns, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<unknown>", 1, 1, 1, 1)


def span_field() -> Span:
    """An attrs field for a span that is left out of equality and repr."""
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Diagnostic:
    """One finding: severity, a stable code, a lowercase message, where, and optional help."""

    severity: Severity
    code: str
    message: str
    span: Span
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "help": self.help,
        }


def os_reason(exc: OSError) -> str:
    """Why a file could not be used, lowercase as every message is: the system's words
    (`permission denied`, not the `Permission denied` of `strerror`), else the exception's."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def error(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, help)


def warning(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, help)


class DiagnosticError(Exception):
    """Raised when a phase cannot go on; carries the diagnostics found so far."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.span}: {first.message}" if first else "error")


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.span.file, d.span.line, d.span.column, d.code)


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """A help text suggesting the nearest known name, if one is close enough."""
    match = closest(name, known)
    return f"did you mean `{match}`?" if match is not None else None


def closest(word: str, possibilities: Iterable[str], cutoff: float = 0.6) -> str | None:
    """`difflib.get_close_matches(word, possibilities, n=1, cutoff=cutoff)`'s answer (or None),
    found with fewer of its costly similarity ratios: candidates go in order of their cheap upper
    bound (`quick_ratio`, here from letter counts made once per set of names), and the search
    stops once no bound can beat the best ratio found (ties go to the greater text, as there)."""
    import difflib

    counts = Counter(word)
    size = len(word)
    bounded = []
    for x, length, letters in _letter_counts(frozenset(possibilities)):
        total = length + size
        # `real_quick_ratio`, then `quick_ratio`: the letters both have, counted with repeats.
        if total and 2.0 * min(length, size) / total < cutoff:
            continue
        common = 0
        for letter, n in letters:
            m = counts.get(letter, 0)
            common += n if n < m else m
        bound = 2.0 * common / total if total else 1.0
        if bound >= cutoff:
            bounded.append((bound, x))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    s = difflib.SequenceMatcher()
    s.set_seq2(word)
    for bound, x in bounded:
        if best is not None and (bound, x) <= best:
            break  # every candidate left has (ratio, text) <= (bound, text) <= best
        s.set_seq1(x)
        ratio = s.ratio()
        if ratio >= cutoff and (best is None or (ratio, x) > best):
            best = ratio, x
    return None if best is None else best[1]


@functools.lru_cache(maxsize=256)
def _letter_counts(names: frozenset[str]) -> tuple[tuple[str, int, tuple[tuple[str, int], ...]],
                                                   ...]:
    """Each name with its length and how often each letter occurs in it."""
    return tuple((x, len(x), tuple(Counter(x).items())) for x in names)
