"""``python -m domaug ...`` is the ``domaug`` command."""

from domaug.cli.main import main

main()
