//! The lobby service: sessions, joining, knocking, deciding, leaving and ejecting. Pages (via
//! server functions), the REST API and the presence timers all call these functions; each
//! state change and its events commit in one transaction, and the events are published after.

use super::{
    access::{self, Access, Refusal},
    db::{
        lobby::{self as repo, KnockRecord, NewSession, SessionRecord},
        rooms as rooms_repo,
    },
    events::Outbox,
    presence::Presence,
    secrets::{random_secret, sha256_hex},
    state::AppState,
    time::{now, now_millis},
    tokens::{self, Claims, TokenRejection},
    validate,
};
use crate::{
    error::AppError,
    model::{
        AccessLevel, AccessState, CallErrorDetail, CallEvent, CallState, Decisions, Level,
        Participant, Phase, Resolution, RoomSnapshot, WaitingParticipant,
    },
};

/// The most knocks that may wait in one room.
pub const MAX_WAITING: i64 = 500;

/// Who asks for a lobby operation.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A participant, through the pages or the call client.
    Session(Box<SessionRecord>),
    /// The REST API (authenticated with the API key).
    Api,
}

/// A new session's cookie secret and public id.
#[derive(Debug)]
pub struct StartedSession {
    /// The secret to put in the cookie.
    pub secret: String,
    /// The public participant id.
    pub id: String,
}

/// The cookie that holds a session of `room`.
pub fn cookie_name(room: &str) -> String {
    format!("knock-{room}")
}

/// Starts a session in `room`, with the token from `?t=` when there is one. A refused token is
/// remembered with its reason: the visitor is told why, never let in without it.
pub async fn start_session(
    state: &AppState,
    room: &str,
    token: Option<&str>,
) -> Result<StartedSession, AppError> {
    let secret = random_secret();
    let id = uuid::Uuid::new_v4().to_string();
    let verified = match token {
        Some(token) => Some((token, tokens::verify(state, token, now(), false).await?)),
        None => None,
    };
    let claims = verified
        .as_ref()
        .and_then(|(_, result)| result.as_ref().ok());
    let refusal = verified
        .as_ref()
        .and_then(|(_, result)| result.as_ref().err());
    let token_key = match &verified {
        Some((token, Ok(claims))) => Some(tokens::revocation_key(token, claims)),
        _ => None,
    };
    repo::insert_session(
        &state.db,
        NewSession {
            id: &id,
            secret_hash: &sha256_hex(&secret),
            room,
            claims,
            token_key: token_key.as_deref(),
            refusal,
            created_at: now_millis(),
        },
    )
    .await?;
    Ok(StartedSession { secret, id })
}

/// The session of `room` that holds `secret`, if any.
pub async fn session_by_secret(
    state: &AppState,
    room: &str,
    secret: &str,
) -> Result<Option<SessionRecord>, AppError> {
    Ok(repo::session_by_secret(&state.db, room, &sha256_hex(secret)).await?)
}

/// The session's access to its room now. The token is checked for revocation again: a revoked
/// token opens nothing, not even for a session that started before it was revoked.
async fn access_of(
    state: &AppState,
    session: &SessionRecord,
) -> Result<Result<Access, Refusal>, AppError> {
    let room = rooms_repo::find_by_name(&state.db, &session.room).await?;
    let revoked = match &session.token_key {
        Some(key) => super::db::tokens::is_revoked(&state.db, key).await?,
        None => false,
    };
    let token = match (&session.claims, &session.refusal) {
        (_, Some(rejection)) => Some(Err(rejection)),
        (Some(_), None) if revoked => Some(Err(&TokenRejection::Revoked)),
        (Some(claims), None) => Some(Ok(claims)),
        (None, None) => None,
    };
    let result = access::access(room.as_ref(), token, now());
    if result.is_ok() && repo::is_banned(&state.db, session).await? {
        return Ok(Err(Refusal::Ejected));
    }
    Ok(result)
}

fn refusal_detail(refusal: &Refusal) -> CallErrorDetail {
    CallErrorDetail {
        kind: refusal.error_type().to_owned(),
        msg: refusal.to_string(),
    }
}

fn refused(refusal: &Refusal) -> AppError {
    AppError::Forbidden(refusal.to_string())
}

