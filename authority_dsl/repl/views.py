"""What the REPL shows: decisions (short and full), side-by-side comparisons, declarations, lists.

Everything returns rich renderables and wraps at any width: lines of text rather than wide tables,
so that a decision stays readable in an 80-column terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..decision import Decision
from ..model import Law
from ..operation import Operation
from ..render import VERDICT_STYLE, shown
from .edits import is_name

LIST_KINDS = ("threats", "capabilities", "techniques", "protected", "safeguards", "assessments",
              "recipients", "powers", "prohibitions", "shares", "principles", "sets")


def verdict_text(verdict: str) -> Text:
    return span(verdict.upper(), VERDICT_STYLE.get(verdict, "bold"))


def span(text: str, style: str) -> Text:
    """Text whose style covers only these characters, not what is appended later."""
    return Text.assemble((text, style))


def _cites(cites: str | None) -> Text:
    return Text(f"  ({cites})", style="dim") if cites else Text()


def _grid(rows: Iterable[tuple[Text, Text]], indent: int = 4) -> Table:
    """Marker and text in two columns, so that long lines wrap under their text."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True, min_width=indent, justify="right")
    grid.add_column(overflow="fold")
    for marker, text in rows:
        grid.add_row(marker, text)
    return grid


def _section(title: str, rows: Sequence[tuple[Text, Text]]) -> list[RenderableType]:
    return [Text(f"  {title}:", style="bold"), _grid(rows)] if rows else []


def decision_lines(decision: Decision, law: Law, op: Operation) -> list[RenderableType]:
    """The verdict with what authorised each capability, what is missing and what is violated."""
    head = verdict_text(decision.verdict)
    head.append(f"  operation {shown(decision.operation)} on {op.date} under "
                f"{shown(law.title)} ({shown(law.version)})")
    parts: list[RenderableType] = [head]
    rows = []
    for a in decision.authorised:
        line = span(a.capability, "bold")
        line.append(f"  by power {a.power}")
        rows.append((Text("✓", style="green"), line + _cites(a.cites)))
    parts += _section("authorised", rows)
    rows = []
    for m in decision.missing:
        line = span(m.requirement, "bold")
        by = law.safeguards[m.requirement].by if m.requirement in law.safeguards else None
        line.append(f"  {m.kind}" + (f" by the {by.replace('_', ' ')}" if by else ""))
        line.append(f", imposed by {m.power}")
        if m.because:
            line.append(f" when {m.because}", style="cyan")
        if m.note:
            line.append(f"; {m.note}", style="magenta")
        rows.append((Text("•", style="yellow"), line + _cites(m.cites)))
    parts += _section("missing", rows)
    rows = []
    for v in decision.violations:
        line = span(f"[{v.code}] ", "bold")
        line.append(shown(v.message))
        line.append_text(_cites(v.cites))
        if v.help:
            line.append(f"  {shown(v.help)}", style="cyan")
        rows.append((Text("✗", style="red"), line))
    rows += [(Text("→", style="cyan"), Text(shown(alt))) for alt in decision.alternatives]
    parts += _section("violations", rows)
    return parts


def explanation(decision: Decision, law: Law, op: Operation) -> list[RenderableType]:
    """`why`: the decision, the reasoning step by step and every provision it rests on."""
    parts = decision_lines(decision, law, op)
    parts += _section("reasoning", [(Text(f"{i}."), Text(shown(step)))
                                    for i, step in enumerate(decision.trace, 1)])
    rows = []
    for kind, name, cites, description in _provisions(decision, law, op):
        line = span(f"{kind} ", "dim")
        line.append(name, style="bold")
        line.append_text(_cites(cites))
        if description:
            line.append(f": {description}")
        rows.append((Text("§", style="dim"), line))
    parts += _section("provisions", rows)
    return parts


