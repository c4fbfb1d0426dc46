"""The REPL's state and commands, with no terminal I/O: `Session.execute(line)` returns an Output.

A session holds the loaded law (and its compiled evaluator), the current operation as an immutable
value, undo and redo stacks of operations and the commands entered. Front ends (app.py) only read
lines and print outputs, so the same session runs under prompt_toolkit, from a pipe and in tests.
"""

from __future__ import annotations

import datetime as dt
import io
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
from msgspec.structs import replace
from rich.console import RenderableType
from rich.syntax import Syntax
from rich.text import Text

from .. import ast
from ..decision import Decision
from ..diagnostics import Diagnostic, DiagnosticError, did_you_mean
from ..engine import CompiledLaw, compile_law
from ..model import Law
from ..operation import Operation
from ..render import SafeConsole, shown
from . import views
from .edits import DEFAULT_ID, Context, ReplError, apply, subject_warning, words_of

PROMPT = "authority> "
CONTINUATION = "      ... "
MAX_PASTE_LINES = 2000


@attrs.frozen
class Output:
    """What one command shows; `error` marks a failed command, `quit` ends the REPL."""

    parts: tuple[RenderableType, ...] = ()
    error: bool = False
    quit: bool = False

    def text(self, width: int = 100) -> str:
        """Plain text, for tests and transcripts."""
        console = SafeConsole(width=width, record=True, file=io.StringIO(), color_system=None,
                              highlight=False, emoji=False)
        for part in self.parts:
            console.print(part, soft_wrap=unwrapped(part))
        return "".join(line.rstrip() + "\n" for line in console.export_text().splitlines())


def unwrapped(part: RenderableType) -> bool:
    """Whether a part must not be wrapped to the width of the screen: it says so itself (an
    operation block, to be pasted back or saved as a file, and the comment under it)."""
    if isinstance(part, Syntax):
        return not part.word_wrap
    return bool(getattr(part, "no_wrap", False))


def _diagnostic(d: Diagnostic, sources: dict[str, str] | None = None) -> Text:
    from ..render import diagnostic_text

    text = diagnostic_text(d, sources)
    text.rstrip()
    return text


def fail(message: str, help: str | None = None) -> Output:
    out = Text.assemble(("error", "bold red"))
    out.append(f": {message}")
    parts: list[RenderableType] = [out]
    if help:
        parts.append(Text.assemble(("  = help: ", "bold cyan"), help))
    return Output(tuple(parts), error=True)


def say(*lines: str | RenderableType) -> Output:
    return Output(tuple(Text(x) if isinstance(x, str) else x for x in lines))


@attrs.frozen
class State:
    """One point in the undo history: the operation and whether its date was set by hand."""

    operation: Operation
    date_set: bool = False


@attrs.frozen
class Command:
    usage: str
    summary: str
    details: str = ""


