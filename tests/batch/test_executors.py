"""Executors: identical bytes and manifest with 1 or 2 process workers and with Dask."""

from __future__ import annotations

from click.testing import CliRunner

from domaug.cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["run", *map(str, args)], catch_exceptions=False)


def test_same_seed_same_bytes_whatever_workers_or_executor(inputs, pipeline_file, tmp_path, helpers):
    results = {}
    for label, extra in {"w1": ["--workers", "1"], "w2": ["--workers", "2"],
                         "dask": ["--executor", "dask", "--workers", "2"]}.items():
        out = tmp_path / label
        result = run(pipeline_file, inputs, out, "--seed", 11, "-q", *extra)
        assert result.exit_code == 0, result.output
        results[label] = (helpers.output_files(out), helpers.manifest_lines(out))
    assert results["w1"] == results["w2"] == results["dask"]
    assert len(results["w1"][0]) > 7


def test_dask_missing_names_the_extra(inputs, pipeline_file, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails like when not installed
    result = run(pipeline_file, inputs, tmp_path / "out", "--executor", "dask")
    assert result.exit_code == 2 and "domaug[dask]" in result.output
    assert not (tmp_path / "out").exists()
