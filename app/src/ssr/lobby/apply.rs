//! Carrying out a lobby transition: the domain's state machine says what a command does;
//! [`apply`] does it inside the caller's transaction (the knock, one guarded phase write, the
//! events to their audience). The helpers every operation shares live here too.

use super::access::access_in;
use crate::ssr::{
    db::{
        Tx,
        knocks::{self, KnockRecord},
        meetings::{self, KnockOutcome, ParticipantRecord},
        rooms as rooms_repo,
        sessions::{self as sessions_repo, SessionRecord},
    },
    domain::{
        access::{self, Refusal},
        lobby::{Audience, Command, Effect, KnockChange, Subject, transition},
    },
    events::Outbox,
    time::{now, now_millis},
    webhooks,
};
use crate::{
    error::AppError,
    model::{AccessLevel, CallErrorDetail, CallEvent, Participant, Phase},
};

pub(super) fn refusal_detail(refusal: &Refusal) -> CallErrorDetail {
    CallErrorDetail {
        kind: refusal.error_type(),
        msg: refusal.to_string(),
    }
}

pub(super) fn refused(refusal: &Refusal) -> AppError {
    AppError::Forbidden(refusal.to_string())
}

pub(super) fn session_gone() -> AppError {
    AppError::not_found("this session no longer exists; reload the page")
}

/// `session` as a participant of the call, under `user_name` since `joined_at`.
pub(super) fn participant(session: &SessionRecord, user_name: &str, joined_at: i64) -> Participant {
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

/// A session in the call as the others see it.
pub(crate) fn participant_of(session: &SessionRecord) -> Participant {
    participant(
        session,
        session.user_name.as_deref().unwrap_or("Guest"),
        session.joined_at.unwrap_or_default(),
    )
}

/// The caller's session as it is inside `tx` (a visit not stored yet: as it is), and as the
/// subject of a command.
pub(super) async fn own_subject(
    tx: &mut Tx,
    session: &SessionRecord,
) -> Result<(SessionRecord, Subject), AppError> {
    let current = match sessions_repo::find(&mut *tx, &session.id).await? {
        Some(current) => current,
        None if session.unsaved.is_some() => session.clone(),
        None => return Err(session_gone()),
    };
    let subject = subject_of(tx, &current).await?;
    Ok((current, subject))
}

/// The subject of a command on `session`: as it is, with its waiting knock if it has one.
pub(super) async fn subject_of(tx: &mut Tx, session: &SessionRecord) -> Result<Subject, AppError> {
    Ok(Subject {
        participant: participant_of(session),
        knock: knocks::waiting_of(tx, &session.id)
            .await?
            .as_ref()
            .map(KnockRecord::participant),
        admin: session.is_admin,
    })
}

/// How a knock ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Let in, by this admin (or the API).
    Allowed(String),
    /// Turned away (or removed from the lobby), by this admin, or by the API or an ejection.
    Denied(Option<String>),
    /// The knocker withdrew, left or went away.
    Withdrawn,
}

/// Settles the waiting knock of `session_id` in `room` as `outcome`, exactly once, and records
/// it with the meeting that goes on; the knock, or `None` when none was waiting. (Whoever waited
/// behind it learns their new place from [`tell_places`].)
pub(super) async fn settle_knock(
    tx: &mut Tx,
    room: &str,
    session_id: &str,
    outcome: Outcome,
    at: i64,
) -> Result<Option<KnockRecord>, AppError> {
    let (status, recorded, by) = match outcome {
        Outcome::Allowed(by) => ("admitted", "allowed", Some(by)),
        Outcome::Denied(by) => ("denied", "denied", by),
        Outcome::Withdrawn => ("cancelled", "withdrawn", None),
    };
    let Some(knock) = knocks::settle(tx, room, session_id, status, by.as_deref(), at).await? else {
        return Ok(None);
    };
    let settled = KnockOutcome {
        participant_id: knock.session_id.clone(),
        user_name: knock.name.clone(),
        knocked_at: knock.knocked_at,
        outcome: recorded.to_owned(),
        decided_by: by,
        decided_at: at,
    };
    meetings::knock_settled(tx, room, &settled).await?;
    webhooks::knock_settled(tx, room, &knock, &settled).await?;
    Ok(Some(knock))
}