def _provisions(decision: Decision, law: Law, op: Operation,
                ) -> Iterable[tuple[str, str, str | None, str | None]]:
    """The law header, the threat and its ancestors, the technique's capabilities, the deciding
    powers and rules, the missing requirements and the prohibitions that applied."""
    yield "law", law.title, None, None
    threat = law.threats.get(op.threat or "")
    while threat is not None:
        yield "threat", threat.name, threat.cites, threat.description
        threat = law.threats.get(threat.parent) if threat.parent else None
    capabilities = set(op.capabilities) | set(law.techniques.get(op.technique or "", ()))
    for name in sorted(c for c in capabilities if c in law.capabilities):
        c = law.capabilities[name]
        yield "capability", name, c.cites, c.description
    powers = {p.name: p for p in law.powers}
    seen: set[str] = set()
    rules = {r.name: r for r in law.share_rules}
    for name in [a.power for a in decision.authorised] + [m.power for m in decision.missing]:
        if name in seen:
            continue
        seen.add(name)
        if name in powers:
            yield "power", name, powers[name].cites, powers[name].description
        elif name in rules:
            yield "share rule", name, rules[name].cites, rules[name].description
    for m in decision.missing:
        if m.requirement in law.safeguards:
            s = law.safeguards[m.requirement]
            yield "safeguard", s.name, s.cites, s.description
        elif m.requirement in law.assessments:
            yield "assessment", m.requirement, law.assessments[m.requirement], None
    for p in law.prohibitions:
        if any(v.code == "prohibited" and f"`{p.name}`" in v.message
               for v in decision.violations):
            yield "prohibition", p.name, p.cites, p.description


def summary(decision: Decision) -> Text:
    """A compact form for one side of a comparison."""
    out = verdict_text(decision.verdict)
    for a in decision.authorised:
        out.append(f"\n✓ {a.capability} ← {a.power}", style="green")
    if decision.missing:
        out.append("\nmissing: ", style="bold")
        out.append(", ".join(m.requirement for m in decision.missing), style="yellow")
    for v in decision.violations:
        out.append(f"\n✗ [{v.code}] {shown(v.message)}", style="red")
    return out


def differences(before: Decision, after: Decision) -> list[str]:
    """What changed between two decisions, in words."""
    out = []
    if before.verdict != after.verdict:
        out.append(f"verdict {before.verdict} → {after.verdict}")
    else:
        out.append(f"verdict unchanged: {after.verdict}")
    gone = {m.requirement for m in before.missing} - {m.requirement for m in after.missing}
    new = [m for m in after.missing if m.requirement not in {x.requirement for x in
                                                              before.missing}]
    for m in new:
        why = "; ".join(x for x in (m.because and f"when {m.because}", m.note) if x)
        out.append(f"now also missing: {m.requirement}" + (f" ({why})" if why else ""))
    if gone and after.verdict == "denied" and not after.missing:
        # Nothing was weighed: they are not met, only no longer reported.
        out.append(f"not reported as missing, as the operation is denied: "
                   f"{', '.join(sorted(gone))}")
    elif gone:
        out.append(f"no longer missing: {', '.join(sorted(gone))}")
    old_v = {v.message for v in before.violations}
    new_v = {v.message for v in after.violations}
    out.extend(f"new violation: {m}" for m in sorted(new_v - old_v))
    out.extend(f"no longer violated: {m}" for m in sorted(old_v - new_v))
    powers_before = {a.capability: a.power for a in before.authorised}
    for a in after.authorised:
        if powers_before.get(a.capability) not in (None, a.power):
            out.append(f"`{a.capability}` now authorised by {a.power} instead of "
                       f"{powers_before[a.capability]}")
    return out


def side_by_side(left_title: str, left: Decision, right_title: str, right: Decision,
                 ) -> list[RenderableType]:
    table = Table(show_lines=False, expand=True, pad_edge=False)
    table.add_column(left_title, ratio=1, overflow="fold")
    table.add_column(right_title, ratio=1, overflow="fold")
    table.add_row(summary(left), summary(right))
    return [table, _grid(((Text("·"), Text(shown(d))) for d in differences(left, right)),
                         indent=2)]


