"""Build: the package, with its hot modules compiled by Cython where a C compiler is at hand.

The audit's per-line path (`operation.decode`, the evaluator's fast path, the record parts and the
auditor's loop) runs as C extension modules built from the very same `.py` files: the same code,
with the `.pxd` files beside them declaring the classes used on every line as extension types
with typed fields; some 15% fewer instructions per line (docs/reviewers.md). One more, `_lines`, is
written for Cython (`_lines.pyx`): it finds line ends with the C library's `memchr`, and
`authority_dsl/lines.py` stands in for it where it is not built. Each extension is
optional: without a compiler, or with `AUTHORITY_DSL_PURE=1` in the environment, the package
installs as plain Python and behaves the same, only slower. An editable install
(`pip install -e .`) stays plain Python, so that an edit to a module takes effect without a
rebuild.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def listed(name: str) -> list[str]:
    """A list of modules in the package's `__init__.py`, read without importing the package:
    `COMPILABLE`, the modules every line of an audit runs through, or `NATIVE`, the C extensions
    written for Cython."""
    tree = ast.parse(Path("authority_dsl/__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return [f"authority_dsl.{module}" for module in ast.literal_eval(node.value)]
    raise LookupError(f"{name} is not in authority_dsl/__init__.py")


def _editable() -> bool:
    return any(arg in ("editable_wheel", "develop") for arg in sys.argv)


def extensions() -> list[Extension]:
    if os.environ.get("AUTHORITY_DSL_PURE") or _editable():
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    # No debugging information (the interpreter's CFLAGS ask for it): some 15 MB less installed.
    flags = [] if sys.platform == "win32" else ["-g0"]
    modules = [Extension(name, [name.replace(".", "/") + ".py"], extra_compile_args=flags)
               for name in listed("COMPILABLE")]
    modules += [Extension(name, [name.replace(".", "/") + ".pyx"], extra_compile_args=flags)
                for name in listed("NATIVE")]
    return list(cythonize(modules, build_dir="build/cython", quiet=True,
                          nthreads=os.cpu_count() or 1,
                          compiler_directives={"language_level": "3"}))


class OptionalBuildExt(build_ext):
    """Each extension is optional: one that cannot be built (no C compiler, no Python headers)
    leaves its module as plain Python, with a warning. (`Extension(optional=True)` would not do:
    it lets some of the ways a compiler fails stop the install.)"""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # any failure: the .py stays
            print(f"warning: {ext.name} is not compiled and runs as plain Python: {exc}",
                  file=sys.stderr)


# The extensions build side by side, one per core.
setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt},
      options={"build_ext": {"parallel": os.cpu_count() or 1}})
