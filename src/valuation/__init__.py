"""Valuation core (pure): a simplified GB/T 42748-2023 patent valuation for pledge loans.

No I/O here: Structs and NumPy arrays in, Structs and arrays out. Every policy number comes from
a versioned coefficient set (:func:`valuation.coefficients.default_coefficients`, or an
operator's JSON through :func:`valuation.coefficients.load_coefficients`). Bad input raises
:class:`valuation.errors.ValuationInputError` with the field named (the shell answers 422).

Entry points:

- Value degree: ``degree.value_degrees(PatentBatch, coeffs) -> ValueDegrees`` (vectorised);
  ``degree.value_degree_one(PatentFacts, as_of) -> ValueDegree`` (explained).
- Whole valuation: ``pipeline.value_batch(batch, as_of, ...) -> BatchValuation``;
  ``pipeline.value_patent(PatentFacts, as_of, ...) -> PatentValuation``.
- Calculators (public contract of VALUATION.md §4): ``income.income_value(IncomeRequest)``,
  ``cost.cost_value(CostRequest)``.
- Market approach: ``market.market_values`` / ``market.market_value_one`` over ``Transactions``.
- Pledge 快评: ``pledge.assess_pledge(PledgeRequest) -> PledgeAssessment``.

Build a batch with ``batch.batch_from_facts([PatentFacts, ...], as_of)`` or fill
``batch.empty_batch(n)`` column by column (COPY rows). See docs/valuation-model.md.
"""
