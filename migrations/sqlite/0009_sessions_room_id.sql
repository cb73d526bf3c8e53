-- The id of the room a session was opened in: a room deleted and created again under the same
-- name is another room, and the old room's sessions are not its.
ALTER TABLE sessions ADD COLUMN room_id TEXT;
UPDATE sessions SET room_id = (SELECT id FROM rooms WHERE rooms.name = sessions.room);
