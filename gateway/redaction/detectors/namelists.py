"""Given and family names from the US census lists shipped by the `names` package, loaded once."""

from functools import cache
from importlib import resources


def _read(filename: str) -> dict[str, int]:
    # Each line: NAME  frequency  cumulative-frequency  rank; the name and its rank are kept.
    data = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    ranks: dict[str, int] = {}
    for line in data.splitlines():
        parts = line.split()
        if len(parts) == 4:
            ranks.setdefault(parts[0].lower(), int(parts[3]))
    return ranks


@cache
def given_ranks() -> dict[str, int]:
    """Census given names (about 5,500), lower case, with their best rank (1 is commonest)."""
    ranks = _read("dist.female.first")
    for name, rank in _read("dist.male.first").items():
        ranks[name] = min(rank, ranks.get(name, rank))
    return ranks


@cache
def family_ranks() -> dict[str, int]:
    """Census family names (about 89,000), lower case, with their rank."""
    return _read("dist.all.last")


def all_given_names() -> frozenset[str]:
    """Census given names, including those that are also words ("Will", "May", "Grace")."""
    return frozenset(given_ranks())


def all_family_names() -> frozenset[str]:
    """Census family names including those that are also common words ("Long", "Young")."""
    return frozenset(family_ranks())
