//! Webhooks, as Daily's: the lobby records each event in the durable outbox inside its own
//! transaction ([`call_entered`], [`call_left`], [`knock_opened`], [`knock_settled`]); the
//! deliverer ([`start`], on the maintenance leader) POSTs them, signed, at least once and in
//! order per (webhook, room), retrying as the webhook's `retryType` says; and the
//! `/v1/webhooks` service ([`create`], [`list`], [`get`], [`update`], [`delete`]) manages them.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    db::{
        self, Db, Tx,
        knocks::KnockRecord,
        meetings::KnockOutcome,
        sessions::{self as sessions_repo, SessionRecord},
        webhooks::{
            self as repo, AfterFailure, DeliveryRecord, DueDelivery, NewEvent, WebhookRecord,
        },
    },
    state::AppState,
    time::{now_millis, rfc3339_millis},
};
use crate::{
    error::AppError,
    model::{
        CreateWebhook, Participant, UpdateWebhook, WEBHOOK_EVENT_TYPES, WEBHOOK_RETRY_TYPES,
        Webhook, WebhookDelivery,
    },
};

/// How long a receiver has to answer (connecting included) before the attempt has failed.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// Consecutive failed attempts after which a `circuit-breaker` webhook turns `FAILED`.
pub const CIRCUIT_BREAKER_FAILURES: i64 = 3;

/// How many times an `exponential` webhook tries one delivery before giving it up.
pub const EXPONENTIAL_TRIES: i64 = 5;

/// How long delivered and given-up deliveries are kept (for the dashboard).
pub const DELIVERY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How often the deliverer looks for due deliveries.
const POLL: Duration = Duration::from_millis(200);

/// The most deliveries in flight at once (one per (webhook, room) queue).
const MAX_IN_FLIGHT: usize = 64;

/// The body of the test POST sent to a URL before a webhook is saved on it.
const TEST_BODY: &str = r#"{"test":"test"}"#;

/// The version of the event bodies.
const VERSION: &str = "1.0.0";

/// The HTTP client of every outgoing webhook request: timeouts on connecting and on the
/// whole answer, and no redirects followed (a receiver answers where it was registered).
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Knock-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}

// ---------------------------------------------------------------------------------------------
// Recording events, inside the lobby's transactions.

/// Unix milliseconds as Daily's event times: seconds, with the milliseconds as a fraction.
#[expect(
    clippy::cast_precision_loss,
    reason = "unix milliseconds fit in 53 bits"
)]
fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// Writes one event of `kind` about `room` to the outbox of every subscribed webhook.
async fn record(
    tx: &mut Tx,
    kind: &str,
    room: &str,
    payload: Value,
    at: i64,
) -> Result<(), AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "version": VERSION,
        "type": kind,
        "id": id,
        "payload": payload,
        "event_ts": seconds(at),
    })
    .to_string();
    let event = NewEvent {
        id: &id,
        kind,
        room,
        body: &body,
        at,
    };
    repo::enqueue(tx, &event).await?;
    Ok(())
}

/// Daily's participant fields of `person` in `room`.
fn participant_payload(room: &str, person: &Participant, joined_at: i64) -> Value {
    json!({
        "room": room,
        "session_id": person.session_id,
        "user_id": person.user_id,
        "user_name": person.user_name,
        "owner": person.owner,
        "joined_at": seconds(joined_at),
    })
}

/// `person` entered `room`'s call at `at`: `meeting.started` when that started meeting
/// `started`, then `participant.joined`.
pub async fn call_entered(
    tx: &mut Tx,
    room: &str,
    person: &Participant,
    started: Option<String>,
    at: i64,
) -> Result<(), AppError> {
    if let Some(meeting_id) = started {
        let payload = json!({"room": room, "meeting_id": meeting_id, "start_ts": seconds(at)});
        record(tx, "meeting.started", room, payload, at).await?;
    }
    let payload = participant_payload(room, person, at);
    record(tx, "participant.joined", room, payload, at).await
}

