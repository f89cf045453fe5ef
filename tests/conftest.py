import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real sample files in ../shared/data (skips when the folder is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA} (../shared/data beside the repo)")
    return SHARED_DATA


@pytest.fixture
def both_paths():
    """``run(fn)`` → ``(fn() with OpenCV, fn() with the numpy paths)``; skips without OpenCV."""
    from domaug.ops import opencv

    if opencv.cv2_module() is None:
        pytest.skip("OpenCV paths disabled or OpenCV not installed")

    def run(fn):
        try:
            opencv.set_enabled(True)
            fast = fn()
            opencv.set_enabled(False)
            ref = fn()
        finally:
            opencv.set_enabled(True)
        return fast, ref

    return run


try:  # CI: the same examples on every run, no deadline on a loaded 2-core machine
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # pragma: no cover
    pass
