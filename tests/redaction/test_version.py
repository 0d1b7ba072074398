"""The redactor's version changes whenever detection or a policy's actions change."""

import hashlib
import json

from gateway.redaction import REDACTOR_VERSION, Policy, detect, get_policy

# Probe lines touching every detector; their findings are fingerprinted per version.
_PROBES = (
    "call me at five five five eight six seven five three oh nine",
    "email john dot smith at gmail dot com",
    "card 4111 1111 1111 1111 and iban DE89 3704 0044 0532 0130 00",
    "my social is 123-45-6789, ip 192.168.1.20, born on march third nineteen eighty five",
    "deliver to one sixty six sunset boulevard apartment four b, zip code 62704",
    "account number 12345678, serial number C02XK1JHG8WP, reference 58203948",
    "reply to tobias's email and set up lunch with quelindra tomorrow",
    "how old is keanu reeves",
    "will it rain in new york city tonight",
    "order egg foo young and open pandora",
    "hey olly text sydney that i'm late",
)
# REDACTOR_VERSION -> fingerprint of the probes' findings under strict.
_FINGERPRINTS = {2: "d514c0cf4c8f"}


def _fingerprint() -> str:
    found = [[(s.type, s.start, s.end) for s in detect(text)] for text in _PROBES]
    return hashlib.sha256(json.dumps(found).encode()).hexdigest()[:12]


def test_detection_changes_bump_the_version():
    assert _fingerprint() == _FINGERPRINTS.get(REDACTOR_VERSION), (
        "detection changed: bump REDACTOR_VERSION in gateway/redaction/policies.py and record"
        f" {{{REDACTOR_VERSION + 1}: {_fingerprint()!r}}} in _FINGERPRINTS"
    )


def test_policy_version_carries_the_redactor_version_and_differs_per_policy():
    versions = {name: get_policy(name).version for name in ("strict", "standard", "trusted")}
    assert all(v.startswith(f"{REDACTOR_VERSION}.") for v in versions.values())
    assert len(set(versions.values())) == 3


def test_policy_version_changes_with_its_actions():
    same = Policy("custom", {"ZIP": "mask_zip3"})
    assert same.version == Policy("custom", {"ZIP": "mask_zip3"}).version
    assert same.version != Policy("custom", {"ZIP": "placeholder"}).version
