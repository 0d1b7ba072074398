"""Settings: precedence, validation, and the README's configuration table kept true."""

from pathlib import Path

import pytest

from gateway import config


def test_environment_then_mapping_precedence(monkeypatch):
    monkeypatch.setenv("GATEWAY_POOL_MAX_SIZE", "7")
    assert config.load()["POOL_MAX_SIZE"] == 7
    assert config.load({"POOL_MAX_SIZE": 3})["POOL_MAX_SIZE"] == 3
    monkeypatch.delenv("GATEWAY_POOL_MAX_SIZE")
    assert config.load()["POOL_MAX_SIZE"] == 10


def test_token_lifetime_over_an_hour_is_refused():
    with pytest.raises(ValueError, match="3600"):
        config.load({"ACCESS_TOKEN_TTL": 864000})


def test_pseudonym_keys_parse_and_reject_weak_keys():
    current, keys = config.parse_pseudonym_keys("k2:" + "11" * 32 + ",k1:" + "22" * 32)
    assert current == "k2" and set(keys) == {"k1", "k2"}
    with pytest.raises(ValueError):
        config.parse_pseudonym_keys("k1:abcd")
    with pytest.raises(ValueError):
        config.parse_pseudonym_keys("")


def test_readme_lists_every_setting():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [name for name in config.SETTINGS if f"`GATEWAY_{name}`" not in readme]
    assert missing == []
