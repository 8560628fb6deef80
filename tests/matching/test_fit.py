import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.fit import score_matrix, top_n
from matching.fit_inputs import (
    EnterpriseProfile,
    InstitutionCriteria,
    build_vocabulary,
    encode_enterprises,
    encode_institutions,
)
from matching.fit_policy import DEFAULT_FIT_POLICY, FitPolicy
from matching.fit_reasons import explain_pairs, explain_top
from matching.i18n import Text
from matching.text import embed, fit_text_model

IC = "集成电路芯片设计、晶圆制造与封装测试。专利：一种芯片封装结构；一种晶圆刻蚀方法"
BIO = "生物医药研发，抗体药物与疫苗。专利：一种单克隆抗体的制备方法"
CHAIN_LABELS = {"ic": Text("集成电路", "integrated circuit"), "bio": Text("生物医药", "biomedicine")}


def ent(id, **kw):
    base = dict(
        province="广东",
        chains=frozenset({"ic"}),
        consent=True,
        financing_need=8_000_000,
        grade="B",
        value_degree=80,
        growth=0.3,
        pool_status="admitted",
        stage="A",
        text=IC,
    )
    base.update(kw)
    return EnterpriseProfile(id=id, **base)


def inst(id, **kw):
    base = dict(name=id, kind="bank", thesis="专注集成电路芯片设计与晶圆制造企业的知识产权质押贷款")
    base.update(kw)
    return InstitutionCriteria(id=id, **base)


def run(profiles, criteria, policy=DEFAULT_FIT_POLICY, workers=1, block_rows=1024, min_group_rows=256):
    vocab = build_vocabulary(profiles, criteria)
    model = fit_text_model([p.text for p in profiles] + [c.thesis for c in criteria], policy.text)
    ents = encode_enterprises(profiles, vocab, model, policy)
    insts = encode_institutions(criteria, vocab, model, policy)
    result = score_matrix(ents, insts, policy, workers=workers, block_rows=block_rows, min_group_rows=min_group_rows)
    return vocab, model, ents, insts, result


def eligible(profile, criterion, policy=DEFAULT_FIT_POLICY):
    *_, result = run([profile], [criterion], policy)
    assert result.eligible[0, 0] == np.isfinite(result.scores[0, 0])
    return bool(result.eligible[0, 0])


def test_consent_is_a_hard_gate():
    assert eligible(ent("e"), inst("b"))
    assert not eligible(ent("e", consent=False), inst("b"))


def test_province_gate_and_empty_means_all():
    assert eligible(ent("e"), inst("b", provinces=frozenset({"广东", "福建"})))
    assert not eligible(ent("e"), inst("b", provinces=frozenset({"福建"})))
    assert eligible(ent("e", province="西藏"), inst("b"))


def test_guidance_fund_region_mandate_is_a_gate_only_for_guidance_funds():
    mandate = frozenset({"安徽"})
    assert not eligible(ent("e"), inst("g", kind="guidance_fund", region_mandate=mandate))
    assert eligible(ent("e", province="安徽"), inst("g", kind="guidance_fund", region_mandate=mandate))
    assert eligible(ent("e"), inst("v", kind="vc_pe", region_mandate=mandate))


def test_chain_gate_open_when_empty():
    assert eligible(ent("e"), inst("b", chains=frozenset({"ic", "nev"})))
    assert not eligible(ent("e"), inst("b", chains=frozenset({"bio"})))
    assert eligible(ent("e", chains=frozenset()), inst("b"))
    assert not eligible(ent("e", chains=frozenset()), inst("b", chains=frozenset({"ic"})))


@pytest.mark.parametrize(
    ("need", "lo", "hi", "expected"),
    [
        (8e6, 2e6, 2e7, True),
        (2e6, 2e6, 2e7, True),
        (2e7, 2e6, 2e7, True),
        (1.9e6, 2e6, 2e7, False),
        (8e6, None, 5e6, False),
        (8e6, 5e6, None, True),
        (None, None, None, True),
        (None, 2e6, 2e7, False),
    ],
)
def test_financing_need_inside_range(need, lo, hi, expected):
    assert eligible(ent("e", financing_need=need), inst("b", amount_min=lo, amount_max=hi)) is expected


