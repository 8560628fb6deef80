"""The report builder: both languages built together equal each language built alone."""

import msgspec
import numpy as np
import pytest

from ipledge.identifiers import make_patent_number
from valuation.assess import Registry, Standing, build_report, build_reports, value_offered
from valuation.codes import CHAIN_CODES, N_INDICATORS
from valuation.market import Transactions
from valuation.schemas import AssessmentCreate, EnterpriseRef

from .helpers import AS_OF, COEFFS, random_batch


def _transactions(seed: int, m: int = 300) -> Transactions:
    rng = np.random.default_rng(seed)
    return Transactions(
        ids=np.array([f"t{i}" for i in range(m)]),
        chain=rng.integers(0, len(CHAIN_CODES), m).astype(np.int16),
        day=np.full(m, AS_OF.toordinal() - 100, np.int64),
        price=rng.uniform(1e5, 1e7, m),
        revenue=rng.lognormal(16, 1, m),
        scores=rng.uniform(0, 100, (m, N_INDICATORS)),
    )


@pytest.mark.parametrize("seed", range(12))
def test_reports_built_together_equal_each_built_alone(seed):
    rng = np.random.default_rng(seed)
    n = 24
    batch = random_batch(seed, n)
    numbers = [make_patent_number(f"20201{seed:02d}{k:05d}") for k in range(n)]
    rows = np.zeros(n, [("number", "S14"), ("fees_paid", "u1")])
    rows["number"] = numbers
    rows["fees_paid"] = rng.random(n) < 0.9
    gates = {k: (rng.random(n) < 0.1).astype(np.uint8) for k in ("already_pledged", "pending_invalidation")}
    gates["ownership_dispute"] = np.zeros(n, np.uint8)
    offered = [numbers[k] for k in rng.choice(n, 1 + seed % 5, replace=False)]
    patents: list[dict[str, object]] = [{"number": no} for no in offered]
    if seed % 2:
        patents[0] |= {"sales": 3e6, "declared": {"importance": 4, "effect": 2}, "maturity": "pilot"}
    data = msgspec.convert(
        {"patents": patents, "requested_amount": [5e5, 3e6, 1e8][seed % 3], "requested_term_years": 2.0},
        AssessmentCreate,
    )
    tx = _transactions(seed) if seed % 4 else None
    valued = value_offered(batch, rows, gates, data.patents, AS_OF, COEFFS, tx)
    registry = {no: Registry(no, f"title {no}", "invention", "granted", k % 3 != 2) for k, no in enumerate(offered)}
    ref = EnterpriseRef("91110000000000000X", "企业")
    standing = Standing(seed % 5 == 1, seed % 7 == 2)
    both = build_reports(valued, data, registry, ref, standing, tx, AS_OF, COEFFS, ("zh", "en"))
    assert list(both) == ["zh", "en"]
    for lang in ("zh", "en"):
        alone = build_report(valued, data, registry, ref, standing, tx, AS_OF, COEFFS, lang)
        assert msgspec.json.encode(both[lang]) == msgspec.json.encode(alone)
        assert both[lang].lang == lang
    assert msgspec.json.encode(both["zh"]) != msgspec.json.encode(both["en"])
