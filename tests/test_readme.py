"""The README's promises that code can check: OpenAPI components it names, commands it shows."""

import re
from pathlib import Path

from gateway.openapi import document_for

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n#", start + len(title))
    return README[start : end if end != -1 else None]


def shell_blocks() -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_the_openapi_components_the_readme_names_exist(app):
    # CamelCase names in backticks: `ErrorEnvelope`, `OAuthError`
    names = re.findall(r"`([A-Z][A-Za-z]+)`", section("### OpenAPI and docs"))
    named = {name for name in names if sum(c.isupper() for c in name) >= 2}
    components = set(document_for(app)["components"]["schemas"])

    assert named, "the section names no component: this test would check nothing"
    assert named <= components


def database_urls_missing(block: list[str]) -> list[str]:
    """`skillgw db` lines of a block that reach another database than the block's others."""
    exported = False
    inline = any(re.match(r"GATEWAY_DATABASE_URL=\S+ skillgw ", line) for line in block)
    missing = []
    for line in block:
        exported = exported or line.startswith("export GATEWAY_DATABASE_URL=")
        if inline and "skillgw db" in line and not exported and "GATEWAY_DATABASE_URL=" not in line:
            missing.append(line)
    return missing


def test_every_skillgw_db_example_reaches_the_database_it_set_up():
    assert [line for block in shell_blocks() for line in database_urls_missing(block)] == []


def test_the_example_check_can_fail():
    block = ["GATEWAY_DATABASE_URL=postgresql://x/y skillgw db upgrade", "skillgw db status"]

    assert database_urls_missing(block) == ["skillgw db status"]
    assert database_urls_missing(["export GATEWAY_DATABASE_URL=postgresql://x/y", *block]) == []
