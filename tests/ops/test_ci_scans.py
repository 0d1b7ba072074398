"""The scans .ci/run makes: bandit finds no high-severity issue in the shipped code (and does
find one where there is one); pip-audit's report fails the run on a known vulnerability and
says plainly what it could not audit."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _summary():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", ROOT / ".ci" / "audit_dependencies.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.summarise


def bandit(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "--quiet",
            "--recursive",
            *paths,
            "--severity-level",
            "high",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_bandit_finds_no_high_severity_issue_in_the_shipped_code():
    result = bandit("gateway", "schemas", "app.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_does_fail_on_a_high_severity_issue(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\n\ndef run(x):\n    subprocess.call(x, shell=True)\n")
    result = bandit(str(bad))
    assert result.returncode == 1 and "B602" in result.stdout


def test_a_known_vulnerability_fails_the_run():
    status, lines = _summary()(
        {
            "dependencies": [
                {
                    "name": "authlib",
                    "version": "1.6.4",
                    "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["1.6.5"], "aliases": []}],
                },
                {"name": "flask", "version": "3.1.0", "vulns": []},
            ]
        }
    )
    assert status == 1
    assert any("VULNERABLE authlib 1.6.4: GHSA-xxxx (fixed in 1.6.5)" in line for line in lines)


def test_an_unreachable_service_is_said_plainly_and_fails_only_when_required():
    report = {
        "dependencies": [
            {
                "name": "flask",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
            {
                "name": "click",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
        ]
    }
    status, lines = _summary()(report)
    assert status == 0
    text = "\n".join(lines)
    assert "0 of 2" in text and "NOT AUDITED" in text and "could not be reached" in text
    assert _summary()(report, require_audit=True)[0] == 1


def test_a_clean_audit_passes():
    status, lines = _summary()(
        {"dependencies": [{"name": "flask", "version": "3.1.0", "vulns": []}]}
    )
    assert status == 0 and "1 of 1" in lines[0]
