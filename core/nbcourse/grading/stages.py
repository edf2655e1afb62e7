"""nbgrader's autograde preprocessor lists, as the course configures them, split at the gradebook.

`Autograde.sanitize_preprocessors` and `Autograde.autograde_preprocessors` are configurable; we
read them the way nbgrader does (config first, then nbgrader's defaults) and split the second list
at the first preprocessor that writes the gradebook: what comes before runs on a worker, the rest
on the writer that owns the gradebook.
"""

from __future__ import annotations

from typing import Any

from traitlets.config import Config
from traitlets.utils.importstring import import_item


def _classes(config: Config, trait: str) -> list[type]:
    from nbgrader.converters import Autograde

    configured = config.get("Autograde", {}).get(trait)
    value = configured if configured is not None else Autograde.class_traits()[trait].default()
    return [import_item(c) if isinstance(c, str) else c for c in value]


def sanitize_preprocessors(config: Config) -> list[type]:
    return _classes(config, "sanitize_preprocessors")


def _split(config: Config) -> tuple[list[type], list[type]]:
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

    classes = _classes(config, "autograde_preprocessors")
    for i, cls in enumerate(classes):
        if issubclass(cls, (SaveAutoGrades, AssignLatePenalties)):
            return classes[:i], classes[i:]
    return classes, []


def worker_preprocessors(config: Config) -> list[type]:
    """Execute and the output filters that follow it: no gradebook access."""
    return _split(config)[0]


def writer_preprocessors(config: Config) -> list[type]:
    """SaveAutoGrades and what follows it: run by the gradebook's one writer."""
    return _split(config)[1]


def registered(exporter: Any, classes: list[type]) -> Any:
    """`exporter` with exactly `classes` as its preprocessors (as nbgrader's converter sets them)."""
    exporter._preprocessors = []
    for cls in classes:
        exporter.register_preprocessor(cls)
    return exporter
