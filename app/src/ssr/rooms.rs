//! The rooms service: create, list, read, change and delete rooms. The REST API and the
//! dashboard both call these functions, so every rule about rooms lives here.
//!
//! `GET /v1/rooms/{name}` answers from the room cache (`db::rooms::RoomCache`) when it can. It
//! is kept exact by the writers: every change of a room (here, and the in-call room access
//! switch) calls `AppState::room_changed` after its commit, which forgets the room on this
//! server and, on PostgreSQL, rings the other servers (the events' doorbell), whose listeners
//! forget it too before the change is answered.

use rand::{Rng, distr::Alphanumeric};

use super::{
    db::rooms::{self as repo, Page, RoomRecord},
    domain::names::RoomName,
    events::Outbox,
    state::AppState,
    time::rfc3339_millis,
    validate,
};
use crate::{
    error::AppError,
    model::{
        CreateRoom, Room, RoomDeleted, RoomList, RoomProperties, RoomPropertiesPatch, UpdateRoom,
    },
};

/// The largest page of a room listing, and its default size.
pub const MAX_PAGE: i64 = 100;

/// How a listing is paged (`GET /v1/rooms` query parameters).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    /// Page size, 1 to 100.
    pub limit: Option<String>,
    /// A room id: list the rooms after (older than) it.
    pub starting_after: Option<String>,
    /// A room id: list the rooms just before (newer than) it.
    pub ending_before: Option<String>,
}

/// Checks a properties patch and applies it on top of `properties`; on an error nothing is
/// applied.
pub fn apply_patch(
    properties: &mut RoomProperties,
    patch: RoomPropertiesPatch,
    now: i64,
) -> Result<(), AppError> {
    let mut merged = properties.clone();
    merged.merge(patch.checked(now)?);
    validate::nbf_before_exp(merged.nbf, merged.exp)?;
    *properties = merged;
    Ok(())
}

/// A room as the API shows it.
pub fn to_room(record: &RoomRecord, public_url: &str) -> Room {
    Room {
        id: record.id.clone(),
        name: record.name.clone(),
        api_created: true,
        privacy: record.privacy,
        url: format!("{public_url}/{}", record.name),
        created_at: rfc3339_millis(record.created_at),
        config: record.properties.config(),
    }
}

fn room_not_found(name: &str) -> AppError {
    AppError::not_found(format!("room {name} not found"))
}

/// Creates a room.
pub async fn create(state: &AppState, request: CreateRoom, now: i64) -> Result<Room, AppError> {
    let name = match request.name {
        Some(name) => RoomName::parse("name", &name)?.into_string(),
        None => random_name(),
    };
    let mut properties = RoomProperties::default();
    apply_patch(&mut properties, request.properties, now)?;
    let privacy = request.privacy.unwrap_or_default();
    let id = uuid::Uuid::new_v4().to_string();
    let record = repo::insert(
        &state.db,
        &id,
        &name,
        privacy,
        &properties,
        super::time::now_millis(),
    )
    .await?
    .ok_or_else(|| AppError::invalid(format!("a room named {name} already exists")))?;
    Ok(to_room(&record, &state.config.public_url))
}

/// Lists the rooms that have not expired, newest first.
pub async fn list(state: &AppState, query: ListQuery, now: i64) -> Result<RoomList, AppError> {
    let limit = match query.limit.as_deref() {
        None | Some("") => MAX_PAGE,
        Some(text) => match text.parse::<i64>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
            _ => {
                return Err(AppError::invalid(format!(
                    "limit must be a whole number from 1 to {MAX_PAGE}"
                )));
            }
        },
    };
    let page = match (query.starting_after, query.ending_before) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "use either starting_after or ending_before, not both",
            ));
        }
        (Some(id), None) => Page::After(cursor(state, "starting_after", &id).await?),
        (None, Some(id)) => Page::Before(cursor(state, "ending_before", &id).await?),
        (None, None) => Page::First,
    };
    let (records, total_count) = repo::list_live(&state.db, now, page, limit).await?;
    let data = records
        .iter()
        .map(|record| to_room(record, &state.config.public_url))
        .collect();
    Ok(RoomList { total_count, data })
}

