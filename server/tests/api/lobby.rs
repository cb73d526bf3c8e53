//! The lobby, end to end over HTTP and server-sent events: knocking, deciding, presence and
//! replay, limits, the REST lobby and ejection, and who hears about what.

mod consistency;
mod deciding;
mod ejecting;
mod extras;
mod knocking;
mod limits;
mod moderation;
mod presence;
mod rest;

use serde_json::Value;

use crate::helpers::{EVENT_TIMEOUT, Event, EventStream};

/// The JSON list `list` of strings, sorted.
fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect();
    items.sort();
    items
}

fn sorted_ids(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

/// The one event named `name` among `events`.
fn find<'a>(events: &'a [Event], name: &str) -> &'a Event {
    let mut found = events.iter().filter(|event| event.name == name);
    let event = found
        .next()
        .unwrap_or_else(|| panic!("no {name} in {events:?}"));
    assert!(found.next().is_none(), "two {name} in {events:?}");
    event
}

/// Checks a decision answer: exactly `ids` decided and `handled` already handled.
fn assert_decided(answer: &Value, ids: &[&str], handled: &[&str]) {
    assert_eq!(sorted(&answer["ids"]), sorted_ids(ids), "{answer}");
    assert_eq!(
        sorted(&answer["alreadyHandled"]),
        sorted_ids(handled),
        "{answer}"
    );
}

/// The outcome event a guest must get for `granted`, checked.
fn assert_outcome(event: &Event, granted: bool) {
    if granted {
        assert_eq!(event.name, "access-state-updated", "{event:?}");
        assert_eq!(event.data["access"]["level"], "full", "{event:?}");
    } else {
        assert_eq!(event.name, "error", "{event:?}");
        assert_eq!(event.data["error"]["type"], "not-allowed", "{event:?}");
    }
}

/// What an admin's stream shows once a knock is decided: the guest joining (when `granted`)
/// and the knock's removal, in either order; the removal.
async fn removal_after_decision(events: &mut EventStream, granted: bool) -> Event {
    let mut got = if granted {
        events
            .expect_events_unordered(
                &["participant-joined", "waiting-participant-removed"],
                EVENT_TIMEOUT,
            )
            .await
    } else {
        vec![
            events
                .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
                .await,
        ]
    };
    let at = got
        .iter()
        .position(|event| event.name == "waiting-participant-removed")
        .expect("the removal");
    got.swap_remove(at)
}
