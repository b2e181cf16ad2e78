"""A plain-text progress bar for the scoring commands' long runs (no extra dependency).

On a terminal the bar is redrawn in place; into a file or a pipe (CI logs, `demo`'s output) it
prints one line per tenth of the way, so logs stay short and readable.
"""

from __future__ import annotations

import time
from typing import Any

WIDTH = 30


class Progress:
    def __init__(self, stream: Any, total: int, unit: str, label: str) -> None:
        self.stream = stream
        self.total = max(total, 0)
        self.unit = unit
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def advance(self, count: int) -> None:
        self.done += count
        self._draw(final=False)

    def finish(self) -> None:
        self._draw(final=True)

    def _draw(self, *, final: bool) -> None:
        if self.total == 0:
            return
        fraction = min(self.done / self.total, 1.0)
        tenth = int(fraction * 10)
        if not self.interactive and not final and tenth == self._last_tenth:
            return
        if not self.interactive and final and self._last_tenth == 10:
            return
        self._last_tenth = tenth
        filled = int(fraction * WIDTH)
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        line = (
            f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] "
            f"{self.done}/{self.total} {self.unit} {fraction:4.0%} {elapsed:6.1f} s"
            f" ({rate:,.0f} {self.unit}/s)"
        )
        if self.interactive:
            self.stream.write("\r" + line, ending="\n" if final else "")
            self.stream.flush()
        else:
            self.stream.write(line)
