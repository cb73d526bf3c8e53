//! Abuse limits (PRODUCT.md §7): knocks and renames per client and room, dashboard sign-ins
//! and wrong API keys per client. A client is its address as [`super::client::key`] gives it
//! (an IPv6 one by its /64).
//!
//! They are counted in the database (`db::limits`, one statement per check), so every server on
//! one database draws on the same allowance: a client gets one burst, not one per server. The
//! time of a check comes from the caller; servers sharing a database need clocks kept in step
//! (NTP), as a server whose clock runs ahead lets a client act that much sooner.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use super::db::{self, Db, Handle, limits as repo};

/// Knocks a client may make on one room in a burst.
pub const KNOCK_BURST: u32 = 10;
/// After the burst, one more knock every this many seconds.
pub const KNOCK_REFILL_SECONDS: u64 = 6;
/// The most knocks from one client that may wait in one room at once: enough for a few people
/// behind one NAT, too few for one person to fill a lobby.
pub const WAITING_KNOCKS_PER_CLIENT: i64 = 5;
/// Renames of a waiting knock a client may make in one room in a burst.
pub const RENAME_BURST: u32 = 10;
/// After the burst, one more rename every this many seconds.
pub const RENAME_REFILL_SECONDS: u64 = 6;
/// Requests with a wrong API key a client may make on `/v1` in a burst.
pub const WRONG_API_KEY_BURST: u32 = 10;
/// After the burst, one more wrong key every this many seconds.
pub const WRONG_API_KEY_REFILL_SECONDS: u64 = 60;
/// The most event streams one session may have open on one server (tabs of one room).
pub const MAX_STREAMS_PER_SESSION: usize = 10;
/// The most event streams one client may have open on one server: room for a household or an
/// office behind one address, not for one machine holding thousands of connections.
pub const MAX_STREAMS_PER_CLIENT: usize = 100;

/// Messages to the lobby an admin may send in a burst.
pub const MESSAGE_BURST: u32 = 10;
/// After the burst, one more message every this many seconds.
pub const MESSAGE_REFILL_SECONDS: u64 = 3;

/// Dashboard sign-in attempts a client may make in a burst.
pub const SIGN_IN_BURST: u32 = 5;
/// After the burst, one more sign-in attempt every this many seconds.
pub const SIGN_IN_REFILL_SECONDS: u64 = 12;

/// Something limited, and whom it limits. A client is its [`super::client::key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit<'a> {
    /// Knocks by `client` on `room`: [`KNOCK_BURST`] at once, then one every
    /// [`KNOCK_REFILL_SECONDS`].
    Knock {
        /// The knocker's address.
        client: &'a str,
        /// The room knocked on.
        room: &'a str,
    },
    /// Renames of a waiting knock by `client` in `room`: [`RENAME_BURST`] at once, then one
    /// every [`RENAME_REFILL_SECONDS`].
    Rename {
        /// The knocker's address.
        client: &'a str,
        /// The room waited in.
        room: &'a str,
    },
    /// Dashboard sign-in attempts by `client`: [`SIGN_IN_BURST`] at once, then one every
    /// [`SIGN_IN_REFILL_SECONDS`].
    SignIn {
        /// The address signing in.
        client: &'a str,
    },
    /// Messages to the lobby by the admin session `session`: [`MESSAGE_BURST`] at once, then
    /// one every [`MESSAGE_REFILL_SECONDS`].
    Message {
        /// The admin's session id.
        session: &'a str,
    },
    /// `/v1` requests with a wrong API key from `client`: [`WRONG_API_KEY_BURST`] at once,
    /// then one every [`WRONG_API_KEY_REFILL_SECONDS`]. Only failures are counted.
    WrongApiKey {
        /// The address the wrong keys come from.
        client: &'a str,
    },
}

