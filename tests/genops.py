"""benchmarks/gen_ops.py, the seeded generator of operation logs, loaded once for the tests."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def gen_ops() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ops", ROOT / "benchmarks" / "gen_ops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
