//! Meeting tokens: HS256 JWTs signed with the API key, carrying Daily's short claims plus a
//! `jti`. Issuing, verifying (every refusal with its own reason) and revoking live here.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{db::tokens as repo, state::AppState, time::now_millis, validate};
use crate::{
    error::AppError,
    model::{CreateToken, CreatedToken, Permissions, TokenProperties, TokenRevoked},
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

/// Checks a token's properties and returns them normalised (names trimmed).
pub fn validate_properties(
    properties: TokenProperties,
    now: i64,
) -> Result<TokenProperties, AppError> {
    let properties = properties.checked(now)?;
    validate::nbf_before_exp(properties.nbf, properties.exp)?;
    Ok(properties)
}

/// Issues a signed token and records it.
pub async fn create(
    state: &AppState,
    request: CreateToken,
    now: i64,
) -> Result<CreatedToken, AppError> {
    let properties = validate_properties(request.properties, now)?;
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let claims = Claims::issue(&properties, &state.domain_id, now, &jti);
    let token = sign(&claims, state.api_key.expose())?;
    let record = serde_json::to_string(&properties)
        .map_err(|error| AppError::internal("encoding token properties", error))?;
    repo::insert(&state.db, &jti, &record, now_millis()).await?;
    Ok(CreatedToken { token })
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
        None => format!("sha256:{}", super::secrets::sha256_hex(token)),
    }
}

/// Fully verifies a token: algorithm, signature, domain, times and revocation.
pub async fn verify(
    state: &AppState,
    token: &str,
    now: i64,
    ignore_nbf: bool,
) -> Result<Result<Claims, TokenRejection>, AppError> {
    let claims = match decode(token, state.api_key.expose(), &state.domain_id) {
        Ok(claims) => claims,
        Err(rejection) => return Ok(Err(rejection)),
    };
    if repo::is_revoked(&state.db, &revocation_key(token, &claims)).await? {
        return Ok(Err(TokenRejection::Revoked));
    }
    Ok(check_times(&claims, now, ignore_nbf).map(|()| claims))
}

/// `GET /v1/meeting-tokens/{token}`: the properties of a valid token.
pub async fn properties_of(
    state: &AppState,
    token: &str,
    now: i64,
    ignore_nbf: bool,
) -> Result<TokenProperties, AppError> {
    Ok(verify(state, token, now, ignore_nbf).await??.properties())
}

/// Revokes a token this deployment signed (expired or not).
pub async fn revoke(state: &AppState, token: &str) -> Result<TokenRevoked, AppError> {
    let claims = decode(token, state.api_key.expose(), &state.domain_id)?;
    let key = revocation_key(token, &claims);
    repo::revoke(&state.db, &key, now_millis()).await?;
    super::lobby::token_revoked(state, &key).await?;
    Ok(TokenRevoked { revoked: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CanAdmin;

    const KEY: &str = "unit-test-key";
    const DOMAIN: &str = "domain-1";

    fn full_properties() -> TokenProperties {
        TokenProperties {
            room_name: Some("standup".into()),
            is_owner: Some(true),
            user_name: Some("Ana".into()),
            user_id: Some("u-1".into()),
            exp: Some(2_000),
            nbf: Some(500),
            eject_at_token_exp: Some(true),
            eject_after_elapsed: Some(60),
            knocking: Some(false),
            permissions: Some(Permissions {
                can_admin: Some(CanAdmin::All(true)),
            }),
            lang: Some("en".into()),
            enable_prejoin_ui: Some(false),
        }
    }

    #[test]
    fn claims_use_daily_short_names_and_round_trip() {
        let properties = full_properties();
        let claims = Claims::issue(&properties, DOMAIN, 1_000, "abc");
        let json = serde_json::to_value(&claims).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({
                "r": "standup", "o": true, "u": "Ana", "ud": "u-1", "exp": 2000, "nbf": 500,
                "iat": 1000, "d": DOMAIN, "k": false, "ejt": true, "eje": 60,
                "p": {"canAdmin": true}, "lang": "en", "epu": false, "jti": "abc"
            })
        );
        assert_eq!(claims.properties(), properties);
    }

    #[test]
    fn only_given_properties_become_claims() {
        let claims = Claims::issue(&TokenProperties::default(), DOMAIN, 7, "j");
        let json = serde_json::to_value(&claims).expect("serializable");
        assert_eq!(json, serde_json::json!({"iat": 7, "d": DOMAIN, "jti": "j"}));
    }

    #[test]
    fn admins_are_owners_and_can_admin_holders() {
        let mut claims = Claims::default();
        assert!(!claims.is_admin());
        claims.p = Some(Permissions {
            can_admin: Some(CanAdmin::Some(vec![crate::model::AdminArea::Participants])),
        });
        assert!(claims.is_admin() && !claims.is_owner());
        let owner = Claims {
            o: Some(true),
            ..Claims::default()
        };
        assert!(owner.is_admin());
    }

    #[test]
    fn decode_accepts_its_own_tokens_and_refuses_forgeries() {
        let claims = Claims::issue(&full_properties(), DOMAIN, 1_000, "abc");
        let token = sign(&claims, KEY).expect("signs");
        assert_eq!(decode(&token, KEY, DOMAIN), Ok(claims.clone()));
        assert_eq!(
            decode(&token, "other-key", DOMAIN),
            Err(TokenRejection::Signature)
        );
        assert_eq!(
            decode(&token, KEY, "other-domain"),
            Err(TokenRejection::Domain)
        );

        let parts: Vec<&str> = token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let none = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            decode(&none, KEY, DOMAIN),
            Err(TokenRejection::Algorithm("none".into()))
        );
        let tampered_claims = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                r: Some("other-room".into()),
                ..claims
            })
            .expect("json"),
        );
        let tampered = format!("{}.{tampered_claims}.{}", parts[0], parts[2]);
        assert_eq!(
            decode(&tampered, KEY, DOMAIN),
            Err(TokenRejection::Signature)
        );
        assert!(matches!(
            decode("garbage", KEY, DOMAIN),
            Err(TokenRejection::Malformed(_))
        ));
    }

    #[test]
    fn times_are_checked_with_optional_nbf() {
        let claims = Claims {
            nbf: Some(100),
            exp: Some(200),
            ..Claims::default()
        };
        assert_eq!(
            check_times(&claims, 50, false),
            Err(TokenRejection::NotYetValid)
        );
        assert_eq!(check_times(&claims, 50, true), Ok(()));
        assert_eq!(check_times(&claims, 150, false), Ok(()));
        assert_eq!(
            check_times(&claims, 200, true),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn property_validation() {
        let now = 1_000;
        let ok = validate_properties(full_properties(), 0).expect("valid");
        assert_eq!(ok.user_name.as_deref(), Some("Ana"));
        let bad = |change: fn(&mut TokenProperties)| {
            let mut properties = TokenProperties::default();
            change(&mut properties);
            validate_properties(properties, now).expect_err("invalid")
        };
        assert!(
            bad(|p| p.user_id = Some("x".repeat(37)))
                .to_string()
                .contains("user_id")
        );
        assert!(bad(|p| p.exp = Some(999)).to_string().contains("exp"));
        assert!(
            bad(|p| p.user_name = Some(" ".into()))
                .to_string()
                .contains("user_name")
        );
        assert!(
            bad(|p| p.room_name = Some("a b".into()))
                .to_string()
                .contains("room_name")
        );
        assert!(
            bad(|p| p.eject_after_elapsed = Some(0))
                .to_string()
                .contains("eject_after_elapsed")
        );
    }
}
