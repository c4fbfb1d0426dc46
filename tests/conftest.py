"""Which authority-dsl the tests run, and the Hypothesis profiles.

The tests run the installed package, as its users do: after `pip install .`, that is the build
whose hot modules are compiled (setup.py), also in the processes the tests start. Run them on the
checkout's plain-Python source instead with `AUTHORITY_DSL_TEST_SOURCE=1 pytest` (`.ci/run` runs
both). An editable install is the source itself.

Hypothesis profiles: `ci` (deterministic, bounded, no deadline) is the default and what `.ci/run`
selects; `dev` explores much further: `HYPOTHESIS_PROFILE=dev pytest`."""

import importlib
import importlib.machinery
import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent


def _use_installed() -> None:
    """Take authority_dsl from where it is installed, unless that is the checkout's source."""
    if os.environ.get("AUTHORITY_DSL_TEST_SOURCE"):
        return
    paths = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    spec = importlib.machinery.PathFinder.find_spec("authority_dsl", paths)
    if spec is None or spec.origin is None or \
            Path(spec.origin).resolve().is_relative_to(ROOT / "authority_dsl"):
        return
    assert "authority_dsl" not in sys.modules, "authority_dsl was imported before conftest"
    # Imported now, from there: its modules come from the package's folder from then on, though
    # pytest puts the checkout first on the path again for each test module.
    kept = sys.path[:]
    sys.path[:] = paths
    importlib.import_module("authority_dsl")
    sys.path[:] = kept
    # `python -m authority_dsl` started in the checkout would take the source first.
    os.environ["PYTHONSAFEPATH"] = "1"


_use_installed()

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