/// `person` (in the call since `person.joined_at`) left `room`'s call at `at`:
/// `participant.left`, then `meeting.ended` when that ended meeting `ended`.
pub async fn call_left(
    tx: &mut Tx,
    room: &str,
    person: &Participant,
    ended: Option<String>,
    at: i64,
) -> Result<(), AppError> {
    let mut payload = participant_payload(room, person, person.joined_at);
    payload["duration"] = json!(seconds(at - person.joined_at).max(0.0));
    record(tx, "participant.left", room, payload, at).await?;
    if let Some(meeting_id) = ended {
        let start = repo::meeting_start(tx, &meeting_id).await?.unwrap_or(at);
        let payload = json!({
            "room": room,
            "meeting_id": meeting_id,
            "start_ts": seconds(start),
            "end_ts": seconds(at),
        });
        record(tx, "meeting.ended", room, payload, at).await?;
    }
    Ok(())
}

/// `session` knocked on `room` (`knock`): `waiting-participant.joined`.
pub async fn knock_opened(
    tx: &mut Tx,
    room: &str,
    session: &SessionRecord,
    knock: &KnockRecord,
) -> Result<(), AppError> {
    let payload = json!({
        "room": room,
        "session_id": knock.session_id,
        "user_id": session.user_id,
        "user_name": knock.name,
        "owner": session.is_owner,
        "joined_at": seconds(knock.knocked_at),
    });
    record(
        tx,
        "waiting-participant.joined",
        room,
        payload,
        knock.knocked_at,
    )
    .await
}

/// `knock` on `room` was settled as `settled` says: `waiting-participant.left`, with Knock's
/// `outcome` and `decided_by`.
pub async fn knock_settled(
    tx: &mut Tx,
    room: &str,
    knock: &KnockRecord,
    settled: &KnockOutcome,
) -> Result<(), AppError> {
    let session = sessions_repo::find(&mut *tx, &knock.session_id).await?;
    let payload = json!({
        "room": room,
        "session_id": knock.session_id,
        "user_id": session.as_ref().and_then(|session| session.user_id.clone()),
        "user_name": knock.name,
        "owner": session.as_ref().is_some_and(|session| session.is_owner),
        "joined_at": seconds(knock.knocked_at),
        "duration": seconds(settled.decided_at - knock.knocked_at).max(0.0),
        "outcome": settled.outcome,
        "decided_by": settled.decided_by,
    });
    record(
        tx,
        "waiting-participant.left",
        room,
        payload,
        settled.decided_at,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Signing and retrying.

/// `X-Webhook-Signature`: the base64 HMAC-SHA256 of `<timestamp>.<body>`, keyed with the
/// base64-decoded `hmac`; `None` when `hmac` is not base64.
pub fn signature(hmac: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = BASE64.decode(hmac).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(BASE64.encode(mac.finalize().into_bytes()))
}

/// What happens to a delivery whose attempt number `attempt` (1 for the first) failed at
/// `now`: `exponential` gives up after [`EXPONENTIAL_TRIES`]; otherwise the next attempt
/// waits `base`, doubled for each attempt before, at most [`MAX_RETRY_DELAY`].
pub fn after_failure(retry_type: &str, attempt: i64, base: Duration, now: i64) -> AfterFailure {
    if retry_type == "exponential" && attempt >= EXPONENTIAL_TRIES {
        return AfterFailure::GiveUp;
    }
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let delay = base.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY);
    let delay = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    AfterFailure::RetryAt(now.saturating_add(delay))
}

/// What one POST came to.
enum Answer {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer: the reason.
    Failed(String),
}

/// POSTs `body` to `url`, signed with `hmac`, with `basic_auth` when given.
async fn post(url: &str, hmac: &str, basic_auth: Option<&str>, body: String) -> Answer {
    let timestamp = super::time::now();
    let Some(signature) = signature(hmac, timestamp, &body) else {
        return Answer::Failed("the webhook's hmac is not base64".into());
    };
    let mut request = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Webhook-Signature", signature)
        .header("X-Webhook-Timestamp", timestamp.to_string());
    if let Some(credentials) = basic_auth {
        request = request.header(
            reqwest::header::AUTHORIZATION,
            format!("Basic {credentials}"),
        );
    }
    match request.body(body).send().await {
        Ok(response) => Answer::Status(response.status().as_u16()),
        Err(error) if error.is_timeout() => Answer::Failed("no answer within 10 s".into()),
        Err(error) if error.is_connect() => Answer::Failed(format!("could not connect: {error}")),
        Err(error) => Answer::Failed(error.to_string()),
    }
}

/// The body as sent: `event_ts` is when the webhook is sent, as Daily's.
fn as_sent(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            value["event_ts"] = json!(seconds(now_millis()));
            value.to_string()
        }
        Err(_) => body.to_owned(),
    }
}

