-- Presence across servers: which running server holds an open event stream of which session,
-- and since when a session has had none. (SQLite has one server; the tables are the same as
-- PostgreSQL's so that presence is one code path.)

-- Every running server, from its start until it stops. A server that died without stopping
-- keeps its row until the maintenance leader finds it dead and removes it with its leases.
CREATE TABLE instances (
    -- Never reused, so a dead server's id never comes back to life.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at INTEGER NOT NULL -- unix milliseconds
) STRICT;

-- A lease: the server holds at least one open event stream of the session.
CREATE TABLE presence_leases (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, instance_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX presence_leases_instance_id ON presence_leases (instance_id);

-- When a session's stream last ended on some server. Only a session without any lease is
-- absent; it has departed once it has been absent for the grace period.
CREATE TABLE presence_absences (
    session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    since      INTEGER NOT NULL -- unix milliseconds
) STRICT;

-- The maintenance leader looks for departed sessions every second among those waiting or in a
-- call, a small part of all sessions.
CREATE INDEX sessions_present ON sessions (id) WHERE phase IN ('waiting', 'in_call');
