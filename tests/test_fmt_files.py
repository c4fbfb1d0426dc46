"""`authority fmt` on the file system: write failures are located errors, and a formatted file
keeps its links, mode, owner, line endings and byte order mark."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from authority_dsl import formatter
from authority_dsl.cli import fmt, main

UNFORMATTED = 'law "x" {\nversion: "1"\n}\nthreat t\n'
FORMATTED = 'law "x" {\n    version: "1"\n}\n\nthreat t\n'
BOM = b"\xef\xbb\xbf"
NOBODY = 65534
SETPRIV = shutil.which("setpriv")

LOCATED = re.compile(r"[^\s:]+:1:1: error\[fmt-cannot-write\]: ")

as_nobody = pytest.mark.skipif(
    os.geteuid() != 0 or SETPRIV is None,
    reason="needs root and setpriv to run fmt as another user")


def authority(*args: str, cwd: Path, user: int | None = None,
              preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    prefix = [] if user is None else [str(SETPRIV), f"--reuid={user}", f"--regid={user}",
                                      "--clear-groups"]
    return subprocess.run([*prefix, sys.executable, "-m", "authority_dsl", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120,
                          preexec_fn=preexec_fn, env={**os.environ, "COLUMNS": "100"})


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder another user can reach: pytest's own are private to the user running it."""
    folder = Path(tempfile.mkdtemp(prefix="fmt-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def write(path: Path, text: str = UNFORMATTED) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


# ---- a file that cannot be written --------------------------------------------------------------


@as_nobody
def test_folder_another_user_cannot_write(shared: Path) -> None:
    locked, free = shared / "locked", shared / "free"
    locked.mkdir(mode=0o755)
    free.mkdir()
    os.chown(free, NOBODY, NOBODY)
    # Nobody's own file in a folder it cannot write: no temporary file can go beside it.
    mine = write(locked / "mine.auth")
    os.chown(mine, NOBODY, NOBODY)
    theirs = write(locked / "theirs.auth")
    later = write(free / "later.auth")
    os.chown(later, NOBODY, NOBODY)
    result = authority("fmt", "locked/mine.auth", "locked/theirs.auth", "free/later.auth",
                       cwd=shared, user=NOBODY)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "locked/mine.auth:1:1: error[fmt-cannot-write]: file `locked/mine.auth` cannot be " \
        "written: no temporary file can be made in" in result.stderr
    assert "locked/theirs.auth:1:1: error[fmt-cannot-write]: file `locked/theirs.auth` cannot " \
        "be written: permission denied" in result.stderr
    assert "3 files: 1 reformatted, 2 with errors" in result.stderr
    assert mine.read_text() == theirs.read_text() == UNFORMATTED
    assert later.read_text() == FORMATTED
    assert sorted(p.name for p in locked.iterdir()) == ["mine.auth", "theirs.auth"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder; see the test above")
def test_folder_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    path = write(locked / "law.auth")
    later = write(tmp_path / "later.auth")
    locked.chmod(0o555)
    try:
        assert main(["fmt", str(path), str(later)]) == 1
    finally:
        locked.chmod(0o755)
    assert LOCATED.search(capsys.readouterr().err)
    assert path.read_text() == UNFORMATTED
    assert later.read_text() == FORMATTED


def test_write_that_fails_leaves_the_original_and_no_temporary_file(tmp_path: Path) -> None:
    import resource

    big = write(tmp_path / "big.auth", UNFORMATTED + "threat u\n" * 4000)
    linked = write(tmp_path / "linked.auth", UNFORMATTED + "threat u\n" * 4000)
    os.link(linked, tmp_path / "other.auth")
    later = write(tmp_path / "later.auth")
    before = big.read_bytes()

    def small_files() -> None:  # `ulimit -f 20`: 20 KiB at most
        resource.setrlimit(resource.RLIMIT_FSIZE, (20 * 1024, 20 * 1024))

    result = authority("fmt", "big.auth", "linked.auth", "later.auth", cwd=tmp_path,
                       preexec_fn=small_files)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "big.auth:1:1: error[fmt-cannot-write]: file `big.auth` cannot be written: file too " \
        "large; it is left as it was" in result.stderr
    assert "linked.auth:1:1: error[fmt-cannot-write]" in result.stderr
    assert big.read_bytes() == linked.read_bytes() == before
    assert later.read_text() == FORMATTED
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "big.auth", "later.auth", "linked.auth", "other.auth"]


def test_failed_write_in_place_puts_the_original_back(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "law.auth")
    os.link(path, tmp_path / "other.auth")
    real = fmt._overwrite
    calls: list[bytes] = []

    def half_then_full(target: Path, data: bytes) -> None:
        calls.append(data)
        if len(calls) == 1:
            target.write_bytes(data[:10])
            raise OSError(28, "No space left on device")
        real(target, data)

    monkeypatch.setattr(fmt, "_overwrite", half_then_full)
    assert main(["fmt", str(path)]) == 1
    assert "cannot be written: no space left on device; it is left as it was" in \
        capsys.readouterr().err
    assert calls == [FORMATTED.encode(), UNFORMATTED.encode()]
    assert path.read_text() == UNFORMATTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["law.auth", "other.auth"]


def test_failed_write_in_place_that_cannot_be_undone_keeps_the_new_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "law.auth")
    os.link(path, tmp_path / "other.auth")

    def fail(target: Path, data: bytes) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(fmt, "_overwrite", fail)
    assert main(["fmt", str(path)]) == 1
    err = capsys.readouterr().err
    (kept,) = [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    assert "error[fmt-cannot-write]: file" in err
    assert "was left incomplete: input/output error" in err
    assert kept.name in err
    assert kept.read_text() == FORMATTED


def test_read_only_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "law.auth")
    path.chmod(0o444)
    later = write(tmp_path / "later.auth")
    assert main(["fmt", str(path), str(later)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:1: error[fmt-cannot-write]: file `{path}` is read-only" in err
    assert path.read_text() == UNFORMATTED
    assert path.stat().st_mode & 0o777 == 0o444
    assert later.read_text() == FORMATTED
    # Only writing needs a writable file.
    assert main(["fmt", "--check", str(write(path.with_name("ok.auth"), FORMATTED))]) == 0


def test_file_changed_while_formatting_is_left_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "law.auth")
    real = formatter.format_source

    def edited_meanwhile(text: str, file: str = "<string>") -> str:
        path.write_text(UNFORMATTED + "threat u\n")
        return real(text, file)

    monkeypatch.setattr(formatter, "format_source", edited_meanwhile)
    assert main(["fmt", str(path)]) == 1
    assert "changed while it was being formatted" in capsys.readouterr().err
    assert path.read_text() == UNFORMATTED + "threat u\n"


# ---- what the file keeps ------------------------------------------------------------------------


def test_symbolic_link_formats_its_target(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    real = write(tmp_path / "sub" / "real.auth")
    link = tmp_path / "link.auth"
    link.symlink_to("sub/real.auth")
    assert main(["fmt", str(link)]) == 0
    assert link.is_symlink()
    assert os.readlink(link) == "sub/real.auth"
    assert real.read_text() == FORMATTED
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["real.auth"]


def test_hard_links_stay_one_file(tmp_path: Path) -> None:
    path = write(tmp_path / "law.auth")
    other = tmp_path / "other.auth"
    os.link(path, other)
    inode = path.stat().st_ino
    assert main(["fmt", str(path)]) == 0
    assert path.stat().st_ino == other.stat().st_ino == inode
    assert other.read_text() == FORMATTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["law.auth", "other.auth"]


def test_mode_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "law.auth")
    path.chmod(0o640)
    assert main(["fmt", str(path)]) == 0
    assert path.stat().st_mode & 0o7777 == 0o640
    assert path.read_text() == FORMATTED


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives a file to another user")
def test_owner_and_group_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "law.auth")
    os.chown(path, NOBODY, NOBODY)
    assert main(["fmt", str(path)]) == 0
    assert (path.stat().st_uid, path.stat().st_gid) == (NOBODY, NOBODY)
    assert path.read_text() == FORMATTED


@as_nobody
def test_owner_kept_by_writing_in_place_when_it_cannot_be_given(shared: Path) -> None:
    os.chown(shared, NOBODY, NOBODY)
    path = write(shared / "law.auth")  # root's, but anyone may write it
    path.chmod(0o666)
    inode = path.stat().st_ino
    result = authority("fmt", "law.auth", cwd=shared, user=NOBODY)
    assert result.returncode == 0, result.stderr
    assert (path.stat().st_uid, path.stat().st_ino) == (0, inode)
    assert path.stat().st_mode & 0o777 == 0o666
    assert path.read_text() == FORMATTED
    assert [p.name for p in shared.iterdir()] == ["law.auth"]


# ---- line endings and byte order mark -----------------------------------------------------------


def test_crlf_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "law.auth", UNFORMATTED.replace("\n", "\r\n"))
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == FORMATTED.replace("\n", "\r\n").encode()


def test_formatted_crlf_file_passes_check(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "law.auth", FORMATTED.replace("\n", "\r\n"))
    assert main(["fmt", "--check", str(path)]) == 0
    assert main(["fmt", str(path)]) == 0
    assert "1 file: 0 reformatted" in capsys.readouterr().err
    assert path.read_bytes() == FORMATTED.replace("\n", "\r\n").encode()


def test_mixed_line_endings_follow_the_first_line(tmp_path: Path) -> None:
    lf_first = write(tmp_path / "lf.auth", FORMATTED.replace("}\n", "}\r\n"))
    crlf_first = write(tmp_path / "crlf.auth", FORMATTED.replace("{\n", "{\r\n"))
    assert main(["fmt", "--check", str(lf_first)]) == 1
    assert main(["fmt", str(lf_first), str(crlf_first)]) == 0
    assert lf_first.read_bytes() == FORMATTED.encode()
    assert crlf_first.read_bytes() == FORMATTED.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_byte_order_mark_is_kept(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "law.auth"
    path.write_bytes(BOM + UNFORMATTED.replace("\n", newline).encode())
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == BOM + FORMATTED.replace("\n", newline).encode()
    assert main(["fmt", "--check", str(path)]) == 0