/// Tells everyone still waiting in `room` behind the knock `settled` (the earliest one a
/// transaction settled) their new place in line. Called once per transaction, after all its
/// settlements, so nobody settled in the same breath hears about a place they no longer have.
pub(super) async fn tell_places(
    tx: &mut Tx,
    outbox: &mut Outbox,
    room: &str,
    settled: &KnockRecord,
    at: i64,
) -> Result<(), AppError> {
    let behind =
        |other: &KnockRecord| (other.knocked_at, &other.id) > (settled.knocked_at, &settled.id);
    for (ahead, other) in knocks::waiting(&mut *tx, room).await?.iter().enumerate() {
        if behind(other) {
            let position = i64::try_from(ahead).unwrap_or(i64::MAX - 1) + 1;
            let event = CallEvent::LobbyPosition { position };
            outbox
                .record(tx, &event, vec![other.session_id.clone()], at)
                .await?;
        }
    }
    Ok(())
}

/// The one audience resolver: who, in `room`, an event about `subject` is for. Read inside the
/// transaction, after the phase change, so it is the same for live delivery and replay.
pub(crate) async fn recipients(
    tx: &mut Tx,
    room: &str,
    subject: &str,
    audience: Audience,
) -> Result<Vec<String>, AppError> {
    Ok(match audience {
        Audience::Subject => vec![subject.to_owned()],
        Audience::Admins => sessions_repo::in_call_ids(tx, room, true).await?,
        Audience::OthersInCall => sessions_repo::in_call_ids(tx, room, false)
            .await?
            .into_iter()
            .filter(|id| id != subject)
            .collect(),
    })
}

/// A session letting itself in (joining, knocking) is checked again inside the transaction,
/// under the room's lock: a token revoked, a room deleted or changed, or a ban committed since
/// the caller's first check refuses it here, so it never lands in the call or the lobby after
/// the ejection that went with that change.
async fn check_entry(
    tx: &mut Tx,
    session: &SessionRecord,
    command: &Command,
) -> Result<(), AppError> {
    let wanted = match command {
        Command::Join => AccessLevel::Full,
        Command::Knock => AccessLevel::Lobby,
        _ => return Ok(()),
    };
    let access = access_in(tx, session)
        .await?
        .map_err(|refusal| refused(&refusal))?;
    match (wanted, access.level) {
        (AccessLevel::Full, AccessLevel::Full) | (AccessLevel::Lobby, AccessLevel::Lobby) => Ok(()),
        (AccessLevel::Full, AccessLevel::Lobby) => Err(AppError::Forbidden(
            "this room needs a host to let you in: ask to join instead".into(),
        )),
        (AccessLevel::Lobby, AccessLevel::Full) => Err(AppError::invalid(
            "you may join this room directly; there is no need to knock",
        )),
        _ => Err(AppError::Forbidden(
            "You don't have permission to join this call.".into(),
        )),
    }
}

