-- The last message a host sent to a waiting knock, so a guest who reloads the waiting page
-- still sees it.
ALTER TABLE knocks ADD COLUMN message TEXT;
ALTER TABLE knocks ADD COLUMN message_from TEXT;
