"""Start-up wall time: ``python -c "import domaug"`` (target ≤ 150 ms) and ``domaug list`` (≤ 400 ms).

Each call is a fresh subprocess of the interpreter running the benchmarks, so the time
includes the interpreter's own start (``python -c pass`` and ``import numpy`` are timed
alongside as floors). Albumentations' import is timed too, for scale (it is not the same work).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness import Case

TARGETS_MS = {"import domaug": 150.0, "domaug list": 400.0}


def _run(args: list[str]):
    env = dict(os.environ)

    def call() -> None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

    return call


def _domaug_cli() -> list[str]:
    script = Path(sys.executable).with_name("domaug")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from domaug.cli.main import main; main()"]


def cases(quick: bool = False) -> list[Case]:
    py = sys.executable
    floor = {"python -c pass": _run([py, "-c", "pass"]), "import numpy": _run([py, "-c", "import numpy"])}
    peers = dict(floor)
    try:
        import importlib.util

        if importlib.util.find_spec("albumentations") is not None:
            peers["import albumentations"] = _run([py, "-c", "import albumentations"])
    except Exception:
        pass
    return [
        Case("import domaug", "subprocess", _run([py, "-c", "import domaug"]), peers,
             note=f"target ≤ {TARGETS_MS['import domaug']:.0f} ms"),
        Case("domaug list", "subprocess", _run(_domaug_cli() + ["list"]), dict(floor),
             note=f"target ≤ {TARGETS_MS['domaug list']:.0f} ms"),
    ]