/// Sends one due delivery and records how it went.
async fn deliver(db: &Db, retry_base: Duration, delivery: &DueDelivery) -> Result<(), db::Error> {
    let answer = post(
        &delivery.url,
        &delivery.hmac,
        delivery.basic_auth.as_deref(),
        as_sent(&delivery.body),
    )
    .await;
    let at = now_millis();
    let mut tx = db.write().await?;
    match answer {
        Answer::Status(status) if (200..300).contains(&status) => {
            repo::delivered(
                &mut tx,
                delivery.seq,
                &delivery.webhook_uuid,
                status.into(),
                at,
            )
            .await?;
        }
        answer => {
            let (status, error) = match answer {
                Answer::Status(status) => (Some(i64::from(status)), None),
                Answer::Failed(error) => (None, Some(error)),
            };
            let after = after_failure(&delivery.retry_type, delivery.attempts + 1, retry_base, at);
            repo::failed(
                &mut tx,
                delivery.seq,
                &delivery.webhook_uuid,
                status,
                error.as_deref(),
                after,
                CIRCUIT_BREAKER_FAILURES,
                at,
            )
            .await?;
        }
    }
    tx.commit().await
}

/// Starts the deliverer: on the maintenance leader, it sends the head of every (webhook, room)
/// queue that is due, each queue one delivery at a time and the queues concurrently. The lobby
/// never waits for it: it only reads what the lobby's transactions committed.
pub fn start(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        state.presence.settled().await;
        let in_flight: Arc<Mutex<HashSet<(String, String)>>> = Arc::default();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !state.presence.is_leader() {
                continue;
            }
            let busy = in_flight.lock().map_or(MAX_IN_FLIGHT, |set| set.len());
            if busy >= MAX_IN_FLIGHT {
                continue;
            }
            let due = match repo::due(&state.db, now_millis(), 2 * MAX_IN_FLIGHT as i64).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "looking for due webhook deliveries failed");
                    continue;
                }
            };
            for delivery in due {
                let key = (delivery.webhook_uuid.clone(), delivery.room.clone());
                let Ok(mut set) = in_flight.lock() else {
                    break;
                };
                if set.len() >= MAX_IN_FLIGHT || !set.insert(key.clone()) {
                    continue;
                }
                drop(set);
                let db = state.db.clone();
                let retry_base = state.config.webhook_retry_base;
                let in_flight = Arc::clone(&in_flight);
                tokio::spawn(async move {
                    if let Err(error) = deliver(&db, retry_base, &delivery).await {
                        tracing::warn!(%error, webhook = %delivery.webhook_uuid,
                                       "recording a webhook delivery failed");
                    }
                    if let Ok(mut set) = in_flight.lock() {
                        set.remove(&key);
                    }
                });
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// `/v1/webhooks`.

/// The webhook object of `record`.
fn webhook(record: WebhookRecord, domain_id: &str) -> Webhook {
    Webhook {
        event_types: serde_json::from_str(&record.event_types).unwrap_or_default(),
        uuid: record.uuid,
        url: record.url,
        hmac: record.hmac,
        basic_auth: record.basic_auth,
        retry_type: record.retry_type,
        state: record.state,
        failed_count: record.failed_count,
        last_moment_pushed: record.last_moment_pushed.map(rfc3339_millis),
        domain_id: domain_id.to_owned(),
        created_at: rfc3339_millis(record.created_at),
        updated_at: rfc3339_millis(record.updated_at),
    }
}

/// The longest URL accepted.
const MAX_URL: usize = 2048;

fn check_url(url: &str) -> Result<(), AppError> {
    let url = url.trim();
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.len() > MAX_URL || url.chars().any(char::is_whitespace) {
        return Err(AppError::invalid(format!(
            "url must be an http:// or https:// URL of at most {MAX_URL} characters"
        )));
    }
    reqwest::Url::parse(url)
        .map(|_| ())
        .map_err(|error| AppError::invalid(format!("url is not a valid URL: {error}")))
}

fn check_event_types(types: &[String]) -> Result<String, AppError> {
    if let Some(unknown) = types
        .iter()
        .find(|kind| !WEBHOOK_EVENT_TYPES.contains(&kind.as_str()))
    {
        return Err(AppError::invalid(format!(
            "eventTypes: {unknown:?} is not an event type Knock sends; use any of {}",
            WEBHOOK_EVENT_TYPES.join(", ")
        )));
    }
    let mut unique: Vec<&str> = Vec::new();
    for kind in types {
        if !unique.contains(&kind.as_str()) {
            unique.push(kind);
        }
    }
    Ok(json!(unique).to_string())
}

fn check_retry_type(retry_type: &str) -> Result<(), AppError> {
    if WEBHOOK_RETRY_TYPES.contains(&retry_type) {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "retryType must be \"circuit-breaker\" or \"exponential\", not {retry_type:?}"
        )))
    }
}

