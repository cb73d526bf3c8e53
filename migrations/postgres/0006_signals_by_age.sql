-- Signaling is pruned after minutes, every minute: without this index each pruning batch scanned
-- the whole log for events named 'signal' older than the cut-off.
CREATE INDEX events_name_created_at ON events (name, created_at);
