"""``python -m scoring.calculate [FILE]`` — the stateless calculator of docs/scoring.md §6.

Reads one case or a list of cases as JSON from FILE (stdin when omitted), writes the results as
JSON on stdout and exits 0; on invalid input writes one ``error: <field>: <message>`` line per
problem on stderr and exits 2. Pure: imports nothing from Django.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from scoring.instruments import calculate
from scoring.instruments.command import EXIT_INVALID, run

__all__ = ["EXIT_INVALID", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    return run(
        argv,
        prog="python -m scoring.calculate",
        description="Score IMACS DOI and ACR/EULAR TIS for one case or a list of cases (JSON).",
        answer=calculate,
    )


if __name__ == "__main__":
    sys.exit(main())