/// Carries out `command` on `session` (as read inside `tx`): the transition the state machine
/// gives, its knock change, one guarded phase write, and its events, each to its audience.
/// Returns whether anything changed (`false`: nothing to do, e.g. cancelling without a knock).
pub(super) async fn apply(
    tx: &mut Tx,
    outbox: &mut Outbox,
    session: &SessionRecord,
    command: &Command,
    subject: &Subject,
) -> Result<bool, AppError> {
    let Some(transition) = transition(session.phase, command, subject) else {
        return Ok(false);
    };
    // A visit becomes a stored session when it joins or knocks, in this transaction: should
    // the entry be refused, nothing is stored.
    if let Some(new) = &session.unsaved
        && matches!(command, Command::Join | Command::Knock)
    {
        sessions_repo::insert(&mut *tx, new).await?;
    }
    check_entry(tx, session, command).await?;
    let room = &session.room;
    let at = now_millis();
    match (transition.knock, &subject.knock) {
        (KnockChange::Open, Some(knock)) => {
            // The knock's own id stays in the database; everyone else knows it by the
            // knocker's session id.
            let record = KnockRecord {
                id: uuid::Uuid::new_v4().to_string(),
                session_id: session.id.clone(),
                name: knock.name.clone(),
                note: knock.note.clone(),
                client: None,
                knocked_at: at,
            };
            knocks::insert(tx, &record, room).await?;
            sessions_repo::set_user_name(tx, &session.id, &knock.name).await?;
            webhooks::knock_opened(tx, room, session, &record).await?;
        }
        (KnockChange::Rename, Some(knock)) => {
            knocks::rename(tx, &session.id, &knock.name, knock.note.as_deref()).await?;
            sessions_repo::set_user_name(tx, &session.id, &knock.name).await?;
        }
        (KnockChange::Withdraw, Some(_)) => {
            // Sent away by an admin or the API, or gone of their own accord.
            let outcome = match command {
                Command::Eject { .. } => Outcome::Denied(None),
                _ => Outcome::Withdrawn,
            };
            let Some(knock) = settle_knock(tx, room, &session.id, outcome, at).await? else {
                return Ok(false);
            };
            tell_places(tx, outbox, room, &knock, at).await?;
        }
        (KnockChange::Open | KnockChange::Rename | KnockChange::Withdraw, None) => {
            return Ok(false);
        }
        (KnockChange::None, _) => {}
    }
    let moved = if transition.to == Phase::InCall {
        let room_record = rooms_repo::find_by_name(&mut *tx, room)
            .await?
            .ok_or_else(|| refused(&Refusal::NoRoom))?;
        let in_call = sessions_repo::count_in_call(tx, room).await?;
        access::has_room_for_one_more(&room_record, in_call)
            .map_err(|refusal| refused(&refusal))?;
        let deadline = access::ejection_deadline(&room_record, session.claims.as_ref(), now());
        sessions_repo::enter_call(
            tx,
            &session.id,
            &[transition.from],
            &subject.participant.user_name,
            subject.participant.joined_at,
            deadline,
        )
        .await?
    } else if transition.to == transition.from {
        true
    } else {
        sessions_repo::move_phase(tx, &session.id, &[transition.from], transition.to).await?
    };
    if !moved {
        // Read in this transaction and guarded on the phase read: only a bug gets here.
        return Err(AppError::internal(
            "changing a session's phase",
            format!(
                "session {} left {:?} meanwhile",
                session.id, transition.from
            ),
        ));
    }
    // The meeting's record and its webhook events: a meeting starts with the first one in the
    // call and ends with the last one out.
    if transition.to == Phase::InCall && transition.from != Phase::InCall {
        let participant = ParticipantRecord {
            participant_id: session.id.clone(),
            user_id: subject.participant.user_id.clone(),
            user_name: subject.participant.user_name.clone(),
            join_time: at,
            leave_time: None,
        };
        let started = meetings::joined(tx, room, &participant, at).await?;
        webhooks::call_entered(tx, room, &subject.participant, started, at).await?;
    } else if transition.from == Phase::InCall && transition.to != Phase::InCall {
        let ended = meetings::left(tx, room, &session.id, at).await?;
        webhooks::call_left(tx, room, &participant_of(session), ended, at).await?;
    }
    for effect in transition.effects {
        match effect {
            Effect::Event(audience, event) => {
                let to = recipients(tx, room, &session.id, audience).await?;
                outbox.record(tx, &event, to, at).await?;
            }
            Effect::LobbyToSubject => {
                for knock in knocks::waiting(&mut *tx, room).await? {
                    let event = CallEvent::WaitingParticipantAdded {
                        participant: knock.participant(),
                    };
                    outbox
                        .record(tx, &event, vec![session.id.clone()], at)
                        .await?;
                }
            }
        }
    }
    Ok(true)
}
