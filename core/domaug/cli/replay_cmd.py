"""``domaug replay``: regenerate outputs from a manifest and check they are bit-identical."""

from __future__ import annotations

import click


@click.command("replay")
@click.argument("manifest_path", metavar="MANIFEST", type=click.Path(dir_okay=False))
@click.option("--line", type=int, default=None, help="Only this line of the manifest (1-based).")
@click.option("--input", "input_root", type=click.Path(file_okay=False), default=None,
              help="INPUT folder, when it moved since the run (default: the one in run.json).")
@click.option("--quiet", "-q", is_flag=True, help="Only mismatches and the summary line.")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import this module (the run's own --plugin transforms); never taken from run.json.")
@click.pass_context
def command(ctx, manifest_path, line, input_root, quiet, plugins):
    """Regenerate the outputs of OUTPUT/manifest.jsonl from the recorded parameters.

    Each output is rebuilt from its input and the manifest's `applied` list (no
    randomness), written into a scratch folder and compared byte for byte with the
    recorded sha256. Exit code 0 when all are identical, 1 on any mismatch.
    """
    from ..batch.replay import replay_manifest
    from ..errors import DomaugError

    same = differ = 0
    try:
        for result in replay_manifest(manifest_path, line, input_root, plugins):
            if result.ok:
                same += 1
                if not quiet:
                    click.echo(f"identical: {result.output}")
            else:
                differ += 1
                click.echo(f"MISMATCH: line {result.line}: {result.output}: {result.detail}", err=True)
    except DomaugError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    if differ:
        from pathlib import Path

        from ..batch import manifest
        from ..batch.replay import version_changes

        changes = version_changes(manifest.read_run(Path(manifest_path).parent) or {})
        if changes:
            click.echo(f"note: the run was made with other versions ({', '.join(changes)}); a transform whose "
                       "algorithm changed since then does not reproduce its bytes", err=True)
    click.echo(f"domaug replay: {same} identical, {differ} different", err=True)
    ctx.exit(1 if differ else 0)
