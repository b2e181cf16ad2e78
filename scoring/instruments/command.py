"""The command-line form of the stateless calculators (``python -m scoring.calculate``,
``python -m scoring.classify``): JSON in from a file or stdin, JSON out.

Reads one case or a list of cases from FILE (stdin when omitted), writes the answer as JSON on
stdout and exits 0; on invalid input writes one ``error: <field>: <message>`` line per problem
on stderr and exits 2. Pure: imports nothing from Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from .errors import CalculatorInputError

EXIT_INVALID = 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_INVALID


def run(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    answer: Callable[[object], Any],
) -> int:
    """Parse ``argv``, read the JSON document, print ``answer(document)``; the exit status.

    ``answer`` raises ``CalculatorInputError`` for invalid input.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("file", nargs="?", help="JSON input file (default: standard input)")
    args = parser.parse_args(argv)
    try:
        if args.file is None:
            raw = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as handle:
                raw = handle.read()
    except OSError as error:
        return _fail(f"cannot read {args.file}: {error.strerror}")
    try:
        # Decimal keeps every number exactly as typed (7.3 is 73/10); NaN and Infinity become
        # non-finite Decimals, and integers of any length (int() refuses more than 4300 digits)
        # Decimals, which the calculators reject with the field named.
        document = json.loads(raw, parse_float=Decimal, parse_constant=Decimal, parse_int=Decimal)
    except UnicodeDecodeError:
        return _fail("input is not UTF-8 text")
    except json.JSONDecodeError as error:
        return _fail(f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    except ValueError:
        # An integer of more digits than Python converts from text (sys.get_int_max_str_digits).
        return _fail("invalid JSON: a number has too many digits")
    except RecursionError:
        return _fail("invalid JSON: nested too deeply")
    try:
        result = answer(document)
    except CalculatorInputError as error:
        for path, message in error.errors:
            print(f"error: {path}: {message}", file=sys.stderr)
        return EXIT_INVALID
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
