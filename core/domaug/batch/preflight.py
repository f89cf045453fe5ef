"""Every check of ``domaug run`` before work starts, and the job they produce.

:func:`prepare` loads plugins and the pipeline, checks INPUT/OUTPUT, the compatibility of
a resumed run and every number from the command line, then plans the items; it raises
:class:`~.plan.RunError` or another ``DomaugError`` (exit code 2) and never touches OUTPUT.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from . import manifest, plan, seeding
from .executors import default_workers, get_executor
from .plan import Item, RunError
from .records import RunConfig


#: bounds on numbers from the command line (checked before any allocation or work)
MAX_VARIANTS = 10_000
MAX_WORKERS = 1024


@dataclass
class RunOptions:
    """The options of ``domaug run`` as given (see :mod:`domaug.cli.run_cmd`)."""

    pipeline: str
    input: str
    output: str
    variants: int | None = None
    seed: int | None = None
    workers: int | None = None
    executor: str = "process"
    scheduler: str | None = None
    resume: bool = False
    include: Sequence[str] = ()
    balance_classes: bool = False
    plugins: Sequence[str] = ()
    quiet: bool = False
    max_distortion: float | None = None
    debug: bool = False
    quality: bool = True
    argv: Sequence[str] = ()


@dataclass
class Job:
    """A checked run, ready for :func:`.runner.execute`."""

    options: RunOptions  # as resolved by prepare (a copy: --resume fills seed, --variants, --include from run.json)
    config: RunConfig  # what every worker receives
    items: list[Item]
    skipped: list[tuple[str, str]]
    balance_rows: list[dict] | None
    workers: int
    previous: dict | None = None  # run.json of the run being resumed
    run_record: dict = field(default_factory=dict)  # run.json, without the timing and status keys


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def _load_pipeline(options: RunOptions) -> tuple[Any, dict, str]:
    from ..serialize import as_pipeline, from_dict, load, pipeline_hash, to_dict

    path = Path(options.pipeline)
    if not path.is_file():
        raise RunError(f"{options.pipeline}: pipeline file not found")
    pipeline = as_pipeline(load(path))
    data = to_dict(pipeline)  # fails here if a transform is not registered
    from_dict(data)  # the form workers rebuild must be valid too
    return pipeline, data, pipeline_hash(pipeline)


def prepare(options: RunOptions) -> Job:
    """Every check before work starts; raises RunError / DomaugError (exit code 2).

    ``options`` is not modified: the job holds a resolved copy (with ``--resume``, the seed,
    ``--variants``, ``--balance-classes`` and ``--include`` of the run being continued)."""
    _load_plugins(options)
    _pipeline, data, digest = _load_pipeline(options)
    source, dest = _check_folders(options)
    previous = _previous_run(options, dest)
    options = _resolved(options, previous, digest)
    _check_quality(options)
    _check_executor(options)
    workers, variants = _counts(options)
    items, skipped = plan.plan(source, options.include, variants)
    rows = plan.balance(items, variants) if options.balance_classes else None
    config = _config(options, data, digest, source, dest)
    return Job(options, config, items, skipped, rows, workers, previous,
               _run_record(options, config, workers, variants))


def _load_plugins(options: RunOptions) -> None:
    from ..plugins import load_plugin_module, load_plugins

    load_plugins()
    for module in options.plugins:
        load_plugin_module(module)


def _check_folders(options: RunOptions) -> tuple[Path, Path]:
    """INPUT and OUTPUT, resolved: INPUT an existing folder, OUTPUT a folder (or absent) apart from it."""
    source, dest = Path(options.input), Path(options.output)
    if not source.is_dir():
        raise RunError(f"{options.input}: INPUT folder not found" if not source.exists()
                       else f"{options.input}: INPUT must be a folder")
    source, dest = source.resolve(), dest.resolve()
    if _inside(dest, source):
        raise RunError(f"{options.output}: OUTPUT is inside INPUT ({options.input}); "
                       "domaug never writes inside INPUT, choose another folder")
    if _inside(source, dest):
        raise RunError(f"{options.output}: OUTPUT contains INPUT; choose a folder outside {options.input}")
    if dest.exists() and not dest.is_dir():
        raise RunError(f"{options.output}: OUTPUT exists and is not a folder")
    return source, dest


def _previous_run(options: RunOptions, dest: Path) -> dict | None:
    """run.json of the run already in OUTPUT (None if none); a run there needs ``--resume``."""
    previous = manifest.read_run(dest) if dest.is_dir() else None
    has_manifest = (dest / manifest.MANIFEST).exists()
    if (previous or has_manifest) and not options.resume:
        raise RunError(f"{options.output}: OUTPUT already holds a run (run.json/manifest.jsonl); "
                       "use --resume to continue it, or choose an empty folder")
    return previous


def _resolved(options: RunOptions, previous: dict | None, digest: str) -> RunOptions:
    """A copy of ``options`` with the root seed decided; with ``--resume``, the run's seed and
    (unless given) its ``--variants``/``--balance-classes`` and ``--include``."""
    seed = options.seed
    if options.resume and previous:
        if previous.get("pipeline_hash") != digest:
            raise RunError(f"--resume: the pipeline differs from the one of the run in {options.output} "
                           f"(hash {previous.get('pipeline_hash', '?')[:12]} vs {digest[:12]})")
        if seed is not None and seed != previous.get("root_seed"):
            raise RunError(f"--resume: --seed {seed} differs from the run's seed {previous.get('root_seed')}")
        seed = previous.get("root_seed")
        if options.variants is None and not options.balance_classes:
            options = replace(options, variants=previous.get("variants"),
                              balance_classes=bool(previous.get("balance_classes")))
        if not options.include:
            options = replace(options, include=tuple(previous.get("include") or ()))
    return replace(options, seed=seeding.fresh_root_seed() if seed is None else seed)


def _check_quality(options: RunOptions) -> None:
    """``--max-distortion`` needs the quality metrics and an SSIM threshold in (0, 1]."""
    if options.max_distortion is None:
        return
    if not options.quality:
        raise RunError("--max-distortion needs the quality metrics; it cannot be used with --no-quality")
    if not 0 < options.max_distortion <= 1:
        raise RunError(f"--max-distortion must be an SSIM in (0, 1], got {options.max_distortion}")
    try:
        from .. import quality  # noqa: F401
    except ImportError:
        raise RunError("--max-distortion needs domaug.quality (SSIM), which is not available") from None


def _check_executor(options: RunOptions) -> None:
    """A known executor whose extra is installed; ``--scheduler`` only with dask."""
    if options.executor == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise RunError("--executor dask needs dask.distributed; install the extra: "
                           "pip install 'domaug[dask]'") from None
    get_executor(options.executor)
    if options.scheduler and options.executor != "dask":
        raise RunError("--scheduler is only used with --executor dask")


def _counts(options: RunOptions) -> tuple[int, int]:
    """(workers, variants per file), checked against their bounds."""
    workers = 1 if options.executor == "serial" else (options.workers or default_workers())
    if workers < 1:
        raise RunError(f"--workers must be at least 1, got {workers}")
    variants = options.variants if options.variants is not None else (0 if options.balance_classes else 1)
    if variants < 0:
        raise RunError(f"--variants must be >= 0, got {variants}")
    if variants > MAX_VARIANTS:
        raise RunError(f"--variants {variants} is above the limit of {MAX_VARIANTS} variants per file")
    if workers > MAX_WORKERS:
        raise RunError(f"--workers {workers} is above the limit of {MAX_WORKERS} worker processes")
    return workers, variants


def _config(options: RunOptions, data: dict, digest: str, source: Path, dest: Path) -> RunConfig:
    from .. import __version__

    return RunConfig(pipeline=data, pipeline_hash=digest, root_seed=int(options.seed), input=str(source),
                     output=str(dest), domaug_version=__version__, plugins=tuple(options.plugins),
                     max_distortion=options.max_distortion, debug=options.debug, quality=bool(options.quality))


def _run_record(options: RunOptions, config: RunConfig, workers: int, variants: int) -> dict:
    """run.json: versions, platform, command line, pipeline, seed and the resolved options."""
    import numpy

    from ..plugins import distributions

    return {
        "domaug_version": config.domaug_version, "plugins": distributions(), "plugin_modules": list(config.plugins),
        "python": platform.python_version(), "numpy": numpy.__version__, "platform": platform.platform(),
        "argv": list(options.argv), "pipeline": config.pipeline, "pipeline_hash": config.pipeline_hash,
        "root_seed": config.root_seed, "input": config.input, "output": config.output,
        "executor": options.executor, "workers": workers, "scheduler": options.scheduler, "variants": variants,
        "include": list(options.include), "balance_classes": bool(options.balance_classes),
        "max_distortion": options.max_distortion,
    }
