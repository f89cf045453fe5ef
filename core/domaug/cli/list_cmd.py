"""``domaug list``: every registered transform with its domain and one-line description."""

from __future__ import annotations

import click

from ..registry import get_transform_class, list_transforms


def summary(cls) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0].strip() if doc else ""


@click.command("list")
@click.option("--domain", default=None, help="Only this namespace (core, medical, driving, ...).")
def command(domain):
    """List registered transforms."""
    names = list_transforms(domain)
    width = max((len(n) for n in names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {summary(get_transform_class(name))}")
