-- The client (its limit key: an address, an IPv6 one as its /64) each knock came from, so the
-- knocks one client may have waiting in a room can be limited. NULL for knocks made before.
ALTER TABLE knocks ADD COLUMN client TEXT;

-- Counting a client's waiting knocks in a room reads this index only.
CREATE INDEX knocks_waiting_by_client ON knocks (room, client) WHERE status = 'waiting';