def operation_view(op: Operation, default_date: str | None) -> list[RenderableType]:
    """The operation as a DSL block, the same text the formatter gives; `default_date` says
    where the date comes from when it is the default, and is None when it was set."""
    from ..formatter import format_operation
    from ..operation import to_spec

    text = format_operation(to_spec(op))
    # Never wrapped, whatever the width: the block is to be pasted back or saved as a file.
    parts: list[RenderableType] = [highlighted(text, wrap=False)]
    if default_date is not None:
        parts.append(Text(f"# date {op.date} is the default: {default_date} (`set date` to "
                          "change it)", style="dim", no_wrap=True, overflow="ignore"))
    unreadable = [f"`{n}`" for n in dict.fromkeys(_names(op)) if not is_name(n)]
    if unreadable:  # from a .json file, which takes any text
        parts.append(Text(f"# warning: {', '.join(unreadable)} "
                          f"{'is not a name' if len(unreadable) == 1 else 'are not names'}: "
                          "the block does not read back as it is", style="yellow",
                          no_wrap=True, overflow="ignore"))
    return parts


def _names(op: Operation) -> Iterable[str]:
    """What `show` prints as names, not strings: they read back only if they are names."""
    yield from (n for n in (op.threat, op.technique) if n)
    yield from op.capabilities
    for s in op.subjects:
        yield s.role
        yield from s.protected
    yield from (a.safeguard for a in op.approvals)
    yield from op.assessments
    for share in op.sharing:
        yield from (share.recipient, share.data, *share.with_)


def highlighted(source: str, start_line: int | None = None, *,
                wrap: bool = True) -> RenderableType:
    """.auth source with the project's Pygments lexer; without `wrap`, every line whole,
    however narrow the screen."""
    from rich.syntax import Syntax

    from ..lexer import AuthorityLexer

    return Syntax(source, AuthorityLexer(), theme="ansi_dark", background_color="default",
                  line_numbers=start_line is not None, start_line=start_line or 1,
                  word_wrap=wrap,
                  code_width=None if wrap else max(map(len, source.splitlines()), default=0))


def toolbar_text(law: Law | None, op: Operation, decision: Decision | None,
                 width: int | None = None) -> list[tuple[str, str]]:
    """(style, text) pieces for the front end's bottom toolbar, in `width` columns: the verdict
    first, then the operation and the law, without their labels and cut short with `…` where
    they do not fit."""
    verdict: list[tuple[str, str]] = []
    if decision is not None:
        extra = ""
        if decision.missing:
            extra = f" ({len(decision.missing)} missing)"
        elif decision.violations:
            extra = f" ({decision.violations[0].code})"
        text = f" {decision.verdict}{extra} "
        if width is not None and cell_len(text) > width:
            text = f" {decision.verdict} "
        verdict = fit([(f"class:toolbar.{decision.verdict}", text)], width)
    room = None if width is None else width - sum(cell_len(text) for _, text in verdict)
    rest = _toolbar_about(law, op, labels=True)
    if room is not None and sum(cell_len(text) for _, text in rest) > room:
        rest = _toolbar_about(law, op, labels=False)
    return verdict + fit(rest, room)


def _toolbar_about(law: Law | None, op: Operation, *, labels: bool) -> list[tuple[str, str]]:
    what = op.technique or ", ".join(op.capabilities) or "-"
    operation = [("class:toolbar.label", "  operation " if labels else "  "),
                 ("class:toolbar.value", shown(f"{op.id}: {op.threat or '-'} / {what}"))]
    if law is None:  # what to do first, with its label always
        return [("class:toolbar.label", " law "), ("class:toolbar.value", "none (load SPEC)"),
                *operation]
    return [*operation, ("class:toolbar.label", "  law " if labels else "  "),
            ("class:toolbar.value", f"{law.id} {law.version}")]


