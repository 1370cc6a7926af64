"""Errors a user can cause.

Every user-facing error is a :class:`ForecastError`. Its message names the file, the row or
field, and the fix, on one line; the CLI prints it and exits with status 2. Internal bugs raise
ordinary exceptions.
"""

from __future__ import annotations


class ForecastError(Exception):
    """A mistake in the user's input: the CLI prints the message on one line, exit code 2."""

    def __init__(self, message: str, *, path: object | None = None, field: str | None = None,
                 fix: str | None = None) -> None:
        parts = []
        if path is not None:
            parts.append(str(path))
        if field:
            parts.append(field)
        where = ": ".join(parts)
        text = f"{where}: {message}" if where else message
        if fix:
            text = f"{text} (fix: {fix})"
        super().__init__(" ".join(text.split()))  # one line, always


class InputError(ForecastError):
    """A canonical inputs directory or census table that cannot be used as given."""


class ConfigError(ForecastError):
    """A run configuration (YAML) that does not validate."""


class UnitError(ForecastError):
    """An unknown or ambiguous census unit."""
