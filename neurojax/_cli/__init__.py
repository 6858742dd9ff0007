"""The `neurojax` command line (subcommands `demo`, `tinnitus`, `ring`, `sparse`, `info`)."""

from ._main import build_parser as build_parser, main as main
