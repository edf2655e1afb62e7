"""What `course grade` shows while it runs: a live `rich` view on a terminal, plain lines otherwise.

Both show the counts, what each worker runs, and every problem as it happens; both end with the
same summary: every student with a problem, and why.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

from .grader import GradeReport, NotebookReport


def summary_lines(report: GradeReport) -> list[str]:
    graded = len(report.graded)
    lines = [
        f"{report.assignment}: graded {graded} notebook(s) in {report.seconds:.1f} s on {report.workers} "
        f"worker(s); {len(report.skipped)} submission(s) already graded and unchanged"
    ]
    if report.interrupted:
        lines.append(f"INTERRUPTED: {report.left} notebook(s) left; run the same command again to resume")
    lines += [f"note: {n}" for n in report.notes]
    if report.problems:
        lines.append(f"{len(report.problems)} student(s) with a problem:")
        for student in sorted(report.problems):
            for why in report.problems[student]:
                lines.append(f"  {student}: {why}")
    else:
        lines.append("no problems")
    return lines


def _score(item: NotebookReport) -> str:
    return f"{item.score:g}/{item.max_score:g}"


class PlainReporter:
    """One line per event, for logs and pipes."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def begin(self, assignment: str, total: int, workers: int, skipped: int) -> None:
        self.total = total
        self._print(
            f"grading {assignment}: {total} notebook(s) on {workers} worker(s), {skipped} already graded"
        )

    def started(self, worker: str, student: str, notebook: str) -> None:
        self._print(f"[{worker}] start {student}/{notebook}")

    def finished(self, item: NotebookReport) -> None:
        self.done += 1
        line = (
            f"[{self.done}/{self.total}] {item.student}/{item.notebook} {_score(item)} ({item.seconds:.1f} s)"
        )
        self._print(line + (f" PROBLEM: {item.problem}" if item.problem else ""))

    def note(self, text: str) -> None:
        self._print(f"note: {text}")

    def end(self, report: GradeReport) -> None:
        for line in summary_lines(report):
            self._print(line)


class RichReporter:
    """A live progress bar with ETA, a line per worker, and problems printed as they happen."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console or Console()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.task: Any = None
        self.workers: dict[str, tuple[str, float]] = {}
        self.problems = 0
        self.live: Any = None
        self._lock = threading.Lock()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        for worker in sorted(self.workers):
            what, since = self.workers[worker]
            table.add_row(f"[cyan]{worker}", what, f"{now - since:.0f} s")
        footer = f"[red]{self.problems} problem(s)" if self.problems else "[green]no problems so far"
        return Group(self.progress, table, footer)

    def begin(self, assignment: str, total: int, workers: int, skipped: int) -> None:
        from rich.live import Live

        self.task = self.progress.add_task(f"grading {assignment}", total=total)
        if skipped:
            self.console.print(
                f"{skipped} submission(s) already graded and unchanged (--force regrades them)"
            )
        self.live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4)
        self.live.start()

    def started(self, worker: str, student: str, notebook: str) -> None:
        with self._lock:
            self.workers[worker] = (f"{student}/{notebook}", time.monotonic())

    def finished(self, item: NotebookReport) -> None:
        with self._lock:
            for worker, (what, _) in list(self.workers.items()):
                if what == f"{item.student}/{item.notebook}":
                    self.workers[worker] = ("[dim]idle", time.monotonic())
            if item.problem:
                self.problems += 1
                self.console.print(f"[red]problem[/] {item.student}/{item.notebook}: {item.problem}")
            self.progress.advance(self.task)

    def note(self, text: str) -> None:
        self.console.print(f"[yellow]note[/] {text}")

    def end(self, report: GradeReport) -> None:
        if self.live is not None:
            self.live.stop()
        for line in summary_lines(report):
            self.console.print(line, markup=False, highlight=False)


def reporter_for(stream: IO[str] | None = None) -> PlainReporter | RichReporter:
    """The live view on a terminal, plain lines when the output goes to a file or a pipe."""
    stream = stream or sys.stdout
    return RichReporter() if stream.isatty() else PlainReporter(stream)