def test_unknown_need_can_be_let_through_by_policy():
    policy = FitPolicy(unknown_need_passes_range=True)
    assert eligible(ent("e", financing_need=None), inst("b", amount_min=2e6, amount_max=2e7), policy)


@pytest.mark.parametrize(
    ("grade", "minimum", "expected"),
    [("A", "B", True), ("B", "B", True), ("C", "B", False), ("D", None, True), (None, None, True), (None, "D", False)],
)
def test_grade_gate(grade, minimum, expected):
    assert eligible(ent("e", grade=grade), inst("b", min_grade=minimum)) is expected


def test_unknown_grade_policy_switch():
    policy = FitPolicy(unknown_grade_passes_minimum=True)
    assert eligible(ent("e", grade=None), inst("b", min_grade="A"), policy)


def test_inverted_range_is_rejected():
    with pytest.raises(ValueError, match="amount_min"):
        run([ent("e")], [inst("b", amount_min=5e6, amount_max=1e6)])


def test_thesis_text_ranks_the_matching_business_first():
    profiles = [ent("bio", text=BIO, chains=frozenset({"bio"})), ent("ic")]
    *_, result = run(profiles, [inst("b")])
    assert result.similarity[1, 0] > result.similarity[0, 0]
    assert result.scores[1, 0] > result.scores[0, 0]


# --- the vectorised matrix equals a pair-by-pair reference --------------------------------------

GRADES = "DCBA"
STAGES = ["seed", "angel", "A", "B", "pre_ipo"]


def reference(p, c, sim, policy):
    w = policy.weights
    mandate = c.region_mandate if c.kind == "guidance_fund" else frozenset()
    gates = [
        p.consent,
        not c.provinces or p.province in c.provinces,
        not mandate or p.province in mandate,
        not c.chains or bool(p.chains & c.chains),
        (c.amount_min is None and c.amount_max is None)
        if p.financing_need is None
        else (c.amount_min is None or p.financing_need >= c.amount_min)
        and (c.amount_max is None or p.financing_need <= c.amount_max),
        c.min_grade is None or (p.grade is not None and GRADES.index(p.grade) >= GRADES.index(c.min_grade)),
    ]
    if p.financing_need is None:
        amount = 0.0
    elif c.amount_min is not None and c.amount_max is not None:
        lo, hi = math.log(c.amount_min), math.log(c.amount_max)
        dist = 0.0 if hi == lo and math.log(p.financing_need) == lo else abs(math.log(p.financing_need) - (lo + hi) / 2)
        rel = min(dist / ((hi - lo) / 2), 1.0) if hi > lo else (0.0 if dist == 0 else 1.0)
        amount = 1.0 - (1.0 - policy.amount_edge_score) * rel
    else:
        amount = policy.amount_open_score
    stage = policy.stage_neutral_score if not c.stages or p.stage is None else 1.0 if p.stage in c.stages else 0.0
    comps = [
        min(sim / policy.text.full_at, 1.0),
        amount,
        0.0 if p.value_degree is None else min(max(p.value_degree / 100, 0), 1),
        0.0 if p.growth is None else min(max(p.growth / policy.growth_full_at, 0), 1),
        policy.pool_status_scores.get(p.pool_status or "", 0.0),
        stage,
    ]
    score = 100 * sum(x * y for x, y in zip(w.as_tuple(), comps, strict=True)) / sum(w.as_tuple())
    return all(gates), score


