"""Which values a learner may write into an item (`self`, `choice`, `text`), and why not others."""

from __future__ import annotations

from .manifest import Item

COMPUTED_KINDS = ("auto", "env", "derived")
# A journal entry is long; a megabyte of text in one field is a mistake or an attack.
MAX_TEXT_LENGTH = 100_000


class InvalidValue(ValueError):
    """The value cannot be stored in the item; the message says which field is wrong and why."""


def validate_value(item: Item, value: object) -> bool | str:
    """The value, if it is one the item can hold; InvalidValue says why not."""
    if item.kind in COMPUTED_KINDS:
        raise InvalidValue(
            f"item {item.id!r} is a {item.kind!r} item: its state is computed, it cannot be set"
        )
    if item.kind == "self":
        if not isinstance(value, bool):
            raise InvalidValue(
                f"item {item.id!r} is a checkbox: value must be true or false, got {type(value).__name__}"
            )
        return value
    if not isinstance(value, str):
        raise InvalidValue(
            f"item {item.id!r} is a {item.kind!r} item: value must be a string, got {type(value).__name__}"
        )
    if item.kind == "choice":
        # "" clears the choice.
        if value and value not in item.options:
            raise InvalidValue(
                f"{value!r} is not an option of item {item.id!r} (options: {', '.join(item.options)})"
            )
        return value
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidValue(
            f"item {item.id!r}: text of {len(value)} characters is longer than the {MAX_TEXT_LENGTH} allowed"
        )
    if not item.multiline and ("\n" in value or "\r" in value):
        raise InvalidValue(f"item {item.id!r} is a single-line field: value must not contain line breaks")
    return value
