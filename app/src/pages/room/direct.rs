//! Entering without the prejoin page (Daily's `enable_prejoin_ui: false`).
//!
//! A visitor with full access is not shown `Ready to join?`: with a name (the token's
//! `user_name`), the page joins by itself as soon as it runs in the browser; without one, it
//! asks for the name only (`Your name` and `Join`, no camera preview). Without JavaScript the
//! same form is the way in, with the name filled in. A visitor who must knock keeps the
//! prejoin page (the knock form), as Daily keeps its knock UI; one who left the call is offered
//! the form again rather than re-entering by themselves.

use leptos::prelude::*;

use super::{follow, prefetch_call, prejoin::NameField};
use crate::{
    api::call::Join,
    call::CallClient,
    components::title::PageTitle,
    model::{AccessLevel, CallState, Phase},
    pages::form::{PageAction, PageForm},
};

/// What the room page shows instead of the prejoin page, when it skips it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct DirectEntry {
    /// The name to join under, when the session has one (its token's `user_name`).
    pub name: Option<String>,
    /// Join at once, without a click (a first visit, not a return after leaving).
    pub at_once: bool,
}

/// Whether `state` skips the prejoin page, and how it enters instead; `None` keeps the
/// prejoin page (it is on, or the visitor must knock or cannot come in).
pub(super) fn direct_entry(state: &CallState) -> Option<DirectEntry> {
    if state.settings.prejoin_ui || state.access.access.level != AccessLevel::Full {
        return None;
    }
    let name = state
        .user_name
        .clone()
        .filter(|name| !name.trim().is_empty());
    match state.phase {
        Phase::Prejoin => Some(DirectEntry {
            at_once: name.is_some(),
            name,
        }),
        Phase::Left => Some(DirectEntry {
            name,
            at_once: false,
        }),
        _ => None,
    }
}

/// The name form that stands in for the prejoin page; joins by itself when `entry` says so.
#[component]
pub(super) fn DirectJoin(call: CallClient, entry: DirectEntry) -> impl IntoView {
    let room = call.room();
    let join = PageAction::<CallState>::new::<Join>();
    follow(call, move || join.value());
    prefetch_call();
    let error = move || join.error();
    let pending = move || join.pending();
    #[cfg(feature = "hydrate")]
    if entry.at_once
        && let Some(name) = entry.name.clone()
    {
        let room = room.clone();
        // Once, after hydration: a failure (a name the server refuses) leaves the form to fix it.
        Effect::new(move |done: Option<()>| {
            if done.is_none() {
                join.dispatch(&[("room", &room), ("name", &name)]);
            }
        });
    }
    let (heading, lead) = match (&entry.name, entry.at_once) {
        (Some(name), true) => ("Joining the call…", format!("You join as {name}.")),
        (Some(_), false) => ("You left the call", "Join again when you like.".to_owned()),
        (None, _) => ("Join the call", "Enter your name to join.".to_owned()),
    };
    view! {
        <PageTitle text=format!("{room} · Knock")/>
        <main class="page narrow card">
            <p class="room-name">{room.clone()}</p>
            <h1>{heading}</h1>
            <p>{lead}</p>
            <PageForm action=join>
                <input type="hidden" name="room" value=room.clone()/>
                <NameField value=entry.name.clone().unwrap_or_default() described_by="join-error"/>
                <button type="submit" disabled=pending>"Join"</button>
            </PageForm>
            <p id="join-error" class="error" role="alert">{error}</p>
        </main>
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::{AccessState, CallSettings, Level};

    /// A session's state in room `standup` (also the room page's tests').
    pub(in crate::pages::room) fn state(
        phase: Phase,
        level: AccessLevel,
        name: Option<&str>,
        prejoin_ui: bool,
    ) -> CallState {
        CallState {
            room: "standup".into(),
            session_id: "s".into(),
            access: AccessState {
                access: Level { level },
                awaiting_access: None,
            },
            phase,
            admin: false,
            owner: false,
            user_name: name.map(Into::into),
            host_present: false,
            refusal: None,
            last_event_id: 0,
            position: None,
            message: None,
            settings: CallSettings {
                prejoin_ui,
                ..CallSettings::default()
            },
            room_access: None,
        }
    }

    #[test]
    fn full_access_with_a_name_joins_at_once_when_the_prejoin_page_is_off() {
        let named = state(Phase::Prejoin, AccessLevel::Full, Some("Ana"), false);
        assert_eq!(
            direct_entry(&named),
            Some(DirectEntry {
                name: Some("Ana".into()),
                at_once: true
            })
        );
    }

    #[test]
    fn without_a_name_only_the_name_is_asked_for() {
        for name in [None, Some("  ")] {
            let nameless = state(Phase::Prejoin, AccessLevel::Full, name, false);
            assert_eq!(
                direct_entry(&nameless),
                Some(DirectEntry {
                    name: None,
                    at_once: false
                })
            );
        }
    }

    #[test]
    fn knockers_and_the_refused_keep_the_prejoin_page() {
        for level in [AccessLevel::Lobby, AccessLevel::None] {
            let knocker = state(Phase::Prejoin, level, Some("Ben"), false);
            assert_eq!(direct_entry(&knocker), None, "{level:?}");
        }
    }

    #[test]
    fn the_prejoin_page_stays_when_it_is_on() {
        let shown = state(Phase::Prejoin, AccessLevel::Full, Some("Ana"), true);
        assert_eq!(direct_entry(&shown), None);
    }

    #[test]
    fn someone_who_left_is_offered_the_form_rather_than_rejoining_by_themselves() {
        let left = state(Phase::Left, AccessLevel::Full, Some("Ana"), false);
        assert_eq!(
            direct_entry(&left),
            Some(DirectEntry {
                name: Some("Ana".into()),
                at_once: false
            })
        );
    }

    #[test]
    fn only_the_prejoin_phases_are_replaced() {
        for phase in [Phase::Waiting, Phase::InCall, Phase::Denied, Phase::Ejected] {
            let other = state(phase, AccessLevel::Full, Some("Ana"), false);
            assert_eq!(direct_entry(&other), None, "{phase:?}");
        }
    }
}
