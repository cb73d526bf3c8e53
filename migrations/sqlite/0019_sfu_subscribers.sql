-- A participant on the SFU also receives the others' media: a second VideoRoom handle in its SFU
-- session, subscribed to everyone else's feed (attached by Knock once there is someone to
-- receive). `connection` is the browser connection its publication belongs to: an offer from
-- another one (a reloaded page, a page back from a mesh) gets a new place on the SFU.
ALTER TABLE sfu_participants ADD COLUMN sfu_subscriber INTEGER;
ALTER TABLE sfu_participants ADD COLUMN connection TEXT;
