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
    let result = sqlx::query_as::<_, Row>(&format!(
        "INSERT INTO rooms (id, name, privacy, properties, exp, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(privacy.as_str())
    .bind(properties_json(properties)?)
    .bind(properties.exp)
    .bind(created_at)
    .fetch_one(db)
    .await;
    match result {
        Ok(row) => row.try_into().map(Some),
        Err(Error::Database(error)) if error.is_unique_violation() => Ok(None),
        Err(error) => Err(error),
    }
}

/// The room called `name`.
pub async fn find_by_name(db: impl Handle<'_>, name: &str) -> Result<Option<RoomRecord>, Error> {
    sqlx::query_as::<_, Row>(&format!("SELECT {COLUMNS} FROM rooms WHERE name = ?"))
        .bind(name)
        .fetch_optional(db)
        .await?
        .map(RoomRecord::try_from)
        .transpose()
}

/// The insertion order of the room with this id.
pub async fn seq_of(db: impl Handle<'_>, id: &str) -> Result<Option<i64>, Error> {
    sqlx::query_scalar("SELECT seq FROM rooms WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
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
    let total = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE exp IS NULL OR exp > ?")
        .bind(now)
        .fetch_one(db)
        .await?;
    let live = "(exp IS NULL OR exp > ?)";
    let rows = match page {
        Page::First => {
            sqlx::query_as::<_, Row>(&format!(
                "SELECT {COLUMNS} FROM rooms WHERE {live} ORDER BY seq DESC LIMIT ?"
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
        Page::After(seq) => {
            sqlx::query_as::<_, Row>(&format!(
                "SELECT {COLUMNS} FROM rooms WHERE {live} AND seq < ? ORDER BY seq DESC LIMIT ?"
            ))
            .bind(now)
            .bind(seq)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
        Page::Before(seq) => {
            // The `limit` rooms closest above the cursor, then back to newest first.
            let mut rows = sqlx::query_as::<_, Row>(&format!(
                "SELECT {COLUMNS} FROM rooms WHERE {live} AND seq > ? ORDER BY seq ASC LIMIT ?"
            ))
            .bind(now)
            .bind(seq)
            .bind(limit)
            .fetch_all(db)
            .await?;
            rows.reverse();
            rows
        }
    };
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
    sqlx::query_as::<_, Row>(&format!(
        "UPDATE rooms SET privacy = ?, properties = ?, exp = ? WHERE name = ? RETURNING {COLUMNS}"
    ))
    .bind(privacy.as_str())
    .bind(properties_json(properties)?)
    .bind(properties.exp)
    .bind(name)
    .fetch_optional(db)
    .await?
    .map(RoomRecord::try_from)
    .transpose()
}

/// Deletes a room; whether it existed.
pub async fn delete(db: impl Handle<'_>, name: &str) -> Result<bool, Error> {
    let result = sqlx::query("DELETE FROM rooms WHERE name = ?")
        .bind(name)
        .execute(db)
        .await?;
    Ok(result.rows_affected() > 0)
}