/// `preAuth`: where the session stands and what it may do.
pub async fn call_state(state: &AppState, session: &SessionRecord) -> Result<CallState, AppError> {
    // Read first: everything this state reflects is at or before this event, and anything
    // later is replayed to a stream opened after it (duplicates are harmless).
    let last_event_id = repo::last_event_id(&state.db, &session.id).await?;
    let access = access_of(state, session).await?;
    let host_present = repo::admin_present(&state.db, &session.room).await?;
    let (level, admin, owner, refusal) = match &access {
        Ok(access) => (access.level, access.admin, access.owner, None),
        Err(refusal) => (
            AccessLevel::None,
            false,
            false,
            Some(refusal_detail(refusal)),
        ),
    };
    let (level, awaiting) = match session.phase {
        Phase::InCall => (AccessLevel::Full, None),
        Phase::Waiting => (
            AccessLevel::Lobby,
            Some(Level {
                level: AccessLevel::Full,
            }),
        ),
        _ => (level, None),
    };
    Ok(CallState {
        room: session.room.clone(),
        session_id: session.id.clone(),
        access: AccessState {
            access: Level { level },
            awaiting_access: awaiting,
        },
        phase: session.phase,
        admin,
        owner,
        user_name: session.user_name.clone(),
        host_present,
        refusal,
        last_event_id,
    })
}

fn participant(session: &SessionRecord, user_name: &str, joined_at: i64) -> Participant {
    Participant {
        session_id: session.id.clone(),
        user_name: user_name.to_owned(),
        user_id: session.user_id.clone(),
        owner: session.is_owner,
        joined_at,
        video: session.video,
        audio: session.audio,
    }
}

pub(crate) fn participant_of(session: &SessionRecord) -> Participant {
    participant(
        session,
        session.user_name.as_deref().unwrap_or("Guest"),
        session.joined_at.unwrap_or_default(),
    )
}

/// When a session entering now must be ejected, and with which error type.
fn ejection_deadline(
    room: &rooms_repo::RoomRecord,
    claims: Option<&Claims>,
    now: i64,
) -> Option<(i64, &'static str)> {
    let mut deadlines = Vec::new();
    if room.properties.eject_at_room_exp
        && let Some(exp) = room.properties.exp
    {
        deadlines.push((exp, "exp-room"));
    }
    if let Some(claims) = claims {
        if claims.ejt == Some(true)
            && let Some(exp) = claims.exp
        {
            deadlines.push((exp, "exp-token"));
        }
        if let Some(after) = claims.eje {
            deadlines.push((now + after, "ejected"));
        }
    }
    deadlines.into_iter().min_by_key(|(at, _)| *at)
}

/// Puts `session` in the call inside `tx`, recording `participant-joined` for the others and,
/// for an admin, `waiting-participant-added` for everyone already waiting.
async fn enter(
    tx: &mut sqlx::SqliteConnection,
    outbox: &mut Outbox,
    session: &SessionRecord,
    user_name: &str,
) -> Result<(), AppError> {
    let room = rooms_repo::find_by_name(&mut *tx, &session.room)
        .await?
        .ok_or_else(|| refused(&Refusal::NoRoom))?;
    let in_call = repo::count_in_call(tx, &session.room).await?;
    access::has_room_for_one_more(&room, in_call).map_err(|refusal| refused(&refusal))?;
    let joined_at = now_millis();
    let deadline = ejection_deadline(&room, session.claims.as_ref(), now());
    repo::enter_call(tx, &session.id, user_name, joined_at, deadline).await?;
    let others: Vec<String> = repo::in_call_ids(tx, &session.room, false)
        .await?
        .into_iter()
        .filter(|id| *id != session.id)
        .collect();
    // Camera and microphone start off at every join until the browser says otherwise.
    let event = CallEvent::ParticipantJoined {
        participant: Participant {
            video: false,
            audio: false,
            ..participant(session, user_name, joined_at)
        },
    };
    outbox.record(tx, &event, others, joined_at).await?;
    if session.is_admin {
        for knock in repo::waiting_knocks(&mut *tx, &session.room).await? {
            let event = CallEvent::WaitingParticipantAdded {
                participant: knock.participant(),
            };
            outbox
                .record(tx, &event, vec![session.id.clone()], joined_at)
                .await?;
        }
    }
    Ok(())
}

async fn reload(state: &AppState, id: &str) -> Result<SessionRecord, AppError> {
    repo::session(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("this session no longer exists; reload the page"))
}

