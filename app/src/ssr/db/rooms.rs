//! The `rooms` table, and the cache of rooms as the API shows them ([`RoomCache`]).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sqlx::FromRow;

use super::{Db, Error, Handle, Tx};
use crate::model::{Privacy, Room, RoomProperties};
pub use crate::ssr::domain::rooms::RoomRecord;

#[derive(FromRow)]
struct Row {
    seq: i64,
    id: String,
    name: String,
    privacy: String,
    properties: String,
    created_at: i64,
}

impl TryFrom<Row> for RoomRecord {
    type Error = Error;

    fn try_from(row: Row) -> Result<Self, Self::Error> {
        let privacy = match row.privacy.as_str() {
            "private" => Privacy::Private,
            _ => Privacy::Public,
        };
        let properties = serde_json::from_str(&row.properties)
            .map_err(|error| Error::Decode(Box::new(error)))?;
        Ok(Self {
            seq: row.seq,
            id: row.id,
            name: row.name,
            privacy,
            properties,
            created_at: row.created_at,
        })
    }
}

const COLUMNS: &str = "seq, id, name, privacy, properties, created_at";

fn properties_json(properties: &RoomProperties) -> Result<String, Error> {
    serde_json::to_string(properties).map_err(|error| Error::Encode(Box::new(error)))
}

/// Inserts a room; `Ok(None)` when the name is taken.
pub async fn insert(
    db: impl Handle<'_>,
    id: &str,
    name: &str,
    privacy: Privacy,
    properties: &RoomProperties,
    created_at: i64,
) -> Result<Option<RoomRecord>, Error> {
    let properties_json = properties_json(properties)?;
    let result = run!(db, |db| sqlx::query_as::<_, Row>(&format!(
        "INSERT INTO rooms (id, name, privacy, properties, exp, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(privacy.as_str())
    .bind(&properties_json)
    .bind(properties.exp)
    .bind(created_at)
    .fetch_one(db)
    .await);
    match result {
        Ok(row) => row.try_into().map(Some),
        Err(Error::Database(error)) if error.is_unique_violation() => Ok(None),
        Err(error) => Err(error),
    }
}

/// The room called `name`.
pub async fn find_by_name(db: impl Handle<'_>, name: &str) -> Result<Option<RoomRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM rooms WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(db)
    .await)?
    .map(RoomRecord::try_from)
    .transpose()
}

/// The insertion order of the room with this id.
pub async fn seq_of(db: impl Handle<'_>, id: &str) -> Result<Option<i64>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT seq FROM rooms WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(db)
    .await)
}

/// Where a page of rooms starts.
#[derive(Clone, Copy, Debug)]
pub enum Page {
    /// The newest rooms.
    First,
    /// Rooms older than the one with this `seq`.
    After(i64),
    /// The rooms just newer than the one with this `seq`.
    Before(i64),
}

/// Rooms that have not expired at `now` (unix seconds), newest first, at most `limit`, and how
/// many such rooms there are in all.
pub async fn list_live(
    db: &Db,
    now: i64,
    page: Page,
    limit: i64,
) -> Result<(Vec<RoomRecord>, i64), Error> {
    let total = run!(db, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM rooms WHERE exp IS NULL OR exp > $1"
    )
    .bind(now)
    .fetch_one(db)
    .await)?;
    // The first page is the rooms older than any: every `seq` is below `i64::MAX`.
    let (condition, order, cursor) = match page {
        Page::First => ("seq < $2", "DESC", i64::MAX),
        Page::After(seq) => ("seq < $2", "DESC", seq),
        // The `limit` rooms closest above the cursor, then back to newest first.
        Page::Before(seq) => ("seq > $2", "ASC", seq),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM rooms WHERE (exp IS NULL OR exp > $1) AND {condition}
         ORDER BY seq {order} LIMIT $3"
    );
    let mut rows = run!(db, |db| sqlx::query_as::<_, Row>(&sql)
        .bind(now)
        .bind(cursor)
        .bind(limit)
        .fetch_all(db)
        .await)?;
    if matches!(page, Page::Before(_)) {
        rows.reverse();
    }
    let rooms = rows
        .into_iter()
        .map(RoomRecord::try_from)
        .collect::<Result<_, _>>()?;
    Ok((rooms, total))
}

/// Replaces a room's privacy and properties.
pub async fn update(
    db: &mut Tx,
    name: &str,
    privacy: Privacy,
    properties: &RoomProperties,
) -> Result<Option<RoomRecord>, Error> {
    let properties_json = properties_json(properties)?;
    run!(db, |db| sqlx::query_as::<_, Row>(&format!(
        "UPDATE rooms SET privacy = $1, properties = $2, exp = $3 WHERE name = $4 RETURNING {COLUMNS}"
    ))
    .bind(privacy.as_str())
    .bind(&properties_json)
    .bind(properties.exp)
    .bind(name)
    .fetch_optional(db)
    .await)?
    .map(RoomRecord::try_from)
    .transpose()
}

/// Deletes a room; whether it existed.
pub async fn delete(db: impl Handle<'_>, name: &str) -> Result<bool, Error> {
    run!(db, |db| sqlx::query("DELETE FROM rooms WHERE name = $1")
        .bind(name)
        .execute(db)
        .await
        .map(|result| result.rows_affected() > 0))
}

