"""bench.poll_pairs: its report takes each ratio's median over rounds; bad options fail before any service."""

from __future__ import annotations

import pytest

from bench import poll_pairs
from bench.poll_pairs import Window, render


def test_the_report_gives_each_rounds_ratios_and_their_medians() -> None:
    windows = {
        "GET analyses": [Window(600, 1.5), Window(900, 1.1), Window(300, 3.0)],
        "GET twin (async)": [Window(700, 1.2), Window(1000, 0.9), Window(600, 1.5)],
        "hello": [Window(3000, 0.25), Window(4000, 0.2), Window(3000, 0.25)],
    }
    text = render(windows)
    assert "| 1 | 600 (1.50 ms) | 700 (1.20 ms) | 3000 (0.25 ms) | 0.86× | 0.200× |" in text
    assert "| 3 | 300 (3.00 ms) | 600 (1.50 ms) | 3000 (0.25 ms) | 0.50× | 0.100× |" in text
    # GET ÷ twin per round: 0.857, 0.9, 0.5 → median 0.86; GET ÷ hello: 0.2, 0.225, 0.1 → median 0.2
    assert "| GET analyses ≥ 0.8× its twin | 0.86× | **met** |" in text
    assert "| GET analyses ≥ 0.2× hello | 0.200× | **met** |" in text


@pytest.mark.parametrize("argv", [["--pairs", "0"], ["--duration", "0"]])
def test_bad_options_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        poll_pairs.main(argv)
    assert exit_.value.code == 2
    assert "--pairs must be at least 1" in capsys.readouterr().err