/// `join(name)`: enter the call directly (access `full` only).
pub async fn join(
    state: &AppState,
    session: &SessionRecord,
    name: &str,
) -> Result<CallState, AppError> {
    let name = validate::display_name("name", name)?;
    let access = access_of(state, session)
        .await?
        .map_err(|refusal| refused(&refusal))?;
    if session.phase == Phase::InCall {
        return call_state(state, session).await;
    }
    match access.level {
        AccessLevel::Full => {}
        AccessLevel::Lobby => {
            return Err(AppError::Forbidden(
                "this room needs a host to let you in: ask to join instead".into(),
            ));
        }
        AccessLevel::None => {
            return Err(AppError::Forbidden(
                "You don't have permission to join this call.".into(),
            ));
        }
    }
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut outbox = Outbox::new(&session.room);
    enter(&mut tx, &mut outbox, session, &name).await?;
    let access_event = CallEvent::AccessStateUpdated {
        access: Level {
            level: AccessLevel::Full,
        },
        awaiting_access: None,
    };
    outbox
        .record(
            &mut tx,
            &access_event,
            vec![session.id.clone()],
            now_millis(),
        )
        .await?;
    outbox.commit(tx, state).await?;
    // Present from now on only while a stream is open: one that never opens leaves after the grace.
    Presence::expect(state, vec![session.id.clone()]);
    call_state(state, &reload(state, &session.id).await?).await
}

/// `requestAccess(name)`: knock, or rename a knock already waiting.
pub async fn request_access(
    state: &AppState,
    session: &SessionRecord,
    name: &str,
    client: &str,
) -> Result<CallState, AppError> {
    let name = validate::display_name("name", name)?;
    let access = access_of(state, session)
        .await?
        .map_err(|refusal| refused(&refusal))?;
    match (access.level, session.phase) {
        (_, Phase::InCall) => return call_state(state, session).await,
        (AccessLevel::Lobby, _) => {}
        (AccessLevel::Full, _) => {
            return Err(AppError::invalid(
                "you may join this room directly; there is no need to knock",
            ));
        }
        (AccessLevel::None, _) => {
            return Err(AppError::Forbidden(
                "You don't have permission to join this call.".into(),
            ));
        }
    }
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut outbox = Outbox::new(&session.room);
    let at = now_millis();
    let admins = repo::in_call_ids(&mut tx, &session.room, true).await?;
    if let Some(knock) = repo::waiting_knock_of(&mut tx, &session.id).await? {
        repo::rename_knock(&mut tx, &knock.id, &name).await?;
        repo::set_user_name(&mut tx, &session.id, &name).await?;
        let event = CallEvent::WaitingParticipantUpdated {
            participant: KnockRecord {
                name: name.clone(),
                ..knock
            }
            .participant(),
        };
        outbox.record(&mut tx, &event, admins, at).await?;
    } else {
        if !state.knock_limiter.allow(client, &session.room) {
            return Err(AppError::RateLimited(
                "You have knocked too often on this room; wait a minute and try again.".into(),
            ));
        }
        if repo::count_waiting(&mut tx, &session.room).await? >= MAX_WAITING {
            return Err(AppError::RateLimited(format!(
                "The lobby of this room is full ({MAX_WAITING} people are waiting); try again later."
            )));
        }
        let knock = KnockRecord {
            id: uuid::Uuid::new_v4().to_string(),
            session_id: session.id.clone(),
            name: name.clone(),
            knocked_at: at,
        };
        repo::insert_knock(&mut tx, &knock, &session.room).await?;
        repo::move_session(
            &mut tx,
            &session.id,
            &[Phase::Prejoin, Phase::Denied, Phase::Left, Phase::Ejected],
            Phase::Waiting,
        )
        .await?;
        repo::set_user_name(&mut tx, &session.id, &name).await?;
        let event = CallEvent::WaitingParticipantAdded {
            participant: knock.participant(),
        };
        outbox.record(&mut tx, &event, admins, at).await?;
        let access_event = CallEvent::AccessStateUpdated {
            access: Level {
                level: AccessLevel::Lobby,
            },
            awaiting_access: Some(Level {
                level: AccessLevel::Full,
            }),
        };
        outbox
            .record(&mut tx, &access_event, vec![session.id.clone()], at)
            .await?;
    }
    outbox.commit(tx, state).await?;
    Presence::expect(state, vec![session.id.clone()]);
    call_state(state, &reload(state, &session.id).await?).await
}

