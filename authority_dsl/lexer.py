"""Pygments lexers for the .auth language and for the REPL's command lines.

`AuthorityLexer` is registered as the Pygments entry point `authority`, so that `.auth` files
highlight in `pygmentize`, in rich's `Syntax` and in any tool that asks Pygments for a lexer by
name or file name. `AuthorityReplLexer` adds the REPL's command words; the REPL uses it for input.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, include, inherit, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

__all__ = ["DECLARATION_KEYWORDS", "FACTS", "REPL_COMMANDS", "AuthorityLexer",
           "AuthorityReplLexer"]

# Keywords that open a declaration (or a member) followed by the name it declares.
DECLARATION_KEYWORDS = ("threat", "capability", "technique", "protected", "safeguard",
                        "assessment", "recipient", "power", "forbid", "share", "principle",
                        "set", "operation", "subject")
_OTHER_KEYWORDS = ("law", "register", "case", "import", "when", "requires", "under", "on",
                   "any", "share", "forbid")
_WORD_OPERATORS = ("and", "or", "not", "in", "contains")
# Facts an operation offers to conditions (docs/semantics-notes.md).
FACTS = ("threat", "severity", "capabilities", "intrusion", "scope", "protected", "duration",
         "retention", "urgent", "date", "service", "recipients", "recipient", "country", "data",
         "foreign")
_CONSTANTS = ("targeted", "bulk", "evaluated", "unevaluated")
_UNITS = r"(?:hours?|days?|weeks?|months?|years?)"
_NAME = r"[^\W\d]\w*"
_NOT_KEYWORD = r"(?!(?:when|under|requires|and|or|not|in|contains|on)\b)"

REPL_COMMANDS = ("load", "reload", "open", "new", "set", "add", "unset", "show", "decide",
                 "why", "whatif", "compare", "undo", "redo", "history", "list", "help", "quit",
                 "exit")


class AuthorityLexer(RegexLexer):  # type: ignore[misc]
    """The .auth language: laws, technique registers, operations and conformance cases."""

    name = "Authority"
    aliases: ClassVar[list[str]] = ["authority", "auth"]
    filenames: ClassVar[list[str]] = ["*.auth"]
    mimetypes: ClassVar[list[str]] = ["text/x-authority"]
    url = "https://github.com/authority-dsl/authority-dsl"

    tokens: ClassVar[dict[str, list[object]]] = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"', String.Double, "string"),
            include("literals"),
            # `name:` — a field of a declaration's body
            (rf"({_NAME})(\s*)(:)", bygroups(Name.Attribute, Whitespace, Punctuation)),
            # `threat terrorism`, `power bulk_collection`, `subject target` ...
            (rf"\b({'|'.join(DECLARATION_KEYWORDS)})(\s+){_NOT_KEYWORD}({_NAME})",
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (words(("law", "register", "case"), suffix=r"\b"), Keyword.Declaration),
            (words(("import",), suffix=r"\b"), Keyword.Namespace),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (words(_WORD_OPERATORS, suffix=r"\b"), Operator.Word),
            (words(_OTHER_KEYWORDS, suffix=r"\b"), Keyword),
            (words(_CONSTANTS, suffix=r"\b"), Name.Constant),
            (words(FACTS, suffix=r"\b"), Name.Builtin),
            (_NAME, Name),
            (r"->|\.\.|==|!=|<=|>=|<|>|=", Operator),
            (r"[{}(),:.]", Punctuation),
            (r".", Error),
        ],
        "literals": [
            # ASCII digits only, as in the grammar: `５` is marked as an error.
            (r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?!\w)", Literal.Date),
            (rf"([0-9]+)(\s*)({_UNITS})(?!\w)",
             bygroups(Number.Integer, Whitespace, Keyword.Type)),
            (r"[0-9]+(?![\w-])", Number.Integer),
        ],
        "string": [
            (r'\\["\\nt]', String.Escape),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"\n", Error, "#pop"),
            (r"\\", Error),
        ],
    }


class AuthorityReplLexer(AuthorityLexer):
    """REPL input: a command word first, then names and values in the language's own colours."""

    name = "Authority REPL"
    aliases: ClassVar[list[str]] = ["authority-repl"]
    filenames: ClassVar[list[str]] = []
    mimetypes: ClassVar[list[str]] = []

    tokens: ClassVar[dict[str, list[object]]] = {
        "root": [
            (r"^(\s*)(whatif)(\s+)(set|add|unset)\b",
             bygroups(Whitespace, Keyword.Reserved, Whitespace, Keyword.Reserved)),
            (rf"^(\s*)({'|'.join(REPL_COMMANDS)})\b", bygroups(Whitespace, Keyword.Reserved)),
            (words(("country", "data", "with"), suffix=r"\b"), Keyword),
            inherit,
        ],
    }