async fn cursor(state: &AppState, field: &str, id: &str) -> Result<i64, AppError> {
    repo::seq_of(&state.db, id)
        .await?
        .ok_or_else(|| AppError::invalid(format!("{field}: no room has the id {id}")))
}

/// The room called `name`: from the cache when it holds it and the room has not expired, else
/// read (and kept for the next time).
pub async fn get(state: &AppState, name: &str) -> Result<Room, AppError> {
    let now = super::time::now();
    if let Some(room) = state.rooms.fresh(name, now) {
        return Ok(room);
    }
    let generation = state.rooms.generation();
    let record = repo::find_by_name(&state.db, name)
        .await?
        .ok_or_else(|| room_not_found(name))?;
    let room = to_room(&record, &state.config.public_url);
    state
        .rooms
        .keep(generation, &room, record.properties.exp, now);
    Ok(room)
}

/// Changes a room's privacy and merges its properties.
pub async fn update(
    state: &AppState,
    name: &str,
    request: UpdateRoom,
    now: i64,
) -> Result<Room, AppError> {
    // The room's write lock comes first, so two concurrent updates cannot lose one's merge.
    let mut tx = state.db.write_room(name).await?;
    let current = repo::find_by_name(&mut tx, name)
        .await?
        .ok_or_else(|| room_not_found(name))?;
    let mut properties = current.properties;
    apply_patch(&mut properties, request.properties, now)?;
    let privacy = request.privacy.unwrap_or(current.privacy);
    let record = repo::update(&mut tx, name, privacy, &properties)
        .await?
        .ok_or_else(|| room_not_found(name))?;
    tx.commit().await?;
    state.room_changed(name).await;
    // A new `sfu_switchover` moves a call that is under way to the SFU or back, now.
    super::sfu::call_changed(state, name);
    Ok(to_room(&record, &state.config.public_url))
}

/// Deletes a room, and in the same transaction ejects everyone from it and forgets its bans:
/// the room is never gone with people still in its call or lobby.
pub async fn delete(state: &AppState, name: &str) -> Result<RoomDeleted, AppError> {
    let mut tx = state.db.write_room(name).await?;
    if !repo::delete(&mut tx, name).await? {
        return Err(room_not_found(name));
    }
    let mut outbox = Outbox::new(name);
    super::lobby::room_deleted(&mut tx, &mut outbox, name).await?;
    outbox.commit(tx, &state.events).await?;
    state.room_changed(name).await;
    // Its SFU room goes with it (within the 2 s the lobby promises).
    super::sfu::guard(&state.db, &state.config, name);
    Ok(RoomDeleted {
        deleted: true,
        name: name.to_owned(),
    })
}

/// 20 random alphanumerics, as Daily names rooms created without a name.
fn random_name() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> RoomPropertiesPatch {
        serde_json::from_str(json).expect("valid patch")
    }

    #[test]
    fn a_patch_merges_resets_and_validates() {
        let mut properties = RoomProperties::default();
        apply_patch(
            &mut properties,
            patch(r#"{"enable_knocking": true, "max_participants": 8}"#),
            0,
        )
        .expect("valid");
        apply_patch(
            &mut properties,
            patch(r#"{"max_participants": null, "exp": 500}"#),
            100,
        )
        .expect("valid");
        assert!(properties.enable_knocking, "an absent property is kept");
        assert_eq!(
            properties.max_participants, 200,
            "null resets to the default"
        );
        assert_eq!(properties.exp, Some(500));

        for bad in [
            r#"{"max_participants": 0}"#,
            r#"{"max_participants": 201}"#,
            r#"{"exp": 50}"#,
            r#"{"nbf": -1}"#,
            r#"{"eject_after_elapsed": 0}"#,
            r#"{"nbf": 600}"#,
        ] {
            let mut copy = properties.clone();
            assert!(apply_patch(&mut copy, patch(bad), 100).is_err(), "{bad}");
        }
    }

    #[test]
    fn random_names_are_twenty_alphanumerics() {
        let name = random_name();
        assert_eq!(name.len(), 20);
        assert!(name.bytes().all(|byte| byte.is_ascii_alphanumeric()));
    }
}
