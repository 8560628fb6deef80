from __future__ import annotations

from datetime import date

import pytest

from ipledge.regions import PROVINCES, province_code
from ipledge.registry.rules import expiry_date, tag_chains
from ipledge.settings import SettingsError, load_settings


def test_expiry_by_type() -> None:
    assert expiry_date("invention", date(2017, 7, 20)) == date(2037, 7, 20)
    assert expiry_date("utility_model", date(2020, 2, 29)) == date(2030, 2, 28)
    assert expiry_date("design", date(2022, 1, 1)) == date(2037, 1, 1)


def test_chain_tagging_by_ipc_prefix() -> None:
    catalogue = [("ic", ["H01L", "G11C"]), ("pv_storage", ["H01L31", "H02S"]), ("ai", ["G06N"])]
    assert tag_chains(["H01L 31/04"], catalogue) == ["ic", "pv_storage"]
    assert tag_chains(["H01L 21/02"], catalogue) == ["ic"]
    assert tag_chains(["A61K 9/00"], catalogue) == []


def test_provinces() -> None:
    assert len(PROVINCES) == 31
    assert province_code("广东") == "44" == province_code("Guangdong") == province_code("44")
    assert province_code("台湾省外") is None


def test_settings_from_environment() -> None:
    s = load_settings({"IPLEDGE_PORT": "9000", "DATABASE_URL": "postgresql://u@h/db", "IPLEDGE_LOG_JSON": "false"})
    assert s.port == 9000 and s.database_url == "postgresql://u@h/db" and s.log_json is False


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"IPLEDGE_PORT": "99999"}, "IPLEDGE_PORT"),
        ({"IPLEDGE_PORT": "eighty"}, "IPLEDGE_PORT"),
        ({"IPLEDGE_RISK_FREE_RATE": "1.5"}, "IPLEDGE_RISK_FREE_RATE"),
        ({"IPLEDGE_LOG_LEVEL": "LOUD"}, "IPLEDGE_LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env)


def test_database_url_must_be_postgres() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings({"DATABASE_URL": "mysql://x"})
