//! The media service: what a call's browsers need to see and hear each other. Signaling
//! (offers, answers, ICE candidates) is relayed only between two sessions that are both in the
//! call, through the same event log as everything else, so the lobby's rules guard the media:
//! a knocking, waiting or denied guest can neither send nor receive it.

use super::{
    db::{
        limits::spend,
        sessions::{self as repo, SessionRecord},
    },
    domain::lobby::Audience,
    events::Outbox,
    lobby::{participant_of, recipients},
    state::AppState,
    time::{now, now_millis},
};
use crate::{
    error::AppError,
    model::{CallEvent, IceServer, MAX_SIGNAL_MESSAGES, Participant, Phase, SignalMessage},
};

/// The longest session description accepted (real ones are a few kilobytes).
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// The longest session description accepted for the SFU: the answer to its offer has two media
/// sections (a few hundred bytes each) per other participant, so it grows with the call, up to
/// what a request body may carry (64 KiB of JSON): enough for rooms of about 80.
pub const MAX_SFU_SDP_BYTES: usize = 56 * 1024;
/// The longest ICE candidate line accepted.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// The signaling a session may send in a burst, in bytes of messages (their JSON); it refills
/// over [`SIGNAL_WINDOW_MILLIS`], so this much per 10 s in the long run. Joining a mesh of a
/// few people takes a few tens of kilobytes (an offer or answer of a few kilobytes and a dozen
/// candidates per other participant).
pub const SIGNAL_BUDGET_BYTES: i64 = 512 * 1024;
/// The time over which a spent signaling budget refills completely.
pub const SIGNAL_WINDOW_MILLIS: i64 = 10_000;
/// What a request costs at least, in bytes of the budget: this also bounds the number of
/// requests, to 256 in a burst and about 25 a second after it.
pub const SIGNAL_REQUEST_BYTES: i64 = 2 * 1024;

/// What sending `messages` costs, in milliseconds of the budget's window: their JSON's bytes
/// (at least [`SIGNAL_REQUEST_BYTES`]) as a share of [`SIGNAL_BUDGET_BYTES`], rounded up.
fn signal_cost(messages: &[SignalMessage]) -> Result<i64, AppError> {
    let bytes = serde_json::to_vec(messages)
        .map_err(|error| AppError::internal("measuring signaling", error))?
        .len();
    let bytes = i64::try_from(bytes)
        .unwrap_or(i64::MAX)
        .max(SIGNAL_REQUEST_BYTES);
    Ok(
        (bytes.saturating_mul(SIGNAL_WINDOW_MILLIS) + SIGNAL_BUDGET_BYTES - 1)
            / SIGNAL_BUDGET_BYTES,
    )
}

fn over_budget() -> AppError {
    AppError::RateLimited(format!(
        "too much signaling from this participant: at most {} KiB (or {} requests) every {} \
         seconds; please wait a moment",
        SIGNAL_BUDGET_BYTES / 1024,
        SIGNAL_BUDGET_BYTES / SIGNAL_REQUEST_BYTES,
        SIGNAL_WINDOW_MILLIS / 1000,
    ))
}

fn not_in_call() -> AppError {
    AppError::Forbidden("only participants in the call can send or receive its media".into())
}

