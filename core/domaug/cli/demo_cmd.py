"""``domaug demo``: one example pipeline per installed plugin on built-in samples, no download.

Each plugin supplies its demo through the ``register_demos`` hook:
``register(name, make_inputs, pipeline_dict)``, where ``make_inputs(folder)`` writes
the domain's sample files (synthesised, or data a dependency ships) and
``pipeline_dict`` is a :func:`domaug.to_dict`-style pipeline. For every demo the
command writes the inputs to ``OUT/inputs/<name>/``, runs the batch engine into
``OUT/<name>/`` (augmented files, ``manifest.jsonl``, ``run.json``) and draws
``OUT/<name>/preview.png``. A demo that fails is reported and the others go on.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click

VARIANTS = 2  # augmented copies per input file
PREVIEW_VARIANTS = 5
PREVIEW_CELL = 224


@dataclass
class Demo:
    name: str
    owner: str
    make_inputs: Callable[[Path], Any]
    pipeline: dict


@dataclass
class Result:
    name: str
    ok: bool = False
    outputs: int = 0
    failed: int = 0
    seconds: float = 0.0
    engine: str = ""
    preview: Path | None = None
    problems: list[str] = field(default_factory=list)


def collect_demos() -> tuple[list[Demo], list[str]]:
    """Every registered demo (core first), and one line per plugin that could not offer one."""
    from .. import plugins

    plugins.load_plugins()
    demos: list[Demo] = []

    def add(plugin: str, owner: str, name: Any, make_inputs: Any, pipeline_dict: Any) -> None:
        if not callable(make_inputs) or not isinstance(pipeline_dict, dict):
            raise TypeError(f"register_demos({name!r}): needs make_inputs(folder) and a pipeline dict")
        clash = next((d for d in demos if d.name == str(name)), None)
        if clash is not None:
            raise ValueError(f"demo {name!r}: the name is taken by {clash.owner}")
        demos.append(Demo(str(name), owner, make_inputs, pipeline_dict))

    plugins.collect("register_demos", add, again=True)
    problems = [f"skipped: {message}" for message in plugins.plugin_errors.values()]
    demos.sort(key=lambda d: (d.name != "core", d.name))
    return demos, problems


# -- running -------------------------------------------------------------------------------
def _engine_run(pipeline_file: Path, in_dir: Path, out_dir: Path, *, seed: int, variants: int,
                workers: int) -> tuple[str, int, list[tuple[str, str]]]:
    """Run the batch engine (as ``domaug run``); returns (engine label, outputs written, failures)."""
    from ..batch.runner import RunOptions, execute, prepare

    executor = "process" if workers > 1 else "serial"
    options = RunOptions(pipeline=str(pipeline_file), input=str(in_dir), output=str(out_dir), variants=variants,
                         seed=seed, workers=workers, executor=executor, quiet=True,
                         argv=["domaug", "run", str(pipeline_file), str(in_dir), str(out_dir),
                               "--variants", str(variants), "--seed", str(seed), "--workers", str(workers)])
    summary = execute(prepare(options), echo=lambda message: None, progress=False)
    return f"domaug run, {executor}", summary.outputs_written, list(summary.failures)


def _clear_previous(out: Path, name: str) -> None:
    """Remove the folders a previous ``domaug demo`` wrote for ``name`` (only in a demo folder)."""
    import shutil

    if not (out / "demo.json").is_file():
        return
    for folder in (out / name, out / "inputs" / name):
        if folder.is_dir():
            shutil.rmtree(folder)


def _first_input(in_dir: Path) -> Path | None:
    """The first readable main file of a demo's input folder (sidecars left out)."""
    candidates = sorted(p for p in in_dir.rglob("*") if p.is_file())
    mains = [p for p in candidates if p.name.count(".") == 1] or candidates
    return mains[0] if mains else None


