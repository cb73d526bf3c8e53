-- Rate limits (knocks per client and room, dashboard sign-ins per client), counted here rather
-- than in one server's memory. One row per limited key: `tat` is the key's theoretical arrival
-- time (GCRA), in unix milliseconds. A row whose tat has passed is fully refilled, the same as
-- no row, and is pruned.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    tat INTEGER NOT NULL -- unix milliseconds
);

-- Pruning finds the refilled rows without scanning the table.
CREATE INDEX rate_limits_tat ON rate_limits (tat);
