"""Alias of ``domaug gallery driving``, kept for old notes and scripts.

``python -m domaug_driving.gallery [--data DIR] [--out DIR] [--seeds 0 1 2] [--max-side PX]``
runs ``domaug gallery driving`` with the same options (the panels it drew are now the
plugin's gallery panels, :mod:`domaug_driving.gallery_panels`).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``domaug gallery driving ARGV`` and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    return subprocess.call([sys.executable, "-m", "domaug", "gallery", "driving", *args])


if __name__ == "__main__":
    sys.exit(main())
