-- Deleting an event cascades to its recipients; the primary key is led by session_id, so
-- without this index every deleted event scanned the whole recipient table while holding the
-- write lock (pruning a day's log then stalled every knock past the busy timeout).
CREATE INDEX event_recipients_event_id ON event_recipients (event_id);
