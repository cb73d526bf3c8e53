-- Rate limits (knocks per client and room, dashboard sign-ins per client), counted in the
-- database so they hold across every server on it. One row per limited key: `tat` is the key's
-- theoretical arrival time (GCRA), in unix milliseconds. A row whose tat has passed is fully
-- refilled, the same as no row, and is pruned. (SQLite: migrations/sqlite/0007.)
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL -- unix milliseconds
);

-- Pruning finds the refilled rows without scanning the table.
CREATE INDEX rate_limits_tat ON rate_limits (tat);
