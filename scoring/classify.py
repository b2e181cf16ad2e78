"""``python -m scoring.classify [FILE]`` — the 2017 EULAR/ACR classification criteria.

Reads one case or a list of cases as JSON from FILE (stdin when omitted), writes the answers as
JSON on stdout and exits 0; on invalid input writes one ``error: <field>: <message>`` line per
problem on stderr and exits 2 (``[1].age_at_onset`` for the second case of a list). Pure:
imports nothing from Django.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from scoring.instruments import classify
from scoring.instruments.command import run


def main(argv: Sequence[str] | None = None) -> int:
    return run(
        argv,
        prog="python -m scoring.classify",
        description="Apply the 2017 EULAR/ACR classification criteria for idiopathic "
        "inflammatory myopathies to one case or a list of cases (JSON).",
        answer=classify,
    )


if __name__ == "__main__":
    sys.exit(main())
