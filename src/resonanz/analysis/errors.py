"""Exceptions the engine raises on purpose, each with a message an operator can act on."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class of the engine's own errors."""


class DataError(AnalysisError, ValueError):
    """A labelled file or list of examples cannot be used; the message says what is wrong and where."""


class ModelFileError(AnalysisError):
    """A model file is missing or unreadable; ``path`` names it so the operator can find it."""

    def __init__(self, path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"model file {self.path}: {reason}")


class NoActiveModel(AnalysisError):
    """The model store has no active version yet (build the seed model first)."""
