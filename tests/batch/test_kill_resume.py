"""A run killed (SIGKILL, whole process group) and resumed equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from domaug.cli.main import cli

#: ``--plugin domaug_fault_transforms``: user.SlowNoise takes a fixed time, so the run is slow
#: enough to be killed midway whatever the machine's speed
FAULTS = Path(__file__).resolve().parents[1] / "fixtures" / "faults"


def _inputs(root: Path, n: int = 30) -> Path:
    import numpy as np
    from PIL import Image
    from skimage import data

    root.mkdir(parents=True)
    base = data.astronaut()[::4, ::4]
    for i in range(n):
        folder = root / f"part{i % 3}"
        folder.mkdir(exist_ok=True)
        Image.fromarray(np.roll(base, 7 * i, axis=0)).save(folder / f"f{i:02d}.png", compress_level=1)
    return root


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_killed_run_resumed_equals_uninterrupted(tmp_path, helpers, monkeypatch):
    src = _inputs(tmp_path / "in")
    monkeypatch.syspath_prepend(str(FAULTS))
    monkeypatch.setenv("PYTHONPATH", str(FAULTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("SLOW_NOISE_S", "0.04")
    pipe = FAULTS / "slow.yaml"
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from domaug.cli.main import main; main()", "run", str(pipe), str(src),
           str(killed), "--seed", "21", "--variants", "2", "--workers", "2", "-q", "--plugin", "domaug_fault_transforms"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    manifest = killed / "manifest.jsonl"
    deadline = time.monotonic() + 60
    lines = 0
    while time.monotonic() < deadline and proc.poll() is None:
        lines = len(manifest.read_text().splitlines()) if manifest.exists() else 0
        if lines >= 4:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed: " + proc.stderr.read().decode()
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes, mid-run
    proc.wait()
    assert lines >= 4, proc.stderr.read().decode()
    interrupted_lines = len(manifest.read_text().splitlines())
    assert interrupted_lines < 60, "the run finished before it could be killed"

    result = CliRunner().invoke(cli, ["run", str(pipe), str(src), str(killed), "--resume", "--workers", "2", "-q",
                                      "--plugin", "domaug_fault_transforms"])
    assert result.exit_code == 0, result.output
    assert "already done" in result.output

    clean = tmp_path / "clean"
    result = CliRunner().invoke(cli, ["run", str(pipe), str(src), str(clean), "--seed", "21", "--variants", "2",
                                      "--executor", "serial", "-q", "--plugin", "domaug_fault_transforms"])
    assert result.exit_code == 0, result.output
    assert helpers.output_files(killed) == helpers.output_files(clean)
    assert helpers.manifest_lines(killed) == helpers.manifest_lines(clean)
    assert len(helpers.manifest_lines(clean)) == 60
