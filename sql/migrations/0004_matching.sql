-- matching: the cultivation pool, institution criteria, push runs and lists, schedules, feedback.

-- Per-province pool counters; the row is also the quota lock (SELECT ... FOR UPDATE).
CREATE TABLE pool_quotas (
    province_code       text PRIMARY KEY REFERENCES provinces (code),
    initial_admissions  integer NOT NULL DEFAULT 0 CHECK (initial_admissions >= 0),
    supplements         integer NOT NULL DEFAULT 0 CHECK (supplements >= 0),
    graduations         integer NOT NULL DEFAULT 0 CHECK (graduations >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- One application and its life in the pool; a new application after a final state is a new row.
CREATE TABLE pool_entries (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enterprise_id       uuid NOT NULL REFERENCES organisations (id),
    province_code       text NOT NULL REFERENCES provinces (code),
    state               text NOT NULL CHECK (state IN
                            ('applied', 'under_review', 'admitted', 'graduated', 'withdrawn', 'rejected')),
    admission_kind      text CHECK (admission_kind IN ('initial', 'supplement')),
    criteria            jsonb NOT NULL DEFAULT '[]',
    overrides           jsonb NOT NULL DEFAULT '[]',
    policy_version      text NOT NULL,
    rate_at_admission   numeric(5, 4),
    reason_code         text,
    applied_at          timestamptz NOT NULL DEFAULT now(),
    admitted_at         timestamptz,
    closed_at           timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pool_entries_open_idx ON pool_entries (enterprise_id)
    WHERE state IN ('applied', 'under_review', 'admitted');
CREATE INDEX pool_entries_state_idx ON pool_entries (state, province_code, created_at, id);
CREATE INDEX pool_entries_enterprise_idx ON pool_entries (enterprise_id, created_at DESC);

-- Every pool transition: who, when, why, the criteria results. Never updated.
CREATE TABLE pool_transitions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id        uuid NOT NULL REFERENCES pool_entries (id),
    enterprise_id   uuid NOT NULL REFERENCES organisations (id),
    from_state      text,
    to_state        text NOT NULL,
    actor_org       uuid,
    actor_key       uuid,
    reason          text NOT NULL DEFAULT '',
    reason_code     text,
    criteria        jsonb NOT NULL DEFAULT '[]',
    overrides       jsonb NOT NULL DEFAULT '[]',
    detail          jsonb NOT NULL DEFAULT '{}',
    request_id      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pool_transitions_entry_idx ON pool_transitions (entry_id, id);
CREATE TRIGGER pool_transitions_append_only BEFORE UPDATE OR DELETE ON pool_transitions
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Progress reports of admitted enterprises (growth figures are fractions). Never updated.
CREATE TABLE progress_reports (
    id                            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    entry_id                      uuid NOT NULL REFERENCES pool_entries (id),
    enterprise_id                 uuid NOT NULL REFERENCES organisations (id),
    reported_on                   date NOT NULL,
    industrialisation_rate        numeric(5, 4) CHECK (industrialisation_rate BETWEEN 0 AND 1),
    new_patent_intensive_products integer NOT NULL DEFAULT 0 CHECK (new_patent_intensive_products >= 0),
    product_sales_growth          double precision,
    product_profit_growth         double precision,
    note                          text NOT NULL DEFAULT '',
    actor_org                     uuid,
    actor_key                     uuid,
    created_at                    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX progress_reports_entry_idx ON progress_reports (entry_id, reported_on);
CREATE TRIGGER progress_reports_append_only BEFORE UPDATE OR DELETE ON progress_reports
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Criteria of a bank or fund; every registration is a new version, the highest is current.
CREATE TABLE institution_criteria (
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    version         integer NOT NULL CHECK (version >= 1),
    kind            text NOT NULL CHECK (kind IN ('bank', 'vc_pe', 'guidance_fund')),
    provinces       text[] NOT NULL DEFAULT '{}',
    chains          text[] NOT NULL DEFAULT '{}',
    amount_min      numeric(18, 2) CHECK (amount_min >= 0),
    amount_max      numeric(18, 2) CHECK (amount_max >= 0),
    min_grade       text CHECK (min_grade IN ('A', 'B', 'C', 'D')),
    products        text[] NOT NULL DEFAULT '{}',
    stages          text[] NOT NULL DEFAULT '{}',
    thesis          text NOT NULL DEFAULT '',
    region_mandate  text[] NOT NULL DEFAULT '{}',
    actor_key       uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, version),
    CHECK (amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max)
);
CREATE TRIGGER institution_criteria_append_only BEFORE UPDATE OR DELETE ON institution_criteria
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

CREATE TABLE push_schedules (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    every        text NOT NULL CHECK (every IN ('daily', 'weekly', 'monthly')),
    next_run_at  timestamptz NOT NULL,
    last_run_at  timestamptz,
    last_run_id  uuid,
    enabled      boolean NOT NULL DEFAULT true,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_schedules_due_idx ON push_schedules (next_run_at) WHERE enabled;

-- One push run (manual or scheduled), with the text model's manifest. Never updated.
CREATE TABLE push_runs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    trigger           text NOT NULL CHECK (trigger IN ('manual', 'scheduled', 'demo', 'cli')),
    schedule_id       uuid REFERENCES push_schedules (id),
    actor_org         uuid,
    actor_key         uuid,
    fit_policy        text NOT NULL,
    top_n             integer NOT NULL,
    text_model        jsonb NOT NULL DEFAULT '{}',
    enterprises       integer NOT NULL,
    institutions      integer NOT NULL,
    lists_published   integer NOT NULL,
    rows_published    integer NOT NULL,
    duration_ms       double precision NOT NULL,
    started_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_runs_created_idx ON push_runs (created_at DESC, id);
CREATE TRIGGER push_runs_append_only BEFORE UPDATE OR DELETE ON push_runs
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- A list published to one institution; sequence counts that institution's lists. Never updated.
CREATE TABLE push_lists (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id           uuid NOT NULL REFERENCES push_runs (id),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    sequence         integer NOT NULL CHECK (sequence >= 1),
    criteria_version integer,
    row_count        integer NOT NULL,
    new_count        integer NOT NULL,
    changed_count    integer NOT NULL,
    removed          uuid[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, sequence)
);
CREATE INDEX push_lists_run_idx ON push_lists (run_id);
CREATE TRIGGER push_lists_append_only BEFORE UPDATE OR DELETE ON push_lists
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

CREATE TABLE push_list_rows (
    list_id        uuid NOT NULL REFERENCES push_lists (id),
    rank           integer NOT NULL CHECK (rank >= 1),
    enterprise_id  uuid NOT NULL REFERENCES organisations (id),
    score          real NOT NULL,
    reasons_zh     text[] NOT NULL DEFAULT '{}',
    reasons_en     text[] NOT NULL DEFAULT '{}',
    reasons_hash   text NOT NULL,
    change         text NOT NULL CHECK (change IN ('new', 'changed', 'same')),
    PRIMARY KEY (list_id, rank),
    UNIQUE (list_id, enterprise_id)
);
CREATE TRIGGER push_list_rows_append_only BEFORE UPDATE OR DELETE ON push_list_rows
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Outcomes reported by banks and funds. Never updated.
CREATE TABLE feedback (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    enterprise_id    uuid NOT NULL REFERENCES organisations (id),
    outcome          text NOT NULL CHECK (outcome IN
                         ('contacted', 'declined', 'loan_granted', 'investment_intention', 'investment_made')),
    decline_reason   text,
    amount           numeric(18, 2) CHECK (amount >= 0),
    granted_on       date,
    term_months      integer CHECK (term_months BETWEEN 1 AND 600),
    rate             numeric(7, 6) CHECK (rate >= 0 AND rate < 1),
    note             text NOT NULL DEFAULT '',
    list_id          uuid REFERENCES push_lists (id),
    actor_key        uuid,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_org_idx ON feedback (organisation_id, created_at, id);
CREATE INDEX feedback_enterprise_idx ON feedback (enterprise_id);
CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Idempotency-Key bookkeeping: the first request's hash and its answer, per organisation and key.
CREATE TABLE idempotency_keys (
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    key              text NOT NULL,
    request_hash     text NOT NULL,
    status_code      integer,
    response         jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, key)
);
