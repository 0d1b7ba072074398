"""Compare gateway.redaction with Microsoft Presidio on the same labelled voice corpus.

Run (from the repository root, with the bench extra installed):

    .venv/bin/python bench/redaction.py [--per-template 90] [--seed 7]

Presidio runs with a blank spaCy English pipeline plus a lookup lemmatizer
(spacy-lookups-data): no NER model, because official spaCy models are not on PyPI. Prints, per
entity type and per style (written, lower-case ASR, spoken), recall; then leak rate, keep rate
of must-stay spans, false-positive rate on PII-free lines, single-threaded lines/s and the ratio.
"""

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # no network fetch

from gateway.redaction import detect  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "redaction_corpus", Path(__file__).with_name("redaction_corpus.py")
)
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
sys.modules["redaction_corpus"] = corpus
_spec.loader.exec_module(corpus)

Predict = Callable[[str], list[tuple[int, int]]]


def ours() -> Predict:
    return lambda text: [(s.start, s.end) for s in detect(text)]


def presidio() -> Predict:
    """Presidio's analyzer with every default pattern recognizer, on a blank spaCy pipeline."""
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    path = Path(tempfile.mkdtemp()) / "en_blank"
    nlp.to_disk(path)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(path)}])
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    analyzer.registry.remove_recognizer("SpacyRecognizer")

    def predict(text: str) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in analyzer.analyze(text=text, language="en")]

    return predict


def measure(name: str, predict: Predict, lines: list) -> tuple[object, float]:
    for line in lines[:50]:  # warm-up
        predict(line.text)
    started = time.perf_counter()
    result = corpus.score(lines, predict)
    rate = len(lines) / (time.perf_counter() - started)
    return result, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-template", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    lines = corpus.generate(seed=args.seed, per_template=args.per_template, negatives=40)
    chars = sum(len(line.text) for line in lines) / len(lines)
    print(f"corpus: {len(lines)} lines, mean {chars:.0f} chars, seed {args.seed}\n")
    results = {}
    for name, factory in (("gateway", ours), ("presidio", presidio)):
        results[name] = measure(name, factory(), lines)
    kinds = (*corpus.STRUCTURED, "NAME")
    print(f"{'recall':10}" + "".join(f"{k:>24}" for k in results))
    print(f"{'':10}" + "".join(f"{'written/asr/spoken':>24}" for _ in results))
    for kind in kinds:
        cells = []
        for score, _ in results.values():
            values = [score.recall(kind, style) for style in corpus.STYLES]
            cells.append("/".join(f"{v:.2f}" for v in values))
        print(f"{kind:10}" + "".join(f"{c:>24}" for c in cells))
    print()
    header = f"{'system':10}{'leak':>8}{'leak w/a/s':>20}{'keep':>8}{'FP':>8}{'lines/s':>10}"
    print(header)
    for name, (score, rate) in results.items():
        by_style = "/".join(f"{1 - score.recall(style=s):.2f}" for s in corpus.STYLES)
        print(
            f"{name:10}{score.leak_rate():8.3f}{by_style:>20}{score.keep_rate():8.3f}"
            f"{score.fp_rate():8.3f}{rate:10.0f}"
        )
    ratio = results["gateway"][1] / results["presidio"][1]
    print(f"\nthroughput ratio gateway/presidio: {ratio:.1f}x (single thread)")


if __name__ == "__main__":
    main()
