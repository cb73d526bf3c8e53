-- Webhooks, as Daily's: where Knock POSTs the lobby's and the call's events, and the durable
-- outbox of what each one is still owed. A delivery row is written in the same transaction as
-- the change it tells of, so a crash or a restart loses none.
CREATE TABLE webhooks (
    -- Insertion order: listings and fan-out go oldest first by seq, which never ties.
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid               TEXT NOT NULL UNIQUE,
    url                TEXT NOT NULL,
    event_types        TEXT NOT NULL DEFAULT '[]', -- JSON array of types; empty = every type
    hmac               TEXT NOT NULL,              -- base64 signing secret
    basic_auth         TEXT,
    retry_type         TEXT NOT NULL CHECK (retry_type IN ('circuit-breaker', 'exponential')),
    state              TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'FAILED')),
    failed_count       INTEGER NOT NULL DEFAULT 0, -- consecutive failed attempts
    last_moment_pushed INTEGER,                    -- unix milliseconds of the last delivery
    created_at         INTEGER NOT NULL,           -- unix milliseconds
    updated_at         INTEGER NOT NULL            -- unix milliseconds
) STRICT;

CREATE TABLE webhook_deliveries (
    -- Order of the events: per (webhook, room), the lowest pending seq goes first.
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_uuid    TEXT NOT NULL REFERENCES webhooks (uuid) ON DELETE CASCADE,
    event_id        TEXT NOT NULL, -- the body's `id`, the same for every webhook and retry
    event_type      TEXT NOT NULL,
    room            TEXT NOT NULL,
    body            TEXT NOT NULL, -- the JSON body
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, -- unix milliseconds
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    last_status     INTEGER,          -- the receiver's last HTTP status
    last_error      TEXT,             -- or why the last attempt got no answer
    created_at      INTEGER NOT NULL, -- unix milliseconds
    settled_at      INTEGER,          -- unix milliseconds: delivered, or given up
    UNIQUE (webhook_uuid, event_id)
) STRICT;

-- What is due, and the head of each (webhook, room) queue.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_uuid, room, seq)
    WHERE status = 'pending';
-- Pruning, and a webhook's last deliveries.
CREATE INDEX webhook_deliveries_settled ON webhook_deliveries (settled_at)
    WHERE status <> 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (webhook_uuid, seq);
