//! A meeting token as the product defines it: HS256 JWTs signed with the API key, carrying
//! Daily's short claims plus a `jti`; signing, decoding (every refusal with its own reason) and
//! the time checks. No I/O: revocation is the token service's, which reads the database.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    model::{Permissions, TokenProperties},
    ssr::secrets::sha256_hex,
};

/// The claims of a meeting token, with Daily's short names: generated from the token property
/// table ([`crate::model::properties`]), plus `iat`, `d` and `jti`.
pub use crate::model::TokenClaims as Claims;

impl Claims {
    /// The claims of a new token.
    pub fn issue(properties: &TokenProperties, domain_id: &str, iat: i64, jti: &str) -> Self {
        Self {
            iat: Some(iat),
            d: Some(domain_id.to_owned()),
            jti: Some(jti.to_owned()),
            ..Self::carrying(properties)
        }
    }

    /// An owner of the rooms it opens.
    pub fn is_owner(&self) -> bool {
        self.o == Some(true)
    }

    /// May decide on knocks: owners, and holders of `canAdmin` with `participants`.
    pub fn is_admin(&self) -> bool {
        self.is_owner() || self.p.as_ref().is_some_and(Permissions::can_admit)
    }
}

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TokenRejection {
    /// Not three base64url parts with JSON inside.
    #[error("the meeting token is malformed: {0}")]
    Malformed(String),
    /// Signed with something other than HS256 (including `none`).
    #[error("the meeting token uses the algorithm {0}; only HS256 tokens are accepted")]
    Algorithm(String),
    /// The signature does not match this deployment's key, or the claims were changed.
    #[error("the meeting token's signature is invalid")]
    Signature,
    /// Issued for another domain.
    #[error("the meeting token belongs to another domain")]
    Domain,
    /// Past its `exp`.
    #[error("the meeting token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("the meeting token is not valid yet")]
    NotYetValid,
    /// Revoked through the API or the dashboard.
    #[error("the meeting token has been revoked")]
    Revoked,
}

impl From<TokenRejection> for AppError {
    fn from(rejection: TokenRejection) -> Self {
        AppError::invalid(rejection.to_string())
    }
}

/// Signs claims with HS256.
pub fn sign(claims: &Claims, key: &str) -> Result<String, AppError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .map_err(|error| AppError::internal("signing a meeting token", error))
}

/// Checks the algorithm, the signature and the domain; not the times, not revocation.
pub fn decode(token: &str, key: &str, domain_id: &str) -> Result<Claims, TokenRejection> {
    let header = token
        .split('.')
        .next()
        .filter(|_| token.split('.').count() == 3)
        .ok_or_else(|| TokenRejection::Malformed("it is not three dot-separated parts".into()))?;
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| TokenRejection::Malformed("its header is not base64url JSON".into()))?;
    match header.get("alg").and_then(serde_json::Value::as_str) {
        Some("HS256") => {}
        Some(other) => return Err(TokenRejection::Algorithm(other.to_owned())),
        None => return Err(TokenRejection::Malformed("its header has no alg".into())),
    }

    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(key.as_bytes()),
        &validation,
    )
    .map_err(|error| match error.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenRejection::Signature,
        _ => TokenRejection::Malformed(error.to_string()),
    })?
    .claims;
    if claims.d.as_deref() != Some(domain_id) {
        return Err(TokenRejection::Domain);
    }
    // The name and user id are kept as they are, beside the session: no control characters
    // (a self-signed token could carry a NUL, which no database text column holds).
    let control = |value: &Option<String>| {
        value
            .as_deref()
            .is_some_and(|v| v.chars().any(char::is_control))
    };
    if control(&claims.u) || control(&claims.ud) {
        return Err(TokenRejection::Malformed(
            "its user_name or user_id contains a control character".into(),
        ));
    }
    Ok(claims)
}

/// Checks `exp` and (unless `ignore_nbf`) `nbf` against `now`.
pub fn check_times(claims: &Claims, now: i64, ignore_nbf: bool) -> Result<(), TokenRejection> {
    if claims.exp.is_some_and(|exp| exp <= now) {
        return Err(TokenRejection::Expired);
    }
    if !ignore_nbf && claims.nbf.is_some_and(|nbf| nbf > now) {
        return Err(TokenRejection::NotYetValid);
    }
    Ok(())
}

/// What revocation records for a token: its `jti`, or the SHA-256 of the token without one.
pub fn revocation_key(token: &str, claims: &Claims) -> String {
    match &claims.jti {
        Some(jti) => format!("jti:{jti}"),
        None => format!("sha256:{}", sha256_hex(token)),
    }
}
