from hypothesis import given
from hypothesis import strategies as st

from matching.idempotency import canonical_body, idempotency_outcome, request_hash
from matching.push import PushedRow, apply_diff, diff_push, reasons_hash


def test_same_json_in_another_layout_replays_other_body_conflicts():
    first = request_hash("POST", "/api/v1/feedback", b'{"status": "contacted", "amount": 5}', "key-1")
    same = request_hash("post", "/api/v1/feedback", b'{"amount":5,"status":"contacted"}', "key-1")
    other = request_hash("POST", "/api/v1/feedback", b'{"amount":6,"status":"contacted"}', "key-1")
    assert idempotency_outcome(None, first) == "new"
    assert idempotency_outcome(first, same) == "replay"
    assert idempotency_outcome(first, other) == "conflict"
    assert request_hash("POST", "/api/v1/feedback", b'{"amount":5}', "key-2") != request_hash(
        "POST", "/api/v1/feedback", b'{"amount":5}', "key-1"
    )
    assert canonical_body(b"not json {") == b"not json {"


def test_part_boundaries_are_unambiguous():
    assert request_hash("POST", "/a", b"bc") != request_hash("POST", "/ab", b"c")


def rows_strategy():
    ids = st.lists(st.sampled_from([f"e{i}" for i in range(12)]), unique=True, max_size=12)
    return ids.flatmap(
        lambda es: st.lists(
            st.tuples(st.integers(0, 1000), st.sampled_from(["a", "b", "c"])), min_size=len(es), max_size=len(es)
        ).map(
            lambda vals: [
                PushedRow(enterprise_id=e, rank=i + 1, score=s / 10, reasons_hash=reasons_hash([r]))
                for i, (e, (s, r)) in enumerate(zip(es, vals, strict=True))
            ]
        )
    )


@given(previous=rows_strategy(), current=rows_strategy())
def test_diff_is_idempotent_and_applies_to_the_new_list(previous, current):
    diff = diff_push(previous, current)
    assert apply_diff(previous, diff) == {r.enterprise_id: r for r in current}
    assert diff_push(current, current).is_empty
    assert diff_push(apply_diff(previous, diff), current).is_empty
    assert set(diff.removed) == {r.enterprise_id for r in previous} - {r.enterprise_id for r in current}


def test_float_noise_below_display_precision_is_not_a_change():
    h = reasons_hash(["同属集成电路产业链"])
    old = [PushedRow(enterprise_id="e1", rank=1, score=81.24, reasons_hash=h)]
    assert diff_push(old, [PushedRow(enterprise_id="e1", rank=1, score=81.2400001, reasons_hash=h)]).is_empty
    changed = diff_push(old, [PushedRow(enterprise_id="e1", rank=1, score=81.24, reasons_hash=reasons_hash(["x"]))])
    assert [r.enterprise_id for r in changed.changed] == ["e1"]
    assert diff_push([], old).new == old and diff_push(old, []).removed == ["e1"]


def test_reasons_hash_depends_on_order_and_boundaries():
    assert reasons_hash(["ab", "c"]) != reasons_hash(["a", "bc"])
    assert reasons_hash(["a", "b"]) != reasons_hash(["b", "a"])
