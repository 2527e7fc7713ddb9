"""Old import path of :mod:`lambdasim.results.result`, kept so ``from lambdasim.result import
Result`` (written before the package was layered) keeps working."""
from lambdasim.results.result import FunctionResult, Result, build_result

__all__ = ["Result", "FunctionResult", "build_result"]
