-- Browser sessions of the staff console: the cookie carries a random id, only its SHA-256
-- is stored; each session has its own CSRF token for forms.
CREATE TABLE staff_sessions (
    id_hash         TEXT PRIMARY KEY,
    staff_id        UUID NOT NULL REFERENCES staff (id),
    csrf_token      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);
