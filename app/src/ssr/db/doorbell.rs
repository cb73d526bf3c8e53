//! PostgreSQL's `LISTEN`/`NOTIFY` as a doorbell between servers: after a transaction that
//! logged events commits, its server rings with the room and the highest event id; every
//! server hears it and reads the log. The notification carries no event (a payload is capped
//! at 8,000 bytes), and one may be lost (a listener reconnecting misses what was sent
//! meanwhile), so a [`Ring::Missed`] tells the listener to read every room it follows.
//!
//! A room change is acknowledged: each listener, once it has forgotten the room, rings
//! [`Ring::Forgot`] from its own connection, so the server that changed the room can wait until
//! every listener of the database ([`listeners`], by backend process id) has forgotten it.

use std::collections::HashSet;

use sqlx::{
    PgPool,
    postgres::{PgListener, PgPoolOptions},
};

use super::Error;

/// The notification channel.
const CHANNEL: &str = "knock_events";

/// What the doorbell says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ring {
    /// Events up to `id` were committed in `room`.
    Room {
        /// The room's name.
        room: String,
        /// The highest id committed.
        id: i64,
    },
    /// The room `room` changed or was deleted.
    RoomChanged {
        /// The room's name.
        room: String,
        /// Chosen by the server that rang, to recognise its own ring.
        nonce: u64,
    },
    /// The listener whose connection has the backend process id `by` has forgotten the room
    /// of the room-change ring `nonce`.
    Forgot {
        /// The room-change ring's nonce.
        nonce: u64,
        /// The backend process id of the listener's connection.
        by: u32,
    },
    /// The connection was lost and listens again: rings may have been missed meanwhile.
    Missed,
}

/// The prefix of a room-change ring (an event ring starts with a number).
const ROOM_CHANGED: &str = "changed ";

/// The prefix of a listener's acknowledgement of a room-change ring.
const FORGOT: &str = "forgot ";

/// How a listener's connection is named (`application_name`), before the server's process id.
const LISTENER_NAME: &str = "knock-listener-";

/// The backend process ids of every listener on this database now (this server's included):
/// those that must acknowledge a room-change ring rung after this.
pub async fn listeners(pool: &PgPool) -> Result<HashSet<u32>, Error> {
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND starts_with(application_name, $1)",
    )
    .bind(LISTENER_NAME)
    .fetch_all(pool)
    .await?;
    Ok(pids
        .into_iter()
        .filter_map(|pid| pid.try_into().ok())
        .collect())
}

/// Rings the doorbell for `room` (after the commit, never inside the transaction: a `NOTIFY`
/// there would serialize every commit of the cluster).
pub async fn ring(pool: &PgPool, room: &str, id: i64) -> Result<(), Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(format!("{id} {room}"))
        .execute(pool)
        .await
        .map(|_| ())
}

/// Rings the doorbell to say the room `room` changed (after the commit).
pub async fn ring_room_changed(pool: &PgPool, room: &str, nonce: u64) -> Result<(), Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(format!("{ROOM_CHANGED}{nonce} {room}"))
        .execute(pool)
        .await
        .map(|_| ())
}

/// A server's ear on the doorbell: one connection of its own, named
/// `knock-listener-<process id>` in `pg_stat_activity` (where [`listeners`] finds it).
pub struct Doorbell {
    listener: PgListener,
}

impl Doorbell {
    /// Connects (beside `pool`, with the same server and credentials) and listens.
    pub async fn listen(pool: &PgPool) -> Result<Self, Error> {
        let options = pool
            .connect_options()
            .as_ref()
            .clone()
            .application_name(&format!("{LISTENER_NAME}{}", std::process::id()));
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self { listener })
    }

    /// Says, from this listener's own connection, that it has forgotten the room of the
    /// room-change ring `nonce` (call it after forgetting).
    pub async fn forgot(&mut self, nonce: u64) -> Result<(), Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{FORGOT}{nonce}"))
            .execute(&mut self.listener)
            .await
            .map(|_| ())
    }

    /// The next ring. After an error the caller listens anew (and reads every room it follows).
    pub async fn next(&mut self) -> Result<Ring, Error> {
        loop {
            // A lost connection is listened to again before this returns (sqlx's eager
            // reconnect), so whatever the caller forgets on a miss is not missed again.
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Ring::Missed);
            };
            if let Some(nonce) = notification.payload().strip_prefix(FORGOT)
                && let Ok(nonce) = nonce.parse()
            {
                return Ok(Ring::Forgot {
                    nonce,
                    by: notification.process_id(),
                });
            }
            if let Some(changed) = notification.payload().strip_prefix(ROOM_CHANGED)
                && let Some((nonce, room)) = changed.split_once(' ')
                && let Ok(nonce) = nonce.parse()
            {
                return Ok(Ring::RoomChanged {
                    room: room.to_owned(),
                    nonce,
                });
            }
            if let Some((id, room)) = notification.payload().split_once(' ')
                && let Ok(id) = id.parse()
            {
                return Ok(Ring::Room {
                    room: room.to_owned(),
                    id,
                });
            }
            tracing::warn!(payload = notification.payload(), "unreadable doorbell ring");
        }
    }
}
