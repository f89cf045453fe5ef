"""The batch engine's data: Task, RunConfig, ManifestRecord, and prepare() leaving its options alone."""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict

import pytest

from domaug.batch.records import ManifestRecord, RunConfig, Task
from domaug.batch.runner import RunOptions, execute, prepare


def _options(pipeline_file, inputs, out, **kw) -> RunOptions:
    return RunOptions(pipeline=str(pipeline_file), input=str(inputs), output=str(out), executor="serial",
                      quiet=True, **kw)


def test_failed_read_record_has_only_its_keys():
    record = ManifestRecord("a/x.png", "png").failed("truncated PNG", duration_ms=1.5)
    assert record.to_json() == {"input": "a/x.png", "format": "png", "variant": None, "output": None,
                                "status": "failed", "error": "truncated PNG", "duration_ms": 1.5}


def test_written_record_keeps_null_metrics_and_drops_unset_options():
    base = ManifestRecord("a/x.png", "png", variant=0, output="a/x.aug0.png", input_sha256="i" * 64)
    record = base.written([1, 0], [{"name": "core.Flip", "params": {}}], {"a/x.aug0.png": "o" * 64},
                          ssim=None, psnr=None)
    data = record.to_json()
    assert data["status"] == "ok" and data["output_sha256"] == "o" * 64
    assert data["ssim"] is None and data["psnr"] is None  # recorded as null, not left out
    assert not {"flagged", "attempts", "windowed", "error", "inputs", "outputs", "duration_ms"} & set(data)
    assert "flagged" in record.written([1, 0], [], {"a/x.aug0.png": "o"}, flagged=False).to_json()
    failed = base.failed("disk full", output_error="ENOSPC").to_json()
    assert not {"seed_key", "applied", "files", "ssim", "psnr", "output_sha256"} & set(failed)
    assert failed["output_error"] == "ENOSPC" and failed["input_sha256"] == "i" * 64


def test_task_and_config_pickle_for_workers():
    task = Task("a/x.png", ("a/x.png",), "png", {0: ("a/x.aug0.png",), 2: ("a/x.aug2.png",)}, 10)
    config = RunConfig(pipeline={"name": "core.Flip"}, pipeline_hash="h", root_seed=1, input="/in", output="/out",
                       domaug_version="0")
    assert task.variants == [0, 2]
    assert pickle.loads(pickle.dumps(task)) == task and pickle.loads(pickle.dumps(config)) == config
    assert config.worker_key != RunConfig(**{**asdict(config), "quality": False}).worker_key


def test_engine_manifest_lines_round_trip_through_the_record(inputs, pipeline_file, tmp_path):
    (inputs / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    out = tmp_path / "out"
    summary = execute(prepare(_options(pipeline_file, inputs, out, seed=2, variants=2)), echo=lambda m: None)
    assert summary.files_failed == 1
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 7 * 2
    for line in lines:
        data = json.loads(line)
        assert ManifestRecord.from_json(data).to_json() == data


def test_resume_does_not_modify_the_callers_options(inputs, pipeline_file, tmp_path):
    out = tmp_path / "out"
    execute(prepare(_options(pipeline_file, inputs, out, seed=5, variants=3, include=("*.png",))),
            echo=lambda m: None)
    options = _options(pipeline_file, inputs, out, resume=True)
    before = asdict(options)
    job = prepare(options)
    assert asdict(options) == before  # the run's settings went into the job's copy only
    assert (job.options.variants, tuple(job.options.include), job.options.seed) == (3, ("*.png",), 5)
    assert job.config.root_seed == 5 and job.run_record["variants"] == 3


def test_resume_with_another_seed_is_refused(inputs, pipeline_file, tmp_path):
    from domaug.batch.plan import RunError

    out = tmp_path / "out"
    execute(prepare(_options(pipeline_file, inputs, out, seed=5)), echo=lambda m: None)
    with pytest.raises(RunError, match="--seed 6 differs"):
        prepare(_options(pipeline_file, inputs, out, resume=True, seed=6))
