-- Participant sessions, knocks, bans and the event log that streams replay from.
CREATE TABLE sessions (
    -- Public participant id (shown to admins); the cookie holds a separate secret.
    id          TEXT PRIMARY KEY NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    room        TEXT NOT NULL,
    -- The verified token's claims (JSON), or NULL without a token.
    claims      TEXT,
    -- Revocation key of that token, so revoking it finds its sessions.
    token_key   TEXT,
    -- Why the token was refused (JSON TokenRejection), when it was.
    refusal     TEXT,
    phase       TEXT NOT NULL CHECK (phase IN ('prejoin', 'waiting', 'in_call', 'denied', 'left', 'ejected')),
    is_admin    INTEGER NOT NULL DEFAULT 0,
    is_owner    INTEGER NOT NULL DEFAULT 0,
    user_name   TEXT,
    user_id     TEXT,
    joined_at   INTEGER, -- unix milliseconds
    -- When the session must leave the call (room or token expiry, eject_after_elapsed).
    eject_at    INTEGER, -- unix seconds
    eject_type  TEXT,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_room_phase ON sessions (room, phase);
CREATE INDEX sessions_token_key ON sessions (token_key);
CREATE INDEX sessions_eject_at ON sessions (eject_at) WHERE phase = 'in_call';

CREATE TABLE knocks (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    room       TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('waiting', 'admitted', 'denied', 'cancelled')),
    knocked_at INTEGER NOT NULL, -- unix milliseconds
    decided_at INTEGER,
    decided_by TEXT
) STRICT;

CREATE INDEX knocks_room_status ON knocks (room, status);
-- A session knocks at most once at a time.
CREATE UNIQUE INDEX knocks_one_waiting ON knocks (session_id) WHERE status = 'waiting';

-- Ejected with `ban`: refused until the room is deleted.
CREATE TABLE bans (
    room  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('session', 'user')),
    value TEXT NOT NULL,
    PRIMARY KEY (room, kind, value)
) STRICT;

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room       TEXT NOT NULL,
    name       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL -- unix milliseconds
) STRICT;

CREATE INDEX events_created_at ON events (created_at);

-- Who an event is for, decided when it is written: the same for replay and live delivery.
CREATE TABLE event_recipients (
    session_id TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, event_id)
) STRICT, WITHOUT ROWID;
