//! Deciding on knocks: the lobby as admins see it (`waitingParticipants()`), and admitting or
//! denying (`updateWaitingParticipant(s)`), each knock exactly once.

use super::{
    apply::{Outcome, apply, participant, settle_knock, tell_places},
    sessions::reload,
};
use crate::ssr::domain::lobby::Command;
use crate::{
    error::AppError,
    model::{Decisions, Phase, WaitingParticipant},
    ssr::{
        db::{
            bans,
            knocks::{self, KnockRecord},
            rooms as rooms_repo,
            sessions::{self as sessions_repo, SessionRecord},
        },
        domain::lobby::Subject,
        events::Outbox,
        state::AppState,
        time::now_millis,
        validate,
    },
};

/// The longest waiting participant id a decision may name (ours are 36-character UUIDs).
const MAX_PARTICIPANT_ID: usize = 64;

/// Who asks for a lobby operation.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A participant, through the pages or the call client.
    Session(Box<SessionRecord>),
    /// The REST API (authenticated with the API key).
    Api,
}

/// One decision asked for: a waiting participant's id (their session id), or `*` for
/// everyone waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// A waiting participant's id, or `*`.
    pub target: String,
    /// Let in, or turn away.
    pub grant: bool,
    /// Turned away, also keep them (their session and their address) from knocking again in
    /// this room.
    pub block: bool,
}

/// Checks that `actor` may see and decide on the lobby of `room`; the name other admins are
/// told decided (`None` for the API).
pub(super) async fn authorize_admin(
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
            let current = reload(state, session).await?;
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
    Ok(knocks::waiting(&state.db, room)
        .await?
        .into_iter()
        .map(|knock| (knock.participant(), knock.knocked_at))
        .collect())
}

/// `updateWaitingParticipant(s)`: admit or deny knocks. Explicit ids win over `*`. A knock
/// that is no longer waiting is reported in `alreadyHandled` and changes nothing.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    room: &str,
    decisions: Vec<Decision>,
) -> Result<Decisions, AppError> {
    let by = authorize_admin(state, actor, room)
        .await?
        .unwrap_or_else(|| "the API".to_owned());
    for decision in decisions.iter().filter(|decision| decision.target != "*") {
        validate::identifier("id", &decision.target, MAX_PARTICIPANT_ID)?;
    }
    let mut tx = state.db.write_room(room).await?;
    let mut outbox = Outbox::new(room);

    let star = decisions
        .iter()
        .find(|decision| decision.target == "*")
        .map(|d| d.grant);
    let mut plan: Vec<(String, bool, bool)> = decisions
        .iter()
        .filter(|decision| decision.target != "*")
        .map(|decision| {
            (
                decision.target.clone(),
                decision.grant,
                decision.block && !decision.grant,
            )
        })
        .collect();
    if let Some(grant) = star {
        for knock in knocks::waiting(&mut tx, room).await? {
            if !plan.iter().any(|(id, _, _)| *id == knock.session_id) {
                plan.push((knock.session_id, grant, false));
            }
        }
    }

    let mut answer = Decisions::default();
    // The earliest knock settled here: whoever still waits behind it moves up.
    let mut earliest: Option<KnockRecord> = None;
    for (id, grant, block) in plan {
        let outcome = if grant {
            Outcome::Allowed(by.clone())
        } else {
            Outcome::Denied(Some(by.clone()))
        };
        // The one conditional write that makes a decision exactly-once.
        let Some(knock) = settle_knock(&mut tx, room, &id, outcome, now_millis()).await? else {
            answer.already_handled.push(id);
            continue;
        };
        let guest = sessions_repo::find(&mut tx, &knock.session_id)
            .await?
            .ok_or_else(|| AppError::internal("deciding a knock", "knock without session"))?;
        let subject = Subject {
            participant: participant(&guest, &knock.name, now_millis()),
            knock: Some(KnockRecord::participant(&knock)),
            admin: guest.is_admin,
        };
        let command = if grant {
            Command::Admit { by: by.clone() }
        } else {
            Command::Deny {
                by: by.clone(),
                blocked: block,
            }
        };
        if block {
            bans::ban(&mut tx, room, "blocked", &knock.session_id).await?;
            if let Some(client) = &knock.client {
                bans::ban(&mut tx, room, "client", client).await?;
            }
        }
        apply(&mut tx, &mut outbox, &guest, &command, &subject).await?;
        answer.ids.push(id);
        if earliest
            .as_ref()
            .is_none_or(|first| (knock.knocked_at, &knock.id) < (first.knocked_at, &first.id))
        {
            earliest = Some(knock);
        }
    }
    if let Some(first) = &earliest {
        tell_places(&mut tx, &mut outbox, room, first, now_millis()).await?;
    }
    outbox.commit(tx, &state.events).await?;
    // Whoever was let in may move the call to the SFU.
    crate::ssr::sfu::call_changed(state, room);
    Ok(answer)
}