COMMANDS: dict[str, Command] = {
    "load": Command("load SPEC", "load a law (.auth file); the operation is kept",
                    "The operation stays as it is. Its date follows the new law's default (the "
                    "first day the law is in force) unless you set it with `set date`."),
    "reload": Command("reload", "read the current law again, e.g. after editing it"),
    "open": Command("open FILE", "read an operation from a .json file or an .auth file "
                    "holding one `operation` block"),
    "new": Command("new [ID]", "start a new, empty operation (undo brings the old one back)"),
    "set": Command("set FIELD VALUE", "set a field of the operation",
                   "Fields: threat NAME, technique NAME, date YYYY-MM-DD, duration AMOUNT UNIT "
                   "(e.g. `3 months`), retention AMOUNT UNIT, urgent [true|false], service TEXT, "
                   "id TEXT. The date defaults to the first day the law is in force (today if "
                   "the law has no start date)."),
    "add": Command("add ITEM ...", "add a capability, subject, approval, assessment or sharing",
                   "add capability NAME[, NAME...]\n"
                   "add subject [ROLE] [PROTECTED...]   e.g. `add subject target journalist`; "
                   "the role defaults to `target`\n"
                   "add approval NAME [on DATE]         e.g. `add approval minister_approval on "
                   "2027-08-28`; without a date it counts as obtained before the start\n"
                   "add assessment NAME[, NAME...]\n"
                   "add share RECIPIENT [country CC] [data evaluated|unevaluated] [with NAME, "
                   "...]   data defaults to unevaluated"),
    "unset": Command("unset WHAT [NAME]", "remove a field, one item, or a whole list",
                     "A field: threat, technique, date (back to the default), duration, "
                     "retention, urgent, service, id.\nOne item: capability NAME, subject ROLE, "
                     "protected NAME (from every subject), approval NAME, assessment NAME, "
                     "share RECIPIENT.\nA whole list: capabilities, subjects, approvals, "
                     "assessments, sharing."),
    "show": Command("show [NAME]", "the current operation, or a declaration of the law with its "
                    "citation and where it is used"),
    "decide": Command("decide", "the verdict: what authorises each capability, what is missing"),
    "why": Command("why", "the full explanation: the reasoning step by step and every provision "
                   "cited"),
    "whatif": Command("whatif CHANGE", "the verdict before and after one change, side by side",
                      "CHANGE is a `set`, `add` or `unset` command, e.g. `whatif add subject "
                      "target journalist`. The current operation is not changed."),
    "compare": Command("compare SPEC", "the current operation decided under a second law, side "
                       "by side"),
    "undo": Command("undo", "take back the last change to the operation"),
    "redo": Command("redo", "make the last undone change again"),
    "history": Command("history", "the commands entered so far"),
    "list": Command("list KIND", "the declarations of the law of one kind",
                    "Kinds: " + ", ".join(views.LIST_KINDS) + "."),
    "help": Command("help [COMMAND]", "this overview, or the details of one command"),
    "quit": Command("quit", "leave the REPL (also `exit` and Ctrl-D)"),
}
ALIASES = {"exit": "quit", "q": "quit", "?": "help", "ls": "list"}
# Commands that take one word at most; a file name (`load`) may be quoted, so is not among them.
ONE_WORD = ("show", "list", "help")


