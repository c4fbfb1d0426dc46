"""The benchmark scripts the tests use (`benchmarks/gen_ops.py`, the seeded generator of
operation logs, and `benchmarks/vs_cedar.py`), each loaded once."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def benchmark(name: str) -> ModuleType:
    """`benchmarks/<name>.py` as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gen_ops() -> ModuleType:
    return benchmark("gen_ops")