def fit(pieces: Sequence[tuple[str, str]], width: int | None) -> list[tuple[str, str]]:
    """The toolbar's pieces that fit in `width` columns (all if None): the first that does not
    is cut short with `…`, or left out if it is a label or no more than `…` would show."""
    if width is None:
        return list(pieces)
    out: list[tuple[str, str]] = []
    room = width
    for style, text in pieces:
        size = cell_len(text)
        if size <= room:
            out.append((style, text))
            room -= size
            continue
        if not style.endswith(".label") and room >= 2:
            out.append((style, set_cell_size(text, room - 1).rstrip() + "…"))
        break
    while out and out[-1][0].endswith(".label"):  # a label whose value did not fit
        out.pop()
    return out


# ---- the law ----------------------------------------------------------------------------------


def meaning(law: Law, name: str) -> list[str]:
    """For a technique, the powers that grant its capabilities; for a power, the threats it
    covers (with their sub-threats) and the techniques whose capabilities it grants."""
    out: list[str] = []
    if name in law.techniques:
        for capability in sorted(law.techniques[name]):
            grantors = [p for p in law.powers if capability in p.capabilities]
            granted = "; ".join(f"power {p.name} for {', '.join(sorted(p.threats))}"
                                for p in sorted(grantors, key=lambda p: p.name))
            out.append(f"capability {capability}: " + (granted or "no power grants it"))
    for p in law.powers:
        if p.name != name:
            continue
        covered = sorted(t for t, ancestors in law.ancestors.items() if ancestors & p.threats)
        out.append(f"threats covered: {', '.join(covered)}")
        techniques = sorted(t for t, caps in law.techniques.items() if caps & p.capabilities)
        out.append(f"techniques whose capabilities it grants: {', '.join(techniques) or 'none'}")
    return out


def used_by(law: Law, name: str) -> list[str]:
    """Where a declared name is used: powers, rules, techniques, conditions, sub-threats."""
    out: list[str] = []
    word = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
    for t in law.threats.values():
        if t.parent == name:
            out.append(f"threat {t.name} is under it")
    for technique, caps in sorted(law.techniques.items()):
        if name in caps:
            out.append(f"technique {technique} exercises it")
    for p in law.powers:
        roles = []
        if name in p.threats:
            roles.append("granted for this threat")
        elif name in law.ancestors and p.threats & law.ancestors[name]:
            via = ", ".join(sorted(p.threats & law.ancestors[name]))
            roles.append(f"covers it through {via}")
        if name in p.capabilities:
            roles.append("grants it")
        if name in p.requires:
            roles.append("requires it")
        for c in p.conditionals:
            if name in c.requires:
                roles.append(f"requires it when {c.text}")
            elif word.search(c.text):
                roles.append(f"when {c.text}")
        out.extend(f"power {p.name}: {r}" for r in roles)
    for f in law.prohibitions:
        if word.search(f.text):
            out.append(f"prohibition {f.name}: when {f.text}")
    for r in law.share_rules:
        roles = []
        if name in r.recipients:
            roles.append("governs sharing with it")
        if name in r.requires:
            roles.append("requires it")
        if name in r.guarantees:
            roles.append("requires it as a guarantee")
        for c in r.conditionals:
            if name in c.requires:
                roles.append(f"requires it when {c.text}")
        roles.extend(f"forbid when {text}" for _, text in r.forbidden if word.search(text))
        out.extend(f"share rule {r.name}: {x}" for x in roles)
    for q in law.principles:
        if name in q.requires or word.search(q.text):
            out.append(f"principle {q.name}: when {q.text}")
    return out


def list_view(law: Law, kind: str) -> list[RenderableType]:
    rows = list(_rows(law, kind))
    if not rows:
        return [Text(f"the law declares no {kind}", style="dim")]
    return [_Listing(rows)]