/// Ends a session's knock (cancel, or the knocker left) inside `tx`.
async fn withdraw_knock(
    tx: &mut sqlx::SqliteConnection,
    outbox: &mut Outbox,
    session: &SessionRecord,
    to: Phase,
) -> Result<bool, AppError> {
    let Some(knock) = repo::waiting_knock_of(tx, &session.id).await? else {
        return Ok(false);
    };
    let at = now_millis();
    if repo::settle_knock(tx, &session.room, &knock.id, "cancelled", None, at)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    repo::move_session(tx, &session.id, &[Phase::Waiting], to).await?;
    let admins = repo::in_call_ids(tx, &session.room, true).await?;
    let event = CallEvent::WaitingParticipantRemoved {
        participant: knock.participant(),
        resolution: None,
    };
    outbox.record(tx, &event, admins, at).await?;
    Ok(true)
}

/// `cancel`: withdraw a knock.
pub async fn cancel(state: &AppState, session: &SessionRecord) -> Result<CallState, AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut outbox = Outbox::new(&session.room);
    if withdraw_knock(&mut tx, &mut outbox, session, Phase::Prejoin).await? {
        let event = CallEvent::AccessStateUpdated {
            access: Level {
                level: AccessLevel::Lobby,
            },
            awaiting_access: None,
        };
        outbox
            .record(&mut tx, &event, vec![session.id.clone()], now_millis())
            .await?;
    }
    outbox.commit(tx, state).await?;
    call_state(state, &reload(state, &session.id).await?).await
}

/// `leave`: leave the call, or the lobby.
pub async fn leave(state: &AppState, session: &SessionRecord) -> Result<CallState, AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut outbox = Outbox::new(&session.room);
    let current = repo::session(&mut *tx, &session.id)
        .await?
        .ok_or_else(|| AppError::not_found("this session no longer exists; reload the page"))?;
    match current.phase {
        Phase::Waiting => {
            withdraw_knock(&mut tx, &mut outbox, &current, Phase::Left).await?;
        }
        Phase::InCall => {
            repo::move_session(&mut tx, &current.id, &[Phase::InCall], Phase::Left).await?;
            let others = repo::in_call_ids(&mut tx, &current.room, false).await?;
            let event = CallEvent::ParticipantLeft {
                participant: participant_of(&current),
            };
            outbox.record(&mut tx, &event, others, now_millis()).await?;
        }
        _ => {}
    }
    outbox.commit(tx, state).await?;
    call_state(state, &reload(state, &session.id).await?).await
}

/// Checks that `actor` may see and decide on the lobby of `room`.
async fn authorize_admin(
    state: &AppState,
    actor: &Actor,
    room: &str,
) -> Result<Option<String>, AppError> {
    match actor {
        Actor::Api => {
            rooms_repo::find_by_name(&state.db, room)
                .await?
                .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
            Ok(None)
        }
        Actor::Session(session) => {
            let current = reload(state, &session.id).await?;
            if current.room != room || !current.is_admin || current.phase != Phase::InCall {
                return Err(AppError::Forbidden(
                    "only an owner or an admin in the call can see and answer knocks".into(),
                ));
            }
            Ok(Some(current.user_name.unwrap_or_else(|| "A host".into())))
        }
    }
}

/// `waitingParticipants()`: the lobby, oldest knock first (admins and the API only).
pub async fn waiting_participants(
    state: &AppState,
    actor: &Actor,
    room: &str,
) -> Result<Vec<(WaitingParticipant, i64)>, AppError> {
    authorize_admin(state, actor, room).await?;
    Ok(repo::waiting_knocks(&state.db, room)
        .await?
        .into_iter()
        .map(|knock| (knock.participant(), knock.knocked_at))
        .collect())
}

/// One decision asked for: a knock id, or `*` for everyone waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// A knock id, or `*`.
    pub target: String,
    /// Let in, or turn away.
    pub grant: bool,
}

