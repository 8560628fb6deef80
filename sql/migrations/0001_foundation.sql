-- Foundation: provinces, the chain catalogue, organisations, API keys, enterprises, patents, audit.

CREATE FUNCTION forbid_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TABLE provinces (
    code        text PRIMARY KEY CHECK (code ~ '^[1-6][0-9]$'),
    name_zh     text NOT NULL UNIQUE,
    name_en     text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chains (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,31}$'),
    name_zh       text NOT NULL UNIQUE,
    name_en       text NOT NULL,
    ipc_prefixes  text[] NOT NULL DEFAULT '{}',
    keywords      text[] NOT NULL DEFAULT '{}',
    patent_intensive boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organisations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text NOT NULL CHECK (kind IN ('operator', 'enterprise', 'bank', 'fund')),
    name          text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
    credit_code   char(18) NOT NULL UNIQUE,
    province_code text NOT NULL REFERENCES provinces (code),
    city          text,
    contact_name  text,
    contact_phone text,
    contact_email text,
    status        text NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'suspended')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisations_kind_idx ON organisations (kind, created_at, id);
CREATE INDEX organisations_list_idx ON organisations (created_at, id);

CREATE TABLE api_keys (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    role            text NOT NULL CHECK (role IN ('operator', 'enterprise', 'bank', 'fund')),
    prefix          text NOT NULL,
    key_hash        bytea NOT NULL UNIQUE,
    label           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (organisation_id);

CREATE TABLE enterprises (
    organisation_id           uuid PRIMARY KEY REFERENCES organisations (id),
    version                   integer NOT NULL DEFAULT 1,
    size_class                text CHECK (size_class IN ('micro', 'small', 'medium', 'large')),
    independent_legal_person  boolean,
    certifications            text[] NOT NULL DEFAULT '{}',
    chain_code                text REFERENCES chains (code),
    business_scope            text NOT NULL DEFAULT '',
    revenue                   numeric(18, 2) CHECK (revenue >= 0),
    profit                    numeric(18, 2),
    rd_spend                  numeric(18, 2) CHECK (rd_spend >= 0),
    employees                 integer CHECK (employees >= 0),
    rd_staff                  integer CHECK (rd_staff >= 0),
    university_partnership    boolean,
    patent_industrialisation_rate numeric(5, 4) CHECK (patent_industrialisation_rate BETWEEN 0 AND 1),
    patent_intensive_industry boolean,
    patent_product_filed      boolean,
    patent_intensive_products integer CHECK (patent_intensive_products >= 0),
    has_trademark             boolean,
    has_ip_management         boolean,
    violation_flags           text[] NOT NULL DEFAULT '{}',
    financing_need            numeric(18, 2) CHECK (financing_need >= 0),
    consent_share             boolean NOT NULL DEFAULT false,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    created_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (rd_staff IS NULL OR employees IS NULL OR rd_staff <= employees)
);
CREATE INDEX enterprises_chain_idx ON enterprises (chain_code);

-- Every version of an enterprise profile, including the first; never updated.
CREATE TABLE enterprise_versions (
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    version         integer NOT NULL,
    profile         jsonb NOT NULL,
    changed_by      uuid REFERENCES api_keys (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, version)
);
CREATE TRIGGER enterprise_versions_append_only BEFORE UPDATE OR DELETE ON enterprise_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

CREATE TABLE patents (
    number              text PRIMARY KEY CHECK (number ~ '^[0-9]{12}\.[0-9X]$'),
    patent_type         text NOT NULL CHECK (patent_type IN
                            ('invention', 'utility_model', 'design', 'pct_invention', 'pct_utility_model')),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    abstract            text NOT NULL DEFAULT '',
    owner_id            uuid REFERENCES organisations (id),
    owner_name          text NOT NULL,
    filing_date         date NOT NULL,
    grant_date          date,
    expiry_date         date NOT NULL,
    legal_status        text NOT NULL CHECK (legal_status IN
                            ('pending', 'granted', 'lapsed', 'invalidated', 'expired', 'withdrawn', 'rejected')),
    fees_paid           boolean NOT NULL DEFAULT true,
    claims_total        integer NOT NULL DEFAULT 0 CHECK (claims_total BETWEEN 0 AND 1000),
    claims_independent  integer NOT NULL DEFAULT 0 CHECK (claims_independent BETWEEN 0 AND 1000),
    claim_types         text NOT NULL DEFAULT 'unknown' CHECK (claim_types IN
                            ('product_and_method', 'product', 'method', 'design', 'unknown')),
    first_claim         text NOT NULL DEFAULT '',
    ipc_codes           text[] NOT NULL DEFAULT '{}',
    family_offices      text[] NOT NULL DEFAULT '{}',
    forward_citations   integer NOT NULL DEFAULT 0 CHECK (forward_citations >= 0),
    backward_citations  integer NOT NULL DEFAULT 0 CHECK (backward_citations >= 0),
    chain_codes         text[] NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (claims_independent <= claims_total),
    CHECK (grant_date IS NULL OR grant_date >= filing_date)
);
CREATE INDEX patents_owner_idx ON patents (owner_id, number);
CREATE INDEX patents_type_idx ON patents (patent_type, number);
CREATE INDEX patents_chain_idx ON patents USING gin (chain_codes);

CREATE TABLE patent_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number      text NOT NULL REFERENCES patents (number),
    kind        text NOT NULL CHECK (kind IN ('pledge', 'pledge_release', 'licence', 'transfer',
                    'invalidation_request', 'invalidation_upheld', 'invalidation_partial', 'invalidation_rejected',
                    'litigation_filed', 'litigation_won', 'litigation_lost', 'ownership_dispute', 'insurance')),
    event_date  date NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patent_events_number_idx ON patent_events (number, event_date);

-- Who did what, when and why; never updated or deleted.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_org     uuid,
    actor_key     uuid,
    action        text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    detail        jsonb NOT NULL DEFAULT '{}',
    request_id    text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();
