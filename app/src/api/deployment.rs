//! Facts about this deployment that pages show.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the home page needs to print working example commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// `KNOCK_PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
}

/// Returns the public base URL of this deployment.
#[server]
pub async fn deployment_info() -> Result<Deployment, ServerFnError> {
    let state = expect_context::<crate::ssr::state::AppState>();
    Ok(Deployment {
        public_url: state.config.public_url.clone(),
    })
}
