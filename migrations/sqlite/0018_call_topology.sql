-- How each call's media flows, as its participants were last told (`network-connection`):
-- `peer` (the mesh) or `sfu`. A call without a row has been told nothing and is a mesh; the
-- version grows with each change, so a client can tell a newer word from an older one.
CREATE TABLE call_topologies (
    room     TEXT PRIMARY KEY,
    topology TEXT NOT NULL,
    version  INTEGER NOT NULL
);
