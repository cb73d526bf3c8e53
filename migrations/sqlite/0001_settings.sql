-- Deployment-wide values: the generated API key (when KNOCK_API_KEY is unset) and the domain id.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
