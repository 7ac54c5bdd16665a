"""Progress inside long loops: a line every few seconds on a terminal, every half minute in logs,
and always the last one, so a long fine-tuning epoch is never silent."""

from __future__ import annotations

from reporter.progress import LOG_SECONDS, TERMINAL_SECONDS, BuildProgress, JobProgress, MessageEvent


def test_steps_inside_an_epoch_are_shown_with_the_epoch_and_the_total() -> None:
    sent: list[object] = []
    steps = JobProgress("minilm", epochs=3, send=sent.append, interval=0.0).steps()
    for done in (1, 2):
        steps(1, done, 2)
    steps(2, 1, 2)
    assert [e.text for e in sent if isinstance(e, MessageEvent)] == [
        "  minilm: epoch 1/3, step 1 of 2",
        "  minilm: epoch 1/3, step 2 of 2",
        "  minilm: epoch 2/3, step 1 of 2",
    ]


def test_a_fast_loop_stays_quiet_between_lines() -> None:
    sent: list[object] = []
    report = JobProgress("m", epochs=None, send=sent.append, interval=60.0).throttled("{done} of {total}")
    for done in range(1, 1001):
        report(done, 1000)
    assert sent == []  # a thousand steps within the interval: nothing to show yet


def test_the_interval_follows_the_output() -> None:
    assert BuildProgress(1, quiet=True).interval == LOG_SECONDS  # not a terminal: a log
    assert TERMINAL_SECONDS < LOG_SECONDS <= 30