class Session:
    """A law, the operation under study, its undo history and the commands entered."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dt.date.today()
        self.law: Law | None = None
        self.spec: str | None = None
        self._compiled: CompiledLaw | None = None
        self.state = State(Operation(DEFAULT_ID, self.default_date))
        self.undo_stack: list[State] = []
        self.redo_stack: list[State] = []
        self.history: list[str] = []
        self.pending: list[str] = []  # lines of an `operation { ... }` block being pasted
        self._decision: tuple[Operation, Decision] | None = None
        self._modules: dict[str, ast.Module] = {}
        self._texts: dict[str, str] = {}

    # -- state --

    @property
    def operation(self) -> Operation:
        return self.state.operation

    @property
    def default_date(self) -> dt.date:
        """The first day the law is in force; today if none is loaded or it has no start."""
        start = self.law.in_force.start if self.law is not None else None
        return start or self.today

    @property
    def default_date_source(self) -> str:
        """Where `default_date` comes from, in words, for `show` and completion."""
        if self.law is None:
            return "today, as no law is loaded"
        if self.law.in_force.start is None:
            return "today, as the law states no first day in force"
        return "the law's first day in force"

    @property
    def context(self) -> Context:
        return Context(self.law, self.default_date)

    def decision(self) -> Decision | None:
        """The decision on the current operation (cached), or None without a law."""
        if self.law is None:
            return None
        op = self.operation
        if self._decision is None or self._decision[0] is not op:
            assert self._compiled is not None
            self._decision = (op, self._compiled.decide(op))
        return self._decision[1]

    def _change(self, state: State) -> None:
        if state != self.state:
            self.undo_stack.append(self.state)
            self.redo_stack.clear()
            self.state = state

    def _redate(self) -> None:
        """Keep a default date in step with the law's."""
        if not self.state.date_set and self.state.operation.date != self.default_date:
            self.state = attrs.evolve(self.state, operation=replace(
                self.state.operation, date=self.default_date))

    # -- reading lines --

    @property
    def prompt(self) -> str:
        return CONTINUATION if self.pending else PROMPT

    def cancel(self) -> None:
        """Drop a half-pasted operation block (Ctrl-C)."""
        self.pending.clear()

    def execute(self, line: str) -> Output:
        """Run one line (or several, as pasted into the prompt); never raises (except
        KeyboardInterrupt)."""
        if "\n" in line.rstrip("\n"):
            outputs = run_lines(self, line.splitlines())
            return Output(tuple(p for o in outputs for p in o.parts),
                          error=any(o.error for o in outputs), quit=any(o.quit for o in outputs))
        line = line.rstrip("\n")
        try:
            return self._execute(line)
        except ReplError as exc:
            return fail(exc.message, exc.help)
        except Exception as exc:  # a bug must not end the student's session
            return fail(f"internal error: {type(exc).__name__}: {exc}",
                        "please report this; the session goes on")

    def _execute(self, line: str) -> Output:
        if self.pending:
            return self._paste(line)
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return Output()
        word, *more = stripped.split(None, 1)
        rest = more[0] if more else ""
        if word == "operation" or word.startswith("operation{"):
            return self._paste(line)
        self.history.append(stripped)
        if word.startswith("}"):
            return fail("one `}` too many: no operation block is open")
        name = ALIASES.get(word, word)
        handler: Callable[[str], Output] | None = getattr(self, f"cmd_{name}", None)
        if name not in COMMANDS or handler is None:
            # lower case, so that `SET` finds `set`; aliases too, so that `exti` finds `exit`
            hint = did_you_mean(word.lower(), [*COMMANDS, *ALIASES, "operation"])
            return fail(f"unknown command `{word}`", hint or "`help` lists the commands")
        usage = COMMANDS[name].usage
        if rest.strip() and " " not in usage:  # `undo 5` must not undo one
            return fail(f"`{word}` takes no arguments", f"write `{usage}` alone")
        if name in ONE_WORD and len(words_of(rest)) > 1:  # `show a b` must not show `a` alone
            what = usage.split()[1].strip("[]").lower()
            return fail(f"`{word}` takes one {what}", f"write `{usage}`")
        return handler(rest.strip())

    # -- loading --

    def load(self, path: str) -> Output:
        from ..checker import load_law

        law, diags = load_law(path)
        if law is None:
            kept = f"; still using `{self.spec}`" if self.spec else ""
            return _not_loaded(path, diags, f"was not loaded{kept}")
        self.law, self.spec, self._compiled = law, path, compile_law(law)
        self._decision = None
        self._modules.clear()
        self._redate()
        warnings = sum(not d.is_error for d in diags)
        counts = ", ".join(_count(n, word) for n, word in (
            (len(law.threats), "threat"), (len(law.capabilities), "capability"),
            (len(law.techniques), "technique"), (len(law.powers), "power")))
        lines: list[str | RenderableType] = [
            Text.assemble("loaded ", (law.title, "bold"), f" ({law.version}): {counts}"),
            f"in force {law.in_force or 'always'}; operation date {self.operation.date}"
            + ("" if self.state.date_set else " (the default)"),
        ]
        if warnings:
            lines.append(Text(f"{warnings} warning{'s' * (warnings != 1)}; `authority check "
                              f"{path}` shows them", style="yellow"))
        return say(*lines)

    def cmd_load(self, args: str) -> Output:
        return self.load(_one_path(args, "load"))

    def cmd_reload(self, args: str) -> Output:
        if args:
            raise ReplError("`reload` takes no argument", "to load another law, use `load SPEC`")
        if self.spec is None:
            raise ReplError("no law loaded yet", "use `load SPEC`")
        return self.load(self.spec)

    def cmd_open(self, args: str) -> Output:
        from ..cli.common import OperationInputError, read_operation

        path = _one_path(args, "open")
        if path == "-":
            raise ReplError("`open` reads a file, not standard input")
        try:
            op = read_operation(path)
        except OperationInputError as exc:
            raise ReplError(str(exc)) from None
        self._change(State(op, date_set=True))
        return say(f"operation `{shown(op.id)}` read from {shown(path)}")

    def cmd_new(self, args: str) -> Output:
        op = Operation(args.strip('"') or DEFAULT_ID, self.default_date)
        self._change(State(op))
        return say(f"new operation `{shown(op.id)}` on {op.date}")

    # -- building the operation --

    def _edit(self, command: str, args: str) -> Output:
        words = words_of(args)
        op, description = apply(self.operation, self.context, command, words)
        date_set = self.state.date_set
        first = args.split()[0] if args.split() else ""
        if first == "date":
            date_set = command == "set"
        before = self.operation
        self._change(State(op, date_set))
        shown = (Text(f"{description} (no change)", style="dim") if op == before
                 else Text(description))
        return say(shown, *self._warnings(command, words))

    def _warnings(self, command: str, words: Sequence[str], prefix: str = "") -> list[Text]:
        """What an edit that went through may not have meant: a role like a protected category."""
        if command != "add":
            return []
        warning = subject_warning(self.context, words, prefix + command)
        return [Text(f"warning: {warning}", style="yellow")] if warning else []

    def cmd_set(self, args: str) -> Output:
        return self._edit("set", args)

    def cmd_add(self, args: str) -> Output:
        return self._edit("add", args)

    def cmd_unset(self, args: str) -> Output:
        return self._edit("unset", args)

    def _paste(self, line: str) -> Output:
        """Collect an `operation NAME { ... }` block until its braces balance, then use it."""
        self.pending.append(line)
        text = "\n".join(self.pending)
        depth, opened, extra = _brace_depth(text)
        if (depth > 0 or not opened) and not extra and len(self.pending) < MAX_PASTE_LINES:
            return Output()
        self.pending = []
        self.history.append(text.strip())
        if extra:
            return _extra_braces(text, extra)
        if depth != 0 or not opened:
            return fail("the operation block does not close", "end it with `}`")
        return self._use_block(text)

    def _use_block(self, text: str) -> Output:
        from ..ast import OperationSpec
        from ..operation import OperationError, from_spec
        from ..parser import parse
        name = "<operation>"
        try:
            module = parse(text, name)
        except DiagnosticError as exc:
            parts = [_diagnostic(d, {name: text}) for d in exc.diagnostics]
            return Output((*parts, Text("the operation was not changed", style="dim")),
                          error=True)
        specs = [i for i in module.items if isinstance(i, OperationSpec)]
        if len(specs) != 1 or len(module.items) != 1:
            return fail("paste exactly one `operation NAME { ... }` block")
        spec = specs[0]
        date_set = spec.date is not None
        if spec.date is None:
            spec = attrs.evolve(spec, date=self.default_date)
        try:
            op = from_spec(spec)
        except OperationError as exc:  # pragma: no cover - the date is always filled in
            return fail(exc.message)
        problems = self._unknown_names(op)
        self._change(State(op, date_set))
        lines: list[str | RenderableType] = [f"operation `{shown(op.id)}` on {op.date}"]
        lines += [Text(f"warning: {p}", style="yellow") for p in problems]
        return say(*lines)

    def _unknown_names(self, op: Operation) -> list[str]:
        """Names in a pasted block the law does not declare (the decision will deny them)."""
        if self._compiled is None:
            return []
        decision = self._compiled.decide(op)
        return [v.message + (f"; {v.help}" if v.help else "")
                for v in decision.violations if v.code == "unknown-name"]

    # -- undo --

    def cmd_undo(self, args: str) -> Output:
        if not self.undo_stack:
            raise ReplError("nothing to undo")
        self.redo_stack.append(self.state)
        self.state = self.undo_stack.pop()
        self._redate()
        return say(f"undone; {len(self.undo_stack)} more change"
                   f"{'s' * (len(self.undo_stack) != 1)} to undo")

    def cmd_redo(self, args: str) -> Output:
        if not self.redo_stack:
            raise ReplError("nothing to redo")
        self.undo_stack.append(self.state)
        self.state = self.redo_stack.pop()
        self._redate()
        return say("redone")

    def cmd_history(self, args: str) -> Output:
        width = len(str(len(self.history)))
        lines = []
        for i, entry in enumerate(self.history, 1):
            first, *more = entry.splitlines()
            # Never wrapped, as the commands echoed in a transcript: each to be copied whole.
            lines.append(Text(f"{i:>{width}}  {first}" + (f" … ({len(more)} more lines)"
                                                          if more else ""),
                              no_wrap=True, overflow="ignore"))
        return say(*lines)

    # -- deciding --

    def _need_law(self) -> Law:
        if self.law is None:
            raise ReplError("no law loaded", "use `load SPEC`, e.g. `load specs/wiv2017.auth`")
        return self.law

    def cmd_decide(self, args: str) -> Output:
        law = self._need_law()
        decision = self.decision()
        assert decision is not None
        return Output(tuple(views.decision_lines(decision, law, self.operation)))

    def cmd_why(self, args: str) -> Output:
        law = self._need_law()
        decision = self.decision()
        assert decision is not None
        return Output(tuple(views.explanation(decision, law, self.operation)))

    def cmd_whatif(self, args: str) -> Output:
        self._need_law()
        words = words_of(args)
        if not words:
            raise ReplError("`whatif` needs a change",
                            "e.g. `whatif add subject target journalist`")
        if words[0] not in ("set", "add", "unset"):
            raise ReplError("`whatif` takes a change to try: a `set`, `add` or `unset` command",
                            _not_a_change(words[0]))
        after, description = apply(self.operation, self.context, words[0], words[1:])
        before_decision = self.decision()
        assert before_decision is not None and self._compiled is not None
        after_decision = self._compiled.decide(after)
        head = Text(f"what if `{args}`? ({description}; the operation itself is not changed)",
                    style="bold")
        return Output((head, *self._warnings(words[0], words[1:], "whatif "),
                       *views.side_by_side("now", before_decision, "after the change",
                                           after_decision)))

    def cmd_compare(self, args: str) -> Output:
        from ..checker import load_law

        law = self._need_law()
        path = _one_path(args, "compare")
        other, diags = load_law(path)
        if other is None:
            return _not_loaded(path, diags, "cannot be compared")
        here = self.decision()
        assert here is not None
        there = compile_law(other).decide(self.operation)
        head = Text(f"operation {shown(self.operation.id)} on {self.operation.date} under two laws",
                    style="bold")
        parts: list[RenderableType] = [head, *views.side_by_side(
            f"{law.title} ({law.version})", here, f"{other.title} ({other.version})", there)]
        if not other.in_force_on(self.operation.date):
            parts.append(Text(f"hint: `{path}` is in force {other.in_force}; `set date` to a day "
                              "both laws are in force", style="cyan"))
        return Output(tuple(parts))

    # -- the law --

    def cmd_show(self, args: str) -> Output:
        if not args or args == "operation":
            source = None if self.state.date_set else self.default_date_source
            return Output(tuple(views.operation_view(self.operation, source)))
        law = self._need_law()
        name = words_of(args)[0] if words_of(args) else args
        from .edits import kind_of

        if name not in law.spans:
            hint = did_you_mean(name, law.spans)
            raise ReplError(f"the law declares no `{name}`", hint or "`list KIND` shows names")
        kind = kind_of(law, name) or self._decl_kind(name)
        span = law.spans[name]
        source, start = self._source_of(name, span.file)
        return Output(tuple(views.declaration_view(kind, name, str(span), source, start,
                                                   views.used_by(law, name),
                                                   views.meaning(law, name))))

    def _decl_kind(self, name: str) -> str:
        law = self.law
        assert law is not None
        for kind, items in (("prohibition", law.prohibitions), ("share rule", law.share_rules),
                            ("principle", law.principles)):
            if any(i.name == name for i in items):
                return kind
        return "set" if name in law.sets else "declaration"

    def _source_of(self, name: str, file: str) -> tuple[str | None, int | None]:
        """The declaration's text, with the comment lines just above it."""
        from ..parser import parse
        from ..source import read_source

        try:
            module = self._modules.get(file)
            if module is None:
                self._texts[file] = read_source(file)
                module = parse(self._texts[file], file)
                self._modules[file] = module
        except DiagnosticError:
            return None, None
        for item in module.items:
            ident = getattr(item, "name", None)
            if isinstance(ident, ast.Ident) and ident.name == name:
                lines = self._texts[file].splitlines()
                first, last = item.span.line - 1, item.span.end_line
                while first > 0 and lines[first - 1].lstrip().startswith("#"):
                    first -= 1
                # the span ends at the last member; take the lines up to the closing brace
                while last < len(lines) and _brace_depth("\n".join(lines[first:last]))[0] > 0:
                    last += 1
                return "\n".join(lines[first:last]), first + 1
        return None, None

    def cmd_list(self, args: str) -> Output:
        law = self._need_law()
        kind = {"threat": "threats", "capability": "capabilities", "technique": "techniques",
                "safeguard": "safeguards", "assessment": "assessments",
                "recipient": "recipients", "power": "powers", "prohibition": "prohibitions",
                "share": "shares", "principle": "principles", "set": "sets",
                "sharing": "shares"}.get(args, args)
        if kind not in views.LIST_KINDS:
            raise ReplError(f"unknown kind `{args}`" if args else "`list` needs a kind",
                            did_you_mean(args, views.LIST_KINDS) or
                            f"kinds: {', '.join(views.LIST_KINDS)}")
        return Output(tuple(views.list_view(law, kind)))

    # -- help --

    def cmd_help(self, args: str) -> Output:
        if args:
            name = ALIASES.get(args, args)
            if name == "operation":
                return say(PASTE_HELP)
            if name not in COMMANDS:
                raise ReplError(f"no command `{args}`", did_you_mean(args, COMMANDS))
            cmd = COMMANDS[name]
            return say(Text(cmd.usage, style="bold"), cmd.summary, *(
                cmd.details.splitlines() if cmd.details else ()))
        lines: list[str | RenderableType] = [Text("commands:", style="bold")]
        for cmd in COMMANDS.values():
            lines.append(Text.assemble("  ", (f"{cmd.usage:<18}", "bold"), cmd.summary))
        lines += ["", PASTE_HELP,
                  f"The operation's date is the first day the law is in force (today without "
                  f"a law, or if the law states none) unless you `set date` (now "
                  f"{self.operation.date}). `help COMMAND` tells more."]
        return say(*lines)

    def cmd_quit(self, args: str) -> Output:
        return Output(quit=True)


