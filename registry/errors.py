"""Domain errors. The API maps them to HTTP statuses in one exception handler."""

from collections.abc import Iterable


class InputError(Exception):
    """Invalid input: every offending field, by its JSON path, with a message."""

    def __init__(self, errors: Iterable[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{path or '(document)'}: {msg}" for path, msg in self.errors))

    def as_dict(self) -> list[dict[str, str]]:
        return [{"field": path, "message": message} for path, message in self.errors]


class ConflictError(Exception):
    """A concurrent edit: the record changed since the version the caller read."""

    def __init__(self, message: str, *, current_version: int | None = None):
        self.current_version = current_version
        super().__init__(message)


class LockedError(Exception):
    """The record is locked (signed); edits are refused by every path."""