impl Limit<'_> {
    /// How many actions may come at once.
    pub fn burst(self) -> u32 {
        match self {
            Self::Knock { .. } => KNOCK_BURST,
            Self::Rename { .. } => RENAME_BURST,
            Self::SignIn { .. } => SIGN_IN_BURST,
            Self::Message { .. } => MESSAGE_BURST,
            Self::WrongApiKey { .. } => WRONG_API_KEY_BURST,
        }
    }

    /// How long, after the burst, until one more action is allowed.
    pub fn refill(self) -> Duration {
        Duration::from_secs(match self {
            Self::Knock { .. } => KNOCK_REFILL_SECONDS,
            Self::Rename { .. } => RENAME_REFILL_SECONDS,
            Self::SignIn { .. } => SIGN_IN_REFILL_SECONDS,
            Self::Message { .. } => MESSAGE_REFILL_SECONDS,
            Self::WrongApiKey { .. } => WRONG_API_KEY_REFILL_SECONDS,
        })
    }

    /// The key the allowance is stored under. Room names are `[A-Za-z0-9_-]{1,128}` and a
    /// client is an IP address, so keys are short, and the first `:` after the room ends it
    /// even when the client (IPv6) holds colons.
    fn key(self) -> String {
        match self {
            Self::Knock { client, room } => format!("knock:{room}:{client}"),
            Self::Rename { client, room } => format!("rename:{room}:{client}"),
            Self::SignIn { client } => format!("sign-in:{client}"),
            Self::Message { session } => format!("message:{session}"),
            Self::WrongApiKey { client } => format!("api-key:{client}"),
        }
    }
}

/// Whether `limit` allows one more action at `now` (unix milliseconds); counts it if so. A
/// refused action changes nothing. Runs on the pool or inside a transaction (`db`), so the
/// count commits or rolls back with the action it allows.
pub async fn allow(db: impl Handle<'_>, limit: Limit<'_>, now: i64) -> Result<bool, db::Error> {
    let interval = i64::try_from(limit.refill().as_millis()).unwrap_or(i64::MAX);
    repo::take(db, &limit.key(), now, interval, i64::from(limit.burst())).await
}

/// Deletes the allowances that have fully refilled by `now` (unix milliseconds), which count
/// the same as none, in batches ([`Db::prune_in_batches`]); how many in all.
pub async fn prune(db: &Db, now: i64) -> Result<u64, db::Error> {
    db.prune_in_batches(|tx, batch| Box::pin(repo::prune(tx, now, batch)))
        .await
}

/// The event streams open on this server, per session and per client. It holds one entry per
/// session and client with a stream open, and none once they are all closed: it is as large as
/// the streams it counts.
#[derive(Debug, Default)]
pub struct OpenStreams {
    counts: Mutex<HashMap<StreamKey, usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum StreamKey {
    Session(String),
    Client(String),
}

/// One open stream's place, given back when dropped.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Arc<OpenStreams>,
    keys: [StreamKey; 2],
}

impl OpenStreams {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<StreamKey, usize>> {
        self.counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A place for one more stream of `session_id` from `client`, or why there is none (429):
    /// [`MAX_STREAMS_PER_SESSION`] and [`MAX_STREAMS_PER_CLIENT`].
    pub fn take(
        self: &Arc<Self>,
        session_id: &str,
        client: &str,
    ) -> Result<StreamSlot, crate::error::AppError> {
        let keys = [
            StreamKey::Session(session_id.to_owned()),
            StreamKey::Client(client.to_owned()),
        ];
        let mut counts = self.counts();
        let open = |key: &StreamKey| counts.get(key).copied().unwrap_or(0);
        if open(&keys[0]) >= MAX_STREAMS_PER_SESSION {
            return Err(crate::error::AppError::RateLimited(format!(
                "this session already has {MAX_STREAMS_PER_SESSION} event streams open; close \
                 one (another tab of this room) before opening more"
            )));
        }
        if open(&keys[1]) >= MAX_STREAMS_PER_CLIENT {
            return Err(crate::error::AppError::RateLimited(format!(
                "{MAX_STREAMS_PER_CLIENT} event streams are already open from your address; \
                 close some tabs before opening more"
            )));
        }
        for key in &keys {
            *counts.entry(key.clone()).or_default() += 1;
        }
        drop(counts);
        Ok(StreamSlot {
            streams: Arc::clone(self),
            keys,
        })
    }

    /// How many sessions and clients have streams open (what the counts hold).
    pub fn entries(&self) -> usize {
        self.counts().len()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = self.streams.counts();
        for key in &self.keys {
            if let Some(count) = counts.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new SQLite database in its own directory (dropped with the directory).
    async fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("limits.db").display());
        let db = Db::connect(&url).await.expect("open the database");
        (dir, db)
    }

