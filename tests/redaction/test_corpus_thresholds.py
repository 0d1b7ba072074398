"""The acceptance thresholds, held on a seeded generated corpus in three styles."""

import pytest

from gateway.redaction import detect, redact

STYLES = ("written", "asr", "spoken")
STRUCTURED = ("PHONE", "EMAIL", "CARD", "SSN", "IBAN", "IP", "DOB", "ADDRESS")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("kind", STRUCTURED)
def test_structured_recall_at_least_99_percent(corpus_score, kind, style):
    assert corpus_score.entities[(kind, style)][1] >= 50  # enough samples to mean something
    assert corpus_score.recall(kind, style) >= 0.99, [
        leak for leak in corpus_score.leaks if leak[:2] == (kind, style)
    ][:5]


@pytest.mark.parametrize("style", STYLES)
def test_name_recall_at_least_95_percent(corpus_score, style):
    assert corpus_score.recall("NAME", style) >= 0.95


def test_overall_leak_rate_at_most_1_percent(corpus_score):
    assert corpus_score.leak_rate() <= 0.01, corpus_score.leaks[:10]


def test_keep_rate_at_least_98_percent(corpus_score):
    assert corpus_score.keeps["written"][1] > 100
    assert corpus_score.keep_rate() >= 0.98, corpus_score.lost[:10]


def test_false_positives_at_most_2_percent_of_pii_free_lines(corpus_score):
    assert sum(total for _, total in corpus_score.negatives.values()) > 500
    assert corpus_score.fp_rate() <= 0.02


def test_rescanning_redacted_output_finds_nothing(corpus):
    for policy in ("strict", "standard", "trusted"):
        for line in corpus:
            redacted = redact(line.text, policy).text
            assert detect(redacted, policy) == [], (policy, line.text, redacted)
