//! The rules of the product, with no I/O: who gets in ([`access`]), what a meeting token says
//! ([`claims`]), how a session moves through the lobby ([`lobby`]), what a valid name is
//! ([`names`]) and what a visit holds before its visitor joins ([`visits`]). Services feed them
//! what they read from the repositories and carry out what they decide; each is table-tested on
//! its own.

pub mod access;
pub mod claims;
pub mod lobby;
pub mod names;
pub mod rooms;
pub mod visits;
