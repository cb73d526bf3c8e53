//! What a session may do in its room now, read from the database: the room, the token's
//! revocation and the bans, judged by the domain's access table. Read on the pool before an
//! operation, and again inside its transaction (under the room's lock) by the writes that let
//! someone in.

use crate::{
    error::AppError,
    ssr::{
        db::{
            Tx, bans,
            rooms::{self as rooms_repo, RoomRecord},
            sessions::SessionRecord,
            tokens as tokens_repo,
        },
        domain::{
            access::{self, Access, Refusal},
            claims::TokenRejection,
        },
        state::AppState,
        time::now,
    },
};

/// The session's access to its room now. The token is checked for revocation again: a revoked
/// token opens nothing, not even for a session that started before it was revoked.
pub(super) async fn access_of(
    state: &AppState,
    session: &SessionRecord,
) -> Result<Result<Access, Refusal>, AppError> {
    let room = rooms_repo::find_by_name(&state.db, &session.room).await?;
    let revoked = match &session.token_key {
        Some(key) => tokens_repo::is_revoked(&state.db, key).await?,
        None => false,
    };
    let result = assess(room.as_ref(), session, revoked);
    if result.is_ok()
        && let Some(ban) = bans::ban_of(&state.db, session).await?
    {
        return Ok(Err(refusal_for(ban)));
    }
    Ok(result)
}

/// Like [`access_of`], read inside `tx`: what a write that lets the session in (joining,
/// knocking) checks again under the room's lock, so a revocation, a deletion, a change of the
/// room or a ban committed meanwhile is seen.
pub(super) async fn access_in(
    tx: &mut Tx,
    session: &SessionRecord,
) -> Result<Result<Access, Refusal>, AppError> {
    let room = rooms_repo::find_by_name(&mut *tx, &session.room).await?;
    let revoked = match &session.token_key {
        Some(key) => tokens_repo::is_revoked(&mut *tx, key).await?,
        None => false,
    };
    let result = assess(room.as_ref(), session, revoked);
    if result.is_ok()
        && let Some(ban) = bans::ban_of(&mut *tx, session).await?
    {
        return Ok(Err(refusal_for(ban)));
    }
    Ok(result)
}

/// What a session kept out by `ban` is told.
fn refusal_for(ban: bans::Ban) -> Refusal {
    match ban {
        bans::Ban::Ejected => Refusal::Ejected,
        bans::Ban::Blocked => Refusal::Blocked,
    }
}

/// The access the room and the session's token give, the token's revocation as read.
fn assess(
    room: Option<&RoomRecord>,
    session: &SessionRecord,
    revoked: bool,
) -> Result<Access, Refusal> {
    let token = match (&session.claims, &session.refusal) {
        (_, Some(rejection)) => Some(Err(rejection)),
        (Some(_), None) if revoked => Some(Err(&TokenRejection::Revoked)),
        (Some(claims), None) => Some(Ok(claims)),
        (None, None) => None,
    };
    access::access(room, token, now())
}