# What a command that `whatif` cannot try does instead; any other command leaves it as it is.
_OTHER_CHANGES = {
    "new": "`new` starts a new operation",
    "open": "`open` reads another operation",
    "operation": "a pasted block replaces the operation",
    "undo": "`undo` takes back the last change",
    "redo": "`redo` makes an undone change again",
    "load": "`load` changes the law; `compare SPEC` decides the operation under another",
    "reload": "`reload` reads the law again",
}


def _not_a_change(word: str) -> str:
    name = ALIASES.get(word, word)
    if name in _OTHER_CHANGES:
        return _OTHER_CHANGES[name]
    if name in COMMANDS:
        return f"`{word}` does not change the operation"
    return (did_you_mean(word.lower(), ("set", "add", "unset"))
            or "e.g. `whatif add subject target journalist`")


PASTE_HELP = ("You can also paste a whole `operation NAME { ... }` block, as in a case file; it "
              "replaces the current operation.")


def _not_loaded(path: str, diags: Sequence[Diagnostic], what: str) -> Output:
    """The errors that kept a law from loading. A file that is not a law (a technique register,
    operations, cases) gets only the error that says so, not all that follows from it (every
    capability a register names is declared by the law that imports it), and a hint."""
    errors = [d for d in diags if d.is_error]
    hint = _not_a_law(path)
    if hint is not None:
        kind = [d for d in errors if d.code == "file-kind"]
        errors = [d for d in kind if "header" in d.message] or kind or errors
    parts: list[RenderableType] = [_diagnostic(d) for d in errors]
    if hint is None:
        parts.append(Text.assemble(("error", "bold red"), f": `{path}` has errors and {what}"))
        return Output(tuple(parts), error=True)
    failed = fail(f"`{path}` is not a law and {what}", hint)
    return Output((*parts, *failed.parts), error=True)


