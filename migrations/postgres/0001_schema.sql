-- The whole schema for PostgreSQL, the same tables and meaning as the SQLite migrations
-- 0001 to 0006 (see migrations/sqlite for the history of each column).

-- Deployment-wide values: the generated API key (when KNOCK_API_KEY is unset) and the domain id.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE rooms (
    -- Insertion order: listings are newest first by seq, which never ties.
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL UNIQUE,
    privacy    TEXT NOT NULL CHECK (privacy IN ('public', 'private')),
    -- RoomProperties as JSON, every value in effect (the cast rejects anything but JSON).
    properties TEXT NOT NULL CHECK (properties::jsonb IS NOT NULL),
    -- Copied out of properties so listings can skip expired rooms with an index.
    exp        BIGINT,
    created_at BIGINT NOT NULL -- unix milliseconds
);

CREATE INDEX rooms_exp ON rooms (exp);

CREATE TABLE meeting_tokens (
    jti        TEXT PRIMARY KEY,
    -- TokenProperties as JSON (Daily's long names).
    properties TEXT NOT NULL CHECK (properties::jsonb IS NOT NULL),
    created_at BIGINT NOT NULL -- unix milliseconds
);

CREATE TABLE token_revocations (
    -- The token's jti, or the SHA-256 of the whole token when it has none (self-signed).
    token_key  TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL -- unix milliseconds
);

-- Participant sessions, knocks, bans and the event log that streams replay from.
CREATE TABLE sessions (
    -- Public participant id (shown to admins); the cookie holds a separate secret.
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    room        TEXT NOT NULL,
    -- The verified token's claims (JSON), or NULL without a token.
    claims      TEXT,
    -- Revocation key of that token, so revoking it finds its sessions.
    token_key   TEXT,
    -- Why the token was refused (JSON TokenRejection), when it was.
    refusal     TEXT,
    phase       TEXT NOT NULL CHECK (phase IN ('prejoin', 'waiting', 'in_call', 'denied', 'left', 'ejected')),
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    is_owner    BOOLEAN NOT NULL DEFAULT FALSE,
    user_name   TEXT,
    user_id     TEXT,
    joined_at   BIGINT, -- unix milliseconds
    -- When the session must leave the call (room or token expiry, eject_after_elapsed).
    eject_at    BIGINT, -- unix seconds
    eject_type  TEXT,
    created_at  BIGINT NOT NULL,
    -- What the participant sends: camera and microphone, off at every join until the browser
    -- says otherwise.
    video       BOOLEAN NOT NULL DEFAULT FALSE,
    audio       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX sessions_room_phase ON sessions (room, phase);
CREATE INDEX sessions_token_key ON sessions (token_key);
CREATE INDEX sessions_eject_at ON sessions (eject_at) WHERE phase = 'in_call';

CREATE TABLE knocks (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    room       TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('waiting', 'admitted', 'denied', 'cancelled')),
    knocked_at BIGINT NOT NULL, -- unix milliseconds
    decided_at BIGINT,
    decided_by TEXT
);

CREATE INDEX knocks_room_status ON knocks (room, status);
-- A session knocks at most once at a time.
CREATE UNIQUE INDEX knocks_one_waiting ON knocks (session_id) WHERE status = 'waiting';

-- Ejected with `ban`: refused until the room is deleted.
CREATE TABLE bans (
    room  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('session', 'user')),
    value TEXT NOT NULL,
    PRIMARY KEY (room, kind, value)
);

-- The log streams replay from. Ids increase in commit order within a room: every write to a
-- room holds that room's advisory lock until it commits (see the `db` module).
CREATE TABLE events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room       TEXT NOT NULL,
    name       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL -- unix milliseconds
);

CREATE INDEX events_created_at ON events (created_at);
-- A server reads a room's new events when it hears of a commit.
CREATE INDEX events_room_id ON events (room, id);

-- Who an event is for, decided when it is written: the same for replay and live delivery.
CREATE TABLE event_recipients (
    session_id TEXT NOT NULL,
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, event_id)
);

CREATE INDEX event_recipients_event_id ON event_recipients (event_id);

-- Dashboard sign-ins: the cookie holds a secret whose hash is kept here.
CREATE TABLE dashboard_sessions (
    secret_hash TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL, -- unix seconds
    expires_at  BIGINT NOT NULL  -- unix seconds
);
