-- valuation: coefficient sets, recorded transactions, assessments (append-only), batch runs and results,
-- and the forward-citation cohort distribution shared by the batch and single assessments.

-- Every coefficient set ever created; a set is never edited, a new version is created instead.
CREATE TABLE coefficient_sets (
    version     text PRIMARY KEY CHECK (version ~ '^[A-Za-z0-9._/+-]{1,64}$'),
    document    jsonb NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES organisations (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER coefficient_sets_append_only BEFORE UPDATE OR DELETE ON coefficient_sets
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Activations, newest wins: the active set is the version of the latest row (2024.1 when there is none).
CREATE TABLE coefficient_activations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version       text NOT NULL REFERENCES coefficient_sets (version),
    activated_by  uuid REFERENCES organisations (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER coefficient_activations_append_only BEFORE UPDATE OR DELETE ON coefficient_activations
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Priced transactions (pledges, transfers, licences) for the market approach.
CREATE TABLE market_transactions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind              text NOT NULL CHECK (kind IN ('pledge', 'transfer', 'licence')),
    chain_code        text NOT NULL,
    transaction_date  date NOT NULL,
    price             numeric(18, 2) NOT NULL CHECK (price > 0),
    revenue           numeric(18, 2) NOT NULL CHECK (revenue > 0),
    patent_number     text,
    indicator_scores  double precision[] NOT NULL CHECK (cardinality(indicator_scores) = 27),
    note              text NOT NULL DEFAULT '',
    created_by        uuid REFERENCES organisations (id),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX market_transactions_list_idx ON market_transactions (created_at, id);
CREATE INDEX market_transactions_chain_idx ON market_transactions (chain_code, transaction_date);

-- Pledge assessments (快评): immutable reports, one row each; a re-assessment is a new row.
CREATE TABLE assessments (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enterprise_id         uuid NOT NULL REFERENCES organisations (id),
    created_by_org        uuid NOT NULL REFERENCES organisations (id),
    created_by_key        uuid REFERENCES api_keys (id),
    as_of                 date NOT NULL,
    model_version         text NOT NULL,
    coefficient_version   text NOT NULL,
    patent_count          integer NOT NULL CHECK (patent_count BETWEEN 1 AND 200),
    requested_amount      numeric(18, 2) NOT NULL CHECK (requested_amount > 0),
    collateral_value      numeric(18, 2) NOT NULL CHECK (collateral_value >= 0),
    suggested_loan        numeric(18, 2) NOT NULL CHECK (suggested_loan >= 0 AND suggested_loan <= requested_amount),
    suggested_term_months integer NOT NULL CHECK (suggested_term_months >= 0),
    inputs                jsonb NOT NULL,
    report                jsonb NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessments_enterprise_idx ON assessments (enterprise_id, created_at, id);
CREATE TRIGGER assessments_append_only BEFORE UPDATE OR DELETE ON assessments
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Forward-citation counts per cohort (filing year x IPC section) over the whole database.
CREATE TABLE citation_cohorts (
    filing_year   integer NOT NULL,
    ipc_section   smallint NOT NULL CHECK (ipc_section BETWEEN 1 AND 8),
    citations     integer NOT NULL CHECK (citations >= 0),
    patents       integer NOT NULL CHECK (patents > 0),
    refreshed_at  timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (filing_year, ipc_section, citations)
);

-- Batch runs: the checkpoint (last owner key and patent number written) moves in the same transaction
-- as each chunk's rows, so a crash never leaves a half-written chunk and a resume has no gap.
CREATE TABLE valuation_runs (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_code           text,
    province_code        text,
    as_of                date NOT NULL,
    coefficient_version  text NOT NULL REFERENCES coefficient_sets (version),
    model_version        text NOT NULL,
    chunk_size           integer NOT NULL CHECK (chunk_size > 0),
    total                integer NOT NULL CHECK (total >= 0),
    done                 integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    chunks               integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
    checkpoint_owner     uuid,
    checkpoint_number    text,
    status               text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed')),
    started_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per patent and run, written by COPY; the primary key makes a duplicate impossible. No foreign key
-- on run_id: its per-row check would be most of the cost of a million-row COPY (only the batch writes here).
CREATE TABLE patent_valuations (
    run_id        bigint NOT NULL,
    number        text NOT NULL,
    value_degree  real NOT NULL,
    legal         real NOT NULL,
    technical     real NOT NULL,
    economic      real NOT NULL,
    grade         smallint NOT NULL CHECK (grade BETWEEN 0 AND 3),
    confidence    real NOT NULL,
    value_low     numeric(18, 2),
    value_base    numeric(18, 2),
    value_high    numeric(18, 2),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, number)
);