    const NOW: i64 = 1_764_324_000_000;
    const KNOCK_MILLIS: i64 = 6_000;

    fn knock<'a>(client: &'a str, room: &'a str) -> Limit<'a> {
        Limit::Knock { client, room }
    }

    async fn allowed(db: &Db, limit: Limit<'_>, now: i64) -> bool {
        allow(db, limit, now).await.expect("check the limit")
    }

    #[tokio::test]
    async fn a_burst_of_knocks_then_one_more_every_refill_interval() {
        let (_dir, db) = database().await;
        let ben = knock("1.2.3.4", "standup");
        for n in 0..KNOCK_BURST {
            assert!(allowed(&db, ben, NOW).await, "knock {n} of the burst");
        }
        assert!(!allowed(&db, ben, NOW).await, "over the burst");
        assert!(
            !allowed(&db, ben, NOW + KNOCK_MILLIS - 1).await,
            "not refilled yet"
        );
        assert!(allowed(&db, ben, NOW + KNOCK_MILLIS).await, "one refilled");
        assert!(!allowed(&db, ben, NOW + KNOCK_MILLIS).await, "only one");
        // After a long pause the whole burst is back, and no more.
        let later = NOW + 3_600_000;
        for n in 0..KNOCK_BURST {
            assert!(
                allowed(&db, ben, later).await,
                "knock {n} of the next burst"
            );
        }
        assert!(!allowed(&db, ben, later).await, "over the next burst");
    }

    #[tokio::test]
    async fn other_clients_rooms_and_limits_are_counted_apart() {
        let (_dir, db) = database().await;
        for _ in 0..KNOCK_BURST {
            assert!(allowed(&db, knock("2001:db8::1", "standup"), NOW).await);
        }
        assert!(!allowed(&db, knock("2001:db8::1", "standup"), NOW).await);
        assert!(
            allowed(&db, knock("2001:db8::1", "retro"), NOW).await,
            "room"
        );
        assert!(
            allowed(&db, knock("2001:db8::2", "standup"), NOW).await,
            "client"
        );
        let sign_in = Limit::SignIn {
            client: "2001:db8::1",
        };
        for n in 0..SIGN_IN_BURST {
            assert!(allowed(&db, sign_in, NOW).await, "sign-in {n}");
        }
        assert!(!allowed(&db, sign_in, NOW).await, "over the sign-in burst");
        assert!(
            !allowed(&db, sign_in, NOW + 11_999).await,
            "12 s per sign-in"
        );
        assert!(
            allowed(&db, sign_in, NOW + 12_000).await,
            "12 s per sign-in"
        );
        assert!(allowed(&db, knock("2001:db8::1", "other"), NOW).await);
    }

    #[tokio::test]
    async fn renames_and_wrong_api_keys_have_allowances_of_their_own() {
        let (_dir, db) = database().await;
        let client = "2001:db8:1:2::/64";
        let rename = Limit::Rename {
            client,
            room: "standup",
        };
        for n in 0..RENAME_BURST {
            assert!(allowed(&db, rename, NOW).await, "rename {n} of the burst");
        }
        assert!(!allowed(&db, rename, NOW).await, "over the rename burst");
        assert!(!allowed(&db, rename, NOW + 5_999).await, "6 s per rename");
        assert!(allowed(&db, rename, NOW + 6_000).await, "6 s per rename");
        // Spent renames leave knocks in the room, and renames in another room, alone.
        assert!(allowed(&db, knock(client, "standup"), NOW).await);
        assert!(
            allowed(
                &db,
                Limit::Rename {
                    client,
                    room: "retro"
                },
                NOW
            )
            .await
        );

        let wrong_key = Limit::WrongApiKey { client };
        for n in 0..WRONG_API_KEY_BURST {
            assert!(allowed(&db, wrong_key, NOW).await, "wrong key {n}");
        }
        assert!(!allowed(&db, wrong_key, NOW).await, "over the burst");
        assert!(
            !allowed(&db, wrong_key, NOW + 59_999).await,
            "a minute per wrong key"
        );
        assert!(
            allowed(&db, wrong_key, NOW + 60_000).await,
            "a minute per wrong key"
        );
        assert!(allowed(&db, Limit::SignIn { client }, NOW).await);
    }

