"""Issue 9 faults: SIGKILL + --resume, a worker that dies, read-only / full OUTPUT, SIGINT.

Every test drives the real CLI (``domaug run``) in a subprocess or through click, on
small PNG folders, and checks the invariants the batch engine promises: outputs are
atomic (no temporary or partial file remains), every output recorded ``ok`` is on disk
with its sha256, a resumed run equals an uninterrupted one, exit codes are 0/1/2/130.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from run_outputs import manifest_lines, output_files  # tests/ is on sys.path (tests/conftest.py)

TEMP_PREFIX = ".domaug-tmp-"

#: ``--plugin domaug_fault_transforms`` (user.SlowNoise, user.Crasher) and the pipelines using them
FAULTS = Path(__file__).resolve().parents[1] / "fixtures" / "faults"
SLOW = (FAULTS / "slow.yaml").read_text()
CRASH = (FAULTS / "crash.yaml").read_text()


@pytest.fixture(scope="module")
def plugin_env():
    """Environment for CLI subprocesses in which ``--plugin domaug_fault_transforms`` imports."""
    return dict(os.environ, PYTHONPATH=str(FAULTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def make_pngs(root: Path, n: int, size: int = 96, marks: dict[int, tuple] | None = None) -> Path:
    from PIL import Image
    from skimage import data

    root.mkdir(parents=True)
    base = data.astronaut()[:: 512 // size, :: 512 // size][:size, :size]
    for i in range(n):
        folder = root / f"part{i % 3}"
        folder.mkdir(exist_ok=True)
        img = np.ascontiguousarray(np.roll(base, 7 * i, axis=0))
        if marks and i in marks:
            img[0, 0] = marks[i]
        Image.fromarray(img).save(folder / f"f{i:02d}.png", compress_level=1)
    return root


def cli(*args, env=None, **kw) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from domaug.cli.main import main; main()", *map(str, args)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, **kw)


def popen(*args, env=None) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from domaug.cli.main import main; main()", *map(str, args)]
    return subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def assert_consistent(root: Path) -> list[dict]:
    """No temporary file; each line parses, once per (input, variant); ok outputs match their sha256."""
    temps = [str(p) for p in root.rglob(TEMP_PREFIX + "*")] + [str(p) for p in root.glob(".manifest*tmp*")]
    assert not temps, f"temporary files left: {temps}"
    records = manifest_lines(root)
    keys = [(r["input"], r["variant"]) for r in records]
    assert len(keys) == len(set(keys)), "an output is recorded twice"
    for r in records:
        if r["status"] == "ok":
            for rel, digest in r["files"].items():
                assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest, rel
    return records


def wait_lines(path: Path, proc: subprocess.Popen, n: int, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    lines = 0
    while time.monotonic() < deadline and proc.poll() is None:
        lines = len(path.read_text().splitlines()) if path.exists() else 0
        if lines >= n:
            break
        time.sleep(0.005)
    return lines


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, plugin_env):
    """An uninterrupted serial run of the slow pipeline (the reference)."""
    base = tmp_path_factory.mktemp("ref")
    src = make_pngs(base / "in", 24)
    pipe = base / "slow.yaml"
    pipe.write_text(SLOW)
    ref = base / "clean"
    r = cli("run", pipe, src, ref, "--seed", 21, "--variants", 2, "--executor", "serial", "-q",
            "--plugin", "domaug_fault_transforms", env=plugin_env)
    assert r.returncode == 0, r.stderr
    return src, pipe, ref


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_point_then_resume_equals_uninterrupted(tmp_path, clean_run, plugin_env, seed):
    src, pipe, ref = clean_run
    rng = np.random.default_rng(seed)
    kill_after = int(rng.integers(1, 40))  # manifest lines written before the kill (48 in all)
    jitter = float(rng.uniform(0, 0.05))
    out = tmp_path / "killed"
    proc = popen("run", pipe, src, out, "--seed", 21, "--variants", 2, "--workers", 2, "-q",
                 "--plugin", "domaug_fault_transforms", env=plugin_env)
    seen = wait_lines(out / "manifest.jsonl", proc, kill_after)
    time.sleep(jitter)
    if proc.poll() is not None:
        pytest.fail("the run ended before it could be killed: " + proc.stderr.read())
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-write possibly
    proc.wait()
    assert seen >= kill_after
    # what the killed run recorded: those outputs must not be written again by --resume
    before = {}
    for r in manifest_lines(out):
        if r["status"] == "ok":
            for rel in r["files"]:
                st = (out / rel).stat()
                before[rel] = (st.st_ino, st.st_mtime_ns)
    r = cli("run", pipe, src, out, "--resume", "--workers", 2, "-q", "--plugin", "domaug_fault_transforms", env=plugin_env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert_consistent(out)
    assert output_files(out) == output_files(ref)
    assert manifest_lines(out) == manifest_lines(ref)
    for rel, stamp in before.items():
        st = (out / rel).stat()
        assert (st.st_ino, st.st_mtime_ns) == stamp, f"{rel} was written twice"


def test_worker_dying_fails_that_file_only(tmp_path, plugin_env):
    marks = {4: (250, 1, 2), 9: (251, 1, 2)}  # f04: os._exit(1) in the worker; f09: MemoryError
    src = make_pngs(tmp_path / "in", 12, size=64, marks=marks)
    pipe = tmp_path / "crash.yaml"
    pipe.write_text(CRASH)
    out = tmp_path / "out"
    r = cli("run", pipe, src, out, "--seed", 5, "--workers", 2, "--plugin", "domaug_fault_transforms", env=plugin_env)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    records = {rec["input"]: rec for rec in assert_consistent(out)}
    assert len(records) == 12
    died, oom = records["part1/f04.png"], records["part0/f09.png"]
    assert died["status"] == "failed" and "worker process died" in died["error"]
    assert oom["status"] == "failed" and "MemoryError" in oom["error"]
    ok = [k for k, rec in records.items() if rec["status"] == "ok"]
    assert len(ok) == 10
    assert "part1/f04.png" in r.stderr and "worker process died" in r.stderr
    assert not list(out.rglob("f04.aug*")) and not list(out.rglob("f09.aug*"))
    assert json.loads((out / "run.json").read_text())["status"] == "complete"


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_output_is_a_clear_error(tmp_path, plugin_env):
    src = make_pngs(tmp_path / "in", 3, size=48)
    pipe = tmp_path / "p.yaml"
    pipe.write_text(CRASH)
    out = tmp_path / "ro"
    mounted = False
    if os.geteuid() == 0:  # root ignores permission bits: use a read-only tmpfs instead
        mounted = _mount_tmpfs(out, "ro,size=1m")
        if not mounted:
            pytest.skip("running as root (chmod does not block writes) and cannot mount a read-only tmpfs")
    else:
        out.mkdir()
        out.chmod(0o555)
    try:
        r = cli("run", pipe, src, out, "--seed", 1, "--workers", 1, "-q", "--plugin", "domaug_fault_transforms",
                env=plugin_env)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr
        assert "cannot write OUTPUT" in r.stderr
        assert ("Read-only file system" in r.stderr) or ("Permission denied" in r.stderr)
        assert list(out.iterdir()) == []
    finally:
        if mounted:
            _umount(out)
        else:
            out.chmod(0o755)


def test_disk_full_output_is_reported_and_leaves_no_corrupt_file(tmp_path, plugin_env):
    from PIL import Image

    src = make_pngs(tmp_path / "in", 24, size=128)
    pipe = tmp_path / "p.yaml"
    pipe.write_text(CRASH)
    out = tmp_path / "full"
    if not _mount_tmpfs(out, "size=300k"):
        pytest.skip("cannot mount a small tmpfs (needs root on Linux) to simulate a full disk")
    try:
        r = cli("run", pipe, src, out, "--seed", 1, "--workers", 2, "-q", "--plugin", "domaug_fault_transforms",
                env=plugin_env)
        assert r.returncode == 2, r.stderr  # stopped at the first write that OUTPUT refused
        assert "Traceback" not in r.stderr
        assert "No space left on device" in r.stderr and "cannot write OUTPUT" in r.stderr
        assert r.stderr.count("No space left on device") == 1, r.stderr  # one clear line, not one per file
        assert not list(out.rglob(TEMP_PREFIX + "*")), "temporary files left"
        recorded = set()
        if (out / "manifest.jsonl").exists():
            for line in (out / "manifest.jsonl").read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line torn by ENOSPC is ignored by readers
                if rec.get("status") == "ok":
                    for rel, digest in rec["files"].items():
                        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
                        recorded.add(rel)
        for rel in output_files(out):  # anything present is a complete, decodable image
            with Image.open(out / rel) as im:
                im.load()
    finally:
        _umount(out)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_sigint_stops_cleanly_and_resume_continues(tmp_path, clean_run, plugin_env):
    src, pipe, ref = clean_run
    out = tmp_path / "int"
    slow_env = dict(plugin_env, SLOW_NOISE_S="0.25")  # long enough that Ctrl-C lands mid-run, even under load
    proc = popen("run", pipe, src, out, "--seed", 21, "--variants", 2, "--workers", 2, "-q",
                 "--plugin", "domaug_fault_transforms", env=slow_env)
    wait_lines(out / "manifest.jsonl", proc, 6)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole foreground group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "--resume" in err
    records = assert_consistent(out)
    assert 0 < len(records) < 48
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    recorded = {rel for r in records for rel in r.get("files", {})}
    assert set(output_files(out)) == recorded, "an output on disk is not in the manifest"
    r = cli("run", pipe, src, out, "--resume", "--workers", 2, "-q", "--plugin", "domaug_fault_transforms", env=plugin_env)
    assert r.returncode == 0, r.stderr
    assert output_files(out) == output_files(ref)
    assert manifest_lines(out) == manifest_lines(ref)
