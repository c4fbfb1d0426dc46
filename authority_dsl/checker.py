"""Loading and checking a spec: imports, names, kinds, hierarchy, types and warnings.

`load_law` returns the checked `model.Law` together with every diagnostic found; the checker never
stops at the first problem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from . import ast
from .conditions import Cond, Const, Typer, with_article
from .diagnostics import Diagnostic, DiagnosticError, Span, did_you_mean, error, sort_key, warning
from .durations import ALWAYS, Validity
from .model import (
    CapabilityDef,
    ConditionalDef,
    Law,
    PowerDef,
    PrincipleDef,
    ProhibitionDef,
    SafeguardDef,
    ShareRuleDef,
    ThreatDef,
    validity,
)
from .parser import parse
from .source import hidden_characters, mixed_script, read_source

SCOPES = ("targeted", "bulk")


@attrs.frozen
class Loaded:
    """A root file and everything it imports, in load order."""

    root: Path
    modules: tuple[ast.Module, ...]
    texts: tuple[tuple[str, str], ...]  # (display path, text)


def load_module(path: str | Path) -> ast.Module:
    """Read and parse one file; raises DiagnosticError."""
    text = read_source(path)
    return parse(text, str(path))


def load_with_imports(path: str | Path, text: str | None = None
                      ) -> tuple[Loaded | None, list[Diagnostic]]:
    """Load a file and its imports (confined to its folder, without cycles). `text` is the
    file's own text where it has been read already (a pipe cannot be read twice)."""
    root = Path(path)
    folder = root.resolve().parent
    diags: list[Diagnostic] = []
    modules: list[ast.Module] = []
    texts: list[tuple[str, str]] = []
    seen: set[Path] = set()

    def visit(p: Path, shown: str, stack: tuple[Path, ...], given: str | None = None) -> bool:
        resolved = p.resolve()
        seen.add(resolved)
        try:
            text = read_source(p) if given is None else given
            module = parse(text, shown)
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
            return False
        diags.extend(hidden_characters(text, shown))
        texts.append((shown, text))
        modules.append(module)
        for item in module.items:
            if isinstance(item, ast.Import):
                _import(item, resolved, (*stack, resolved))
        return True

    def _import(item: ast.Import, importer: Path, stack: tuple[Path, ...]) -> None:
        target = (importer.parent / item.path).resolve()
        if not target.is_relative_to(folder):
            diags.append(error("import-outside-folder",
                               f"import `{item.path}` leaves the spec's folder", item.span,
                               "imports may only load files next to the spec or below it"))
            return
        if target in stack:
            chain = " -> ".join(p.name for p in (*stack[stack.index(target):], target))
            diags.append(error("import-cycle", f"import cycle: {chain}", item.span))
            return
        if target in seen:
            return
        shown = str(Path(item.span.file).parent / item.path)
        if not target.exists():
            diags.append(error("unknown-name", f"imported file `{item.path}` not found",
                               item.span))
            return
        if target.is_dir():  # said at the import, which is what to change
            diags.append(error("bad-source", f"import `{item.path}` names a folder, not a file",
                               item.span, "import each .auth file of it by its name"))
            return
        visit(target, shown, stack)

    ok = visit(root, str(path), (), text)
    if not ok:
        return None, diags
    return Loaded(root, tuple(modules), tuple(texts)), diags


