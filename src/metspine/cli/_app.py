"""The Typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="metspine",
    help="Decision support for metastatic spine disease (NOMS, SINS, ESCC, prognosis, SBRT, safety).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class InputError(Exception):
    """Invalid user input: the CLI prints the message and exits with code 2."""
