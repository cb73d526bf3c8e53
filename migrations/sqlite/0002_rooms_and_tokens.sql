-- Rooms, the meeting tokens this server issued, and revoked tokens.
CREATE TABLE rooms (
    -- Insertion order: listings are newest first by seq, which never ties.
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL UNIQUE,
    privacy    TEXT NOT NULL CHECK (privacy IN ('public', 'private')),
    -- RoomProperties as JSON, every value in effect.
    properties TEXT NOT NULL CHECK (json_valid(properties)),
    -- Copied out of properties so listings can skip expired rooms with an index.
    exp        INTEGER,
    created_at INTEGER NOT NULL -- unix milliseconds
) STRICT;

CREATE INDEX rooms_exp ON rooms (exp);

CREATE TABLE meeting_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    -- TokenProperties as JSON (Daily's long names).
    properties TEXT NOT NULL CHECK (json_valid(properties)),
    created_at INTEGER NOT NULL -- unix milliseconds
) STRICT;

CREATE TABLE token_revocations (
    -- The token's jti, or the SHA-256 of the whole token when it has none (self-signed).
    token_key  TEXT PRIMARY KEY NOT NULL,
    revoked_at INTEGER NOT NULL -- unix milliseconds
) STRICT;
