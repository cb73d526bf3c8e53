//! The dashboard's webhook server functions: each webhook with its state and last deliveries,
//! and re-activating a failed one, through the same service as `/v1/webhooks`.

use leptos::prelude::*;

use crate::{error::AppError, model::DashboardWebhook};

/// How many of a webhook's last deliveries the dashboard shows.
pub const LAST_DELIVERIES: i64 = 10;

#[cfg(feature = "ssr")]
use super::dashboard::server::signed_in;

/// Every webhook, oldest first, with its last deliveries (newest first).
#[server(endpoint = "dashboard_webhooks")]
pub async fn dashboard_webhooks() -> Result<Vec<DashboardWebhook>, AppError> {
    use crate::ssr::webhooks;
    let state = signed_in().await?;
    let mut listed = Vec::new();
    for webhook in webhooks::list(&state).await? {
        let deliveries =
            webhooks::recent_deliveries(&state, &webhook.uuid, LAST_DELIVERIES).await?;
        listed.push(DashboardWebhook {
            webhook,
            deliveries,
        });
    }
    Ok(listed)
}

/// Re-activates a `FAILED` webhook (after the test POST), as `POST /v1/webhooks/{uuid}` with
/// `state: "ACTIVE"` does.
#[server(endpoint = "dashboard_reactivate_webhook")]
pub async fn dashboard_reactivate_webhook(uuid: String) -> Result<DashboardWebhook, AppError> {
    use crate::{model::UpdateWebhook, ssr::webhooks};
    let state = signed_in().await?;
    let request = UpdateWebhook {
        state: Some("ACTIVE".to_owned()),
        ..UpdateWebhook::default()
    };
    let webhook = webhooks::update(&state, &uuid, request).await?;
    let deliveries = webhooks::recent_deliveries(&state, &webhook.uuid, LAST_DELIVERIES).await?;
    Ok(DashboardWebhook {
        webhook,
        deliveries,
    })
}