fn check_hmac(hmac: &str) -> Result<(), AppError> {
    match BASE64.decode(hmac) {
        Ok(key) if !key.is_empty() && key.len() <= 256 => Ok(()),
        _ => Err(AppError::invalid(
            "hmac must be a base64-encoded secret of 1 to 256 bytes",
        )),
    }
}

fn check_basic_auth(credentials: &str) -> Result<(), AppError> {
    if credentials.is_empty()
        || credentials.len() > 1024
        || credentials.chars().any(char::is_control)
    {
        Err(AppError::invalid(
            "basicAuth must be 1 to 1024 characters without control characters",
        ))
    } else {
        Ok(())
    }
}

/// A new random signing secret: 32 bytes, base64.
fn new_hmac() -> String {
    let mut key = [0_u8; 32];
    rand::rng().fill(&mut key);
    BASE64.encode(key)
}

/// POSTs the test body to `url` (signed like every delivery) and refuses unless it answers
/// 200, as Daily does before saving a webhook.
async fn verify(url: &str, hmac: &str, basic_auth: Option<&str>) -> Result<(), AppError> {
    match post(url, hmac, basic_auth, TEST_BODY.to_owned()).await {
        Answer::Status(200) => Ok(()),
        Answer::Status(status) => Err(AppError::invalid(format!(
            "url answered the test POST with HTTP {status}; it must answer 200 before the \
             webhook is saved"
        ))),
        Answer::Failed(reason) => Err(AppError::invalid(format!(
            "url did not answer the test POST ({reason}); it must answer 200 before the \
             webhook is saved"
        ))),
    }
}

/// `POST /v1/webhooks`: checks the body, sends the test POST, then saves the webhook.
pub async fn create(state: &AppState, request: CreateWebhook) -> Result<Webhook, AppError> {
    let url = request.url.trim().to_owned();
    check_url(&url)?;
    let event_types = check_event_types(request.event_types.as_deref().unwrap_or_default())?;
    let retry_type = request
        .retry_type
        .unwrap_or_else(|| "circuit-breaker".to_owned());
    check_retry_type(&retry_type)?;
    let hmac = match request.hmac {
        Some(hmac) => {
            check_hmac(&hmac)?;
            hmac
        }
        None => new_hmac(),
    };
    if let Some(credentials) = &request.basic_auth {
        check_basic_auth(credentials)?;
    }
    verify(&url, &hmac, request.basic_auth.as_deref()).await?;
    let now = now_millis();
    let record = WebhookRecord {
        uuid: uuid::Uuid::new_v4().to_string(),
        url,
        event_types,
        hmac,
        basic_auth: request.basic_auth,
        retry_type,
        state: "ACTIVE".to_owned(),
        failed_count: 0,
        last_moment_pushed: None,
        created_at: now,
        updated_at: now,
    };
    repo::insert(&state.db, &record).await?;
    Ok(webhook(record, &state.domain_id))
}

