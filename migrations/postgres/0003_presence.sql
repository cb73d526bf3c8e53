-- Presence across servers: which running server holds an open event stream of which session,
-- and since when a session has had none (the same tables as SQLite's 0008).

-- Every running server, from its start until it stops. A live server holds the advisory lock
-- (server lock space, id) on a connection of its own, taken in the transaction that inserts
-- the row, so a row whose lock nobody holds is a dead server's: the maintenance leader removes
-- it with its leases. The lock key is a 32-bit integer, hence the bound.
CREATE TABLE instances (
    -- Never reused, so a dead server's id never comes back to life.
    id         BIGINT GENERATED ALWAYS AS IDENTITY (MAXVALUE 2147483647) PRIMARY KEY,
    started_at BIGINT NOT NULL -- unix milliseconds
);

-- A lease: the server holds at least one open event stream of the session.
CREATE TABLE presence_leases (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    instance_id BIGINT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, instance_id)
);

CREATE INDEX presence_leases_instance_id ON presence_leases (instance_id);

-- When a session's stream last ended on some server. Only a session without any lease is
-- absent; it has departed once it has been absent for the grace period.
CREATE TABLE presence_absences (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    since      BIGINT NOT NULL -- unix milliseconds
);

-- The maintenance leader looks for departed sessions every second among those waiting or in a
-- call, a small part of all sessions.
CREATE INDEX sessions_present ON sessions (id) WHERE phase IN ('waiting', 'in_call');
