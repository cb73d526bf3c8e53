//! Several Knock servers on one PostgreSQL database (PRODUCT.md §6): two real `knock` binaries
//! on two ports share a database, and people and REST clients talk to either. These tests need
//! PostgreSQL, so they are `#[ignore]`d in the plain run and `make test` runs them with a
//! throwaway cluster (`scripts/with-postgres.sh`).

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{Pair, Person};

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn fifty_decisions_on_one_knock_through_both_servers_and_rest_make_exactly_one() {
    let pair = Pair::start().await;
    let room = pair.api(false).knocking_room("standup").await;
    let ana = pair
        .with_token(&room, false, json!({"is_owner": true, "user_name": "Ana"}))
        .await;
    let cleo = pair
        .with_token(
            &room,
            true,
            json!({"user_name": "Cleo", "permissions": {"canAdmin": ["participants"]}}),
        )
        .await;
    let _ana_events = ana.enter("Ana").await;
    let _cleo_events = cleo.enter("Cleo").await;
    let ben = Person::arrive(pair.url(false), &room, None).await;
    let _ben_events = ben.events().await;
    ben.knocked("Ben").await;
    let waiting = pair.api(true).waiting(&room).await;
    let id = waiting["data"][0]["id"]
        .as_str()
        .expect("Ben's knock, seen through B")
        .to_owned();

    let decisions = (0..50).map(|i| {
        let grant = i % 2 == 0;
        let (ana, cleo, pair, id, room) = (&ana, &cleo, &pair, &id, &room);
        async move {
            let (status, answer) = match i % 3 {
                0 => ana.decide(id, grant).await,
                1 => cleo.decide(id, grant).await,
                _ => {
                    let body = json!({ id.as_str(): {"grantRequestedAccess": grant} });
                    let answer = pair
                        .api(i % 2 == 1)
                        .post(&format!("/v1/rooms/{room}/waiting"), body)
                        .await;
                    (reqwest::StatusCode::OK, answer)
                }
            };
            assert_eq!(status, 200, "decision {i}: {answer}");
            (grant, answer)
        }
    });
    let answers = join_all(decisions).await;
    let winners: Vec<bool> = answers
        .iter()
        .filter(|(_, answer)| answer["ids"] == json!([id]))
        .map(|(grant, _)| *grant)
        .collect();
    let handled = answers
        .iter()
        .filter(|(_, answer)| answer["alreadyHandled"] == json!([id]))
        .count();
    assert_eq!(winners.len(), 1, "exactly one decision: {answers:?}");
    assert_eq!(handled, 49, "{answers:?}");
    let expected = if winners[0] { "in_call" } else { "denied" };
    assert_eq!(ben.phase().await, expected);
    assert_eq!(pair.api(false).waiting(&room).await["data"], json!([]));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn five_simultaneous_joins_across_both_servers_leave_exactly_two_in_a_room_for_two() {
    let pair = Pair::start().await;
    pair.api(false)
        .create_room(json!({"name": "pair", "properties": {"max_participants": 2}}))
        .await;
    let people = join_all((0..5).map(|n| Person::arrive(pair.url(n % 2 == 1), "pair", None))).await;
    let answers = join_all(
        people
            .iter()
            .enumerate()
            .map(|(n, person)| async move { person.join(&format!("Person {n}")).await }),
    )
    .await;
    let joined = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(joined, 2, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 403, "{answer}");
        assert!(
            answer.to_string().contains("This call is full."),
            "{answer}"
        );
    }
    let presence = pair.api(true).get("/v1/rooms/pair/presence").await;
    assert_eq!(presence["total_count"], 2, "{presence}");
}