def sha256_of(texts: Iterable[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for _, text in sorted(texts, key=lambda t: Path(t[0]).name):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def load_law(path: str | Path) -> tuple[Law | None, list[Diagnostic]]:
    """Load and check a law file; the law is None when there are errors."""
    law, diags, _ = load_law_texts(path)
    return law, diags


def load_law_texts(path: str | Path, text: str | None = None
                   ) -> tuple[Law | None, list[Diagnostic], dict[str, str]]:
    """`load_law`, with the text of each file loaded (display path -> text), where the lints
    look for `# allow:` directives without reading the files again. `text` is the root file's,
    where it has been read already."""
    loaded, diags = load_with_imports(path, text)
    if loaded is None:
        return None, sorted(diags, key=sort_key), {}
    texts = dict(loaded.texts)
    checker = _Checker(loaded)
    law = checker.run()
    diags.extend(checker.diagnostics)
    diags = sorted(_dedupe(allowed(diags, texts)), key=sort_key)
    if any(d.is_error for d in diags):
        return None, diags, texts
    return law, diags, texts


def check_file(path: str | Path) -> list[Diagnostic]:
    """Every diagnostic for one file, whatever kind of file it is."""
    return check_any(path).diagnostics


@attrs.frozen
class Checked:
    """What `check_any` found in one file: the law, when the file is a law without errors; every
    diagnostic; the texts it was loaded from (`load_law_texts`), so that the lints need not read
    the files again; and whether the file is a law (has a `law` header; None if it could not be
    read or parsed far enough to tell)."""

    law: Law | None
    diagnostics: list[Diagnostic]
    texts: dict[str, str]
    is_law: bool | None


def check_any(path: str | Path) -> Checked:
    """`check_file`, with the checked law and the texts it was loaded from. The file is read
    once: a pipe or FIFO gives its text only once."""
    try:
        text = read_source(path)
        module = parse(text, str(path))
    except DiagnosticError as exc:
        return Checked(None, list(exc.diagnostics), {}, None)
    if not module.items:
        where = Span(str(path), 1, 1, 1, 1)
        return Checked(None, [error("file-kind", "file is empty: it declares nothing", where,
                                    "a law starts with `law \"title\" { ... }`")], {}, False)
    kinds = {type(i) for i in module.items}
    if ast.Law in kinds:
        return Checked(*load_law_texts(path, text), True)
    diags = list(hidden_characters(text, str(path)))
    diags.extend(_check_plain(module))
    if any(isinstance(i, ast.Import) for i in module.items):
        # Its imports as a law would load them: missing, leaving the folder, in a cycle.
        diags.extend(load_with_imports(path, text)[1])
    texts = {str(path): text}
    return Checked(None, sorted(allowed(diags, texts), key=sort_key), texts, False)


# An allow directive is a comment whose text begins with `allow:`, on a line of its own or after
# the code; a `#` inside a string does not start a comment, and prose that merely contains
# "allow:" ("we do not allow: ...") is not a directive.
_ALLOW = re.compile(r'^(?:[^"#\n]|"(?:[^"\\\n]|\\.)*")*#[ \t]*allow:[ \t]*'
                    r"([a-z-]+(?:[ \t]*,[ \t]*[a-z-]+)*)")


def allowed(diags: Iterable[Diagnostic], texts: Mapping[str, str],
            anchors: Mapping[Diagnostic, Span] | None = None) -> Iterator[Diagnostic]:
    """Drop warnings a drafter has acknowledged with `# allow: CODE` on the line of the
    declaration or the line above it. Errors cannot be allowed.

    A warning that points inside a declaration (a word of its description) is anchored at the
    declaration: `anchors` maps it to the declaration's span, and a directive next to either
    counts, so that one comment above the declaration covers everything said about it."""
    lines = {file: text.splitlines() for file, text in texts.items()}
    for d in diags:
        if not d.is_error:
            spans = [d.span]
            if anchors is not None and d in anchors:
                spans.append(anchors[d])
            codes = {c.strip() for span in spans for line in _nearby(lines, span)
                     if (m := _ALLOW.match(line)) for c in m.group(1).split(",")}
            if d.code in codes:
                continue
        yield d


# The line above lends its directive when the directive stands alone or after a lone declaration
# keyword or field key, which the next line continues (`protected  # allow: unused`, then the
# name): after other code it applies to that code's line only, as `authority fmt` keeps it.
_CONTINUED = re.compile(r"[ \t]*(?:(?:law|register|import|set|threat|capability|technique"
                        r"|protected|safeguard|assessment|recipient|power|forbid|share|principle"
                        r"|operation|case|subject)\b|[^\W\d]\w*[ \t]*:)?[ \t]*#")


def _nearby(lines: Mapping[str, list[str]], span: Span) -> list[str]:
    """The line of `span`, and the line above it unless its directive follows code of its own."""
    text = lines.get(span.file, [])
    above = text[max(span.line - 2, 0): max(span.line - 1, 0)]
    return [line for line in above if _CONTINUED.match(line)] + text[span.line - 1: span.line]


def _dedupe(diags: Iterable[Diagnostic]) -> Iterator[Diagnostic]:
    seen: set[Diagnostic] = set()
    for d in diags:
        if d not in seen:
            seen.add(d)
            yield d


def _check_plain(module: ast.Module) -> list[Diagnostic]:
    """Checks for a register, operation or case file on its own: kinds and duplicates."""
    diags: list[Diagnostic] = []
    has_register = any(isinstance(i, ast.Register) for i in module.items)
    seen: dict[str, Span] = {}
    for item in module.items:
        if has_register and not isinstance(item, (ast.Register, ast.Technique, ast.Import)):
            diags.append(error("file-kind", "a technique register may only declare techniques",
                               item.span, "move this declaration into the law"))
        if isinstance(item, (ast.Law, ast.Register)):
            continue
        name = _name_of(item)
        if name is None:
            continue
        if name.name in seen:
            diags.append(_duplicate(name.name, name.span, seen[name.name]))
        else:
            seen[name.name] = name.span
        diags.extend(_script_warnings(name))
    return diags


def _name_of(item: ast.Decl) -> ast.Ident | None:
    name = getattr(item, "name", None)
    return name if isinstance(name, ast.Ident) else None


def _duplicate(name: str, span: Span, first: Span) -> Diagnostic:
    return error("duplicate-definition", f"`{name}` is defined twice", span,
                 f"first defined at {first}")


def _script_warnings(name: ast.Ident) -> list[Diagnostic]:
    scripts = mixed_script(name.name)
    if not scripts:
        return []
    return [warning("mixed-script", f"name `{name.name}` mixes scripts: {', '.join(scripts)}",
                    name.span, "a name that mixes scripts can look like another name")]


class _Checker:
    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.diagnostics: list[Diagnostic] = []
        self.decls: dict[str, ast.Decl] = {}
        self.used: set[str] = set()
        self.laws: list[ast.Law] = []
        self.order: list[ast.Decl] = []

    def fail(self, code: str, message: str, span: Span, help_text: str | None = None) -> None:
        self.diagnostics.append(error(code, message, span, help_text))

    def warn(self, code: str, message: str, span: Span, help_text: str | None = None) -> None:
        self.diagnostics.append(warning(code, message, span, help_text))

    # -- collecting --

    def collect(self) -> None:
        root_file = self.loaded.modules[0].file
        for module in self.loaded.modules:
            is_register = any(isinstance(i, ast.Register) for i in module.items)
            for item in module.items:
                if isinstance(item, ast.Law):
                    if module.file != root_file:  # said once: not a second header besides
                        self.fail("file-kind", "an imported file may not have a law header",
                                  item.span, "import registers and vocabularies, not laws")
                    else:
                        self.laws.append(item)
                    continue
                if isinstance(item, (ast.Register, ast.Import)):
                    continue
                if isinstance(item, (ast.OperationSpec, ast.Case)):
                    article, what = ("an", "operation") if isinstance(item, ast.OperationSpec) \
                        else ("a", "case")
                    self.fail("file-kind", f"a law may not contain {article} {what}", item.span,
                              f"put {what}s in a file of their own")
                    continue
                if is_register and not isinstance(item, ast.Technique):
                    self.fail("file-kind", "a technique register may only declare techniques",
                              item.span, "move this declaration into the law")
                name = _name_of(item)
                assert name is not None
                self.diagnostics.extend(_script_warnings(name))
                if name.name in self.decls:
                    self.diagnostics.append(
                        _duplicate(name.name, name.span, self.decls[name.name].span))
                    continue
                self.decls[name.name] = item
                self.order.append(item)
        if not self.laws:
            first = self.loaded.modules[0]
            span = first.items[0].span if first.items else Span(first.file, 1, 1, 1, 1)
            self.fail("file-kind", "a law file needs a `law \"title\" { ... }` header", span)
        for extra in self.laws[1:]:
            self.fail("duplicate-definition", "a law file has exactly one law header", extra.span,
                      f"the first is at {self.laws[0].span}")

    def of(self, cls: type) -> list[ast.Decl]:
        return [d for d in self.order if isinstance(d, cls)]

    # -- resolving --

    def resolve(self, ident: ast.Ident, kinds: tuple[type, ...], role: str) -> str | None:
        decl = self.decls.get(ident.name)
        if decl is not None and isinstance(decl, kinds):
            self.used.add(ident.name)
            return ident.name
        if decl is not None and isinstance(decl, ast.Technique) and ast.Capability in kinds:
            self.used.add(ident.name)
            caps = ", ".join(c.name for c in decl.capabilities)
            self.fail("technique-as-capability",
                      f"`{ident.name}` is a technique; a power grants capabilities",
                      ident.span, f"name the capabilities it maps to: {caps}")
            return None
        if decl is not None:
            self.used.add(ident.name)
            kind = ast.NAMED_KINDS[type(decl)]
            self.fail("wrong-kind", f"`{ident.name}` is {with_article(kind)}, not "
                      f"{with_article(role)}", ident.span)
            return None
        known = [n for n, d in self.decls.items() if isinstance(d, kinds)]
        self.fail("unknown-name", f"unknown {role} `{ident.name}`", ident.span,
                  did_you_mean(ident.name, known))
        return None

    def resolve_all(self, idents: Iterable[ast.Ident], kinds: tuple[type, ...],
                    role: str) -> frozenset[str]:
        out = (self.resolve(i, kinds, role) for i in idents)
        return frozenset(n for n in out if n is not None)

    def requirements(self, idents: Iterable[ast.Ident]) -> frozenset[str]:
        return self.resolve_all(idents, (ast.Safeguard, ast.Assessment),
                                "safeguard or assessment")

    # -- the law --

    def run(self) -> Law | None:
        self.collect()
        threats = self.threats()
        capabilities = self.capabilities()
        techniques = {
            t.name.name: self.resolve_all(t.capabilities, (ast.Capability,), "capability")
            for t in self.of(ast.Technique) if isinstance(t, ast.Technique)
        }
        sets = self.sets()
        names = {n: _TYPE_OF[type(d)] for n, d in self.decls.items() if type(d) in _TYPE_OF}
        typer = Typer(names, {n: (v, t) for n, (v, t) in sets.items()})
        powers = tuple(self.power(p, typer) for p in self.of(ast.Power) if isinstance(p, ast.Power))
        prohibitions = tuple(
            self.prohibition(p, typer) for p in self.of(ast.Prohibition)
            if isinstance(p, ast.Prohibition))
        share_rules = tuple(
            self.share_rule(s, typer) for s in self.of(ast.ShareRule)
            if isinstance(s, ast.ShareRule))
        principles = tuple(
            self.principle(p, typer) for p in self.of(ast.Principle)
            if isinstance(p, ast.Principle))
        safeguards = {
            s.name.name: SafeguardDef(s.name.name, s.by.name if s.by else None, s.urgent_within,
                                      s.cites, s.description)
            for s in self.of(ast.Safeguard) if isinstance(s, ast.Safeguard)}
        self.diagnostics.extend(typer.diagnostics)
        self.used |= typer.used
        self.unused()
        if any(d.is_error for d in self.diagnostics) or not self.laws:
            return None
        header = self.laws[0]
        return Law(
            title=header.title,
            id=header.id or Path(self.loaded.root).stem,
            version=header.version or "unversioned",
            jurisdiction=header.jurisdiction,
            in_force=header.in_force or ALWAYS,
            sha256=sha256_of(self.loaded.texts),
            files=tuple(f for f, _ in self.loaded.texts),
            threats=threats,
            capabilities=capabilities,
            techniques=techniques,
            protected={p.name.name: p.cites for p in self.of(ast.Protected)
                       if isinstance(p, ast.Protected)},
            safeguards=safeguards,
            assessments={a.name.name: a.cites for a in self.of(ast.Assessment)
                         if isinstance(a, ast.Assessment)},
            recipients={r.name.name: bool(r.foreign) for r in self.of(ast.Recipient)
                        if isinstance(r, ast.Recipient)},
            sets={n: v for n, (v, _) in sets.items()},
            powers=tuple(p for p in powers if p is not None),
            # By name: the steps of a decision's trace follow this order, and the order of
            # declarations never changes a decision.
            prohibitions=tuple(sorted((p for p in prohibitions if p is not None),
                                      key=lambda p: p.name)),
            share_rules=tuple(s for s in share_rules if s is not None),
            principles=tuple(p for p in principles if p is not None),
            ancestors={n: t.ancestors for n, t in threats.items()},
            spans={n: d.name.span for n, d in self.decls.items()},  # type: ignore[union-attr]
        )

    def threats(self) -> dict[str, ThreatDef]:
        decls = [t for t in self.of(ast.Threat) if isinstance(t, ast.Threat)]
        parents: dict[str, str | None] = {}
        for t in decls:
            parents[t.name.name] = (
                self.resolve(t.parent, (ast.Threat,), "threat") if t.parent else None)
        out: dict[str, ThreatDef] = {}
        for t in decls:
            chain, node = [t.name.name], parents[t.name.name]
            while node is not None and node not in chain:
                chain.append(node)
                node = parents.get(node)
            if node is not None:
                cycle = " -> ".join([*chain[chain.index(node):], node])
                if t.name.name == node:
                    self.fail("threat-cycle", f"threat hierarchy has a cycle: {cycle}",
                              t.name.span, "a threat cannot be its own ancestor")
            severity = next((d.severity for n in chain for d in decls
                             if d.name.name == n and d.severity is not None), 0)
            # In force while it and every threat above it are: a sub-category does not outlive
            # the category it belongs to.
            windows = [d.valid for n in chain for d in decls if d.name.name == n and d.valid]
            valid = Validity(max((w.start for w in windows if w.start), default=None),
                             min((w.end for w in windows if w.end), default=None))
            if valid.start is not None and valid.end is not None and valid.start > valid.end:
                self.warn("threat-never-in-force", f"threat `{t.name.name}` is never in force: "
                          "its `valid` window lies outside that of a threat above it",
                          t.name.span, "a threat is in force only while every threat above it "
                          "is; widen one of the windows")
            out[t.name.name] = ThreatDef(t.name.name, parents[t.name.name], frozenset(chain),
                                         severity, t.cites, validity(t.valid), t.description,
                                         valid)
        return out

    def capabilities(self) -> dict[str, CapabilityDef]:
        out = {}
        for c in self.of(ast.Capability):
            assert isinstance(c, ast.Capability)
            scope = "targeted"
            if c.scope is not None:
                if c.scope.name in SCOPES:
                    scope = c.scope.name
                else:
                    self.fail("unknown-name", f"unknown scope `{c.scope.name}`", c.scope.span,
                              did_you_mean(c.scope.name, SCOPES) or "use `targeted` or `bulk`")
            if c.intrusion is None:
                self.fail("bad-field", f"capability `{c.name.name}` needs an intrusion level",
                          c.name.span, "add e.g. `intrusion: 3` (1 light to 5 most intrusive)")
            out[c.name.name] = CapabilityDef(c.name.name, c.intrusion or 0, scope, c.cites,
                                             c.description)
        return out

    def sets(self) -> dict[str, tuple[frozenset[object], str]]:
        out: dict[str, tuple[frozenset[object], str]] = {}
        for s in self.of(ast.NamedSet):
            assert isinstance(s, ast.NamedSet)
            names = {n: _TYPE_OF[type(d)] for n, d in self.decls.items() if type(d) in _TYPE_OF}
            typer = Typer(names, {})
            typed = typer.set_literal(ast.SetLiteral(s.items, span=s.span))
            self.diagnostics.extend(typer.diagnostics)
            self.used |= typer.used
            if typed is not None:
                const, type_ = typed
                assert isinstance(const, Const) and isinstance(const.value, frozenset)
                out[s.name.name] = (const.value, type_)
            else:  # reported: a condition using the set need not say more
                out[s.name.name] = (frozenset(), "set[any]")
        return out

    def conditionals(self, items: Iterable[ast.Conditional], typer: Typer,
                     share: bool = False) -> tuple[ConditionalDef, ...]:
        from .formatter import format_expr

        out = []
        for c in items:
            cond = typer.check(c.condition, share)
            requires = self.requirements(c.requires)
            if cond is not None:
                out.append(ConditionalDef(cond, requires, format_expr(c.condition), c.span.line))
        return tuple(out)

    def condition(self, expr: ast.Expr | None, typer: Typer, span: Span, what: str,
                  share: bool = False) -> tuple[Cond, str] | None:
        from .formatter import format_expr

        if expr is None:
            self.fail("bad-field", f"{what} needs a `when` condition", span)
            return None
        cond = typer.check(expr, share)
        return (cond, format_expr(expr)) if cond is not None else None

    def power(self, p: ast.Power, typer: Typer) -> PowerDef | None:
        threats = self.resolve_all(p.threats, (ast.Threat,), "threat")
        capabilities = self.resolve_all(p.capabilities, (ast.Capability,), "capability")
        requires = self.requirements(p.requires)
        conditionals = self.conditionals(p.conditionals, typer)
        if not p.threats:
            self.fail("bad-field", f"power `{p.name.name}` names no threats", p.name.span,
                      "add `threats: ...`: a power is granted for threat categories")
        if not p.capabilities:
            self.fail("bad-field", f"power `{p.name.name}` grants no capabilities", p.name.span,
                      "add `capabilities: ...`")
        safeguarded = [r for r in p.requires if isinstance(self.decls.get(r.name), ast.Safeguard)]
        if not safeguarded:
            self.warn("no-safeguard", f"power `{p.name.name}` requires no safeguard",
                      p.name.span, "every power should need at least one approval or review")
        return PowerDef(p.name.name, threats, capabilities, requires, conditionals,
                        p.max_duration, bool(p.renewable), p.retention, p.cites,
                        validity(p.valid), p.description)

    def prohibition(self, p: ast.Prohibition, typer: Typer) -> ProhibitionDef | None:
        typed = self.condition(p.condition, typer, p.name.span, f"prohibition `{p.name.name}`")
        if typed is None:
            return None
        return ProhibitionDef(p.name.name, typed[0], typed[1], p.cites, validity(p.valid),
                              p.description)

    def share_rule(self, s: ast.ShareRule, typer: Typer) -> ShareRuleDef | None:
        from .formatter import format_expr

        recipients = self.resolve_all(s.recipients, (ast.Recipient,), "recipient")
        if not s.recipients:
            self.fail("bad-field", f"share rule `{s.name.name}` names no recipients",
                      s.name.span, "add `recipients: ...`")
        guarantees = self.resolve_all(s.guarantees, (ast.Safeguard,), "safeguard")
        forbidden = []
        for expr in s.forbidden:
            cond = typer.check(expr, True)
            if cond is not None:
                forbidden.append((cond, format_expr(expr)))
        return ShareRuleDef(s.name.name, recipients, self.requirements(s.requires), guarantees,
                            self.conditionals(s.conditionals, typer, share=True),
                            tuple(forbidden), s.cites, validity(s.valid), s.description)

    def principle(self, p: ast.Principle, typer: Typer) -> PrincipleDef | None:
        typed = self.condition(p.condition, typer, p.name.span, f"principle `{p.name.name}`")
        requires = self.requirements(p.requires)
        if not p.requires and not p.deny:
            self.fail("bad-field", f"principle `{p.name.name}` states nothing",
                      p.name.span, "add `requires: ...` or `deny: true`")
        if typed is None:
            return None
        return PrincipleDef(p.name.name, typed[0], typed[1], requires, bool(p.deny), p.cites,
                            p.description)

    def _ancestor_used(self, name: str) -> bool:
        seen: set[str] = set()
        node: str | None = name
        while node is not None and node not in seen:
            if node in self.used:
                return True
            seen.add(node)
            decl = self.decls.get(node)
            node = decl.parent.name if isinstance(decl, ast.Threat) and decl.parent else None
        return False

    def unused(self) -> None:
        for name, decl in self.decls.items():
            if name in self.used or isinstance(decl, _NEVER_UNUSED):
                continue
            if isinstance(decl, ast.Threat) and self._ancestor_used(name):
                continue
            kind = ast.NAMED_KINDS[type(decl)]
            self.warn("unused", f"{kind} `{name}` is declared but never used",
                      decl.span if not hasattr(decl, "name") else decl.name.span,  # type: ignore[union-attr]
                      "remove it, or refer to it from a power, rule or condition")


_TYPE_OF: dict[type, str] = {
    ast.Threat: "threat",
    ast.Capability: "capability",
    ast.Protected: "protected",
    ast.Recipient: "recipient",
    # Known to conditions only to say that they may not mention them (conditions.py).
    ast.Safeguard: "safeguard",
    ast.Assessment: "assessment",
}
# Declarations that are used by operations rather than by other declarations.
_NEVER_UNUSED = (ast.Power, ast.Prohibition, ast.ShareRule, ast.Principle, ast.Technique)
