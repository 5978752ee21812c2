"""Run the real worker, optionally with a fault injected into its pipeline for resilience tests.

ECO2_TEST_PIPELINE_DELAY=<seconds>: the classifier sleeps first (time to SIGKILL the worker mid-job).
ECO2_TEST_PIPELINE_FAIL=1: every analysis raises (its message must end in the dead-letter queue).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from apps import worker
from apps.waste import tasks


def _inject_faults() -> None:
    delay = float(os.environ.get("ECO2_TEST_PIPELINE_DELAY", "0"))
    always_fail = os.environ.get("ECO2_TEST_PIPELINE_FAIL") == "1"
    real_classify = tasks.__dict__["classify"]

    def classify(*args: Any, **kwargs: Any) -> Any:
        if always_fail:
            raise RuntimeError("injected failure")
        time.sleep(delay)
        return real_classify(*args, **kwargs)

    tasks.__dict__["classify"] = classify


if __name__ == "__main__":
    _inject_faults()
    worker.app.worker_main(sys.argv[1:])