def _not_a_law(path: str) -> str | None:
    """What to do with a file that has no law header, by what it holds; None for a law (or a
    file that does not parse)."""
    from ..checker import load_module

    try:
        items = load_module(path).items
    except DiagnosticError:
        return None
    name = Path(path).name
    if any(isinstance(i, ast.Law) for i in items):
        return None
    if any(isinstance(i, ast.Register) for i in items):
        return (f"a technique register is imported by a law (`import \"{name}\"`): load "
                "the law instead")
    if any(isinstance(i, ast.Case) for i in items):
        return f"this file holds cases: `authority test SPEC {path}` runs them against a law"
    if any(isinstance(i, ast.OperationSpec) for i in items):
        return f"this file holds an operation: load a law, then `open {path}`"
    if items:
        return (f"declarations without a law header are imported by a law "
                f"(`import \"{name}\"`): load the law instead")
    return "a law starts with `law \"title\" { ... }`"


def _one_path(args: str, command: str) -> str:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise ReplError(f"cannot read the file name: {exc}") from None
    if len(words) != 1:
        raise ReplError(f"`{command}` needs one file name",
                        f"e.g. `{command} specs/wiv_threat_draft.auth`")
    return words[0]


def _brace_depth(text: str) -> tuple[int, bool, list[int]]:
    """Open braces minus closed ones outside strings and comments; whether any opened; and
    where each `}` that closes nothing is (offsets in `text`)."""
    depth, opened, in_string, i = 0, False, False, 0
    extra: list[int] = []
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch in '"\n':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif ch == "{":
            depth, opened = depth + 1, True
        elif ch == "}":
            depth -= 1
            if depth < -len(extra):
                extra.append(i)
        i += 1
    return depth, opened, extra


def _extra_braces(text: str, extra: Sequence[int]) -> Output:
    """A pasted block with more `}` than `{`: the first one too many, shown in its place."""
    from ..diagnostics import Span, error

    line = text.count("\n", 0, extra[0]) + 1
    column = extra[0] - (text.rfind("\n", 0, extra[0]) + 1) + 1
    many = "one `}` too many" if len(extra) == 1 else f"{len(extra)} `}}` too many"
    hint = ("the block is closed before it: remove it" if len(extra) == 1 else
            "the block is closed before the first of them, marked here: remove them")
    name = "<operation>"
    d = error("syntax-error", many, Span(name, line, column, line, column + 1), hint)
    return Output((_diagnostic(d, {name: text}), Text("the operation was not changed",
                                                      style="dim")), error=True)


def run_lines(session: Session, lines: Sequence[str]) -> list[Output]:
    """Execute lines in order, stopping at `quit`; for tests and scripts."""
    outputs = []
    for line in lines:
        out = session.execute(line)
        outputs.append(out)
        if out.quit:
            break
    return outputs


def _count(n: int, word: str) -> str:
    """`1 threat`, `2 threats`, `3 capabilities`."""
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"
