//! The `webhooks` and `webhook_deliveries` tables: the webhooks and their durable outbox. A
//! delivery row is written inside the lobby's transaction, one per active webhook subscribed to
//! the event, so the event and the change it tells of commit together; the deliverer takes
//! the head of each (webhook, room) queue, in seq order.

use sqlx::FromRow;

use super::{Error, Handle, Tx};

/// A webhook as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct WebhookRecord {
    /// Its id.
    pub uuid: String,
    /// Where events go.
    pub url: String,
    /// The subscribed event types, a JSON array (`[]`: all).
    pub event_types: String,
    /// The base64 signing secret.
    pub hmac: String,
    /// `Authorization: Basic` credentials.
    pub basic_auth: Option<String>,
    /// `circuit-breaker` or `exponential`.
    pub retry_type: String,
    /// `ACTIVE` or `FAILED`.
    pub state: String,
    /// Consecutive failed attempts.
    pub failed_count: i64,
    /// Unix milliseconds of the last delivery.
    pub last_moment_pushed: Option<i64>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

const WEBHOOK_COLUMNS: &str = "uuid, url, event_types, hmac, basic_auth, retry_type, state, \
                               failed_count, last_moment_pushed, created_at, updated_at";

/// Stores a new webhook.
pub async fn insert(db: impl Handle<'_>, webhook: &WebhookRecord) -> Result<(), Error> {
    run!(db, |db| sqlx::query(&format!(
        "INSERT INTO webhooks ({WEBHOOK_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&webhook.uuid)
    .bind(&webhook.url)
    .bind(&webhook.event_types)
    .bind(&webhook.hmac)
    .bind(&webhook.basic_auth)
    .bind(&webhook.retry_type)
    .bind(&webhook.state)
    .bind(webhook.failed_count)
    .bind(webhook.last_moment_pushed)
    .bind(webhook.created_at)
    .bind(webhook.updated_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Every webhook, oldest first.
pub async fn list(db: impl Handle<'_>) -> Result<Vec<WebhookRecord>, Error> {
    run!(db, |db| sqlx::query_as(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY seq"
    ))
    .fetch_all(db)
    .await)
}

/// The webhook with this id.
pub async fn find(db: impl Handle<'_>, uuid: &str) -> Result<Option<WebhookRecord>, Error> {
    run!(db, |db| sqlx::query_as(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE uuid = $1"
    ))
    .bind(uuid)
    .fetch_optional(db)
    .await)
}

/// Writes a webhook's settings and state back; whether it still existed.
pub async fn update(db: impl Handle<'_>, webhook: &WebhookRecord) -> Result<bool, Error> {
    run!(db, |db| sqlx::query(
        "UPDATE webhooks SET url = $2, event_types = $3, hmac = $4, basic_auth = $5,
                             retry_type = $6, state = $7, failed_count = $8, updated_at = $9
         WHERE uuid = $1"
    )
    .bind(&webhook.uuid)
    .bind(&webhook.url)
    .bind(&webhook.event_types)
    .bind(&webhook.hmac)
    .bind(&webhook.basic_auth)
    .bind(&webhook.retry_type)
    .bind(&webhook.state)
    .bind(webhook.failed_count)
    .bind(webhook.updated_at)
    .execute(db)
    .await
    .map(|result| result.rows_affected() == 1))
}

/// Makes every pending delivery of `uuid` due at `at` (a re-activated webhook sends what
/// waited at once, in order).
pub async fn resume(db: &mut Tx, uuid: &str, at: i64) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = $2
         WHERE webhook_uuid = $1 AND status = 'pending'"
    )
    .bind(uuid)
    .bind(at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Deletes a webhook with its outbox; whether it existed.
pub async fn delete(db: impl Handle<'_>, uuid: &str) -> Result<bool, Error> {
    run!(db, |db| sqlx::query("DELETE FROM webhooks WHERE uuid = $1")
        .bind(uuid)
        .execute(db)
        .await
        .map(|result| result.rows_affected() == 1))
}

/// One event for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent<'a> {
    /// The body's `id`.
    pub id: &'a str,
    /// The event type.
    pub kind: &'a str,
    /// The room it is about.
    pub room: &'a str,
    /// The JSON body.
    pub body: &'a str,
    /// Unix milliseconds.
    pub at: i64,
}

/// Writes `event` to the outbox of every active webhook subscribed to its type, inside the
/// caller's transaction; how many deliveries that made.
pub async fn enqueue(tx: &mut Tx, event: &NewEvent<'_>) -> Result<u64, Error> {
    const INSERT: &str = "INSERT INTO webhook_deliveries
             (webhook_uuid, event_id, event_type, room, body, next_attempt_at, created_at)
         SELECT uuid, $1, $2, $3, $4, $5, $5 FROM webhooks
         WHERE state = 'ACTIVE' AND ";
    run!(tx,
        sqlite: |db| sqlx::query(&format!(
            "{INSERT} (event_types = '[]' OR EXISTS (SELECT 1 FROM json_each(webhooks.event_types)
                                                    WHERE value = $2))
             ORDER BY seq"
        ))
        .bind(event.id)
        .bind(event.kind)
        .bind(event.room)
        .bind(event.body)
        .bind(event.at)
        .execute(db)
        .await
        .map(|result| result.rows_affected()),
        postgres: |db| sqlx::query(&format!(
            "{INSERT} (event_types = '[]' OR jsonb_exists(event_types::jsonb, $2))
             ORDER BY seq"
        ))
        .bind(event.id)
        .bind(event.kind)
        .bind(event.room)
        .bind(event.body)
        .bind(event.at)
        .execute(db)
        .await
        .map(|result| result.rows_affected())
    )
}

