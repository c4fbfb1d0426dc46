"""SARIF 2.1.0 output for code-review platforms (GitHub code scanning and others).

One run, one result per diagnostic, with the rule (the diagnostic's code), its level and its
location; help texts become the rules' help.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..diagnostics import Diagnostic

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# Short descriptions of the codes drafters meet most; others fall back to the code itself.
RULES = {
    "technology-word": "A threat, capability or power is named or described after a technology",
    "capability-not-granted": "A capability that no power grants",
    "power-never-applies": "A power that no operation can ever use",
    "power-shadowed": "A power made redundant by another power",
    "safeguard-ladder": "A more intrusive capability needs fewer safeguards than a less "
                        "intrusive one",
    "no-safeguard": "A power that requires no safeguard",
    "unused": "A declaration nothing refers to",
    "unknown-name": "A name that is not declared",
    "syntax-error": "The text does not follow the grammar",
    "type-error": "A condition compares values of different types",
}


def _uri(file: str) -> str:
    """A URI reference for the file: an absolute path as a `file:` URI, a relative one
    percent-encoded (`draft%20v2%23final.auth`), as RFC 3986 wants both. What is encoded is the
    name's bytes, as the file system has them: a name that is not UTF-8 (`x\\xff.auth`) gives
    `x%FF.auth`."""
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(os.fsencode(path.as_posix()))


def to_sarif(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """A SARIF log with one run for the diagnostics."""
    diags = list(diagnostics)
    codes = sorted({d.code for d in diags})
    rules = []
    for code in codes:
        rule: dict[str, Any] = {"id": code, "name": code,
                                "shortDescription": {"text": RULES.get(code, code)}}
        helps = sorted({d.help for d in diags if d.code == code and d.help})
        if helps:
            rule["help"] = {"text": helps[0]}
        rules.append(rule)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in diags:
        message = d.message + (f" (help: {d.help})" if d.help else "")
        results.append({
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": "error" if d.is_error else "warning",
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(d.span.file)},
                "region": {"startLine": d.span.line, "startColumn": d.span.column,
                           "endLine": d.span.end_line, "endColumn": d.span.end_column},
            }}],
        })
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "authority-dsl", "version": __version__,
                                "rules": rules}},
            "results": results,
            # Columns count characters, as every message of the tool does (SARIF's default
            # is UTF-16 code units, which differ past the Basic Multilingual Plane).
            "columnKind": "unicodeCodePoints",
        }],
    }
