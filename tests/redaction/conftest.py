"""Fixtures for the redaction tests: the seeded labelled corpus from bench/redaction_corpus.py."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_CORPUS_PATH = Path(__file__).resolve().parents[2] / "bench" / "redaction_corpus.py"


def _load_corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redaction_corpus", _CORPUS_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["redaction_corpus"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus_module() -> ModuleType:
    return _load_corpus_module()


@pytest.fixture(scope="session")
def corpus(corpus_module: ModuleType) -> list:
    # a seed the detectors were not tuned on
    return corpus_module.generate(seed=424242, per_template=90, negatives=45)


@pytest.fixture(scope="session")
def corpus_score(corpus_module: ModuleType, corpus: list):
    from gateway.redaction import detect

    return corpus_module.score(corpus, lambda text: [(s.start, s.end) for s in detect(text)])
