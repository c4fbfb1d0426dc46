"""The students' REPL: a pure `Session` (session.py) under thin front ends (app.py).

Importing this package does not import prompt_toolkit; only the interactive front end does.
"""

from .session import COMMANDS, Output, Session, run_lines

__all__ = ["COMMANDS", "Output", "Session", "run_lines"]
