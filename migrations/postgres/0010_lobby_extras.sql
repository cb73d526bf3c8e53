-- The lobby beyond Daily: a knock may carry a note for the hosts, and "Deny and block" keeps
-- the knocker out of the room: their session (a ban of kind `blocked`, told "You can't ask to
-- join this call again.") and their address (kind `client`, the limit key of the address).
ALTER TABLE knocks ADD COLUMN note TEXT;

ALTER TABLE bans DROP CONSTRAINT bans_kind_check;
ALTER TABLE bans ADD CONSTRAINT bans_kind_check CHECK (kind IN ('session', 'user', 'client', 'blocked'));
