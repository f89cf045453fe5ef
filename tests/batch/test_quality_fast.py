"""The batch engine's cheap SSIM/PSNR: exact where small, meaningful where subsampled."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from domaug import quality
from domaug.batch import quality_fast
from domaug.cli.main import cli


def _photo(size: int) -> np.ndarray:
    from skimage import data

    img = data.astronaut()
    step = max(1, 512 // size)
    return np.ascontiguousarray(img[::step, ::step][:size, :size])


def _noisy(a: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(a + rng.normal(0, sigma, a.shape), 0, 255).astype(a.dtype)


@pytest.mark.parametrize("bands", [None, 3])
def test_equals_the_exact_metrics_on_small_images(bands):
    a = _photo(128)
    if bands is None:
        a = a[..., 1]
    b = _noisy(a, 10)
    fast, exact = quality_fast.compare({"image": a}, {"image": b}), quality.compare({"image": a}, {"image": b})
    assert fast["psnr"] == pytest.approx(exact["psnr"], abs=1e-3)
    assert fast["ssim"] == pytest.approx(exact["ssim"], abs=2e-3)


def test_large_images_are_estimated_close_to_exact_and_ordered():
    a = _photo(512)
    scores = []
    for sigma in (2, 8, 25):
        b = _noisy(a, sigma)
        fast, exact = quality_fast.compare({"image": a}, {"image": b}), quality.compare({"image": a}, {"image": b})
        assert fast["psnr"] == pytest.approx(exact["psnr"], abs=1e-3)  # PSNR stays exact
        assert abs(fast["ssim"] - exact["ssim"]) < 0.15
        scores.append(fast["ssim"])
    assert scores[0] > scores[1] > scores[2]  # more noise, lower SSIM: still a usable guard
    same = quality_fast.compare({"image": a}, {"image": a})
    assert same == {"ssim": 1.0, "psnr": 100.0}


def test_uncovered_inputs_fall_back_to_the_exact_metrics():
    a = np.linspace(0, 1, 40 * 30, dtype=np.float32).reshape(40, 30)
    b = a.copy()
    b[5:10, 5:10] += 0.2
    valid = np.ones(a.shape, bool)
    valid[:, :3] = False
    before, after = {"image": a, "valid": valid}, {"image": b}
    assert quality_fast.compare(before, after) == quality.compare(before, after)
    assert quality_fast.compare({"image": a}, {"image": a[:20]}) == {"ssim": None, "psnr": None}


def test_no_quality_records_null_metrics(tmp_path, inputs, pipeline_file, helpers):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(pipeline_file), str(inputs), str(out), "--seed", "1",
                                      "--executor", "serial", "-q", "--no-quality"])
    assert result.exit_code == 0, result.output
    lines = helpers.manifest_lines(out)
    assert lines and all(r["ssim"] is None and r["psnr"] is None for r in lines if r["status"] == "ok")
    result = CliRunner().invoke(cli, ["run", str(pipeline_file), str(inputs), str(tmp_path / "o2"),
                                      "--no-quality", "--max-distortion", "0.5"])
    assert result.exit_code == 2 and "--no-quality" in result.output


def test_quality_switch_is_not_cached_between_runs_in_one_process(tmp_path, inputs, pipeline_file, helpers):
    # serial runs share this process's worker state: each run must get its own quality switch
    for k, quality in enumerate([False, True, False]):
        out = tmp_path / f"run{k}"
        result = CliRunner().invoke(cli, ["run", str(pipeline_file), str(inputs), str(out), "--seed", "1",
                                          "--executor", "serial", "-q", *([] if quality else ["--no-quality"])])
        assert result.exit_code == 0, result.output
        ok = [r for r in helpers.manifest_lines(out) if r["status"] == "ok"]
        assert ok and all((r["ssim"] is not None) == quality and (r["psnr"] is not None) == quality for r in ok)
