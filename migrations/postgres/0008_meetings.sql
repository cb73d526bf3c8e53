-- Meetings, as Daily's meeting analytics: a meeting starts when the first participant enters a
-- room's empty call and ends when the last one leaves. With each, who was in it and Knock's
-- lobby record: who knocked meanwhile, how it ended and who decided.
CREATE TABLE meetings (
    -- Insertion order: listings are newest first by seq, which never ties.
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    room             TEXT NOT NULL,
    start_time       BIGINT NOT NULL, -- unix milliseconds
    end_time         BIGINT,          -- unix milliseconds; NULL while it goes on
    max_participants BIGINT NOT NULL DEFAULT 0
);

-- At most one meeting of a room goes on at a time.
CREATE UNIQUE INDEX meetings_ongoing ON meetings (room) WHERE end_time IS NULL;
CREATE INDEX meetings_room ON meetings (room, seq);
CREATE INDEX meetings_end_time ON meetings (end_time);

CREATE TABLE meeting_participants (
    meeting_id     TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL, -- the session id
    user_id        TEXT,
    user_name      TEXT NOT NULL,
    join_time      BIGINT NOT NULL, -- unix milliseconds
    leave_time     BIGINT,          -- unix milliseconds; NULL while in the call
    PRIMARY KEY (meeting_id, participant_id, join_time)
);

CREATE TABLE meeting_knocks (
    meeting_id     TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL, -- the knocker's session id
    user_name      TEXT NOT NULL,
    knocked_at     BIGINT NOT NULL, -- unix milliseconds
    outcome        TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied', 'withdrawn')),
    decided_by     TEXT,
    decided_at     BIGINT NOT NULL, -- unix milliseconds
    PRIMARY KEY (meeting_id, participant_id, knocked_at)
);
