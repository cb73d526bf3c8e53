//! Webhooks as the REST API shows and takes them (`/v1/webhooks`), in Daily's camelCase shape,
//! and the event types Knock sends.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// The event types Knock sends, in the order a call's life produces them.
pub const WEBHOOK_EVENT_TYPES: &[&str] = &[
    "meeting.started",
    "meeting.ended",
    "participant.joined",
    "participant.left",
    "waiting-participant.joined",
    "waiting-participant.left",
];

/// The ways a webhook retries a failed delivery.
pub const WEBHOOK_RETRY_TYPES: &[&str] = &["circuit-breaker", "exponential"];

/// A webhook, as Daily's webhook object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// The webhook's id.
    pub uuid: String,
    /// Where events are POSTed.
    pub url: String,
    /// The signing secret (base64): `X-Webhook-Signature` is the base64 HMAC-SHA256, keyed
    /// with its decoded bytes, of `<X-Webhook-Timestamp>.<raw body>`.
    pub hmac: String,
    /// Sent as `Authorization: Basic <basicAuth>` with every delivery, when set.
    pub basic_auth: Option<String>,
    /// `circuit-breaker` (the webhook turns `FAILED` after 3 consecutive failures) or
    /// `exponential` (each delivery is tried 5 times, then given up).
    pub retry_type: String,
    /// The event types it gets; empty: all of them.
    pub event_types: Vec<String>,
    /// `ACTIVE`, or `FAILED` (nothing is sent until it is re-activated).
    pub state: String,
    /// Consecutive failed attempts.
    pub failed_count: i64,
    /// When an event was last delivered (ISO 8601), if ever.
    pub last_moment_pushed: Option<String>,
    /// This deployment's domain id.
    pub domain_id: String,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
}

/// `POST /v1/webhooks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST events (http or https); it must answer 200 to a test POST first.
    pub url: String,
    /// The event types to get; absent or empty: all of them.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// The signing secret (base64); generated when absent.
    #[serde(default)]
    pub hmac: Option<String>,
    /// Sent as `Authorization: Basic <basicAuth>`.
    #[serde(default)]
    pub basic_auth: Option<String>,
    /// `circuit-breaker` (the default) or `exponential`.
    #[serde(default)]
    pub retry_type: Option<String>,
}

/// `POST /v1/webhooks/{uuid}`: the fields to change; `state: "ACTIVE"` re-activates a
/// `FAILED` webhook.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhook {
    /// A new URL; it must answer 200 to a test POST first.
    #[serde(default)]
    pub url: Option<String>,
    /// New event types; empty: all of them.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// A new signing secret (base64).
    #[serde(default)]
    pub hmac: Option<String>,
    /// New basic-auth credentials (`null` removes them).
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub basic_auth: Option<Option<String>>,
    /// `circuit-breaker` or `exponential`.
    #[serde(default)]
    pub retry_type: Option<String>,
    /// `ACTIVE`: re-activate (after a test POST), sending what waited, in order.
    #[serde(default)]
    pub state: Option<String>,
}

/// One recent delivery of a webhook, for the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// The event's id (the body's `id`).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The room it is about.
    pub room: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// Why the last attempt got no answer, if it did not.
    pub last_error: Option<String>,
    /// When the event happened (ISO 8601).
    pub created_at: String,
}

/// A webhook as the dashboard shows it: its state and its last deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// Its last deliveries, newest first.
    pub deliveries: Vec<WebhookDelivery>,
}

/// `null` and absent told apart: `Some(None)` is an explicit `null`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Option<String>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(Some)
    }
}
