"""Help before failure, for learners in a course notebook (in the style of Kaggle's learntools).

A notebook declares each exercise once, in a locked cell the learner can read::

    from nbcourse.learn import Exercise

    ex1_1 = Exercise(
        "1.1",
        hints=["Start from `df.isna().sum()`.", "A rule is a pandera `Check` on one column."],
        reasoning="Why the reference approach works, and the trap most people fall into.",
    )

and its visible test cell wraps the visible checks in ``with ex1_1.checking():``. Then:

* ``ex1_1.hint()`` shows the next hint (each call one more, never the solution);
* ``ex1_1.checking()`` records an attempt; an exercise whose stub still raises
  ``NotImplementedError`` prints "not attempted yet" instead of stopping "Run All", so a learner can
  run a core notebook top to bottom before doing its exercises. Any other failure is re-raised (with a
  pointer to the hints): a wrong answer must stop the cell;
* ``ex1_1.reasoning()`` explains the approach, but only after the learner has attempted the exercise
  (run its check cell with an answer in place), so reading it is not a substitute for trying.

The hidden tests of a cell that uses ``checking()`` must exercise the answer *outside* the ``with``
block, so an unattempted (or deliberately ``NotImplementedError``-raising) answer still scores zero
when graded; the course's tests check that every such cell has hidden tests.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence

__all__ = ["Exercise"]


def _show(markdown_text: str) -> None:
    """Render Markdown in a notebook, plain text anywhere else (a script, a test, a terminal)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is always there in a notebook
        print(markdown_text)
        return
    if get_ipython() is None:
        print(markdown_text)
    else:
        display(Markdown(markdown_text))


class Exercise:
    """Hints, attempt tracking and post-attempt reasoning for one exercise of a notebook."""

    def __init__(
        self, label: str, hints: str | Sequence[str] = (), reasoning: str = "", name: str | None = None
    ) -> None:
        if not label or not isinstance(label, str):
            raise ValueError("an Exercise needs a label such as '1.1'")
        self.label = label
        # The variable the notebook binds this object to, for the messages ("ex1_1" for label "1.1").
        self.name = name or "ex" + re.sub(r"\W", "_", label)
        self._hints: list[str] = [hints] if isinstance(hints, str) else list(hints)
        self._reasoning = reasoning
        self._hints_shown = 0
        self.attempts = 0
        self.passed = False

    def __repr__(self) -> str:
        state = "passed its visible checks" if self.passed else f"{self.attempts} attempt(s)"
        return f"<Exercise {self.label}: {state}; {len(self._hints)} hint(s) — call .hint()>"

    def hint(self) -> None:
        """Show the next hint; after the last one, say where else to look."""
        if not self._hints:
            _show(f"**Exercise {self.label}** has no hints: re-read the exercise and the section above it.")
            return
        index = min(self._hints_shown, len(self._hints) - 1)
        self._hints_shown = min(self._hints_shown + 1, len(self._hints))
        more = (
            f" ({index + 1} of {len(self._hints)}; call `.hint()` again for the next)"
            if index + 1 < len(self._hints)
            else f" ({index + 1} of {len(self._hints)}, the last one)"
        )
        _show(f"**Hint for exercise {self.label}**{more}: {self._hints[index]}")

    def reasoning(self) -> None:
        """Explain the approach, once the learner has attempted the exercise."""
        if self.attempts == 0:
            _show(
                f"**Exercise {self.label}**: try it first. Write your answer, run its check cell, then call "
                "`.reasoning()` again. Stuck? `.hint()` helps without giving it away."
            )
            return
        if not self._reasoning:
            _show(f"**Exercise {self.label}** has no written reasoning.")
            return
        _show(f"**Reasoning for exercise {self.label}**\n\n{self._reasoning}")

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        """Run the visible checks: record the attempt; an untouched stub is reported, not raised."""
        try:
            yield
        except NotImplementedError:
            # The release's stub: not an attempt. Say so and let "Run All" go on; hidden tests outside
            # this block still fail it when the notebook is graded.
            print(
                f"Exercise {self.label} is not attempted yet: replace `raise NotImplementedError()` with "
                f"your answer, then run this cell again. (Need a start? `{self.name}.hint()`)"
            )
            return
        except BaseException as exc:
            self.attempts += 1
            self.passed = False
            if isinstance(exc, AssertionError):
                print(
                    f"Exercise {self.label}: not yet — read the message below. "
                    f"`{self.name}.hint()` gives a hint.",
                )
            raise
        self.attempts += 1
        self.passed = True
        print(
            f"Exercise {self.label}: the visible checks pass. Hidden tests run when you press "
            f"'Check my work'. Why this works: `{self.name}.reasoning()`"
        )
