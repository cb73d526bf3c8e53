//! The lobby as a state machine: a session's [`Phase`] and a [`Command`] give a [`Transition`]:
//! the phase it moves to, what happens to its knock, and the events to record, each with its
//! [`Audience`]. The lobby service carries a transition out in one transaction (a guarded
//! write from the phase it was computed for, then the events); nothing here reads or writes.

use super::access::Refusal;
use crate::model::{
    AccessLevel, CallErrorDetail, CallErrorKind, CallEvent, Level, Participant, Phase, Resolution,
    WaitingParticipant,
};

/// What a session asks for, or what is done to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `join(name)`: enter the call directly (the access level is checked again in the
    /// transaction that carries it out); a knock still waiting is withdrawn.
    Join,
    /// `requestAccess(name)`: knock, or rename the knock already waiting.
    Knock,
    /// `cancel`: withdraw the knock.
    Cancel,
    /// `leave`, or the session's stream has been gone for the grace period.
    Leave,
    /// An admin (or the API) let the knock in. Its knock was settled by the decision itself.
    Admit {
        /// Who decided, as other admins are told.
        by: String,
    },
    /// An admin (or the API) turned the knock away. Its knock was settled by the decision.
    Deny {
        /// Who decided.
        by: String,
        /// And blocked them from knocking again.
        blocked: bool,
    },
    /// An admin sent a participant from the call back to the lobby: they wait again like any
    /// knocker (the subject's knock is the new one).
    SendToLobby,
    /// Removed from the room: by an admin or the API, or because time, the token or the room ran out.
    Eject {
        /// The daily-js error type the session is told.
        kind: CallErrorKind,
        /// The sentence it is told.
        msg: String,
    },
}

/// Who an event is for. Resolved to session ids inside the transaction that records the event,
/// after the phase change, so live delivery and replay agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The session the command is about.
    Subject,
    /// The admins in the call.
    Admins,
    /// Everyone in the call but the subject.
    OthersInCall,
}

/// One thing a transition records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// An event for an audience.
    Event(Audience, CallEvent),
    /// `waiting-participant-added` to the subject for every knock waiting: an admin who enters
    /// the call learns the lobby.
    LobbyToSubject,
}

/// What happens to the session's knock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnockChange {
    /// Nothing.
    None,
    /// A new knock starts waiting.
    Open,
    /// The waiting knock takes the new name.
    Rename,
    /// The waiting knock ends without a decision (cancelled, left, ejected).
    Withdraw,
}

/// A phase change and what goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The phase the session is in now; the write is guarded on it.
    pub from: Phase,
    /// The phase it moves to.
    pub to: Phase,
    /// What happens to its knock.
    pub knock: KnockChange,
    /// What to record, in order.
    pub effects: Vec<Effect>,
}

/// The session a command is about, as the events show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// As a participant of the call (for joining: with the name and time it enters with).
    pub participant: Participant,
    /// Its knock as admins see it (the new one when knocking, with the new name when
    /// renaming); `None` when it has none waiting.
    pub knock: Option<WaitingParticipant>,
    /// May decide on knocks.
    pub admin: bool,
}

fn access(level: AccessLevel, awaiting: Option<AccessLevel>) -> CallEvent {
    CallEvent::AccessStateUpdated {
        access: Level { level },
        awaiting_access: awaiting.map(|level| Level { level }),
    }
}

/// Admins are told a knock ended (when there was one).
fn knock_removed(subject: &Subject, resolution: Option<Resolution>) -> Option<Effect> {
    subject.knock.as_ref().map(|knock| {
        Effect::Event(
            Audience::Admins,
            CallEvent::WaitingParticipantRemoved {
                participant: knock.clone(),
                resolution,
            },
        )
    })
}

/// Entering the call: the others see the subject join; an admin learns the lobby.
fn entering(subject: &Subject) -> Vec<Option<Effect>> {
    // Camera and microphone start off at every join until the browser says otherwise.
    let participant = Participant {
        video: false,
        audio: false,
        ..subject.participant.clone()
    };
    vec![
        Some(Effect::Event(
            Audience::OthersInCall,
            CallEvent::ParticipantJoined { participant },
        )),
        subject.admin.then_some(Effect::LobbyToSubject),
        Some(Effect::Event(
            Audience::Subject,
            access(AccessLevel::Full, None),
        )),
    ]
}

fn leaving_call(subject: &Subject) -> Effect {
    Effect::Event(
        Audience::OthersInCall,
        CallEvent::ParticipantLeft {
            participant: subject.participant.clone(),
        },
    )
}

