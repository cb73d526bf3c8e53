//! The dashboard's server functions: sign in with the API key, then rooms and tokens through
//! the same services as the REST API (no rule is written twice).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{DashboardRoom, MintedToken, Room, TokenRevoked},
};

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use crate::{
        error::AppError,
        ssr::cookies::cookie,
        ssr::{dashboard, state::AppState},
    };

    /// The state, once the caller is signed in.
    pub async fn signed_in() -> Result<AppState, AppError> {
        let state = leptos::prelude::expect_context::<AppState>();
        let headers: axum::http::HeaderMap = leptos_axum::extract()
            .await
            .map_err(|error| AppError::internal("reading request headers", error))?;
        let secret = cookie(&headers, &dashboard::cookie_name(&state.config))?;
        if dashboard::signed_in(&state, secret.as_deref()).await? {
            Ok(state)
        } else {
            Err(AppError::Authentication(
                "Sign in with the API key first.".into(),
            ))
        }
    }

    /// Runs `operation` for a signed-in caller.
    pub async fn as_signed_in<T, F>(operation: impl FnOnce(AppState) -> F) -> Result<T, AppError>
    where
        F: Future<Output = Result<T, AppError>>,
    {
        operation(signed_in().await?).await
    }

    /// Sets a cookie on the response.
    pub fn set_cookie(value: &str) {
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(value) = axum::http::HeaderValue::from_str(value)
        {
            options.append_header(axum::http::header::SET_COOKIE, value);
        }
    }

    /// Parses an optional `datetime-local` value (UTC) into unix seconds.
    pub fn unix_time(field: &str, text: &str) -> Result<Option<i64>, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        time::PrimitiveDateTime::parse(text.get(..16).unwrap_or(text), &format)
            .map(|time| Some(time.assume_utc().unix_timestamp()))
            .map_err(|_| {
                AppError::invalid(format!(
                    "{field} must be a date and time like 2030-01-31T18:00"
                ))
            })
    }
}

/// The rooms with live counts, or `None` when the caller is not signed in.
#[server(endpoint = "dashboard_rooms")]
pub async fn dashboard_rooms() -> Result<Option<Vec<DashboardRoom>>, AppError> {
    match server::signed_in().await {
        Ok(state) => crate::ssr::dashboard::rooms(&state).await.map(Some),
        Err(AppError::Authentication(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Signs in with the API key (rate limited per client).
#[server(endpoint = "dashboard_sign_in")]
pub async fn dashboard_sign_in(api_key: String) -> Result<(), AppError> {
    use crate::ssr::{dashboard, state::AppState};
    let state = expect_context::<AppState>();
    let client = crate::api::call::client_address().await;
    let secret = dashboard::sign_in(&state, &api_key, &client).await?;
    server::set_cookie(&crate::ssr::cookies::set_cookie(
        &state.config,
        &dashboard::cookie_name(&state.config),
        &secret,
        Some(dashboard::SIGN_IN_SECONDS),
    ));
    Ok(())
}

/// Signs out.
#[server(endpoint = "dashboard_sign_out")]
pub async fn dashboard_sign_out() -> Result<(), AppError> {
    use crate::ssr::{dashboard, state::AppState};
    let state = expect_context::<AppState>();
    let headers: axum::http::HeaderMap = leptos_axum::extract()
        .await
        .map_err(|error| AppError::internal("reading request headers", error))?;
    let name = dashboard::cookie_name(&state.config);
    if let Some(secret) = crate::ssr::cookies::cookie(&headers, &name)? {
        dashboard::sign_out(&state, &secret).await?;
    }
    server::set_cookie(&crate::ssr::cookies::set_cookie(
        &state.config,
        &name,
        "",
        Some(0),
    ));
    Ok(())
}

/// Creates a room (`existing` empty) or changes one (`existing` = its name).
#[server(endpoint = "dashboard_save_room")]
pub async fn dashboard_save_room(
    existing: String,
    name: String,
    privacy: String,
    knocking: Option<String>,
    expires: String,
    max_participants: String,
) -> Result<Room, AppError> {
    use crate::model::{CreateRoom, Patch, Privacy, RoomPropertiesPatch, UpdateRoom};
    server::as_signed_in(|state| async move {
        let privacy = match privacy.as_str() {
            "public" => Privacy::Public,
            "private" => Privacy::Private,
            _ => return Err(AppError::invalid("privacy must be public or private")),
        };
        let exp = server::unix_time("properties.exp", &expires)?;
        let max = match max_participants.trim() {
            "" => None,
            text => Some(text.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "properties.max_participants must be a whole number from 1 to 200",
                )
            })?),
        };
        let properties = RoomPropertiesPatch {
            enable_knocking: Patch::Value(knocking.is_some()),
            // An empty field leaves the property as it is (the edit form has no expiry or
            // maximum, and must not reset them).
            exp: exp.map_or(Patch::Absent, Patch::Value),
            max_participants: max.map_or(Patch::Absent, Patch::Value),
            ..RoomPropertiesPatch::default()
        };
        let now = crate::ssr::time::now();
        if existing.is_empty() {
            let name = name.trim();
            let request = CreateRoom {
                name: (!name.is_empty()).then(|| name.to_owned()),
                privacy: Some(privacy),
                properties,
            };
            crate::ssr::rooms::create(&state, request, now).await
        } else {
            let request = UpdateRoom {
                privacy: Some(privacy),
                properties,
            };
            crate::ssr::rooms::update(&state, &existing, request, now).await
        }
    })
    .await
}

/// Deletes a room (everyone in it is ejected).
#[server(endpoint = "dashboard_delete_room")]
pub async fn dashboard_delete_room(name: String) -> Result<(), AppError> {
    server::as_signed_in(|state| async move {
        crate::ssr::rooms::delete(&state, &name).await.map(|_| ())
    })
    .await
}

/// Mints a meeting token for a room and returns its join link.
#[server(endpoint = "dashboard_create_token")]
pub async fn dashboard_create_token(
    room: String,
    owner: Option<String>,
    user_name: String,
    expires: String,
) -> Result<MintedToken, AppError> {
    use crate::model::{CreateToken, TokenProperties};
    server::as_signed_in(|state| async move {
        let user_name = user_name.trim();
        let properties = TokenProperties {
            room_name: Some(room.clone()),
            is_owner: Some(owner.is_some()),
            user_name: (!user_name.is_empty()).then(|| user_name.to_owned()),
            exp: server::unix_time("properties.exp", &expires)?,
            ..TokenProperties::default()
        };
        let now = crate::ssr::time::now();
        let created = crate::ssr::tokens::create(
            &state,
            CreateToken {
                properties: properties.clone(),
            },
            now,
        )
        .await?;
        Ok(MintedToken {
            link: format!("{}/{room}?t={}", state.config.public_url, created.token),
            token: created.token,
            properties,
        })
    })
    .await
}

/// Revokes a token: it opens nothing any more, and whoever uses it is ejected.
#[server(endpoint = "dashboard_revoke_token")]
pub async fn dashboard_revoke_token(token: String) -> Result<TokenRevoked, AppError> {
    server::as_signed_in(|state| async move {
        crate::ssr::lobby::revoke_token(&state, token.trim()).await
    })
    .await
}
