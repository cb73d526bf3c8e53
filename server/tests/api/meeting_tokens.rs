//! `/v1/meeting-tokens`: minting HS256 tokens with Daily's short claims, validating them (and
//! refusing forged, expired or revoked ones), self-signed tokens and revocation.

use std::collections::BTreeSet;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, mentions, now, send, spawn_app, spawn_sqlite_app};

async fn post_token(app: &TestApp, body: Value) -> (StatusCode, Value) {
    send(authed(app, Method::POST, "/v1/meeting-tokens").json(&body)).await
}

/// Mints a token with `properties`, which must succeed.
async fn mint(app: &TestApp, properties: Value) -> String {
    let (status, body) = post_token(app, json!({"properties": properties})).await;
    assert_eq!(status, 200, "{body}");
    body["token"]
        .as_str()
        .expect("token is a string")
        .to_owned()
}

/// `GET /v1/meeting-tokens/{token}` with an optional query string (`"?ignoreNbf=true"`).
async fn validate(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    send(authed(
        app,
        Method::GET,
        &format!("/v1/meeting-tokens/{token}{query}"),
    ))
    .await
}

async fn revoke(app: &TestApp, token: &str) -> (StatusCode, Value) {
    send(authed(
        app,
        Method::DELETE,
        &format!("/v1/meeting-tokens/{token}"),
    ))
    .await
}

/// Decodes part `index` (0 header, 1 payload) of a JWT.
fn part(token: &str, index: usize) -> Value {
    let encoded = token.split('.').nth(index).expect("JWT part");
    let bytes = URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("serialize"))
}

fn keys(object: &Value) -> BTreeSet<String> {
    object
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|&key| key.to_owned()).collect()
}

/// Signs `claims` as a client holding `secret` would.
fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// Asserts a 400 `invalid-request-error` with a non-empty reason; returns the reason.
#[track_caller]
fn assert_refused(answer: &(StatusCode, Value)) -> String {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["error"], "invalid-request-error", "{body}");
    let info = body["info"].as_str().expect("info is a string");
    assert!(!info.trim().is_empty(), "{body}");
    info.to_owned()
}

