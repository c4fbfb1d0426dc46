"""prompt_toolkit completion over `completion.candidates`."""

from __future__ import annotations

from collections.abc import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from .completion import candidates
from .session import Session


class ReplCompleter(Completer):
    """Completes commands, fields and the names the session's law declares."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        for c in candidates(self.session, document.text_before_cursor):
            yield Completion(c.text, start_position=-c.replaces, display_meta=c.meta)
