-- Dashboard sign-ins: the cookie holds a secret whose hash is kept here.
CREATE TABLE dashboard_sessions (
    secret_hash TEXT PRIMARY KEY NOT NULL,
    created_at  INTEGER NOT NULL, -- unix seconds
    expires_at  INTEGER NOT NULL  -- unix seconds
) STRICT;