/// How many rooms the cache holds at most; when full it starts over.
const CACHE_CAPACITY: usize = 10_000;

/// The rooms this server has read, as the API shows them, by name. Exact on one server: a
/// writer forgets a room after its commit, and a read that began before a forget does not
/// store what it read (the generation moved on). With several servers (PostgreSQL) every
/// server's listener forgets a room when its change is rung, and the writer answers once all
/// have said so; an entry is trusted for at most [`RoomCache::shared`]'s time-to-live, which
/// bounds what a lost ring (a listener reconnecting, a ring that failed) can cost.
#[derive(Debug)]
pub struct RoomCache {
    inner: Mutex<CacheInner>,
    ttl: Option<Duration>,
}

#[derive(Debug, Default)]
struct CacheInner {
    /// Moves on with every forget: a read that began at an older generation is not kept.
    generation: u64,
    rooms: HashMap<String, Cached>,
}

#[derive(Debug)]
struct Cached {
    room: Room,
    /// The room's `exp` (unix seconds): never served from the cache after it.
    exp: Option<i64>,
    read_at: Instant,
}

impl RoomCache {
    /// A cache for one server (SQLite): entries stay until forgotten.
    pub fn local() -> Self {
        Self {
            inner: Mutex::default(),
            ttl: None,
        }
    }

    /// A cache for a server sharing its database: entries stay until forgotten, and at most
    /// `ttl`.
    pub fn shared(ttl: Duration) -> Self {
        Self {
            inner: Mutex::default(),
            ttl: Some(ttl),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The room called `name`, if held, not expired at `now` (unix seconds) and not older
    /// than the time-to-live.
    pub fn fresh(&self, name: &str, now: i64) -> Option<Room> {
        let inner = self.lock();
        let cached = inner.rooms.get(name)?;
        let live = cached.exp.is_none_or(|exp| exp > now);
        let recent = self.ttl.is_none_or(|ttl| cached.read_at.elapsed() < ttl);
        (live && recent).then(|| cached.room.clone())
    }

    /// The generation to pass to [`RoomCache::keep`], taken before reading the database.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `room` (with its `exp`), read from the database after [`RoomCache::generation`]
    /// returned `generation`; not if anything was forgotten since, nor if it has expired.
    pub fn keep(&self, generation: u64, room: &Room, exp: Option<i64>, now: i64) {
        if exp.is_some_and(|exp| exp <= now) {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.rooms.len() >= CACHE_CAPACITY && !inner.rooms.contains_key(&room.name) {
            inner.rooms.clear();
        }
        inner.rooms.insert(
            room.name.clone(),
            Cached {
                room: room.clone(),
                exp,
                read_at: Instant::now(),
            },
        );
    }

    /// Forgets the room `name` (it changed or was deleted).
    pub fn forget(&self, name: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.rooms.remove(name);
    }

    /// Forgets every room (changes may have been missed).
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.rooms.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, max: i64) -> Room {
        Room {
            id: format!("id-{name}"),
            name: name.to_owned(),
            api_created: true,
            privacy: crate::model::Privacy::Public,
            url: format!("http://localhost/{name}"),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            config: serde_json::json!({"max_participants": max})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_cache_serves_what_it_kept_until_forgotten() {
        let cache = RoomCache::local();
        assert_eq!(cache.fresh("standup", 100), None);
        cache.keep(cache.generation(), &room("standup", 5), None, 100);
        assert_eq!(cache.fresh("standup", 100), Some(room("standup", 5)));
        cache.forget("standup");
        assert_eq!(cache.fresh("standup", 100), None, "a changed room");
        cache.keep(cache.generation(), &room("standup", 6), None, 100);
        cache.keep(cache.generation(), &room("retro", 1), None, 100);
        cache.forget_all();
        assert_eq!(cache.fresh("standup", 100), None);
        assert_eq!(cache.fresh("retro", 100), None);
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let cache = RoomCache::local();
        let before = cache.generation();
        // The room changes (and is forgotten) while the read is under way...
        cache.forget("standup");
        // ...so what the read returns may be the old room: it is not kept.
        cache.keep(before, &room("standup", 5), None, 100);
        assert_eq!(cache.fresh("standup", 100), None);
        cache.keep(cache.generation(), &room("standup", 6), None, 100);
        assert_eq!(cache.fresh("standup", 100), Some(room("standup", 6)));
    }

    #[test]
    fn the_cache_never_serves_an_expired_room() {
        let cache = RoomCache::local();
        cache.keep(cache.generation(), &room("standup", 5), Some(200), 100);
        assert!(cache.fresh("standup", 199).is_some());
        assert_eq!(cache.fresh("standup", 200), None, "expired at its exp");
        cache.keep(cache.generation(), &room("retro", 5), Some(100), 100);
        assert_eq!(
            cache.fresh("retro", 50),
            None,
            "an expired room is not kept"
        );
    }

    #[test]
    fn a_shared_cache_trusts_an_entry_for_its_time_to_live_only() {
        let cache = RoomCache::shared(Duration::from_millis(50));
        cache.keep(cache.generation(), &room("standup", 5), None, 100);
        assert!(cache.fresh("standup", 100).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.fresh("standup", 100), None);
    }
}