    #[tokio::test]
    async fn a_refused_check_changes_nothing() {
        let (_dir, db) = database().await;
        let ben = knock("1.2.3.4", "standup");
        let key = ben.key();
        for _ in 0..KNOCK_BURST {
            assert!(allowed(&db, ben, NOW).await);
        }
        let full = repo::tat(&db, &key).await.expect("read");
        assert_eq!(full, Some(NOW + i64::from(KNOCK_BURST) * KNOCK_MILLIS));
        for step in 0..20 {
            assert!(!allowed(&db, ben, NOW + step * 100).await, "refused");
        }
        assert_eq!(repo::tat(&db, &key).await.expect("read"), full);
        // Had the refusals counted, this one would be refused too.
        assert!(allowed(&db, ben, NOW + KNOCK_MILLIS).await);
    }

    #[tokio::test]
    async fn a_check_inside_a_transaction_counts_only_if_it_commits() {
        let (_dir, db) = database().await;
        let ben = knock("1.2.3.4", "standup");
        let mut tx = db.write().await.expect("begin");
        assert!(allow(&mut tx, ben, NOW).await.expect("check"));
        drop(tx);
        assert_eq!(repo::tat(&db, &ben.key()).await.expect("read"), None);
        let mut tx = db.write().await.expect("begin");
        assert!(allow(&mut tx, ben, NOW).await.expect("check"));
        tx.commit().await.expect("commit");
        assert_eq!(
            repo::tat(&db, &ben.key()).await.expect("read"),
            Some(NOW + KNOCK_MILLIS)
        );
    }

    #[tokio::test]
    async fn pruning_deletes_only_fully_refilled_allowances_in_batches() {
        let (_dir, db) = database().await;
        let ben = knock("1.2.3.4", "standup");
        for _ in 0..KNOCK_BURST {
            assert!(allowed(&db, ben, NOW).await);
        }
        let refilled = NOW + i64::from(KNOCK_BURST) * KNOCK_MILLIS;
        // Many spent keys, more than one batch.
        let clients: Vec<String> = (0..1_200)
            .map(|n| format!("10.0.{}.{}", n / 256, n % 256))
            .collect();
        for client in &clients {
            assert!(allowed(&db, knock(client, "standup"), NOW - 60_000).await);
        }

        assert_eq!(prune(&db, refilled - 1).await.expect("prune"), 1_200);
        assert_eq!(
            repo::tat(&db, &knock(&clients[0], "standup").key())
                .await
                .expect("read"),
            None
        );
        assert_eq!(
            repo::tat(&db, &ben.key()).await.expect("read"),
            Some(refilled),
            "Ben's allowance has not fully refilled, so it is kept"
        );
        assert_eq!(prune(&db, refilled).await.expect("prune"), 1);
        assert_eq!(repo::tat(&db, &ben.key()).await.expect("read"), None);
        for _ in 0..KNOCK_BURST {
            assert!(allowed(&db, ben, refilled).await, "a whole burst again");
        }
        assert!(!allowed(&db, ben, refilled).await);
    }

    #[tokio::test]
    async fn a_database_error_is_an_error_not_an_allowance() {
        let (_dir, db) = database().await;
        db.close().await;
        let answer = allow(&db, knock("1.2.3.4", "standup"), NOW).await;
        assert!(answer.is_err(), "{answer:?}");
    }

    #[test]
    fn streams_are_capped_per_session_and_per_client_and_forgotten_when_closed() {
        let streams = Arc::new(OpenStreams::default());
        let mut held: Vec<StreamSlot> = (0..MAX_STREAMS_PER_SESSION)
            .map(|_| streams.take("s1", "198.51.100.7").expect("a place"))
            .collect();
        assert!(streams.take("s1", "198.51.100.7").is_err());
        // Another session from the same address still gets one, up to the client's cap.
        for n in MAX_STREAMS_PER_SESSION..MAX_STREAMS_PER_CLIENT {
            held.push(
                streams
                    .take(&format!("s{n}"), "198.51.100.7")
                    .expect("a place"),
            );
        }
        assert!(streams.take("fresh", "198.51.100.7").is_err());
        assert!(streams.take("fresh", "203.0.113.9").is_ok());
        held.truncate(1);
        assert!(streams.take("fresh", "198.51.100.7").is_ok());
        held.clear();
        assert_eq!(streams.entries(), 0);
    }
}
