"""The evaluators: `reference.decide` (reads like the semantics) and `compile_law` (fast)."""

from .compiled import CompiledLaw, compile_law

__all__ = ["CompiledLaw", "compile_law"]