def run_demo(demo: Demo, out: Path, *, seed: int = 0, workers: int = 1) -> Result:
    """Make the demo's inputs, run its pipeline through the engine and draw its preview sheet."""
    from ..serialize import as_pipeline, from_dict, save
    from .preview_cmd import preview_sheet, read_sample

    result = Result(demo.name)
    start = time.perf_counter()
    in_dir = out / "inputs" / demo.name
    out_dir = out / demo.name
    try:
        _clear_previous(out, demo.name)
        pipeline = as_pipeline(from_dict(demo.pipeline))
        pipeline_file = out / "pipelines" / f"{demo.name}.yaml"
        pipeline_file.parent.mkdir(parents=True, exist_ok=True)
        save(pipeline, pipeline_file)
        in_dir.mkdir(parents=True, exist_ok=True)
        made = demo.make_inputs(in_dir)
        result.engine, result.outputs, failures = _engine_run(
            pipeline_file, in_dir, out_dir, seed=seed, variants=VARIANTS, workers=workers)
        result.failed = len(failures)
        result.problems += [f"{rel}: {reason}" for rel, reason in failures]
        first = Path(made[0]) if isinstance(made, (list, tuple)) and made else _first_input(in_dir)
        if first is not None:
            rel = first.relative_to(in_dir).as_posix()
            sheet = preview_sheet(pipeline, read_sample(first), n=PREVIEW_VARIANTS, seed=seed,
                                  cell=PREVIEW_CELL, title=f"{demo.name}: {rel}", rel=rel)
            out_dir.mkdir(parents=True, exist_ok=True)
            result.preview = out_dir / "preview.png"
            sheet.save(result.preview, format="PNG")
        result.ok = result.failed == 0 and result.outputs > 0
        if result.outputs == 0 and not result.problems:
            result.problems.append("no output written")
    except Exception as exc:  # report and go on with the next domain
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result.problems.append(f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})")
    result.seconds = time.perf_counter() - start
    return result


def _write_report(path: Path, results: list[Result]) -> None:
    """Update ``demo.json`` (one entry per demo; entries of demos not run this time are kept)."""
    try:
        entries = {e["name"]: e for e in json.loads(path.read_text()) if isinstance(e, dict) and "name" in e}
    except (OSError, ValueError, TypeError):
        entries = {}
    for r in results:
        entries[r.name] = {"name": r.name, "ok": r.ok, "outputs": r.outputs, "failed": r.failed,
                           "seconds": round(r.seconds, 2), "engine": r.engine,
                           "preview": str(r.preview) if r.preview else None, "problems": r.problems}
    path.write_text(json.dumps(list(entries.values()), indent=2) + "\n")


def _selected(only: str | None) -> tuple[list[Demo], list[str]]:
    """The demos asked for (all by default) and the problems to report, unknown names included."""
    demos, problems = collect_demos()
    if only:
        wanted = {n.strip() for n in only.split(",") if n.strip()}
        missing = wanted - {d.name for d in demos}
        problems += [f"skipped: no installed plugin offers a demo named {n!r}" for n in sorted(missing)]
        demos = [d for d in demos if d.name in wanted]
    return demos, problems


def _echo_result(result: Result, out: Path) -> None:
    if result.ok:
        click.echo(f"{result.name:<12} ok      {result.outputs} outputs in {result.seconds:.1f} s "
                   f"({result.engine}) -> {out / result.name}/")
        return
    problems = list(dict.fromkeys(result.problems))
    more = f" (+{len(problems) - 3} more in demo.json)" if len(problems) > 3 else ""
    click.echo(f"{result.name:<12} FAILED  {'; '.join(problems[:3])}{more}", err=True)


@click.command("demo")
@click.option("--out", "out_dir", default="demo-out", type=click.Path(file_okay=False), show_default=True,
              help="Folder for inputs, outputs, manifests and preview sheets.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Root seed.")
@click.option("--workers", default=None, type=click.IntRange(1), help="Engine workers (default: up to 2).")
@click.option("--only", default=None, help="Comma list of demo names to run (default: all installed).")
def command(out_dir, seed, workers, only):
    """Run one example pipeline per installed plugin on built-in samples (no download, no input)
    and write augmented files, manifests and one preview sheet per domain to OUT."""
    import os

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "demo.json").exists():  # marks OUT as a demo folder (its domains may be redone)
        (out / "demo.json").write_text("[]\n")
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    demos, problems = _selected(only)
    for line in problems:
        click.echo(line, err=True)
    results = []
    for demo in demos:
        result = run_demo(demo, out, seed=seed, workers=workers)
        results.append(result)
        _echo_result(result, out)
    _write_report(out / "demo.json", results)
    sheets = [r.preview for r in results if r.preview is not None]
    click.echo("")
    click.echo(f"look at: {', '.join(str(s) for s in sheets) or '(no preview written)'}")
    click.echo(f"manifests: {out}/<domain>/manifest.jsonl   inputs: {out / 'inputs'}/")
    if not results or not all(r.ok for r in results):
        click.get_current_context().exit(1)