/// `GET /v1/webhooks`: every webhook, oldest first.
pub async fn list(state: &AppState) -> Result<Vec<Webhook>, AppError> {
    Ok(repo::list(&state.db)
        .await?
        .into_iter()
        .map(|record| webhook(record, &state.domain_id))
        .collect())
}

fn not_found(uuid: &str) -> AppError {
    AppError::not_found(format!("webhook {} not found", uuid.escape_debug()))
}

/// `GET /v1/webhooks/{uuid}`.
pub async fn get(state: &AppState, uuid: &str) -> Result<Webhook, AppError> {
    let record = repo::find(&state.db, uuid)
        .await?
        .ok_or_else(|| not_found(uuid))?;
    Ok(webhook(record, &state.domain_id))
}

/// `POST /v1/webhooks/{uuid}`: changes what is given. A new URL, or re-activating a `FAILED`
/// webhook (`state: "ACTIVE"`), first needs the test POST answered 200; re-activating sends
/// what waited meanwhile, in order.
pub async fn update(
    state: &AppState,
    uuid: &str,
    request: UpdateWebhook,
) -> Result<Webhook, AppError> {
    let mut record = repo::find(&state.db, uuid)
        .await?
        .ok_or_else(|| not_found(uuid))?;
    let reactivate = match request.state.as_deref() {
        None => false,
        Some("ACTIVE") => record.state != "ACTIVE",
        Some(other) => {
            return Err(AppError::invalid(format!(
                "state may only be set to \"ACTIVE\" (to re-activate a failed webhook), not \
                 {other:?}"
            )));
        }
    };
    let new_url = match request.url {
        Some(url) => {
            let url = url.trim().to_owned();
            check_url(&url)?;
            (url != record.url).then_some(url)
        }
        None => None,
    };
    if let Some(types) = &request.event_types {
        record.event_types = check_event_types(types)?;
    }
    if let Some(retry_type) = request.retry_type {
        check_retry_type(&retry_type)?;
        record.retry_type = retry_type;
    }
    if let Some(hmac) = request.hmac {
        check_hmac(&hmac)?;
        record.hmac = hmac;
    }
    if let Some(credentials) = request.basic_auth {
        if let Some(credentials) = &credentials {
            check_basic_auth(credentials)?;
        }
        record.basic_auth = credentials;
    }
    if let Some(url) = new_url {
        record.url = url;
        verify(&record.url, &record.hmac, record.basic_auth.as_deref()).await?;
    } else if reactivate {
        verify(&record.url, &record.hmac, record.basic_auth.as_deref()).await?;
    }
    let now = now_millis();
    record.updated_at = now;
    if reactivate {
        record.state = "ACTIVE".to_owned();
        record.failed_count = 0;
    }
    let mut tx = state.db.write().await?;
    if !repo::update(&mut tx, &record).await? {
        return Err(not_found(uuid));
    }
    if reactivate {
        repo::resume(&mut tx, uuid, now).await?;
    }
    tx.commit().await?;
    get(state, uuid).await
}

/// `DELETE /v1/webhooks/{uuid}`: the webhook as it was; what it was still owed is dropped.
pub async fn delete(state: &AppState, uuid: &str) -> Result<Webhook, AppError> {
    let record = repo::find(&state.db, uuid)
        .await?
        .ok_or_else(|| not_found(uuid))?;
    if !repo::delete(&state.db, uuid).await? {
        return Err(not_found(uuid));
    }
    Ok(webhook(record, &state.domain_id))
}

