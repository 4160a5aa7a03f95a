-- guanjia's system of record. Redis holds only what can be rebuilt from these tables.

-- A resident is one account on one channel (a WeChat openid, a webhook user id).
CREATE TABLE residents (
    id              UUID PRIMARY KEY,
    channel         TEXT NOT NULL,            -- 'wechat:<account>' | 'webhook:<channel>'
    external_id     TEXT NOT NULL,
    display_name    TEXT,
    phone           TEXT,
    building        TEXT,                     -- the unit on record, remembered once given
    unit            TEXT,
    room            TEXT,
    locale          TEXT NOT NULL DEFAULT 'zh-Hans',
    subscribed      BOOLEAN NOT NULL DEFAULT TRUE,
    -- WeChat allows customer-service messages for 48 h after the resident's last message,
    -- and only a few per message: both are tracked here.
    last_inbound_at TIMESTAMPTZ,
    sent_since_inbound INT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel, external_id)
);

-- Every message a resident sends, stored before it is acknowledged. The unique key makes
-- the platform's retries land on the same row.
CREATE TABLE inbound_messages (
    id              UUID PRIMARY KEY,
    channel         TEXT NOT NULL,
    dedup_key       TEXT NOT NULL,
    resident_id     UUID NOT NULL REFERENCES residents (id),
    msg_type        TEXT NOT NULL,
    content         TEXT,
    payload         JSONB NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    processed_at    TIMESTAMPTZ,
    reply           TEXT,
    -- Set when the reply budget ran out and the resident was answered `success`: the reply
    -- then goes through the outbox.
    reply_deferred  BOOLEAN NOT NULL DEFAULT FALSE,
    attempts        INT NOT NULL DEFAULT 0,
    UNIQUE (channel, dedup_key)
);
CREATE INDEX inbound_messages_unprocessed ON inbound_messages (received_at) WHERE processed_at IS NULL;
CREATE INDEX inbound_messages_resident ON inbound_messages (resident_id, received_at);

CREATE TABLE staff (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    department      TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('worker', 'concierge', 'supervisor', 'manager')),
    buildings       TEXT[] NOT NULL DEFAULT '{}',
    token_hash      TEXT NOT NULL UNIQUE,     -- sha256 of the bearer token; the token is shown once
    wecom_user      TEXT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per-day, per-kind counters behind human-friendly numbers like R2611220001.
CREATE TABLE ticket_sequences (
    day             DATE NOT NULL,
    letter          TEXT NOT NULL,
    last_value      INT NOT NULL,
    PRIMARY KEY (day, letter)
);

CREATE TABLE tickets (
    id              UUID PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    resident_id     UUID NOT NULL REFERENCES residents (id),
    kind            TEXT NOT NULL,
    category        TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    department      TEXT NOT NULL,
    status          TEXT NOT NULL,
    severity        SMALLINT NOT NULL DEFAULT 4 CHECK (severity BETWEEN 1 AND 4),
    important       BOOLEAN NOT NULL DEFAULT FALSE,  -- repeated after closure (重要投诉)
    summary         TEXT NOT NULL,
    description     TEXT NOT NULL,
    building        TEXT,
    unit            TEXT,
    room            TEXT,
    location        TEXT,
    contact_phone   TEXT,
    preferred_time  TEXT,
    locale          TEXT NOT NULL DEFAULT 'zh-Hans',
    assignee        UUID REFERENCES staff (id),
    group_id        UUID,                     -- links group and hot (3+ residents) complaints
    -- The message that created it: a repeated delivery can never make a second ticket.
    source_message_id UUID UNIQUE REFERENCES inbound_messages (id),
    reopen_count    INT NOT NULL DEFAULT 0,
    escalation_level SMALLINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    respond_due_at  TIMESTAMPTZ,
    due_at          TIMESTAMPTZ,
    claimed_at      TIMESTAMPTZ,
    lease_expires_at TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    resolved_at     TIMESTAMPTZ,
    closed_at       TIMESTAMPTZ,
    satisfaction    SMALLINT CHECK (satisfaction BETWEEN 1 AND 5),
    satisfied_on_spot BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX tickets_open_by_department ON tickets (department, status) WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX tickets_resident ON tickets (resident_id, created_at);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_complaints ON tickets (category, created_at) WHERE kind = 'complaint';

-- The ticket's whole life, one row per change (一户一档).
CREATE TABLE ticket_events (
    id              BIGSERIAL PRIMARY KEY,
    ticket_id       UUID NOT NULL REFERENCES tickets (id),
    at              TIMESTAMPTZ NOT NULL,
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('resident', 'staff', 'system')),
    actor_id        UUID,
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    note            TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE ticket_attachments (
    id              UUID PRIMARY KEY,
    ticket_id       UUID NOT NULL REFERENCES tickets (id),
    kind            TEXT NOT NULL,
    url             TEXT,
    media_id        TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id);

-- Messages to residents and staff, written in the transaction that causes them and
-- delivered by a worker with retries (the outbox).
CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    recipient_kind  TEXT NOT NULL CHECK (recipient_kind IN ('resident', 'staff')),
    resident_id     UUID REFERENCES residents (id),
    staff_id        UUID REFERENCES staff (id),
    ticket_id       UUID REFERENCES tickets (id),
    kind            TEXT NOT NULL,            -- status | survey | reply | alert
    text            TEXT NOT NULL,
    dedup_key       TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_ticket ON outbox (ticket_id);

-- Timers are rows, not sleeps: a restart loses none, and one scheduler fires each once.
CREATE TABLE timers (
    id              UUID PRIMARY KEY,
    kind            TEXT NOT NULL,
    ticket_id       UUID REFERENCES tickets (id),
    due_at          TIMESTAMPTZ NOT NULL,
    fired_at        TIMESTAMPTZ,
    cancelled_at    TIMESTAMPTZ,
    payload         JSONB NOT NULL DEFAULT '{}',
    dedup_key       TEXT UNIQUE
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;

-- The revisit (回访) of a resolved ticket.
CREATE TABLE surveys (
    id              UUID PRIMARY KEY,
    ticket_id       UUID NOT NULL REFERENCES tickets (id),
    round           INT NOT NULL DEFAULT 1,   -- a reopened ticket is surveyed again
    asked_at        TIMESTAMPTZ,
    reminded_at     TIMESTAMPTZ,
    manual_task_at  TIMESTAMPTZ,
    answered_at     TIMESTAMPTZ,
    rating          SMALLINT CHECK (rating BETWEEN 1 AND 5),
    answer_text     TEXT,
    answered_by     TEXT,                     -- resident | staff (manual revisit)
    UNIQUE (ticket_id, round)
);

-- A resident talking with their concierge instead of the bot.
CREATE TABLE handoffs (
    id              UUID PRIMARY KEY,
    resident_id     UUID NOT NULL REFERENCES residents (id),
    building        TEXT,
    staff_id        UUID REFERENCES staff (id),
    started_at      TIMESTAMPTZ NOT NULL,
    last_activity_at TIMESTAMPTZ NOT NULL,
    ended_at        TIMESTAMPTZ
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (resident_id) WHERE ended_at IS NULL;

-- An unfinished request, kept after the dialogue session idles out so the resident can be
-- reminded of it.
CREATE TABLE drafts (
    resident_id     UUID PRIMARY KEY REFERENCES residents (id),
    payload         JSONB NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
