"""The build: `pip install .` compiles the audit's hot modules (setup.py); the compiled build must
decide exactly as the plain-Python source, down to the bytes of every record and error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import authority_dsl
from tests.genops import gen_ops

ROOT = Path(__file__).resolve().parent.parent
V1, V2 = ROOT / "specs" / "wiv2017.auth", ROOT / "specs" / "wiv_threat_draft.auth"
# The checkout's source, whatever is installed: first on the path, not the current folder.
SOURCE = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONSAFEPATH": "1"}


def authority(*args: str, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "authority_dsl", *args], capture_output=True,
                          timeout=300, check=False, env=env)


def test_the_tests_run_the_installed_package(tmp_path: Path) -> None:
    """What `pip install` put in place is what the tests and the processes they start run
    (tests/conftest.py), or the checkout's source with AUTHORITY_DSL_TEST_SOURCE=1."""
    where = "import authority_dsl; print(authority_dsl.__file__)"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    installed = subprocess.run([sys.executable, "-P", "-c", where], capture_output=True,
                               text=True, cwd=tmp_path, env=env, check=False).stdout.strip()
    source = ROOT / "authority_dsl" / "__init__.py"
    expected = source if os.environ.get("AUTHORITY_DSL_TEST_SOURCE") or not installed \
        else Path(installed)
    assert Path(authority_dsl.__file__).resolve() == expected.resolve()
    child = subprocess.run([sys.executable, "-c", where], capture_output=True, text=True,
                           cwd=ROOT, check=False).stdout.strip()
    assert Path(child).resolve() == expected.resolve()


def test_version_names_the_build() -> None:
    result = authority("--version")
    assert result.returncode == 0
    assert result.stdout.decode() == \
        f"authority-dsl {authority_dsl.__version__} ({authority_dsl.build()})\n"
    plain = authority("--version", env=SOURCE)
    assert plain.stdout.decode() == f"authority-dsl {authority_dsl.__version__} (plain Python)\n"


@pytest.mark.skipif(not authority_dsl.compiled(),
                    reason="the installed authority-dsl is not compiled (an editable install, "
                           "or built with AUTHORITY_DSL_PURE=1 or without a C compiler)")
def test_the_compiled_build_writes_the_same_bytes_as_the_source(tmp_path: Path) -> None:
    assert authority_dsl.compiled() == authority_dsl.COMPILABLE + authority_dsl.NATIVE
    lines = list(gen_ops().generate([V1, V2], 4000, seed=11, malformed=0.05))
    lines += [line.replace(b'"op-', b'"again-', 1) for line in lines[:1000]]  # memo hits
    lines += [b"\n", b'{"id": "x\x00"}\n', b"\xff\xfe\n", b'{"id": 1}\n', b"[1, 2\n"]
    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(b"".join(lines))
    outputs = set()
    for name, env in (("compiled", None), ("source", SOURCE)):
        for jobs in ("1", "2"):
            out = tmp_path / f"{name}-{jobs}.jsonl"
            result = authority("audit", "--no-progress", "--jobs", jobs, str(V1), str(V2),
                               str(ops), "-o", str(out), env=env)
            assert result.returncode == 1, result.stderr.decode()  # the malformed lines
            assert b"Traceback" not in result.stderr
            # The summary after its first line, which gives the time taken and the jobs.
            outputs.add((out.read_bytes(), result.stderr.split(b"\n", 1)[1]))
    assert len(outputs) == 1
    ((data, summary),) = outputs
    assert data.count(b"\n") == len(lines)
    assert b'"code":"nul-byte"' in data and b'"verdict":"permitted"' in data
    assert b"nul-byte" in summary and b"permitted" in summary


@pytest.mark.parametrize(("names", "kind"), [
    ((), "plain Python"),
    (("operation",), "partly compiled"),
    (authority_dsl.COMPILABLE + authority_dsl.NATIVE, "compiled"),
])
def test_build_kind_follows_the_compiled_modules(monkeypatch: pytest.MonkeyPatch,
                                                 names: tuple[str, ...], kind: str) -> None:
    monkeypatch.setattr(authority_dsl, "compiled", lambda: names)
    assert authority_dsl.build_kind() == kind