/// Entering the lobby: admins see the new knock, the subject learns it waits for `full`.
fn into_lobby(subject: &Subject) -> Vec<Option<Effect>> {
    vec![
        subject.knock.clone().map(|participant| {
            Effect::Event(
                Audience::Admins,
                CallEvent::WaitingParticipantAdded { participant },
            )
        }),
        Some(Effect::Event(
            Audience::Subject,
            access(AccessLevel::Lobby, Some(AccessLevel::Full)),
        )),
    ]
}

/// The transition for `command` on a session in phase `from`, or `None` when there is nothing
/// to do (joining a call one is in, cancelling without a knock, ejecting someone who left).
pub fn transition(from: Phase, command: &Command, subject: &Subject) -> Option<Transition> {
    use Phase::{Denied, Ejected, InCall, Left, Prejoin, Waiting};
    let (to, knock, effects): (Phase, KnockChange, Vec<Option<Effect>>) = match (from, command) {
        (InCall, Command::Join | Command::Knock) => return None,
        (_, Command::Knock) if subject.knock.is_none() => return None,
        // Walking in withdraws one's own knock: admins see it go.
        (Waiting, Command::Join) if subject.knock.is_some() => {
            let mut effects = vec![knock_removed(subject, None)];
            effects.extend(entering(subject));
            (InCall, KnockChange::Withdraw, effects)
        }
        (_, Command::Join) => (InCall, KnockChange::None, entering(subject)),
        (Waiting, Command::Knock) => (
            Waiting,
            KnockChange::Rename,
            vec![subject.knock.clone().map(|participant| {
                Effect::Event(
                    Audience::Admins,
                    CallEvent::WaitingParticipantUpdated { participant },
                )
            })],
        ),
        (Prejoin | Denied | Left | Ejected, Command::Knock) => {
            (Waiting, KnockChange::Open, into_lobby(subject))
        }
        (Waiting, Command::Cancel) => (
            Prejoin,
            KnockChange::Withdraw,
            vec![
                knock_removed(subject, None),
                Some(Effect::Event(
                    Audience::Subject,
                    access(AccessLevel::Lobby, None),
                )),
            ],
        ),
        (Waiting, Command::Leave) => (
            Left,
            KnockChange::Withdraw,
            vec![knock_removed(subject, None)],
        ),
        (InCall, Command::Leave) => (Left, KnockChange::None, vec![Some(leaving_call(subject))]),
        (InCall, Command::SendToLobby) if subject.knock.is_some() => {
            let mut effects = vec![Some(leaving_call(subject))];
            effects.extend(into_lobby(subject));
            (Waiting, KnockChange::Open, effects)
        }
        (Waiting, Command::Admit { by }) => {
            let mut effects = entering(subject);
            effects.push(knock_removed(
                subject,
                Some(Resolution {
                    granted: true,
                    by: Some(by.clone()),
                }),
            ));
            (InCall, KnockChange::None, effects)
        }
        (Waiting, Command::Deny { by, blocked }) => (
            Denied,
            KnockChange::None,
            vec![
                Some(Effect::Event(
                    Audience::Subject,
                    if *blocked {
                        CallEvent::Error {
                            error_msg: "Join request rejected".into(),
                            error: CallErrorDetail {
                                kind: CallErrorKind::NotAllowed,
                                msg: Refusal::Blocked.to_string(),
                            },
                        }
                    } else {
                        CallEvent::error(CallErrorKind::NotAllowed, "Join request rejected")
                    },
                )),
                knock_removed(
                    subject,
                    Some(Resolution {
                        granted: false,
                        by: Some(by.clone()),
                    }),
                ),
            ],
        ),
        (InCall | Waiting | Prejoin, Command::Eject { kind, msg }) => {
            let told = Some(Effect::Event(
                Audience::Subject,
                CallEvent::error(*kind, msg),
            ));
            let effects = match from {
                InCall => vec![Some(leaving_call(subject)), told],
                Waiting => vec![knock_removed(subject, None), told],
                _ => vec![told],
            };
            let knock = if from == Waiting {
                KnockChange::Withdraw
            } else {
                KnockChange::None
            };
            (Ejected, knock, effects)
        }
        (
            _,
            Command::Cancel
            | Command::Leave
            | Command::Admit { .. }
            | Command::Deny { .. }
            | Command::SendToLobby
            | Command::Eject { .. },
        ) => return None,
    };
    Some(Transition {
        from,
        to,
        knock,
        effects: effects.into_iter().flatten().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Audience::{Admins, OthersInCall, Subject as Me};
    use Phase::{Denied, Ejected, InCall, Left, Prejoin, Waiting};

    fn subject(admin: bool) -> Subject {
        Subject {
            participant: Participant {
                session_id: "s-1".into(),
                user_name: "Ben".into(),
                user_id: None,
                owner: false,
                joined_at: 7,
                video: true,
                audio: true,
            },
            knock: Some(WaitingParticipant {
                id: "k-1".into(),
                name: "Ben".into(),
                note: None,
                awaiting_access: Level {
                    level: AccessLevel::Full,
                },
            }),
            admin,
        }
    }

    /// The transition as (to, knock change, [(audience or "lobby", event name)]).
    type Shape = (Phase, KnockChange, Vec<(&'static str, &'static str)>);

    fn shape(transition: Transition) -> Shape {
        let effects = transition
            .effects
            .iter()
            .map(|effect| match effect {
                Effect::Event(audience, event) => (
                    match audience {
                        Me => "subject",
                        Admins => "admins",
                        OthersInCall => "others",
                    },
                    event.name(),
                ),
                Effect::LobbyToSubject => ("subject", "lobby"),
            })
            .collect();
        (transition.to, transition.knock, effects)
    }

    fn eject() -> Command {
        Command::Eject {
            kind: CallErrorKind::Ejected,
            msg: "You were removed from the call.".into(),
        }
    }

    #[test]
    fn every_phase_and_command_has_its_transition() {
        let by = || "Ana".to_owned();
        let joined = vec![
            ("others", "participant-joined"),
            ("subject", "access-state-updated"),
        ];
        let cases: Vec<(Phase, Command, Option<Shape>)> = vec![
            (
                Prejoin,
                Command::Join,
                Some((InCall, KnockChange::None, joined.clone())),
            ),
            (
                Denied,
                Command::Join,
                Some((InCall, KnockChange::None, joined.clone())),
            ),
            (
                Left,
                Command::Join,
                Some((InCall, KnockChange::None, joined.clone())),
            ),
            (
                Waiting,
                Command::Join,
                Some((
                    InCall,
                    KnockChange::Withdraw,
                    vec![
                        ("admins", "waiting-participant-removed"),
                        ("others", "participant-joined"),
                        ("subject", "access-state-updated"),
                    ],
                )),
            ),
            (InCall, Command::Join, None),
            (
                Prejoin,
                Command::Knock,
                Some((
                    Waiting,
                    KnockChange::Open,
                    vec![
                        ("admins", "waiting-participant-added"),
                        ("subject", "access-state-updated"),
                    ],
                )),
            ),
            (
                Denied,
                Command::Knock,
                Some((
                    Waiting,
                    KnockChange::Open,
                    vec![
                        ("admins", "waiting-participant-added"),
                        ("subject", "access-state-updated"),
                    ],
                )),
            ),
            (
                Waiting,
                Command::Knock,
                Some((
                    Waiting,
                    KnockChange::Rename,
                    vec![("admins", "waiting-participant-updated")],
                )),
            ),
            (InCall, Command::Knock, None),
            (
                Waiting,
                Command::Cancel,
                Some((
                    Prejoin,
                    KnockChange::Withdraw,
                    vec![
                        ("admins", "waiting-participant-removed"),
                        ("subject", "access-state-updated"),
                    ],
                )),
            ),
            (Prejoin, Command::Cancel, None),
            (InCall, Command::Cancel, None),
            (
                Waiting,
                Command::Leave,
                Some((
                    Left,
                    KnockChange::Withdraw,
                    vec![("admins", "waiting-participant-removed")],
                )),
            ),
            (
                InCall,
                Command::Leave,
                Some((
                    Left,
                    KnockChange::None,
                    vec![("others", "participant-left")],
                )),
            ),
            (Prejoin, Command::Leave, None),
            (Left, Command::Leave, None),
            (
                Waiting,
                Command::Admit { by: by() },
                Some((
                    InCall,
                    KnockChange::None,
                    vec![
                        ("others", "participant-joined"),
                        ("subject", "access-state-updated"),
                        ("admins", "waiting-participant-removed"),
                    ],
                )),
            ),
            (Left, Command::Admit { by: by() }, None),
            (
                Waiting,
                Command::Deny {
                    by: by(),
                    blocked: false,
                },
                Some((
                    Denied,
                    KnockChange::None,
                    vec![
                        ("subject", "error"),
                        ("admins", "waiting-participant-removed"),
                    ],
                )),
            ),
            (
                InCall,
                Command::Deny {
                    by: by(),
                    blocked: false,
                },
                None,
            ),
            (
                InCall,
                eject(),
                Some((
                    Ejected,
                    KnockChange::None,
                    vec![("others", "participant-left"), ("subject", "error")],
                )),
            ),
            (
                Waiting,
                eject(),
                Some((
                    Ejected,
                    KnockChange::Withdraw,
                    vec![
                        ("admins", "waiting-participant-removed"),
                        ("subject", "error"),
                    ],
                )),
            ),
            (
                Prejoin,
                eject(),
                Some((Ejected, KnockChange::None, vec![("subject", "error")])),
            ),
            (Denied, eject(), None),
            (Left, eject(), None),
            (Ejected, eject(), None),
        ];
        for (from, command, expected) in cases {
            let got = transition(from, &command, &subject(false)).map(shape);
            assert_eq!(got, expected, "{from:?} x {command:?}");
            if let Some(transition) = transition(from, &command, &subject(false)) {
                assert_eq!(
                    transition.from, from,
                    "a transition is guarded on its own phase"
                );
            }
        }
    }

    #[test]
    fn an_admin_entering_the_call_learns_the_lobby_before_its_access_changes() {
        for command in [Command::Join, Command::Admit { by: "Ana".into() }] {
            let transition = transition(Prejoin, &command, &subject(true))
                .or_else(|| transition(Waiting, &command, &subject(true)))
                .expect("enters");
            let (_, _, effects) = shape(transition);
            assert_eq!(effects[1], ("subject", "lobby"), "{command:?}");
            assert_eq!(
                effects[2],
                ("subject", "access-state-updated"),
                "{command:?}"
            );
        }
    }

    #[test]
    fn joining_shows_camera_and_microphone_off_until_the_browser_says_otherwise() {
        let transition = transition(Prejoin, &Command::Join, &subject(false)).expect("joins");
        let Effect::Event(_, CallEvent::ParticipantJoined { participant }) = &transition.effects[0]
        else {
            panic!("participant-joined first");
        };
        assert!(!participant.video && !participant.audio);
        assert_eq!(participant.joined_at, 7);
    }

    #[test]
    fn other_admins_are_told_who_decided() {
        let transition = transition(
            Waiting,
            &Command::Deny {
                by: "Ana".into(),
                blocked: false,
            },
            &subject(false),
        )
        .expect("denies");
        assert!(transition.effects.contains(&Effect::Event(
            Admins,
            CallEvent::WaitingParticipantRemoved {
                participant: subject(false).knock.expect("has a knock"),
                resolution: Some(Resolution {
                    granted: false,
                    by: Some("Ana".into()),
                }),
            },
        )));
    }

    #[test]
    fn a_blocked_knocker_is_told_they_cannot_ask_again() {
        let transition = transition(
            Waiting,
            &Command::Deny {
                by: "Ana".into(),
                blocked: true,
            },
            &subject(false),
        )
        .expect("denies");
        assert_eq!(transition.to, Denied);
        let Effect::Event(Me, CallEvent::Error { error_msg, error }) = &transition.effects[0]
        else {
            panic!("the knocker is told first: {:?}", transition.effects);
        };
        assert_eq!(error_msg, "Join request rejected");
        assert_eq!(error.kind, CallErrorKind::NotAllowed);
        assert_eq!(error.msg, "You can't ask to join this call again.");
    }

    #[test]
    fn someone_sent_to_the_lobby_leaves_the_call_and_waits_again() {
        let transition =
            transition(InCall, &Command::SendToLobby, &subject(false)).expect("sent to the lobby");
        assert_eq!(transition.to, Waiting);
        assert_eq!(transition.knock, KnockChange::Open);
        let names: Vec<(Audience, &str)> = transition
            .effects
            .iter()
            .map(|effect| match effect {
                Effect::Event(audience, event) => (*audience, event.name()),
                Effect::LobbyToSubject => (Me, "lobby"),
            })
            .collect();
        assert_eq!(
            names,
            [
                (OthersInCall, "participant-left"),
                (Admins, "waiting-participant-added"),
                (Me, "access-state-updated"),
            ]
        );
        // Only from the call.
        for phase in [Prejoin, Waiting, Denied, Left, Ejected] {
            assert!(transition_is_none(phase));
        }
    }

    fn transition_is_none(phase: Phase) -> bool {
        transition(phase, &Command::SendToLobby, &subject(false)).is_none()
    }
}