class _Listing:
    """Declarations in three columns, name, about and cites, each name whole on its line, where
    the screen leaves the other columns some room beside the longest name; on a narrower one,
    each declaration as its name on a line and what it is about under it. Nothing is cut short
    (a table too wide for the screen cuts a name with `…`, and drops columns)."""

    ROOM = 24  # the least the other columns are left beside the longest name

    def __init__(self, rows: Sequence[tuple[str, str, str | None]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        longest = max(cell_len(name) for name, _, _ in self.rows)
        if longest + 2 + self.ROOM > options.max_width:
            for name, about, cites in self.rows:
                yield Text(name, style="bold", overflow="fold")
                details = Text("    " + about, overflow="fold")
                if cites:
                    details.append(("  " if about else "") + cites, style="dim")
                if details.plain.strip():
                    yield details
            return
        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("about", overflow="fold")
        table.add_column("cites", style="dim", overflow="fold")
        for name, about, cites in self.rows:
            table.add_row(name, about, cites or "")
        yield table


def _rows(law: Law, kind: str) -> Iterable[tuple[str, str, str | None]]:
    if kind == "threats":
        for name, depth in _threat_tree(law):
            t = law.threats[name]
            sev = f"severity {t.severity}" if t.severity else ""
            yield "  " * depth + name, sev, t.cites
    elif kind == "capabilities":
        for c in sorted(law.capabilities.values(), key=lambda c: (c.intrusion, c.name)):
            yield c.name, f"intrusion {c.intrusion}, {c.scope}", c.cites
    elif kind == "techniques":
        for name, caps in sorted(law.techniques.items()):
            yield name, "→ " + ", ".join(sorted(caps)), None
    elif kind == "protected":
        for name, cites in sorted(law.protected.items()):
            yield name, "", cites
    elif kind == "safeguards":
        for s in sorted(law.safeguards.values(), key=lambda s: s.name):
            about = f"by {s.by}" if s.by else ""
            if s.urgent_within:
                about += f"; when urgent, within {s.urgent_within}"
            yield s.name, about, s.cites
    elif kind == "assessments":
        for name, cites in sorted(law.assessments.items()):
            yield name, "", cites
    elif kind == "recipients":
        for name, foreign in sorted(law.recipients.items()):
            yield name, "foreign" if foreign else "domestic", None
    elif kind == "powers":
        for p in sorted(law.powers, key=lambda p: p.name):
            yield (p.name, f"{', '.join(sorted(p.capabilities))} for "
                   f"{', '.join(sorted(p.threats))}", p.cites)
    elif kind == "prohibitions":
        for f in law.prohibitions:
            yield f.name, f"when {f.text}", f.cites
    elif kind == "shares":
        for r in law.share_rules:
            yield r.name, "with " + ", ".join(sorted(r.recipients)), r.cites
    elif kind == "principles":
        for q in law.principles:
            rule = "deny" if q.deny else "requires " + ", ".join(sorted(q.requires))
            yield q.name, f"{rule} when {q.text}", q.cites
    elif kind == "sets":
        for name, values in sorted(law.sets.items()):
            yield name, "{" + ", ".join(sorted(map(str, values))) + "}", None


def _threat_tree(law: Law) -> list[tuple[str, int]]:
    children: dict[str | None, list[str]] = {}
    for t in law.threats.values():
        parent = t.parent if t.parent in law.threats else None
        children.setdefault(parent, []).append(t.name)
    out: list[tuple[str, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for name in sorted(children.get(parent, [])):
            out.append((name, depth))
            if depth < 50:
                walk(name, depth + 1)

    walk(None, 0)
    return out


def declaration_view(kind: str, name: str, where: str | None, source: str | None,
                     start_line: int | None, uses: Sequence[str],
                     means: Sequence[str] = ()) -> list[RenderableType]:
    head = span(f"{kind} ", "dim")
    head.append(name, style="bold")
    if where:
        head.append(f"  declared at {where}", style="dim")
    parts: list[RenderableType] = [head]
    if source:
        parts.append(highlighted(source, start_line))
    if means:
        parts.append(Text("in this law:", style="bold"))
        parts.append(_grid(((Text("·"), Text(m)) for m in means), indent=2))
    if uses:
        parts.append(Text("used by:", style="bold"))
        parts.append(_grid(((Text("·"), Text(u)) for u in uses), indent=2))
    elif not means:
        parts.append(Text("not used by any power, rule or condition", style="dim"))
    return parts


def group(parts: Sequence[RenderableType]) -> RenderableType:
    return Group(*parts)
