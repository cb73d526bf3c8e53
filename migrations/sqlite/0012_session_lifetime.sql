-- Sessions end: after at most a day (sooner when their token expires), and at once when the API
-- key changes. `key_id` names the key a session or sign-in was made under (a fingerprint, never
-- the key); rows from before this migration have none and keep their day.
ALTER TABLE sessions ADD COLUMN key_id TEXT;
ALTER TABLE sessions ADD COLUMN expires_at INTEGER; -- unix milliseconds
UPDATE sessions SET expires_at = created_at + 86400000;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

ALTER TABLE dashboard_sessions ADD COLUMN key_id TEXT;
CREATE INDEX dashboard_sessions_expires_at ON dashboard_sessions (expires_at);

-- A revocation matters only while its token could still be used: kept until the token's own
-- expiry (unix seconds; NULL for a token that never expires), then pruned.
ALTER TABLE token_revocations ADD COLUMN expires_at INTEGER;
CREATE INDEX token_revocations_expires_at ON token_revocations (expires_at);

-- Settled knocks are pruned a day after their decision.
CREATE INDEX knocks_settled_at ON knocks (decided_at) WHERE status <> 'waiting';

-- Opening a room page stores no session until the visitor joins or knocks, but its event
-- stream may already be open: a lease names a session that may not be stored yet.
CREATE TABLE presence_leases_new (
    session_id  TEXT NOT NULL,
    instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, instance_id)
) STRICT, WITHOUT ROWID;
INSERT INTO presence_leases_new (session_id, instance_id)
    SELECT session_id, instance_id FROM presence_leases;
DROP TABLE presence_leases;
ALTER TABLE presence_leases_new RENAME TO presence_leases;
CREATE INDEX presence_leases_instance_id ON presence_leases (instance_id);