/// Checks the messages' shape and size (descriptions of at most `max_sdp` bytes) before
/// anything is stored.
fn validate(messages: &[SignalMessage], max_sdp: usize) -> Result<(), AppError> {
    if messages.is_empty() || messages.len() > MAX_SIGNAL_MESSAGES {
        return Err(AppError::InvalidRequest(format!(
            "messages: send between 1 and {MAX_SIGNAL_MESSAGES} signaling messages at a time"
        )));
    }
    for message in messages {
        match message {
            SignalMessage::Description(description) if description.sdp.len() > max_sdp => {
                return Err(AppError::InvalidRequest(format!(
                    "messages: a session description may be at most {max_sdp} bytes"
                )));
            }
            SignalMessage::Candidate(candidate)
                if candidate.candidate.len() > MAX_CANDIDATE_BYTES =>
            {
                return Err(AppError::InvalidRequest(format!(
                    "messages: an ICE candidate may be at most {MAX_CANDIDATE_BYTES} bytes"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Relays `messages` from `session` to the session `to`; both must be in the same call. Each
/// session has a signaling budget (requests and bytes, [`SIGNAL_BUDGET_BYTES`] per
/// [`SIGNAL_WINDOW_MILLIS`]), counted in the database so it holds across servers; beyond it
/// the request is refused with 429 and nothing is stored.
pub async fn signal(
    state: &AppState,
    session: &SessionRecord,
    to: &str,
    messages: Vec<SignalMessage>,
) -> Result<(), AppError> {
    if to == super::sfu::PEER {
        validate(&messages, MAX_SFU_SDP_BYTES)?;
        let cost = signal_cost(&messages)?;
        let relayed =
            super::sfu::relay::signal(state, session, messages, cost, SIGNAL_WINDOW_MILLIS).await?;
        return if relayed { Ok(()) } else { Err(over_budget()) };
    }
    validate(&messages, MAX_SDP_BYTES)?;
    let mut tx = state.db.write_room(&session.room).await?;
    let sender = repo::find(&mut tx, &session.id)
        .await?
        .filter(|sender| sender.phase == Phase::InCall)
        .ok_or_else(not_in_call)?;
    let receiver = repo::find(&mut tx, to)
        .await?
        .filter(|receiver| {
            receiver.room == sender.room
                && receiver.phase == Phase::InCall
                && receiver.id != sender.id
        })
        .ok_or_else(|| {
            AppError::Forbidden(format!("{to} is not another participant in this call"))
        })?;
    let cost = signal_cost(&messages)?;
    let budget = format!("signal:{}", sender.id);
    if !spend(&mut tx, &budget, now_millis(), cost, SIGNAL_WINDOW_MILLIS).await? {
        return Err(over_budget());
    }
    let mut outbox = Outbox::new(&sender.room);
    let event = CallEvent::Signal {
        from: sender.id.clone(),
        messages,
    };
    outbox
        .record(&mut tx, &event, vec![receiver.id], now_millis())
        .await?;
    outbox.commit(tx, &state.events).await?;
    Ok(())
}

/// Records that `session` sends video and/or audio, and tells the others in the call.
pub async fn set_media(
    state: &AppState,
    session: &SessionRecord,
    video: bool,
    audio: bool,
) -> Result<Participant, AppError> {
    let mut tx = state.db.write_room(&session.room).await?;
    if !repo::set_media(&mut tx, &session.id, video, audio).await? {
        return Err(not_in_call());
    }
    let current = repo::find(&mut tx, &session.id)
        .await?
        .ok_or_else(not_in_call)?;
    let participant = participant_of(&current);
    let others = recipients(&mut tx, &current.room, &current.id, Audience::OthersInCall).await?;
    let mut outbox = Outbox::new(&current.room);
    let event = CallEvent::ParticipantUpdated {
        participant: participant.clone(),
    };
    outbox.record(&mut tx, &event, others, now_millis()).await?;
    outbox.commit(tx, &state.events).await?;
    Ok(participant)
}

/// The STUN/TURN servers for a participant in the call: `KNOCK_ICE_SERVERS`, then, with
/// `KNOCK_TURN_URLS`, the TURN server with credentials of this participant's own (see
/// [`TurnServer::credentials_for`](super::config::TurnServer::credentials_for)). TURN
/// credentials are not handed to the lobby.
pub async fn ice_servers(
    state: &AppState,
    session: &SessionRecord,
) -> Result<Vec<IceServer>, AppError> {
    let in_call = repo::find(&state.db, &session.id)
        .await?
        .is_some_and(|current| current.phase == Phase::InCall);
    if !in_call {
        return Err(not_in_call());
    }
    let mut servers = state.config.ice_servers.0.clone();
    if let Some(turn) = &state.config.turn {
        servers.push(turn.credentials_for(&session.id, now()));
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IceCandidate, SdpKind, SessionDescription};

    fn offer(bytes: usize) -> SignalMessage {
        SignalMessage::Description(SessionDescription {
            kind: SdpKind::Offer,
            sdp: "v".repeat(bytes),
        })
    }

    #[test]
    fn messages_are_bounded_in_number_and_size() {
        let validate = |messages: &[SignalMessage]| validate(messages, MAX_SDP_BYTES);
        assert!(validate(&[offer(3000)]).is_ok());
        assert!(validate(&[]).is_err(), "nothing to send");
        assert!(validate(&vec![offer(10); MAX_SIGNAL_MESSAGES + 1]).is_err());
        assert!(validate(&[offer(MAX_SDP_BYTES + 1)]).is_err());
        let candidate = |len| {
            SignalMessage::Candidate(IceCandidate {
                candidate: "c".repeat(len),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            })
        };
        assert!(validate(&[candidate(200)]).is_ok());
        assert!(validate(&[candidate(MAX_CANDIDATE_BYTES + 1)]).is_err());
    }

    #[test]
    fn the_answer_to_the_sfu_may_be_longer_and_still_fits_in_a_request() {
        assert!(validate(&[offer(40 * 1024)], MAX_SFU_SDP_BYTES).is_ok());
        assert!(
            validate(&[offer(40 * 1024)], MAX_SDP_BYTES).is_err(),
            "not to a peer"
        );
        assert!(validate(&[offer(MAX_SFU_SDP_BYTES + 1)], MAX_SFU_SDP_BYTES).is_err());
        // The request carries the SDP in JSON, where each line break takes two bytes more
        // (`\r\n`): the largest answer, in short lines, still fits the 64 KiB body limit.
        let line = "a=rtcp-fb:96 nack\r\n";
        let largest = SignalMessage::Description(SessionDescription {
            kind: SdpKind::Answer,
            sdp: line.repeat(MAX_SFU_SDP_BYTES / line.len()),
        });
        assert!(validate(std::slice::from_ref(&largest), MAX_SFU_SDP_BYTES).is_ok());
        let body = serde_json::json!({"room": "r".repeat(128), "to": "sfu", "messages": [largest]});
        assert!(serde_json::to_vec(&body).expect("encodes").len() < 64 * 1024);
    }

    #[test]
    fn messages_have_the_browser_shape() {
        let json = serde_json::json!([
            {"description": {"type": "answer", "sdp": "v=0"}},
            {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
                           "sdpMid": "0", "sdpMLineIndex": 0}}
        ]);
        let messages: Vec<SignalMessage> = serde_json::from_value(json.clone()).expect("parses");
        assert_eq!(serde_json::to_value(&messages).expect("encodes"), json);
        let rollback = serde_json::json!([{"description": {"type": "rollback", "sdp": ""}}]);
        assert!(serde_json::from_value::<Vec<SignalMessage>>(rollback).is_err());
    }
}