/// The last `limit` deliveries of webhook `uuid`, newest first.
pub async fn recent_deliveries(
    state: &AppState,
    uuid: &str,
    limit: i64,
) -> Result<Vec<WebhookDelivery>, AppError> {
    Ok(repo::recent(&state.db, uuid, limit)
        .await?
        .into_iter()
        .map(|record: DeliveryRecord| WebhookDelivery {
            event_id: record.event_id,
            event_type: record.event_type,
            room: record.room,
            status: record.status,
            attempts: record.attempts,
            last_status: record.last_status,
            last_error: record.last_error,
            created_at: rfc3339_millis(record.created_at),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_base64_hmac_sha256_of_timestamp_dot_body_with_the_decoded_key() {
        // `printf %s '1700000000.{"test":"test"}' |
        //  openssl dgst -sha256 -mac HMAC -macopt hexkey:6b6e6f636b2d736563726574 -binary | base64`
        // (the key is `knock-secret`, base64 `a25vY2stc2VjcmV0`).
        let signed = signature("a25vY2stc2VjcmV0", 1_700_000_000, TEST_BODY).expect("base64");
        assert_eq!(signed, EXPECTED_TEST_SIGNATURE);
        assert_ne!(
            signature("a25vY2stc2VjcmV0", 1_700_000_001, TEST_BODY),
            Some(signed)
        );
        assert_eq!(signature("not base64!", 1, "{}"), None);
    }

    const EXPECTED_TEST_SIGNATURE: &str = "9XRVuHBMLbUFJx/6H+wP+EPWMEEUDvhmTZ+/of2E+M8=";

    #[test]
    fn retries_double_from_the_base_and_exponential_gives_up_after_five_tries() {
        let base = Duration::from_secs(10);
        let at = |after| match after {
            AfterFailure::RetryAt(at) => at,
            AfterFailure::GiveUp => -1,
        };
        assert_eq!(at(after_failure("circuit-breaker", 1, base, 0)), 10_000);
        assert_eq!(at(after_failure("circuit-breaker", 2, base, 0)), 20_000);
        assert_eq!(at(after_failure("circuit-breaker", 3, base, 0)), 40_000);
        assert_eq!(at(after_failure("exponential", 4, base, 0)), 80_000);
        assert_eq!(
            after_failure("exponential", 5, base, 0),
            AfterFailure::GiveUp
        );
        assert_eq!(at(after_failure("circuit-breaker", 5, base, 0)), 160_000);
        assert_eq!(
            at(after_failure("circuit-breaker", 60, base, 0)),
            3_600_000,
            "at most an hour"
        );
        assert!(
            crate::ssr::config::WEBHOOK_RETRY_BASE <= Duration::from_secs(30),
            "the first retry within 30 s"
        );
    }

    #[test]
    fn event_types_must_be_ones_knock_sends_and_are_kept_once_each() {
        assert_eq!(check_event_types(&[]).expect("all"), "[]");
        let kinds = ["meeting.ended".to_owned(), "meeting.ended".to_owned()];
        assert_eq!(
            check_event_types(&kinds).expect("valid"),
            r#"["meeting.ended"]"#
        );
        let error = check_event_types(&["recording.started".to_owned()]).expect_err("unknown");
        assert!(error.to_string().starts_with("eventTypes: "), "{error}");
    }

    #[test]
    fn bad_urls_secrets_and_retry_types_are_refused_naming_the_field() {
        for bad in [
            "",
            "ftp://example.com",
            "example.com/hook",
            "http://exa mple.com",
        ] {
            let error = check_url(bad).expect_err(bad);
            assert!(error.to_string().starts_with("url "), "{error}");
        }
        check_url("https://example.com/hooks?x=1").expect("valid");
        assert!(check_hmac("not base64!").is_err());
        assert!(check_hmac("").is_err());
        check_hmac(&new_hmac()).expect("a generated secret is valid");
        assert!(check_retry_type("linear").is_err());
        check_retry_type("exponential").expect("valid");
    }
}
