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

/// The claims of a meeting token, with Daily's short names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `room_name`: the one room this token opens; every room when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<String>,
    /// `is_owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<bool>,
    /// `user_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<String>,
    /// `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ud: Option<String>,
    /// Expiry, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Not before, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The domain id of the deployment that issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// `knocking`: the holder must knock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<bool>,
    /// `eject_at_token_exp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejt: Option<bool>,
    /// `eject_after_elapsed`, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eje: Option<i64>,
    /// `permissions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<Permissions>,
    /// `lang`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// `enable_prejoin_ui`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epu: Option<bool>,
    /// The token's id: what revocation records. Self-signed tokens may lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    /// The claims of a new token.
    pub fn issue(properties: &TokenProperties, domain_id: &str, iat: i64, jti: &str) -> Self {
        Self {
            r: properties.room_name.clone(),
            o: properties.is_owner,
            u: properties.user_name.clone(),
            ud: properties.user_id.clone(),
            exp: properties.exp,
            nbf: properties.nbf,
            iat: Some(iat),
            d: Some(domain_id.to_owned()),
            k: properties.knocking,
            ejt: properties.eject_at_token_exp,
            eje: properties.eject_after_elapsed,
            p: properties.permissions.clone(),
            lang: properties.lang.clone(),
            epu: properties.enable_prejoin_ui,
            jti: Some(jti.to_owned()),
        }
    }

    /// The token's properties under their long names.
    pub fn properties(&self) -> TokenProperties {
        TokenProperties {
            room_name: self.r.clone(),
            is_owner: self.o,
            user_name: self.u.clone(),
            user_id: self.ud.clone(),
            exp: self.exp,
            nbf: self.nbf,
            eject_at_token_exp: self.ejt,
            eject_after_elapsed: self.eje,
            knocking: self.k,
            permissions: self.p.clone(),
            lang: self.lang.clone(),
            enable_prejoin_ui: self.epu,
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
