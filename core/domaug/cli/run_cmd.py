"""``domaug run``: augment a folder of images into another folder, with a manifest."""

from __future__ import annotations

import sys

import click


@click.command("run")
@click.argument("pipeline", type=click.Path(dir_okay=False))
@click.argument("input_dir", metavar="INPUT", type=click.Path())
@click.argument("output_dir", metavar="OUTPUT", type=click.Path())
@click.option("--variants", "-n", type=int, default=None,
              help="Augmented variants per input file (default 1; 0 with --balance-classes).")
@click.option("--seed", type=int, default=None, help="Root seed (default: fresh entropy, recorded in run.json).")
@click.option("--workers", "-j", type=int, default=None, help="Worker processes (default: number of cores).")
@click.option("--executor", type=click.Choice(["process", "serial", "dask"]), default="process", show_default=True,
              help="process pool, in-process (debugging), or dask.distributed (extra domaug[dask]).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Existing Dask scheduler (tcp://host:port); default: a LocalCluster on loopback.")
@click.option("--resume", is_flag=True, help="Continue a run in OUTPUT: skip outputs recorded ok with the same sha256.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Only files whose relative path or name matches (repeatable), e.g. '*.png'.")
@click.option("--balance-classes", is_flag=True,
              help="First-level folders of INPUT are classes; augment smaller classes up to the largest. "
                   "Files of a class needing no variants are not read (a broken one there is not reported).")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import this module (your own transforms) in the CLI and in every worker (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no plan; only failures and the summary line.")
@click.option("--max-distortion", type=float, default=None, metavar="SSIM_MIN",
              help="Redraw an output (up to 5 times) when its SSIM against the input is below this; then flag it.")
@click.option("--no-quality", "no_quality", is_flag=True,
              help="Do not compute SSIM/PSNR per output (recorded as null); saves a few ms per file.")
@click.option("--debug", is_flag=True, help="Print tracebacks of failures.")
@click.pass_context
def command(ctx, pipeline, input_dir, output_dir, variants, seed, workers, executor, scheduler, resume, include,
            balance_classes, plugins, quiet, max_distortion, no_quality, debug):
    """Augment every image under INPUT into OUTPUT, mirroring the folder tree.

    Variant k of INPUT/a/b/x.png is written as OUTPUT/a/b/x.aug{k}.png in the input's
    format, with its masks/boxes sidecars (x.aug{k}.mask.png, x.aug{k}.boxes.json).
    OUTPUT/run.json records versions, pipeline and seed; OUTPUT/manifest.jsonl has one
    line per output with every drawn parameter (see `domaug replay`).

    Exit code: 0 all files ok, 1 some files failed (each listed), 2 usage or
    pipeline error found before any work (or OUTPUT not writable), 130 interrupted
    (Ctrl-C: running files are finished and recorded; continue with --resume).
    """
    from ..batch.plan import format_balance
    from ..batch.runner import Interrupted, RunOptions, execute, prepare
    from ..errors import DomaugError

    options = RunOptions(pipeline=pipeline, input=input_dir, output=output_dir, variants=variants, seed=seed,
                         workers=workers, executor=executor, scheduler=scheduler, resume=resume,
                         include=include, balance_classes=balance_classes, plugins=plugins, quiet=quiet,
                         max_distortion=max_distortion, debug=debug, quality=not no_quality,
                         argv=["domaug", *sys.argv[1:]])
    try:
        job = prepare(options)
    except DomaugError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    if job.balance_rows is not None and not quiet:
        click.echo("class balance plan:")
        click.echo(format_balance(job.balance_rows))
    from ..formats.sidecar import UNPAIRED

    for rel, why in job.skipped:
        if debug or why == UNPAIRED:  # a misnamed depth file is worth a line; other skipped files are counted
            click.echo(f"skipped: {rel}: {why}", err=True)
    from ..batch.allocator import keep_freed_memory

    keep_freed_memory()  # this CLI process is ours (the serial executor works in it)
    try:
        summary = execute(job, echo=lambda m: click.echo(m, err=True))
    except Interrupted as stop:
        done = stop.summary
        click.echo(f"interrupted: {done.outputs_written} outputs recorded in {output_dir}/manifest.jsonl; "
                   "continue with the same command and --resume", err=True)
        ctx.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted; continue with the same command and --resume", err=True)
        ctx.exit(130)
    except OSError as exc:  # OUTPUT itself unwritable: disk full, read-only, permission denied
        where = exc.filename or output_dir
        click.echo(f"error: {where}: cannot write OUTPUT: {exc.strerror or exc}", err=True)
        ctx.exit(2)
    except DomaugError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    for rel, reason in sorted(summary.failures):
        click.echo(f"error: {rel}: {reason}", err=True)
    click.echo(summary.line(), err=True)
    ctx.exit(summary.exit_code)
