-- roadshow: the yearly calendar, "一月一链" events, invitations, investor sign-ups and preferences,
-- meetings (pairing, schedule, publication, outcome) and the append-only log of schedule runs.

CREATE TABLE roadshow_calendar (
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    month       integer NOT NULL CHECK (month BETWEEN 1 AND 12),
    chain_code  text NOT NULL REFERENCES chains (code),
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (year, month)
);

CREATE TABLE roadshow_events (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            text NOT NULL CHECK (length(title) BETWEEN 2 AND 200),
    chain_code       text NOT NULL REFERENCES chains (code),
    event_date       date NOT NULL,
    city             text,
    online           boolean NOT NULL DEFAULT false,
    venue            text NOT NULL DEFAULT '',
    pitch_start      time NOT NULL,
    pitch_count      integer NOT NULL CHECK (pitch_count BETWEEN 1 AND 500),
    pitch_minutes    integer NOT NULL CHECK (pitch_minutes BETWEEN 1 AND 120),
    morning_start    time,
    morning_slots    integer NOT NULL DEFAULT 0 CHECK (morning_slots BETWEEN 0 AND 48),
    afternoon_start  time,
    afternoon_slots  integer NOT NULL DEFAULT 0 CHECK (afternoon_slots BETWEEN 0 AND 48),
    slot_minutes     integer NOT NULL CHECK (slot_minutes IN (15, 20, 30)),
    tables           integer NOT NULL CHECK (tables BETWEEN 1 AND 1000),
    floor_k          integer NOT NULL DEFAULT 3 CHECK (floor_k BETWEEN 0 AND 48),
    fairness         integer CHECK (fairness BETWEEN 0 AND 96),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN
                         ('draft', 'open', 'closed', 'paired', 'scheduled', 'published', 'completed')),
    published_version integer NOT NULL DEFAULT 0,
    created_by       uuid REFERENCES organisations (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (morning_slots + afternoon_slots BETWEEN 1 AND 96),
    CHECK ((morning_slots = 0) = (morning_start IS NULL)),
    CHECK ((afternoon_slots = 0) = (afternoon_start IS NULL)),
    CHECK (online OR city IS NOT NULL)
);
CREATE INDEX roadshow_events_list_idx ON roadshow_events (event_date, id);

CREATE TABLE roadshow_invitations (
    event_id          uuid NOT NULL REFERENCES roadshow_events (id),
    enterprise_id     uuid NOT NULL REFERENCES organisations (id),
    readiness         numeric(6, 4) NOT NULL,
    readiness_rank    integer NOT NULL,
    status            text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'accepted', 'declined')),
    max_meetings      integer CHECK (max_meetings BETWEEN 0 AND 96),
    unavailable       integer[] NOT NULL DEFAULT '{}',
    investor_ranking  uuid[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, enterprise_id)
);
CREATE INDEX roadshow_invitations_enterprise_idx ON roadshow_invitations (enterprise_id);

-- An investor sign-up: one person or team of a fund or bank; an institution may send several.
CREATE TABLE roadshow_signups (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid NOT NULL REFERENCES roadshow_events (id),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    label            text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    max_meetings     integer NOT NULL CHECK (max_meetings BETWEEN 0 AND 96),
    unavailable      integer[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, organisation_id, label)
);
CREATE INDEX roadshow_signups_org_idx ON roadshow_signups (organisation_id, event_id);

CREATE TABLE roadshow_preferences (
    signup_id      uuid NOT NULL REFERENCES roadshow_signups (id) ON DELETE CASCADE,
    enterprise_id  uuid NOT NULL REFERENCES organisations (id),
    wish           text NOT NULL CHECK (wish IN ('must_meet', 'meet', 'no_thanks')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (signup_id, enterprise_id)
);

CREATE TABLE roadshow_meetings (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid NOT NULL REFERENCES roadshow_events (id),
    enterprise_id    uuid NOT NULL REFERENCES organisations (id),
    signup_id        uuid NOT NULL REFERENCES roadshow_signups (id),
    source           text NOT NULL CHECK (source IN ('pairing', 'operator')),
    score            numeric(10, 4) NOT NULL DEFAULT 0,
    fit              numeric(6, 2),
    session          text NOT NULL DEFAULT 'any' CHECK (session IN ('am', 'pm', 'any')),
    slot             integer CHECK (slot BETWEEN 1 AND 96),
    table_no         integer CHECK (table_no >= 1),
    locked           boolean NOT NULL DEFAULT false,
    published_slot   integer,
    published_table  integer,
    attended         boolean,
    intention        text CHECK (intention IN ('none', 'follow_up', 'due_diligence', 'term_sheet', 'invested')),
    amount           numeric(18, 2) CHECK (amount >= 0),
    outcome_note     text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, enterprise_id, signup_id),
    CHECK (NOT locked OR slot IS NOT NULL)
);
CREATE INDEX roadshow_meetings_signup_idx ON roadshow_meetings (signup_id);
CREATE INDEX roadshow_meetings_enterprise_idx ON roadshow_meetings (enterprise_id, event_id);

-- Every pairing and schedule run with its figures; never updated or deleted.
CREATE TABLE roadshow_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid NOT NULL REFERENCES roadshow_events (id),
    kind           text NOT NULL CHECK (kind IN ('pairing', 'schedule', 'publish')),
    status         text NOT NULL,
    figures        jsonb NOT NULL DEFAULT '{}',
    actor_org      uuid,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX roadshow_runs_event_idx ON roadshow_runs (event_id, id);
CREATE TRIGGER roadshow_runs_append_only BEFORE UPDATE OR DELETE ON roadshow_runs
    FOR EACH ROW EXECUTE FUNCTION forbid_mutation();