TERMS = ["集成电路", "晶圆", "芯片", "抗体", "疫苗", "电池", "储能", "机器人", "减速器"]
profiles_st = st.lists(
    st.builds(
        EnterpriseProfile,
        id=st.uuids().map(str),
        province=st.sampled_from(["广东", "福建", "安徽"]),
        chains=st.frozensets(st.sampled_from(["ic", "bio", "pv"]), max_size=2),
        consent=st.booleans(),
        financing_need=st.none() | st.sampled_from([1e6, 2e6, 5e6, 8e6, 2e7, 5e7]),
        grade=st.none() | st.sampled_from(list(GRADES)),
        value_degree=st.none() | st.floats(0, 100),
        growth=st.none() | st.floats(-0.5, 2),
        pool_status=st.sampled_from(["admitted", "graduated", None]),
        stage=st.none() | st.sampled_from(STAGES),
        text=st.lists(st.sampled_from(TERMS), min_size=1, max_size=5).map("、".join),
    ),
    min_size=1,
    max_size=12,
)
ranges_st = st.sampled_from([(None, None), (2e6, 2e7), (5e6, None), (None, 5e6), (8e6, 8e6)])
criteria_st = st.lists(
    st.builds(
        lambda kind, provinces, chains, rng, grade, stages, thesis, mandate: InstitutionCriteria(
            id=thesis + kind,
            name="x",
            kind=kind,
            provinces=provinces,
            chains=chains,
            amount_min=rng[0],
            amount_max=rng[1],
            min_grade=grade,
            stages=stages,
            thesis=thesis,
            region_mandate=mandate,
        ),
        kind=st.sampled_from(["bank", "vc_pe", "guidance_fund"]),
        provinces=st.frozensets(st.sampled_from(["广东", "福建", "安徽"]), max_size=2),
        chains=st.frozensets(st.sampled_from(["ic", "bio", "pv"]), max_size=2),
        rng=ranges_st,
        grade=st.none() | st.sampled_from(list(GRADES)),
        stages=st.frozensets(st.sampled_from(STAGES), max_size=3),
        thesis=st.lists(st.sampled_from(TERMS), min_size=1, max_size=4).map("、".join),
        mandate=st.frozensets(st.sampled_from(["广东", "福建"]), max_size=1),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    profiles=profiles_st,
    criteria=criteria_st,
    workers=st.sampled_from([1, 2]),
    block=st.sampled_from([1, 3, 64]),
    group=st.sampled_from([1, 2, 256]),  # 1-2: chain groups against their own institutions; 256: all pair by pair
)
def test_matrix_equals_pairwise_reference(profiles, criteria, workers, block, group):
    _, model, _, _, result = run(profiles, criteria, workers=workers, block_rows=block, min_group_rows=group)
    sims = (embed(model, [p.text for p in profiles]) @ embed(model, [c.thesis for c in criteria]).T).toarray()
    for e, p in enumerate(profiles):
        for i, c in enumerate(criteria):
            ok, score = reference(p, c, float(sims[e, i]), DEFAULT_FIT_POLICY)
            assert result.eligible[e, i] == ok, (p, c)
            if ok:
                assert result.scores[e, i] == pytest.approx(score, abs=1e-3)
                assert result.similarity[e, i] == pytest.approx(sims[e, i], abs=1e-6)
                assert 0.0 <= result.scores[e, i] <= 100.0
            else:
                assert result.scores[e, i] == -np.inf


@settings(max_examples=40, deadline=None)
@given(profiles=profiles_st, criteria=criteria_st, bump=st.floats(0, 50))
def test_higher_value_degree_never_lowers_a_score(profiles, criteria, bump):
    raised = [
        EnterpriseProfile(
            **{
                **{f: getattr(p, f) for f in p.__struct_fields__},
                "value_degree": min(100, (p.value_degree or 0) + bump),
            }
        )
        for p in profiles
    ]
    *_, before = run(profiles, criteria)
    *_, after = run(raised, criteria)
    finite = np.isfinite(before.scores)
    assert np.all(after.scores[finite] >= before.scores[finite] - 1e-4)


# --- top lists and reasons --------------------------------------------------------------------


def brute_top(scores, n):
    lists = []
    for i in range(scores.shape[1]):
        ranked = sorted(
            (e for e in range(scores.shape[0]) if np.isfinite(scores[e, i])), key=lambda e: (-scores[e, i], e)
        )
        lists.append(ranked[:n])
    return lists


@settings(max_examples=60, deadline=None)
@given(profiles=profiles_st, criteria=criteria_st, n=st.integers(1, 5))
def test_top_n_matches_a_full_sort(profiles, criteria, n):
    *_, result = run(profiles, criteria)
    top = top_n(result, n, block_cols=2)
    for i, expected in enumerate(brute_top(result.scores, n)):
        assert top.enterprise[i, : top.count[i]].tolist() == expected
        assert (top.enterprise[i, top.count[i] :] == -1).all()


def test_ties_at_the_cut_keep_lower_indices():
    scores = np.array([[5.0], [7.0], [5.0], [5.0], [-np.inf]], dtype=np.float32)
    from matching.fit import FitResult

    result = FitResult(
        scores=scores, eligible=np.isfinite(scores), similarity=np.zeros_like(scores), policy_version="t"
    )
    assert top_n(result, 3).enterprise[0].tolist() == [1, 0, 2]
    assert top_n(result, 8).count.tolist() == [4]


def test_reasons_name_the_chain_and_the_amount_in_both_languages():
    profiles = [ent("e1"), ent("e2", chains=frozenset({"bio"}), text=BIO)]
    criteria = [inst("b", chains=frozenset({"ic"}), amount_min=2e6, amount_max=2e7)]
    vocab, _, ents, insts, result = run(profiles, criteria)
    top = top_n(result, 10)
    assert top.enterprise[0].tolist()[:1] == [0] and top.count.tolist() == [1]
    zh = explain_top(ents, insts, result, top, vocab, DEFAULT_FIT_POLICY, "zh", chain_labels=CHAIN_LABELS)
    assert zh[0][0][0] == "同属集成电路产业链"
    assert "融资需求800万 在贵行200-2000万区间内" in zh[0][0]
    en = explain_top(ents, insts, result, top, vocab, DEFAULT_FIT_POLICY, "en", k=6, chain_labels=CHAIN_LABELS)
    assert en[0][0][0] == "in the integrated circuit chain you cover"
    assert "financing need CNY 8m within your CNY 2m-20m range" in en[0][0]
    assert "patent value degree 80/100" in en[0][0]


def test_reasons_skip_components_that_earned_nothing():
    profiles = [ent("e", value_degree=None, growth=None, pool_status=None, financing_need=None, stage=None)]
    vocab, _, ents, insts, result = run(profiles, [inst("b")])
    [reasons] = explain_pairs(
        ents, insts, result, np.array([0], np.int32), np.array([0], np.int32), vocab, DEFAULT_FIT_POLICY, k=7
    )
    assert len(reasons) == 1 and reasons[0].startswith("业务与专利贴合贵行关注方向")


def test_empty_sides_give_empty_results():
    *_, result = run([], [inst("b")])
    assert result.scores.shape == (0, 1) and top_n(result, 5).count.tolist() == [0]
    *_, result = run([ent("e")], [])
    assert result.scores.shape == (1, 0) and top_n(result, 5).enterprise.shape == (0, 5)


def test_blank_texts_do_not_break_the_text_model():
    *_, result = run([ent("e", text="")], [inst("b", thesis="")])
    assert result.similarity[0, 0] == 0.0 and np.isfinite(result.scores[0, 0])


def test_policy_rejects_meaningless_weights():
    from matching.fit_policy import FitWeights, TextSettings

    with pytest.raises(ValueError, match="weights"):
        FitWeights(text=0, amount=0, value=0, growth=0, pool=0, stage=0)
    with pytest.raises(ValueError, match="weights"):
        FitWeights(text=-1)
    with pytest.raises(ValueError, match="ngram"):
        TextSettings(ngram_min=3, ngram_max=2)


def test_zero_length_lists_and_empty_explanations():
    vocab, _, ents, insts, result = run([ent("e1"), ent("e2")], [inst("b")])
    assert top_n(result, 0).enterprise.shape == (1, 0)
    with pytest.raises(ValueError):
        top_n(result, -1)
    empty = np.array([], np.int32)
    assert explain_pairs(ents, insts, result, empty, empty, vocab, DEFAULT_FIT_POLICY) == []


def test_arrays_encoded_under_another_policy_version_are_refused():
    _, _, ents, insts, _ = run([ent("e")], [inst("b")])
    with pytest.raises(ValueError, match="policy version"):
        score_matrix(ents, insts, FitPolicy(version="2099.1"))


# --- the NumPy n-gram counter is scikit-learn's TF-IDF ----------------------------------------

texts_st = st.lists(
    st.text(
        alphabet=list("集成电路芯片晶圆抗体疫苗储能、。：；ABCab5G \t\nİΩ"),  # whitespace runs, İ lowers to 2 chars
        max_size=40,
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=80, deadline=None)
@given(
    texts=texts_st,
    analyzer=st.sampled_from(["char", "char_wb"]),
    ngrams=st.sampled_from([(1, 1), (1, 3), (2, 2), (2, 3), (3, 3)]),
    min_df=st.sampled_from([1, 2]),
    max_df=st.sampled_from([1.0, 0.5]),
)
def test_text_vectors_equal_scikit_learn_tfidf(texts, analyzer, ngrams, min_df, max_df):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matching.fit_policy import TextSettings
    from matching.text import fit_embed

    settings_ = TextSettings(
        analyzer=analyzer, ngram_min=ngrams[0], ngram_max=ngrams[1], min_df=min_df, max_df=max_df, max_df_min_corpus=1
    )
    model, vectors = fit_embed(texts, settings_)
    reference = TfidfVectorizer(
        analyzer=analyzer, ngram_range=ngrams, min_df=min_df, max_df=max_df, sublinear_tf=True, dtype=np.float32
    )
    try:
        expected = reference.fit_transform(texts)
    except ValueError:  # scikit-learn: empty vocabulary, or nothing left after pruning
        assert model.n_features == 0 and vectors.shape == (len(texts), 0)
        return
    terms = model.terms()
    assert terms == sorted(reference.vocabulary_)  # same n-grams, in the same (sorted) column order
    assert (vectors != expected).nnz == 0  # the same float32 values
    assert (embed(model, texts) != expected).nnz == 0
    assert (embed(model, texts[::-1]) != reference.transform(texts[::-1])).nnz == 0


def test_text_settings_limit_ngrams_to_three_characters():
    from matching.fit_policy import TextSettings

    with pytest.raises(ValueError, match="ngram_max <= 3"):
        TextSettings(ngram_max=4)


def test_without_chain_bit_masks_the_results_are_the_same():
    """More than 63 chains cannot be packed into bit masks: the gate and the reasons use the 0/1 matrices."""
    import dataclasses

    profiles = [
        ent("e1"),
        ent("e2", chains=frozenset({"bio", "ic"}), text=BIO),
        ent("e3", chains=frozenset()),
        ent("e4", chains=frozenset({"bio"}), text=BIO),
    ]
    criteria = [
        inst("b1", chains=frozenset({"ic"}), amount_min=2e6, amount_max=2e7),
        inst("b2", chains=frozenset({"bio"})),
        inst("b3"),
    ]
    vocab, _, ents, insts, packed = run(profiles, criteria, min_group_rows=1)
    plain_ents = dataclasses.replace(ents, chain_bits=None)
    plain_insts = dataclasses.replace(insts, chain_bits=None)
    plain = score_matrix(plain_ents, plain_insts, DEFAULT_FIT_POLICY)
    assert np.array_equal(plain.scores, packed.scores) and np.array_equal(plain.eligible, packed.eligible)
    top = top_n(packed, 5)
    args = (vocab, DEFAULT_FIT_POLICY, "zh", 7, CHAIN_LABELS)
    assert explain_top(plain_ents, plain_insts, plain, top, *args) == explain_top(ents, insts, packed, top, *args)
    assert explain_top(ents, insts, packed, top, *args)[1][0][0] == "同属生物医药产业链"
