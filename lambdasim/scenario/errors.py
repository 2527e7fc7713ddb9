"""The error of a scenario that cannot be loaded: it names the file, the line and the dotted key."""
from __future__ import annotations


from lambdasim.scenario.reading import shorten

__all__ = ["ScenarioError", "MESSAGE_LIMIT"]

#: Longest message text (characters) of an error; longer ones are cut with their length shown.
MESSAGE_LIMIT = 400


class ScenarioError(Exception):
    """A scenario cannot be loaded: bad file, bad YAML, or a value that fails validation.

    Attributes
    ----------
    file : str or None
        The scenario file, when loaded from one.
    key : str or None
        Dotted path of the offending value.
    line : int or None
        1-based line of that key in the file, when known.
    message : str
        What is wrong and what was expected.
    override : str or None
        The dotted key of the override (``--set KEY=VALUE``) the bad value came from, if any;
        then the location reads ``--set KEY`` instead of ``file:line``.
    """

    def __init__(
        self,
        message: str,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        override: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.key = key
        self.line = line
        self.override = override
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.override is not None:
            parts = [f"--set {self.override}"]
            if self.key and self.key != self.override:
                parts.append(self.key)
        else:
            location = self.file or ""
            if self.line is not None:
                location = f"{location}:{self.line}" if location else f"line {self.line}"
            parts = [p for p in (location, self.key) if p]
        # One line of bounded length, whatever the file holds: a key with a newline is shown
        # escaped, a 4,000-digit number or a huge key is cut short.
        parts = [shorten(str(p), 200) for p in parts]
        return ": ".join([*parts, shorten(str(self.message), MESSAGE_LIMIT)])
