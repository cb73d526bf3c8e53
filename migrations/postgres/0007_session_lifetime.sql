-- Sessions end: after at most a day (sooner when their token expires), and at once when the API
-- key changes. `key_id` names the key a session or sign-in was made under (a fingerprint, never
-- the key); rows from before this migration have none and keep their day.
ALTER TABLE sessions ADD COLUMN key_id TEXT;
ALTER TABLE sessions ADD COLUMN expires_at BIGINT; -- unix milliseconds
UPDATE sessions SET expires_at = created_at + 86400000;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

ALTER TABLE dashboard_sessions ADD COLUMN key_id TEXT;
CREATE INDEX dashboard_sessions_expires_at ON dashboard_sessions (expires_at);

-- A revocation matters only while its token could still be used: kept until the token's own
-- expiry (unix seconds; NULL for a token that never expires), then pruned.
ALTER TABLE token_revocations ADD COLUMN expires_at BIGINT;
CREATE INDEX token_revocations_expires_at ON token_revocations (expires_at);

-- Settled knocks are pruned a day after their decision.
CREATE INDEX knocks_settled_at ON knocks (decided_at) WHERE status <> 'waiting';

-- Opening a room page stores no session until the visitor joins or knocks, but its event
-- stream may already be open: a lease names a session that may not be stored yet.
ALTER TABLE presence_leases DROP CONSTRAINT presence_leases_session_id_fkey;
