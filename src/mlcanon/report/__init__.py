"""Rendering of lesson results: the terminal view, the HTML report and the corrected notes."""

from ._html import build_report
from ._terminal import print_result, summary_table, totals, totals_line

__all__ = ["build_report", "print_result", "summary_table", "totals", "totals_line"]
