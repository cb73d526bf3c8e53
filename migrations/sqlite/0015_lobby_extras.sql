-- The lobby beyond Daily: a knock may carry a note for the hosts, and "Deny and block" keeps
-- the knocker out of the room: their session (a ban of kind `blocked`, told "You can't ask to
-- join this call again.") and their address (kind `client`, the limit key of the address).
ALTER TABLE knocks ADD COLUMN note TEXT;

CREATE TABLE bans_new (
    room  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('session', 'user', 'client', 'blocked')),
    value TEXT NOT NULL,
    PRIMARY KEY (room, kind, value)
) STRICT;
INSERT INTO bans_new (room, kind, value) SELECT room, kind, value FROM bans;
DROP TABLE bans;
ALTER TABLE bans_new RENAME TO bans;
