"""``domaug`` command group; subcommands live one per module and plugins may add more."""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import DomaugError

#: subcommand name → module inside domaug.cli (each defines ``command``)
COMMANDS = {
    "list": "list_cmd",
    "describe": "describe_cmd",
    "demo": "demo_cmd",
    "preview": "preview_cmd",
    "gallery": "gallery_cmd",
    "run": "run_cmd",
    "replay": "replay_cmd",
    "plugins": "plugins_cmd",
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand runs (fast ``--help``)."""

    def list_commands(self, ctx):
        return sorted(set(COMMANDS) | set(super().list_commands(ctx)))

    def get_command(self, ctx, name):
        if name in COMMANDS:
            return importlib.import_module(f"domaug.cli.{COMMANDS[name]}").command
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup)
@click.version_option(package_name="domaug")
def cli():
    """Domain-specific, physically grounded data augmentation."""


def _add_plugin_commands() -> None:
    from ..plugins import call_each, load_plugins

    load_plugins()
    call_each("register_commands", cli=cli)


def main(argv=None) -> None:
    """Entry point: domain errors become one ``error: ...`` line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in COMMANDS and not args[0].startswith("-"):
        _add_plugin_commands()
    try:
        result = cli.main(args=args, prog_name="domaug", standalone_mode=False)
        if isinstance(result, int) and not isinstance(result, bool):  # ctx.exit(n) in a command
            sys.exit(result)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except DomaugError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
