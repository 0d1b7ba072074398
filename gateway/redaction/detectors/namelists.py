"""Given and family names from the US census lists shipped by the `names` package, loaded once."""

from functools import cache
from importlib import resources

from gateway.redaction.detectors.commonwords import COMMON_WORDS


def _read(filename: str) -> frozenset[str]:
    # Each line: NAME  frequency  cumulative-frequency  rank; only the name is needed.
    data = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    return frozenset(line.split(maxsplit=1)[0].lower() for line in data.splitlines() if line)


@cache
def all_given_names() -> frozenset[str]:
    """Census given names (about 5,500), lower case, including those that are also words."""
    return _read("dist.male.first") | _read("dist.female.first")


@cache
def given_names() -> frozenset[str]:
    """Census given names without those that are mostly words ("Will", "May", "Grace")."""
    return all_given_names() - COMMON_WORDS


@cache
def family_names() -> frozenset[str]:
    """Census family names (about 89,000), lower case, without those that are mostly words."""
    return all_family_names() - COMMON_WORDS


@cache
def all_family_names() -> frozenset[str]:
    """Census family names including those that are also common words ("Long", "Young")."""
    return _read("dist.all.last")
