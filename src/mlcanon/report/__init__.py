"""Rendering of lesson results: the terminal view and the self-contained HTML report."""

from ._html import build_report
from ._terminal import print_result, summary_table

__all__ = ["build_report", "print_result", "summary_table"]
