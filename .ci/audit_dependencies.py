"""Summarise `pip-audit -f json`: fail on a known vulnerability; say loudly what could not be
audited (the vulnerability service unreachable, or a package it does not know) without failing,
unless GATEWAY_CI_REQUIRE_AUDIT=1 asks for every dependency to be audited."""

import json
import os
import sys
from typing import Any


def summarise(report: dict[str, Any], *, require_audit: bool = False) -> tuple[int, list[str]]:
    """(exit status, lines to print) for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    lines = [f"pip-audit: {audited} of {len(dependencies)} installed dependencies audited"]
    for dep in vulnerable:
        ids = ", ".join(
            v["id"]
            + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "")
            for v in dep["vulns"]
        )
        lines.append(f"VULNERABLE {dep['name']} {dep.get('version', '')}: {ids}")
    if skipped:
        cause = (
            "the vulnerability service could not be reached (PyPI's per-version JSON API "
            "answered for none of them)"
            if audited == 0
            else "the vulnerability service did not know them (not on PyPI?)"
        )
        lines.append(
            f"NOT AUDITED: {len(skipped)} dependencies: {cause}, so nothing is known about "
            "their vulnerabilities:"
        )
        lines.append("  " + ", ".join(sorted(d["name"] for d in skipped)))
    if vulnerable:
        return 1, lines
    if skipped and require_audit:
        lines.append("GATEWAY_CI_REQUIRE_AUDIT=1: an unaudited dependency fails the run")
        return 1, lines
    lines.append("no known vulnerability among the audited dependencies")
    return 0, lines


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    required = os.environ.get("GATEWAY_CI_REQUIRE_AUDIT") == "1"
    status, lines = summarise(report, require_audit=required)
    print("\n".join(lines), file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