#[tokio::test]
async fn minting_returns_an_hs256_jwt_for_a_room_that_need_not_exist() {
    let app = spawn_app().await;
    let token = mint(
        &app,
        json!({"room_name": "DAILY_ROOM_NAME", "is_owner": true}),
    )
    .await;
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(
        token.split('.').all(|part| !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')),
        "three base64url parts: {token}"
    );
    assert_eq!(part(&token, 0)["alg"], "HS256");
    let claims = part(&token, 1);
    assert_eq!(claims["r"], "DAILY_ROOM_NAME");
    assert_eq!(claims["o"], true);
}

#[tokio::test]
async fn a_full_token_carries_dailys_short_claims() {
    let app = spawn_app().await;
    let (status, info) = send(authed(&app, Method::GET, "/v1/")).await;
    assert_eq!(status, 200, "{info}");
    let domain_id = info["domain_id"].as_str().expect("domain_id").to_owned();

    let (nbf, exp) = (now() - 10, now() + 3600);
    let token = mint(
        &app,
        json!({
            "room_name": "standup", "is_owner": false, "user_name": "Ana", "user_id": "user-42",
            "exp": exp, "nbf": nbf, "eject_at_token_exp": true, "eject_after_elapsed": 600,
            "knocking": true, "permissions": {"canAdmin": ["participants"]}
        }),
    )
    .await;
    let claims = part(&token, 1);
    assert_eq!(
        keys(&claims),
        set(&[
            "r", "o", "u", "ud", "exp", "nbf", "iat", "d", "k", "ejt", "eje", "p", "jti"
        ]),
        "{claims}"
    );
    assert_eq!(claims["r"], "standup");
    assert_eq!(claims["o"], false);
    assert_eq!(claims["u"], "Ana");
    assert_eq!(claims["ud"], "user-42");
    assert_eq!(claims["exp"], exp);
    assert_eq!(claims["nbf"], nbf);
    assert_eq!(claims["d"], domain_id.as_str());
    assert_eq!(claims["k"], true);
    assert_eq!(claims["ejt"], true);
    assert_eq!(claims["eje"], 600);
    assert!(claims["p"].to_string().contains("participants"), "{claims}");
    let iat = claims["iat"].as_i64().expect("iat is an integer");
    assert!((now() - iat).abs() <= 60, "iat {iat} is now");
    let jti = claims["jti"].as_str().expect("jti is a string");
    assert!(!jti.is_empty());
}

#[tokio::test]
async fn only_the_given_properties_become_claims() {
    let app = spawn_app().await;
    let token = mint(&app, json!({"room_name": "r"})).await;
    assert_eq!(keys(&part(&token, 1)), set(&["r", "iat", "d", "jti"]));

    // No `properties` at all: a token for every room.
    let (status, body) = post_token(&app, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token");
    let claims = part(token, 1);
    assert_eq!(keys(&claims), set(&["iat", "d", "jti"]));
    assert_eq!(claims["d"], app.domain_id.as_str());
}

#[tokio::test]
async fn validating_a_token_answers_its_properties_by_their_long_names() {
    let app = spawn_app().await;
    let exp = now() + 3600;
    let properties = json!({
        "room_name": "r", "is_owner": true, "user_name": "Ana", "user_id": "a".repeat(36),
        "exp": exp, "eject_at_token_exp": true, "eject_after_elapsed": 60, "knocking": false,
        "permissions": {"canAdmin": true}, "lang": "en", "enable_prejoin_ui": false
    });
    let token = mint(&app, properties.clone()).await;
    let (status, answer) = validate(&app, &token, "").await;
    assert_eq!(status, 200, "{answer}");
    for (name, value) in properties.as_object().expect("object") {
        assert_eq!(answer[name], *value, "{name} in {answer}");
    }
    for short in ["r", "o", "u", "ud"] {
        assert!(answer.get(short).is_none(), "{short} in {answer}");
    }
}

#[tokio::test]
async fn bad_token_properties_are_refused_naming_the_property() {
    let app = spawn_app().await;
    let cases = [
        (json!({"bogus": 1}), "bogus"),
        (json!({"room_name": "two words"}), "room_name"),
        (json!({"room_name": "a".repeat(129)}), "room_name"),
        (json!({"is_owner": "yes"}), "is_owner"),
        (json!({"user_name": ""}), "user_name"),
        (json!({"user_name": "   "}), "user_name"),
        (json!({"user_name": "a".repeat(65)}), "user_name"),
        (json!({"user_name": "bell\u{7}"}), "user_name"),
        (json!({"user_name": 7}), "user_name"),
        (json!({"user_id": "a".repeat(37)}), "user_id"),
        (json!({"exp": now() - 3600}), "exp"),
        (json!({"exp": "later"}), "exp"),
        (json!({"nbf": "soon"}), "nbf"),
        (json!({"eject_at_token_exp": "yes"}), "eject_at_token_exp"),
        (json!({"eject_after_elapsed": 0}), "eject_after_elapsed"),
        (json!({"eject_after_elapsed": -5}), "eject_after_elapsed"),
        (json!({"knocking": 1}), "knocking"),
        (json!({"lang": "xx"}), "lang"),
        (json!({"start_video_off": "yes"}), "start_video_off"),
        (json!({"enable_prejoin_ui": "no"}), "enable_prejoin_ui"),
    ];
    for (properties, field) in cases {
        let answer = post_token(&app, json!({"properties": properties})).await;
        let info = assert_refused(&answer);
        assert!(
            mentions(&info, field),
            "info {info:?} should name {field:?}"
        );
    }
    for permissions in [
        json!({"canAdmin": "all"}),
        json!({"canAdmin": ["everything"]}),
    ] {
        let answer = post_token(&app, json!({"properties": {"permissions": permissions}})).await;
        let info = assert_refused(&answer);
        assert!(
            mentions(&info, "permissions") || mentions(&info, "canAdmin"),
            "info {info:?} should name the permission"
        );
    }
}

#[tokio::test]
async fn token_properties_at_their_limits_are_accepted() {
    let app = spawn_app().await;
    let name = "n".repeat(64);
    let token = mint(
        &app,
        json!({"room_name": "a-b_C9", "user_name": format!("  {name}  "), "user_id": "u".repeat(36)}),
    )
    .await;
    assert_eq!(part(&token, 1)["ud"], "u".repeat(36));
}

#[tokio::test]
async fn a_token_property_at_the_top_level_is_refused() {
    let app = spawn_app().await;
    let answer = post_token(&app, json!({"is_owner": true, "room_name": "r"})).await;
    let info = assert_refused(&answer);
    assert!(mentions(&info, "properties"), "{info}");
}

#[tokio::test]
async fn a_self_signed_token_is_accepted() {
    let app = spawn_app().await;
    let claims = json!({"r": "standup", "o": true, "d": app.domain_id, "iat": now()});
    let token = sign(&claims, Algorithm::HS256, &app.api_key);
    let (status, answer) = validate(&app, &token, "").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["room_name"], "standup");
    assert_eq!(answer["is_owner"], true);
}

#[tokio::test]
async fn a_self_signed_token_with_a_control_character_in_its_user_id_is_refused() {
    let app = spawn_app().await;
    for claims in [
        json!({"r": "standup", "ud": "ana\u{0}", "d": app.domain_id, "iat": now()}),
        json!({"r": "standup", "u": "Ana\u{7}", "d": app.domain_id, "iat": now()}),
    ] {
        let token = sign(&claims, Algorithm::HS256, &app.api_key);
        let info = assert_refused(&validate(&app, &token, "").await);
        assert!(info.contains("control character"), "{info}");
        // Opening the room with it is a refused token, not a server error.
        let page = app
            .client
            .get(app.url(&format!("/standup?t={token}")))
            .send()
            .await
            .expect("open the room");
        assert!(page.status().as_u16() < 500, "{}", page.status());
    }
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let claims = json!({
        "r": "standup", "d": app.domain_id, "iat": now() - 7200, "exp": now() - 3600
    });
    let token = sign(&claims, Algorithm::HS256, &app.api_key);
    assert_refused(&validate(&app, &token, "").await);
    assert_refused(&validate(&app, &token, "?ignoreNbf=true").await);
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused_unless_nbf_is_ignored() {
    let app = spawn_app().await;
    let token = mint(&app, json!({"room_name": "later", "nbf": now() + 3600})).await;
    assert_refused(&validate(&app, &token, "").await);
    let (status, answer) = validate(&app, &token, "?ignoreNbf=true").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["room_name"], "later");
}

#[tokio::test]
async fn forged_foreign_and_garbage_tokens_are_refused() {
    let app = spawn_app().await;
    let claims = json!({"r": "standup", "o": true, "d": app.domain_id, "iat": now()});
    let other_key = sign(&claims, Algorithm::HS256, "not-the-api-key");
    let other_algorithm = sign(&claims, Algorithm::HS512, &app.api_key);
    let unsigned = format!(
        "{}.{}.",
        encode_part(&json!({"alg": "none", "typ": "JWT"})),
        encode_part(&claims)
    );
    let other_domain = json!({"r": "standup", "d": "another-domain", "iat": now()});
    let other_domain = sign(&other_domain, Algorithm::HS256, &app.api_key);
    let garbage = ["not-a-token".to_owned(), "a.b.c".to_owned()];
    for token in [other_key, other_algorithm, unsigned, other_domain]
        .into_iter()
        .chain(garbage)
    {
        assert_refused(&validate(&app, &token, "").await);
    }
}

#[tokio::test]
async fn a_token_with_tampered_claims_is_refused() {
    let app = spawn_app().await;
    let token = mint(&app, json!({"room_name": "standup"})).await;
    let mut claims = part(&token, 1);
    claims["o"] = json!(true);
    let pieces: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", pieces[0], encode_part(&claims), pieces[2]);

    assert_refused(&validate(&app, &tampered, "").await);
    let (status, _) = validate(&app, &token, "").await;
    assert_eq!(status, 200, "the genuine token still validates");
}

#[tokio::test]
async fn a_revoked_token_no_longer_validates() {
    let app = spawn_app().await;
    let revoked = mint(&app, json!({"room_name": "standup", "is_owner": true})).await;
    let other = mint(&app, json!({"room_name": "standup", "is_owner": true})).await;

    let (status, body) = revoke(&app, &revoked).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"revoked": true}));

    let info = assert_refused(&validate(&app, &revoked, "").await);
    assert!(info.contains("revoked"), "{info}");
    let (status, _) = validate(&app, &other, "").await;
    assert_eq!(status, 200, "other tokens stay valid");
}

