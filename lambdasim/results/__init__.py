"""The results layer: what a run produced and how it is shown.

:class:`~lambdasim.results.result.Result` and ``build_result`` (summary, per-period series,
records), the charts' timeline, ``expect:`` checks evaluated on a summary, the terminal table,
the atomic results-folder writer, report.html, the charts and the terminal progress bar.

Import rule: results import :mod:`lambdasim.engine` and :mod:`lambdasim.scenario`, never
studies, tools or the command line.
"""
