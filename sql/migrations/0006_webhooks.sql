-- Webhooks: the transactional outbox, endpoints, messages (one per event x endpoint) and the
-- append-only log of delivery attempts (Standard Webhooks, MATCHING.md section 4).

-- One event for one receiving organisation, written in the producer's transaction; never changed.
CREATE TABLE outbox_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    event_type      text NOT NULL CHECK (event_type IN ('pool.enterprise.admitted', 'pool.enterprise.graduated',
                        'pool.enterprise.withdrawn', 'push_list.published', 'roadshow.agenda.published')),
    payload         jsonb NOT NULL,
    body            text NOT NULL,
    dedupe_key      text CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, dedupe_key)
);
CREATE INDEX outbox_events_org_idx ON outbox_events (organisation_id, created_at);
CREATE TRIGGER outbox_events_append_only BEFORE UPDATE OR DELETE ON outbox_events
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

CREATE TABLE webhook_endpoints (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id     uuid NOT NULL REFERENCES organisations (id),
    url                 text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description         text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types         text[] NOT NULL CHECK (cardinality(event_types) >= 1 AND event_types <@ ARRAY[
                            'pool.enterprise.admitted', 'pool.enterprise.graduated', 'pool.enterprise.withdrawn',
                            'push_list.published', 'roadshow.agenda.published']::text[]),
    -- Secrets are sealed (encrypted when IPLEDGE_SECRET_KEY is set); the previous one signs beside
    -- the current one until previous_expires_at (24 h after a rotation).
    secret_sealed       text NOT NULL,
    previous_sealed     text,
    previous_expires_at timestamptz,
    enabled             boolean NOT NULL DEFAULT true,
    disabled_reason     text,
    disabled_at         timestamptz,
    failing_since       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_sealed IS NULL) = (previous_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (organisation_id, created_at, id);

-- One (event, endpoint) pair; its id is the stable `webhook-id`. Mutable state; the history is in
-- webhook_attempts.
CREATE TABLE webhook_messages (
    id               text PRIMARY KEY DEFAULT 'msg_' || replace(gen_random_uuid()::text, '-', ''),
    event_id         uuid NOT NULL REFERENCES outbox_events (id),
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    event_type       text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- attempts in the current retry cycle (a replay or recovery starts a new cycle)
    cycle_attempts   integer NOT NULL DEFAULT 0 CHECK (cycle_attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    claimed_until    timestamptz,
    claim_token      uuid,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    failed_at        timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_messages_org_idx ON webhook_messages (organisation_id, created_at DESC, id DESC);
CREATE INDEX webhook_messages_endpoint_idx ON webhook_messages (endpoint_id, status);

-- Every attempt, as it happened; never updated or deleted.
CREATE TABLE webhook_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      text NOT NULL REFERENCES webhook_messages (id),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    attempt_no      integer NOT NULL CHECK (attempt_no >= 1),
    worker          text NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('success', 'retry', 'disable_endpoint')),
    response_code   integer,
    response_body   text NOT NULL DEFAULT '',
    error           text,
    latency_ms      integer NOT NULL CHECK (latency_ms >= 0),
    started_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_message_idx ON webhook_attempts (message_id, id);
CREATE TRIGGER webhook_attempts_append_only BEFORE UPDATE OR DELETE ON webhook_attempts
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();

-- Things an institution must be told (e.g. "your endpoint was disabled"); never changed.
CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    kind            text NOT NULL,
    subject_id      text NOT NULL,
    message_zh      text NOT NULL,
    message_en      text NOT NULL,
    detail          jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_org_idx ON notifications (organisation_id, id DESC);
CREATE TRIGGER notifications_append_only BEFORE UPDATE OR DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();
