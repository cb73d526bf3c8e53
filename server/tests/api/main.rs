//! Knock's HTTP and server-sent-event tests: one test binary, each test against its own real
//! server on port 0 with its own database (see `helpers`), one module per area.

mod assets;
mod clients;
mod daily_properties;
mod flood;
mod foundation;
mod hardening;
mod helpers;
mod instances;
mod instances_limits;
mod instances_presence;
mod lobby;
mod media;
mod meeting_tokens;
mod meetings;
mod pruning;
mod reliability;
mod rest_cache;
mod rest_errors;
mod restart;
mod rooms;
mod sfu;
mod visits;
mod webhooks;
