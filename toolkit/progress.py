"""A small progress bar for training loops, with no dependency.

On a terminal, one line redrawn in place with ``\\r``::

    epoch 2/5 [##########..........] 391/782 loss 0.1234  5,210 ex/s

Elsewhere (a log file, CI), a plain line every ``log_every`` seconds and one at the end, so
logs stay readable and short.

This module is infrastructure: it is given, not an exercise.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 20


class ProgressBar:
    """Shows batches done out of ``total``, the running loss and accuracy, and examples/s.

    Usage::

        bar = ProgressBar(total=782, description="epoch 1/3")
        for ...:
            bar.update(batches_done, examples_done, loss, accuracy)
        bar.close()

    Args:
        total: the number of batches of the epoch.
        description: what comes first on the line (``"epoch 1/3"``).
        stream: where to write (default ``sys.stderr``, so that results on stdout stay clean).
        is_tty: redraw one line in place; default: whether ``stream`` is a terminal.
        log_every: seconds between two plain lines when not on a terminal.
        clock: the time source (seconds); tests pass a fake one.
    """

    def __init__(
        self,
        total: int,
        description: str = "",
        *,
        stream: TextIO | None = None,
        is_tty: bool | None = None,
        log_every: float = 10.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if total < 1:
            raise ValueError(f"total must be a positive number of batches, got {total}")
        self.total = total
        self.description = description
        self.stream = sys.stderr if stream is None else stream
        self.is_tty = _is_terminal(self.stream) if is_tty is None else is_tty
        self.log_every = log_every
        self.clock = clock
        self.start = clock()
        self.last_draw = -float("inf")
        self.last_line = ""
        self.drawn_width = 0

    def update(self, done: int, examples: int, loss: float, accuracy: float | None = None) -> None:
        """Record progress: ``done`` batches and ``examples`` examples so far, running metrics.

        ``loss`` and ``accuracy`` (a fraction in [0, 1], shown when given) are the running
        means over the epoch so far.
        """
        self.last_line = self._format(done, examples, loss, accuracy)
        now = self.clock()
        if self.is_tty:
            if now - self.last_draw >= 0.1 or done == self.total:
                self._redraw(self.last_line)
                self.stream.flush()
                self.last_draw = now
        elif now - self.start >= self.log_every and now - self.last_draw >= self.log_every:
            self.stream.write(self.last_line + "\n")
            self.stream.flush()
            self.last_draw = now

    def close(self) -> None:
        """End the line: the final state stays visible."""
        if not self.last_line:
            return
        if self.is_tty:
            self._redraw(self.last_line)
            self.stream.write("\n")
        else:
            self.stream.write(self.last_line + "\n")
        self.stream.flush()

    def _redraw(self, line: str) -> None:
        """Overwrite the current terminal line, blanking what a longer previous line left."""
        self.stream.write("\r" + line.ljust(self.drawn_width))
        self.drawn_width = len(line)

    def _format(self, done: int, examples: int, loss: float, accuracy: float | None) -> str:
        filled = BAR_WIDTH * done // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = max(self.clock() - self.start, 1e-9)
        width = len(str(self.total))
        shown_accuracy = "" if accuracy is None else f" acc {100 * accuracy:6.2f}%"
        return (
            f"{self.description} [{bar}] {done:>{width}}/{self.total} "
            f"loss {loss:.4f}{shown_accuracy}  {examples / elapsed:,.0f} ex/s"
        )


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
