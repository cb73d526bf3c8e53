-- What each participant sends: camera and microphone on or off (shown to the others in the
-- call). Both start off at every join until the participant's browser says otherwise.
ALTER TABLE sessions ADD COLUMN video INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN audio INTEGER NOT NULL DEFAULT 0;
