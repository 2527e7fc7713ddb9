"""The version of lambdasim (one place; ``pyproject.toml`` keeps the same number)."""

__version__ = "0.1.0"
