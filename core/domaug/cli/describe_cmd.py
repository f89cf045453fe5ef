"""``domaug describe NAME``: parameters, defaults, targets and the model of one transform."""

from __future__ import annotations

import inspect

import click

from ..registry import get_transform_class, owner_of


@click.command("describe")
@click.argument("name")
def command(name):
    """Describe one transform: parameters with units and defaults, targets, physical model."""
    cls = get_transform_class(name)
    click.echo(f"{name}  ({owner_of(name)})")
    click.echo(f"targets: {', '.join(sorted(cls.targets))}")
    click.echo("parameters:")
    for pname, param in inspect.signature(cls.__init__).parameters.items():
        if pname == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        default = "" if param.default is inspect.Parameter.empty else f" = {param.default!r}"
        click.echo(f"  {pname}{default}")
    click.echo("")
    click.echo(inspect.cleandoc(cls.__doc__ or "(no description)"))