#[tokio::test]
async fn a_self_signed_token_without_jti_can_be_revoked() {
    let app = spawn_app().await;
    let claims = json!({"r": "standup", "o": true, "d": app.domain_id, "iat": now()});
    let token = sign(&claims, Algorithm::HS256, &app.api_key);
    let (status, body) = revoke(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"revoked": true}));

    let info = assert_refused(&validate(&app, &token, "").await);
    assert!(info.contains("revoked"), "{info}");
}

#[tokio::test]
async fn a_forged_token_cannot_be_revoked() {
    let app = spawn_app().await;
    let claims = json!({"r": "standup", "d": app.domain_id, "iat": now()});
    let forged = sign(&claims, Algorithm::HS256, "not-the-api-key");
    assert_refused(&revoke(&app, &forged).await);
    assert_refused(&revoke(&app, "not-a-token").await);
}

/// SQLite keeps the records of issued tokens in one B-tree (`WITHOUT ROWID`, migration 0020),
/// and a database made before that migration keeps its records through it.
#[tokio::test]
async fn token_records_survive_the_move_to_one_b_tree() {
    use sqlx::{Connection, sqlite::SqliteConnectOptions};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("knock.db").display());
    let options: SqliteConnectOptions = url.parse().expect("a SQLite URL");
    let mut connection =
        sqlx::SqliteConnection::connect_with(&options.clone().create_if_missing(true))
            .await
            .expect("a new database");
    let mut before = sqlx::migrate!("../migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|migration| migration.version < 20)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before
        .run(&mut connection)
        .await
        .expect("the migrations before 0020");
    sqlx::query("INSERT INTO meeting_tokens (jti, properties, created_at) VALUES ($1, $2, $3)")
        .bind("0190a1b2c3d47e5f8a9b0c1d2e3f4a5b")
        .bind(r#"{"room_name":"standup","is_owner":true}"#)
        .bind(1_700_000_000_000_i64)
        .execute(&mut connection)
        .await
        .expect("a record made before the migration");
    connection.close().await.expect("closed");

    // The server migrates the database as it opens it.
    app::ssr::db::Db::connect(&url)
        .await
        .expect("the server's migrations");
    let mut connection = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("the migrated database");
    let kept: (String, String, i64) =
        sqlx::query_as("SELECT jti, properties, created_at FROM meeting_tokens")
            .fetch_one(&mut connection)
            .await
            .expect("the record");
    assert_eq!(
        kept,
        (
            "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b".to_owned(),
            r#"{"room_name":"standup","is_owner":true}"#.to_owned(),
            1_700_000_000_000
        )
    );
    let without_rowid: i64 =
        sqlx::query_scalar("SELECT wr FROM pragma_table_list WHERE name = 'meeting_tokens'")
            .fetch_one(&mut connection)
            .await
            .expect("the table's description");
    assert_eq!(without_rowid, 1, "one B-tree keyed by jti");
    let refused = sqlx::query(
        "INSERT INTO meeting_tokens (jti, properties, created_at) VALUES ($1, 'not json', 0)",
    )
    .bind("0190a1b2c3d47e5f8a9b0c1d2e3f4a5c")
    .execute(&mut connection)
    .await;
    assert!(refused.is_err(), "properties must still be JSON");
}

/// A record of its own for each commit of the log tests: ids that grow, as minted ones do.
fn record(serial: usize) -> app::ssr::db::tokens::TokenRecord {
    app::ssr::db::tokens::TokenRecord {
        jti: format!("0190a1b2c3d47e5f{serial:016x}"),
        properties_json: r#"{"room_name":"standup","is_owner":false}"#.to_owned(),
        created_at: 1_700_000_000_000,
    }
}

/// A new SQLite database in `dir`, as the server opens it.
async fn sqlite_in(dir: &tempfile::TempDir) -> app::ssr::db::Db {
    let url = format!("sqlite://{}", dir.path().join("knock.db").display());
    app::ssr::db::Db::connect(&url)
        .await
        .expect("a new database")
}

/// No commit copies SQLite's log into the database file (minting waits for the token writer's
/// commits): past SQLite's own threshold of 1,000 frames the log keeps growing until the
/// server's checkpoint copies it, after which the next write starts it over.
#[tokio::test]
async fn commits_leave_the_log_to_the_checkpoint_which_starts_it_over() {
    use app::ssr::db::{WAL_LIMIT, tokens::insert_many};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = sqlite_in(&dir).await;
    // A commit writes a page or more to the log: 1,500 commits write 1,500 frames or more.
    for serial in 0..1_500 {
        insert_many(&db, &[&record(serial)])
            .await
            .expect("a record");
    }
    let log = std::fs::metadata(dir.path().join("knock.db-wal"))
        .expect("the log")
        .len();
    // A frame is a 4,096-byte page and its 24-byte header; a log checkpointed at 1,000 frames
    // starts over from its beginning and stays at about 4 MB.
    assert!(
        log > 1_400 * 4_120,
        "the log holds every commit until the checkpoint: {log} bytes"
    );

    let done = db
        .checkpoint(true)
        .await
        .expect("a checkpoint")
        .expect("a log");
    assert!(done.frames >= 1_500, "{done:?}");
    assert_eq!(done.copied, done.frames, "every frame copied: {done:?}");
    assert!(done.frames >= WAL_LIMIT && done.held_writers, "{done:?}");

    insert_many(&db, &[&record(1_500)]).await.expect("a record");
    let next = db
        .checkpoint(true)
        .await
        .expect("a checkpoint")
        .expect("a log");
    assert!(next.frames < 10, "the log started over: {next:?}");
    assert!(!next.held_writers, "{next:?}");
    db.close().await;
}

/// Under writes that never stop, a checkpoint copies the frames that were in the log when it
/// began while more are written; past the limit it holds the writers back for the rest, so the
/// log still starts over and stays bounded.
#[tokio::test]
async fn the_log_starts_over_under_writes_that_never_stop() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    };

    use app::ssr::db::{WAL_LIMIT, tokens::insert_many};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = sqlite_in(&dir).await;
    let (commits, stop) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let writer = tokio::spawn({
        let (db, commits, stop) = (db.clone(), commits.clone(), stop.clone());
        async move {
            let mut serial = 0;
            while !stop.load(Ordering::Relaxed) {
                insert_many(&db, &[&record(serial)])
                    .await
                    .expect("a record");
                serial += 1;
                commits.store(serial, Ordering::Relaxed);
            }
        }
    });
    // A writer that failed would leave the count where it is: the wait has a deadline.
    let commits_reach = |count: usize| {
        let commits = commits.clone();
        async move {
            let reached = async {
                while commits.load(Ordering::Relaxed) < count {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(60), reached)
                .await
                .expect("the writer keeps committing");
        }
    };

    commits_reach(1_200).await;
    let first = db
        .checkpoint(true)
        .await
        .expect("a checkpoint")
        .expect("a log");
    assert!(first.frames >= WAL_LIMIT, "{first:?}");
    assert!(first.held_writers, "{first:?}");
    let after_first = commits.load(Ordering::Relaxed);
    // A few hundred commits later the log holds only what came after the first checkpoint.
    commits_reach(after_first + 200).await;
    let second = db
        .checkpoint(true)
        .await
        .expect("a checkpoint")
        .expect("a log");
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("the writer");
    assert!(
        second.frames < first.frames,
        "the log started over: {first:?}, then {second:?}"
    );
    db.close().await;
}

/// A server checkpoints the log by itself: records another connection wrote reach the database
/// file within seconds, though no connection checkpoints when it commits.
#[tokio::test]
async fn the_server_checkpoints_the_log_by_itself() {
    use std::time::{Duration, Instant};

    use app::ssr::db::{Db, tokens::insert_many};

    let app = spawn_sqlite_app().await;
    let db = Db::connect(&app.database_url)
        .await
        .expect("the server's database");
    let file_size = || {
        std::fs::metadata(&app.database)
            .expect("the database file")
            .len()
    };
    let before = file_size();
    // 300 records of 4 KB: 1.2 MB of pages, more than everything the server wrote as it started.
    for serial in 0..300 {
        let large = app::ssr::db::tokens::TokenRecord {
            properties_json: format!(r#"{{"user_name":"{}"}}"#, "x".repeat(4_000)),
            ..record(serial)
        };
        insert_many(&db, &[&large]).await.expect("a record");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while file_size() < before + 1_000_000 {
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {} bytes ({before} before)",
            file_size()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    db.close().await;
}
