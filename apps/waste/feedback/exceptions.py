"""Feedback errors: part of the scan flow's one error family (``ScanError``), so one handler maps them."""

from __future__ import annotations

from apps.waste.exceptions import ScanError


class AnalysisNotFinished(ScanError):
    status_code = 409


class FeedbackAlreadyGiven(ScanError):
    status_code = 409


class FeedbackRejected(ScanError):
    """The feedback names no taxonomy category, or confirms an answer that was never given."""

    status_code = 422
