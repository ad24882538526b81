"""The ``v1sim`` parser and :func:`main`: the subcommands' flags, and the error-type -> exit-code mapping.

Exit codes (see :mod:`v1sim.cli`): 0 success, 1 failure, 2 usage error, 130
interrupted, 141 stdout closed early. A user's mistake is one line on stderr
naming the flag, never a traceback: argparse's complaints (:class:`_Parser`),
and any :class:`~v1sim.errors.InputError` (its ``.argument`` mapped to the flag
that set it) or :class:`~v1sim.errors.CheckpointError` a subcommand raises.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import benchmark, codes, figures, info, record, summary, train, visualize

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose complaint is one line naming the flag (exit 2), not the usage block."""

    def error(self, message):
        """Print ``PROG: MESSAGE (see 'PROG --help')`` on stderr and exit 2, as argparse's ``error`` must."""
        _usage_error(self.prog, f"{message} (see '{self.prog} --help')")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``v1sim`` command."""
    parser = _Parser(
        prog="v1sim",
        description=(
            "v1sim: the visual system from retina to V1 (filters as simple cells, pooling as complex "
            "cells), carried on into ConvNets, on Numba kernels for the CPU and CUDA."
        ),
        epilog="Run 'v1sim COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (figures, summary, train, codes, record, benchmark, visualize, info):  # info adds warmup too
        command.add_parser(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def _one_line(text) -> str:
    return " ".join(str(text).split())  # one line on stderr, whatever the message's layout


def _usage_error(prog, message) -> int:
    print(f"{prog}: {_one_line(message)}", file=sys.stderr)
    return 2


def _blame(exc, flags) -> str:
    """An InputError's message headed by the flag that set its ``.argument`` (unchanged without one)."""
    argument = getattr(exc, "argument", None)
    flag = flags.get(argument, argument if argument and argument.startswith("-") else None)
    return str(exc) if flag is None else f"argument {flag}: {exc}"


def _silence_stdout():
    """Point stdout at /dev/null, so the interpreter's last flush into a closed pipe does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output): nothing to flush into a pipe
        pass


def main(argv=None) -> int:
    """Run the command line; returns the process exit code (see :mod:`v1sim.cli`).

    ``--help`` and ``--version`` exit (``SystemExit(0)``) as argparse does; a
    usage error returns 2 after its one line on stderr.
    """
    from ..errors import CheckpointError, InputError

    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # _Parser.error has printed its line; --help and --version exit 0 as usual
            if exc.code == 0:
                raise
            return exc.code
        if args.command is None:
            parser.print_help()
            return 2
        from ..backend import retain_freed_memory

        retain_freed_memory()  # steps reuse freed arrays without page faults (see v1sim.backend)
        prog = f"v1sim {args.command}"
        try:
            code = int(args.func(args) or 0)
        except InputError as exc:
            return _usage_error(prog, _blame(exc, getattr(args, "flags", {})))
        except CheckpointError as exc:
            return _usage_error(prog, exc)
        sys.stdout.flush()  # a reader that went away shows here, inside the handler below
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `v1sim ... | head`: the reader has what it wanted
        _silence_stdout()
        return 141
