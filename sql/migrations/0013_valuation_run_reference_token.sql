-- valuation: a batch run records the reference-data token (migration 0011) of the cohorts, sales and market
-- transactions it values with, so that a resume after a crash can tell whether they changed meanwhile: the rows
-- written before the crash used the old data, so such a run is not resumed (a new run is started instead).
-- NULL for runs started before this migration (resumed as before, and the token recorded then).
ALTER TABLE valuation_runs ADD COLUMN reference_token uuid;
