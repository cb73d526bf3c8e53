//! The `rooms` table.

use sqlx::FromRow;

use super::{Db, Error, Handle, Tx};
use crate::model::{Privacy, RoomProperties};
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