/// `updateWaitingParticipant(s)`: admit or deny knocks. Explicit ids win over `*`. A knock
/// that is no longer waiting is reported in `alreadyHandled` and changes nothing.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    room: &str,
    decisions: Vec<Decision>,
) -> Result<Decisions, AppError> {
    let decided_by = authorize_admin(state, actor, room).await?;
    let by = decided_by.clone().unwrap_or_else(|| "the API".to_owned());
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut outbox = Outbox::new(room);

    let star = decisions
        .iter()
        .find(|decision| decision.target == "*")
        .map(|d| d.grant);
    let mut plan: Vec<(String, bool)> = decisions
        .iter()
        .filter(|decision| decision.target != "*")
        .map(|decision| (decision.target.clone(), decision.grant))
        .collect();
    if let Some(grant) = star {
        for knock in repo::waiting_knocks(&mut *tx, room).await? {
            if !plan.iter().any(|(id, _)| *id == knock.id) {
                plan.push((knock.id, grant));
            }
        }
    }

    let mut answer = Decisions::default();
    for (id, grant) in plan {
        let at = now_millis();
        let status = if grant { "admitted" } else { "denied" };
        let Some(knock) = repo::settle_knock(&mut tx, room, &id, status, Some(&by), at).await?
        else {
            answer.already_handled.push(id);
            continue;
        };
        let guest = repo::session(&mut *tx, &knock.session_id)
            .await?
            .ok_or_else(|| AppError::internal("deciding a knock", "knock without session"))?;
        if grant {
            enter(&mut tx, &mut outbox, &guest, &knock.name).await?;
            let event = CallEvent::AccessStateUpdated {
                access: Level {
                    level: AccessLevel::Full,
                },
                awaiting_access: None,
            };
            outbox
                .record(&mut tx, &event, vec![guest.id.clone()], at)
                .await?;
        } else {
            repo::move_session(&mut tx, &guest.id, &[Phase::Waiting], Phase::Denied).await?;
            let event = CallEvent::error("not-allowed", "Join request rejected");
            outbox
                .record(&mut tx, &event, vec![guest.id.clone()], at)
                .await?;
        }
        let admins = repo::in_call_ids(&mut tx, room, true).await?;
        let event = CallEvent::WaitingParticipantRemoved {
            participant: knock.participant(),
            resolution: Some(Resolution {
                granted: grant,
                by: Some(by.clone()),
            }),
        };
        outbox.record(&mut tx, &event, admins, at).await?;
        answer.ids.push(id);
    }
    outbox.commit(tx, state).await?;
    Ok(answer)
}

/// Removes sessions from a room (the call and the lobby) with an `error` event of `kind`.
/// Returns the ids removed.
pub async fn eject_sessions(
    state: &AppState,
    room: &str,
    ids: &[String],
    kind: &str,
    msg: &str,
) -> Result<Vec<String>, AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut outbox = Outbox::new(room);
    let mut ejected = Vec::new();
    for id in ids {
        let Some(session) = repo::session(&mut *tx, id).await? else {
            continue;
        };
        if session.room != room {
            continue;
        }
        let at = now_millis();
        match session.phase {
            Phase::InCall => {
                repo::move_session(&mut tx, id, &[Phase::InCall], Phase::Ejected).await?;
                let others = repo::in_call_ids(&mut tx, room, false).await?;
                let event = CallEvent::ParticipantLeft {
                    participant: participant_of(&session),
                };
                outbox.record(&mut tx, &event, others, at).await?;
            }
            Phase::Waiting => {
                withdraw_knock(&mut tx, &mut outbox, &session, Phase::Ejected).await?;
            }
            Phase::Prejoin => {
                repo::move_session(&mut tx, id, &[Phase::Prejoin], Phase::Ejected).await?;
            }
            Phase::Denied | Phase::Left | Phase::Ejected => continue,
        }
        outbox
            .record(&mut tx, &CallEvent::error(kind, msg), vec![id.clone()], at)
            .await?;
        ejected.push(id.clone());
    }
    outbox.commit(tx, state).await?;
    Ok(ejected)
}

/// `POST /v1/rooms/{name}/eject`: ejects in-call participants by session id or user id, and
/// with `ban` keeps them out while the room exists.
pub async fn eject(
    state: &AppState,
    room: &str,
    ids: &[String],
    user_ids: &[String],
    ban: bool,
) -> Result<Vec<String>, AppError> {
    rooms_repo::find_by_name(&state.db, room)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    let mut targets = Vec::new();
    for phase in [Phase::InCall, Phase::Waiting] {
        for session in repo::sessions_in(&state.db, room, phase).await? {
            let by_user = session
                .user_id
                .as_ref()
                .is_some_and(|user| user_ids.contains(user));
            if ids.contains(&session.id) || by_user {
                targets.push(session.id);
            }
        }
    }
    if ban {
        let mut tx = state.db.begin().await?;
        for id in ids {
            repo::ban(&mut tx, room, "session", id).await?;
        }
        for user in user_ids {
            repo::ban(&mut tx, room, "user", user).await?;
        }
        tx.commit().await?;
    }
    eject_sessions(
        state,
        room,
        &targets,
        "ejected",
        "You were removed from the call.",
    )
    .await
}