/// When the meeting with this id started (unix milliseconds), for `meeting.ended`.
pub async fn meeting_start(tx: &mut Tx, meeting_id: &str) -> Result<Option<i64>, Error> {
    run!(tx, |db| sqlx::query_scalar(
        "SELECT start_time FROM meetings WHERE id = $1"
    )
    .bind(meeting_id)
    .fetch_optional(db)
    .await)
}

/// A delivery that is due, with what sending it needs.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DueDelivery {
    /// Its place in the outbox.
    pub seq: i64,
    /// The webhook's id.
    pub webhook_uuid: String,
    /// The room its queue is for.
    pub room: String,
    /// The JSON body.
    pub body: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The webhook's URL.
    pub url: String,
    /// The webhook's signing secret.
    pub hmac: String,
    /// The webhook's basic-auth credentials.
    pub basic_auth: Option<String>,
    /// The webhook's retry type.
    pub retry_type: String,
}

/// Up to `limit` deliveries due at `now`: the oldest pending delivery of each (webhook, room)
/// queue of an active webhook, when its time has come. A later delivery of a room never comes
/// up while an earlier one is pending.
pub async fn due(db: impl Handle<'_>, now: i64, limit: i64) -> Result<Vec<DueDelivery>, Error> {
    run!(db, |db| sqlx::query_as(
        "SELECT d.seq, d.webhook_uuid, d.room, d.body, d.attempts,
                w.url, w.hmac, w.basic_auth, w.retry_type
         FROM webhook_deliveries d JOIN webhooks w ON w.uuid = d.webhook_uuid
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.state = 'ACTIVE'
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                           WHERE e.webhook_uuid = d.webhook_uuid AND e.room = d.room
                             AND e.status = 'pending' AND e.seq < d.seq)
         ORDER BY d.seq LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await)
}

/// Delivery `seq` was answered 2xx (`status`) at `at`: done, and its webhook's failure count
/// starts over.
pub async fn delivered(
    tx: &mut Tx,
    seq: i64,
    webhook_uuid: &str,
    status: i64,
    at: i64,
) -> Result<(), Error> {
    run!(&mut *tx, |db| sqlx::query(
        "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
                last_status = $2, last_error = NULL, settled_at = $3
         WHERE seq = $1 AND status = 'pending'"
    )
    .bind(seq)
    .bind(status)
    .bind(at)
    .execute(db)
    .await
    .map(|_| ()))?;
    run!(tx, |db| sqlx::query(
        "UPDATE webhooks SET failed_count = 0, last_moment_pushed = $2 WHERE uuid = $1"
    )
    .bind(webhook_uuid)
    .bind(at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// How a failed attempt ends for its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again at this time (unix milliseconds).
    RetryAt(i64),
    /// Given up: the next delivery of its room goes.
    GiveUp,
}

/// Delivery `seq` failed at `at` (`status` when the receiver answered, else `error`): retried
/// or given up as `after` says; its webhook counts one more consecutive failure and, with
/// `circuit-breaker`, turns `FAILED` when that makes `trip_after`.
#[expect(clippy::too_many_arguments, reason = "one attempt's whole outcome")]
pub async fn failed(
    tx: &mut Tx,
    seq: i64,
    webhook_uuid: &str,
    status: Option<i64>,
    error: Option<&str>,
    after: AfterFailure,
    trip_after: i64,
    at: i64,
) -> Result<(), Error> {
    let (state, next, settled) = match after {
        AfterFailure::RetryAt(next) => ("pending", next, None),
        AfterFailure::GiveUp => ("failed", at, Some(at)),
    };
    run!(&mut *tx, |db| sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_status = $3,
                last_error = $4, next_attempt_at = $5, settled_at = $6
         WHERE seq = $1 AND status = 'pending'"
    )
    .bind(seq)
    .bind(state)
    .bind(status)
    .bind(error)
    .bind(next)
    .bind(settled)
    .execute(db)
    .await
    .map(|_| ()))?;
    run!(tx, |db| sqlx::query(
        "UPDATE webhooks SET failed_count = failed_count + 1,
                state = CASE WHEN retry_type = 'circuit-breaker' AND failed_count + 1 >= $2
                             THEN 'FAILED' ELSE state END,
                updated_at = CASE WHEN retry_type = 'circuit-breaker' AND failed_count + 1 >= $2
                                  AND state = 'ACTIVE' THEN $3 ELSE updated_at END
         WHERE uuid = $1"
    )
    .bind(webhook_uuid)
    .bind(trip_after)
    .bind(at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// A delivery as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DeliveryRecord {
    /// The event's id.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The room.
    pub room: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt got no answer.
    pub last_error: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// The last `limit` deliveries of webhook `uuid`, newest first.
pub async fn recent(
    db: impl Handle<'_>,
    uuid: &str,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, Error> {
    run!(db, |db| sqlx::query_as(
        "SELECT event_id, event_type, room, status, attempts, last_status, last_error, created_at
         FROM webhook_deliveries WHERE webhook_uuid = $1 ORDER BY seq DESC LIMIT $2"
    )
    .bind(uuid)
    .bind(limit)
    .fetch_all(db)
    .await)
}

/// Deletes up to `limit` deliveries delivered or given up before `before` (unix
/// milliseconds); how many. Batched: callers loop until a batch comes back smaller.
pub async fn prune(db: &mut Tx, before: i64, limit: u32) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM webhook_deliveries WHERE seq IN
         (SELECT seq FROM webhook_deliveries WHERE status <> 'pending' AND settled_at < $1
          ORDER BY settled_at LIMIT $2)"
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}
