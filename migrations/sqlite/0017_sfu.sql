-- The SFU (Janus) behind rooms too large for a mesh, kept in the database so that any server
-- can relay a participant's signaling and remove them: each room's SFU room (its id there, and
-- the pin and secret browsers never see), and each participant's SFU session and handle.
CREATE TABLE sfu_rooms (
    room           TEXT PRIMARY KEY,
    -- The SFU's id of the room, as JSON (Janus uses strings or numbers, as it is configured).
    sfu_room       TEXT NOT NULL,
    pin            TEXT NOT NULL,
    secret         TEXT NOT NULL,
    max_publishers INTEGER NOT NULL,
    -- Whether the SFU room exists (it is created after this row wins the race to be the
    -- room's binding).
    created        INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL -- unix milliseconds
);

CREATE TABLE sfu_participants (
    -- The Knock session in the call.
    session_id  TEXT PRIMARY KEY,
    room        TEXT NOT NULL,
    -- Its Janus session and the VideoRoom handle it publishes on.
    sfu_session INTEGER NOT NULL,
    sfu_handle  INTEGER NOT NULL,
    -- Whether it has joined the SFU room as a publisher (its first offer was relayed).
    published   INTEGER NOT NULL DEFAULT 0,
    -- Its id among the SFU room's participants (JSON), once the SFU said it.
    feed        TEXT,
    -- The session's `joined_at`: the stay in the call this place belongs to (a session that
    -- left and came back gets a new place).
    joined_at   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL -- unix milliseconds
);
CREATE INDEX sfu_participants_room ON sfu_participants (room);
