"""The ``domaug`` command line: one subcommand per module."""
