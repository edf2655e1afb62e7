import sys
from pathlib import Path

import pytest

# the shared helpers in tests/notebooks.py are imported as a plain module
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_configure(config) -> None:
    """Generate and verify the course data once, before any worker starts running notebooks."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has done it already
        return
    from nbcourse.cli import CliError, ensure_data

    try:
        ensure_data(Path(__file__).resolve().parent.parent)
    except CliError as exc:
        raise pytest.UsageError(f"the course data is not usable, so no notebook can run: {exc}") from exc
