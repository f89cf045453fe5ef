"""``domaug gallery``: every transform of a namespace on every item of a folder, one contact sheet each."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import FormatError


class SeveralValues(click.Option):
    """An option that takes every value up to the next option: ``--seeds 0 1 2``."""

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        for opt in self.opts:
            option = parser._long_opt.get(opt) or parser._short_opt.get(opt)
            if option is None:  # another click: one value, "0,1,2" still works
                continue

            def process(value, state, _store=option.process):
                values = [value]
                while state.rargs and not state.rargs[0].startswith("-"):
                    values.append(state.rargs.pop(0))
                _store(" ".join(values), state)

            option.process = process


def _seeds(ctx, param, value):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    words = str(value).replace(",", " ").split()
    if not words or not all(w.isdigit() for w in words):
        raise click.BadParameter(f"expected integers >= 0 (e.g. 0 1 2), got {value!r}; "
                                 "put NAMESPACE before the options")
    return tuple(int(w) for w in words)


def default_data_dir(namespace: str) -> Path:
    """``../shared/data/<namespace>`` beside the repository holding domaug (or beside the cwd)."""
    import domaug

    beside_repo = Path(domaug.__file__).resolve().parents[2].parent / "shared" / "data" / namespace
    beside_cwd = Path.cwd().parent / "shared" / "data" / namespace
    return beside_repo if beside_repo.is_dir() or not beside_cwd.is_dir() else beside_cwd


def _nothing_readable(data: Path, unreadable) -> FormatError:
    if not data.is_dir():
        return FormatError(data, "no such folder")
    if not unreadable:
        return FormatError(data, "nothing to show: the folder holds no files")
    named = "; ".join(f"{rel}: {why}" for rel, why in unreadable[:3])
    more = f"; +{len(unreadable) - 3} more" if len(unreadable) > 3 else ""
    return FormatError(data, f"nothing readable in {len(unreadable)} file(s) ({named}{more})")


@click.command("gallery")
@click.argument("namespace")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False),
              help="Folder of inputs (default: ../shared/data/NAMESPACE beside the repository).")
@click.option("--out", "out", default="gallery", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the sheets and gallery.md.")
@click.option("--seeds", cls=SeveralValues, default="0 1 2", show_default=True, callback=_seeds, metavar="S [S ...]",
              help="Seeds, one cell each: --seeds 0 1 2.")
@click.option("--max-side", "max_side", default=640, show_default=True, type=click.IntRange(0), metavar="PX",
              help="Downscale 2-D inputs so the longer side is at most PX pixels (0: keep).")
@click.option("--cell", default=256, show_default=True, type=click.IntRange(32, 2048), help="Cell size in pixels.")
def command(namespace, data, out, seeds, max_side, cell):
    """Write one contact sheet per item of DATA: the input (and NIR-red-green when the bands
    allow), the plugin's panels (e.g. driving's scene layout and depth), then every NAMESPACE
    transform at default parameters, one cell per seed, captioned with the drawn parameters.
    Files that cannot be read are listed with the reason; gallery.md indexes the sheets."""
    from ..gallery import make_gallery

    data = Path(data) if data else default_data_dir(namespace)
    out = Path(out)
    if not data.is_dir():
        raise _nothing_readable(data, [])
    report = make_gallery(namespace, data, out, seeds=seeds, max_side=max_side, cell=cell, echo=click.echo)
    if not report.sheets:
        raise _nothing_readable(data, report.unreadable)
    for rel, why in report.unreadable:
        click.echo(f"not shown: {rel}: {why}", err=True)
    for problem in report.problems:
        click.echo(f"refused: {problem}", err=True)
    click.echo(f"{len(report.sheets)} sheet(s), {len(report.unreadable)} file(s) not shown; "
               f"index: {out / 'gallery.md'}")