/// Ejects everyone from a deleted room and forgets its bans.
pub async fn room_deleted(state: &AppState, room: &str) -> Result<(), AppError> {
    let mut ids = Vec::new();
    for phase in [Phase::InCall, Phase::Waiting, Phase::Prejoin] {
        ids.extend(
            repo::sessions_in(&state.db, room, phase)
                .await?
                .into_iter()
                .map(|s| s.id),
        );
    }
    eject_sessions(state, room, &ids, "no-room", "This room has been deleted.").await?;
    let mut tx = state.db.begin().await?;
    repo::clear_bans(&mut tx, room).await?;
    tx.commit().await?;
    Ok(())
}

/// Ejects the sessions that used a revoked token.
pub async fn token_revoked(state: &AppState, token_key: &str) -> Result<(), AppError> {
    for id in repo::present_ids_with_token(&state.db, token_key).await? {
        if let Some(session) = repo::session(&state.db, &id).await? {
            eject_sessions(
                state,
                &session.room,
                &[id],
                "ejected",
                "Your meeting token has been revoked.",
            )
            .await?;
        }
    }
    Ok(())
}

/// Ejects the participants whose room or token expired, or whose time is up.
pub async fn eject_expired(state: &AppState) -> Result<(), AppError> {
    for (id, kind) in repo::due_for_ejection(&state.db, now()).await? {
        if let Some(session) = repo::session(&state.db, &id).await? {
            let msg = match kind.as_str() {
                "exp-room" => "This room has expired.",
                "exp-token" => "Your meeting token has expired.",
                _ => "Your time in this call is up.",
            };
            eject_sessions(state, &session.room, &[id], &kind, msg).await?;
        }
    }
    Ok(())
}

/// A session's stream has been gone for the grace period: it left the call or the lobby.
pub async fn gone(state: &AppState, session_id: &str) -> Result<(), AppError> {
    if let Some(session) = repo::session(&state.db, session_id).await?
        && matches!(session.phase, Phase::InCall | Phase::Waiting)
    {
        leave(state, &session).await?;
    }
    Ok(())
}

/// Everyone in a call, by room (for `GET /v1/presence`).
pub async fn presence(state: &AppState) -> Result<Vec<(String, Participant)>, AppError> {
    Ok(repo::all_in_call(&state.db)
        .await?
        .iter()
        .map(|session| (session.room.clone(), participant_of(session)))
        .collect())
}

/// Everyone in one room's call.
pub async fn room_presence(state: &AppState, room: &str) -> Result<Vec<Participant>, AppError> {
    rooms_repo::find_by_name(&state.db, room)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    Ok(repo::sessions_in(&state.db, room, Phase::InCall)
        .await?
        .iter()
        .map(participant_of)
        .collect())
}

/// What a room page shows when it is (re)loaded. A session that was denied, or left, starts
/// over at the prejoin page: coming back is knocking again.
pub async fn snapshot(
    state: &AppState,
    room: &str,
    session: Option<&SessionRecord>,
) -> Result<RoomSnapshot, AppError> {
    let Some(session) = session else {
        // Sessions exist for every existing room a browser opens; without one there is no room.
        let refusal = Refusal::NoRoom;
        return Ok(RoomSnapshot {
            state: CallState {
                room: room.to_owned(),
                session_id: String::new(),
                access: AccessState {
                    access: Level {
                        level: AccessLevel::None,
                    },
                    awaiting_access: None,
                },
                phase: Phase::Prejoin,
                admin: false,
                owner: false,
                user_name: None,
                host_present: false,
                refusal: Some(refusal_detail(&refusal)),
                last_event_id: 0,
            },
            participants: Vec::new(),
            waiting: Vec::new(),
        });
    };
    let mut call = call_state(state, session).await?;
    if matches!(call.phase, Phase::Denied | Phase::Left) {
        call.phase = Phase::Prejoin;
    }
    let in_call = call.phase == Phase::InCall;
    let participants = if in_call {
        repo::sessions_in(&state.db, room, Phase::InCall)
            .await?
            .iter()
            .filter(|other| other.id != session.id)
            .map(participant_of)
            .collect()
    } else {
        Vec::new()
    };
    let waiting = if in_call && call.admin {
        repo::waiting_knocks(&state.db, room)
            .await?
            .iter()
            .map(KnockRecord::participant)
            .collect()
    } else {
        Vec::new()
    };
    Ok(RoomSnapshot {
        state: call,
        participants,
        waiting,
    })
}
