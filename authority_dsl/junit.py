"""JUnit XML for conformance suites: one <testsuite> per case file, one <testcase> per case.

The layout is the common denominator that CI systems read (Jenkins, GitLab, GitHub actions that
publish test reports): `testsuites > testsuite > testcase`, a `<failure>` for a case whose decision
does not match, and the counts and times as attributes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .cases import Result

# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Lone surrogates: each byte of a file name that is not UTF-8, as Python decodes it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    """Text XML can hold: a byte of a file name that is not UTF-8 as the text `\\udcff`, as
    JSON output and text output give it, any other character XML refuses as U+FFFD."""
    return _NOT_XML.sub("\ufffd", _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text))


def failure_text(result: Result) -> str:
    """Expected against actual, then the decision's explanation, as plain text."""
    lines = [f"{m.field}: expected {m.expected}, got {m.actual}" for m in result.mismatches]
    d = result.decision
    lines.append("")
    lines.append(f"decision: {d.verdict}")
    lines.extend(f"  authorised: `{a.capability}` by power `{a.power}`" for a in d.authorised)
    lines.extend(f"  missing: {m.kind} `{m.requirement}` (imposed by `{m.power}`"
                 + (f" when {m.because}" if m.because else "") + ")" for m in d.missing)
    lines.extend(f"  violation [{v.code}]: {v.message}" for v in d.violations)
    lines.extend(f"  alternative: {a}" for a in d.alternatives)
    if d.trace:
        lines.append("why:")
        lines.extend(f"  {step}" for step in d.trace)
    return "\n".join(lines)


def _suite_name(file: str) -> str:
    p = Path(file)
    return f"{p.parent.name}.{p.stem}" if p.parent.name else p.stem


def junit_xml(results: Sequence[Result], law_title: str, times: Sequence[float]) -> bytes:
    """The JUnit XML document for a run; `times[i]` is the seconds case i took."""
    root = ET.Element("testsuites", name=_clean(f"authority test: {law_title}"))
    files: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        files.setdefault(result.case.file, []).append(i)
    total_failures = 0
    for file, indices in files.items():
        failures = sum(not results[i].passed for i in indices)
        total_failures += failures
        seconds = sum(times[i] for i in indices)
        suite = ET.SubElement(root, "testsuite", name=_clean(_suite_name(file)),
                              tests=str(len(indices)), failures=str(failures), errors="0",
                              skipped="0", time=f"{seconds:.6f}", file=_clean(file))
        for i in indices:
            result = results[i]
            case = result.case
            testcase = ET.SubElement(suite, "testcase", name=_clean(case.name),
                                     classname=_clean(_suite_name(file)), file=_clean(file),
                                     line=str(case.span.line), time=f"{times[i]:.6f}")
            if not result.passed:
                first = result.mismatches[0]
                message = f"expected {first.field} {first.expected}, got {first.actual}"
                failure = ET.SubElement(testcase, "failure", message=_clean(message),
                                        type="mismatch")
                failure.text = _clean(failure_text(result))
            out = [f"verdict: {result.decision.verdict}"]
            if case.source:
                out.append(f"source: {case.source}")
            ET.SubElement(testcase, "system-out").text = _clean("\n".join(out))
    root.set("tests", str(len(results)))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    root.set("time", f"{sum(times):.6f}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
