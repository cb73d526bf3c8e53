//! The meeting-token service: issuing (the properties checked, the record stored), verifying
//! against the revocations, and revoking. The token itself, its claims and their signature are
//! the domain's ([`crate::ssr::domain::claims`]).
//!
//! Records of issued tokens are written by one task per server
//! ([`TokenRecords`](super::db::tokens::TokenRecords)): the tokens minted while a write is under
//! way go together in the next statement, and each answer waits until its record is committed.

use super::{
    db::tokens as repo,
    domain::claims::{Claims, TokenRejection, check_times, decode, revocation_key, sign},
    state::AppState,
    time::now_millis,
    validate,
};
use crate::{
    error::AppError,
    model::{CreateToken, CreatedToken, TokenProperties},
};

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
    let jti = new_jti(now_millis());
    let claims = Claims::issue(&properties, &state.domain_id, now, &jti);
    let token = sign(&claims, state.api_key.expose())?;
    let record = serde_json::to_string(&properties)
        .map_err(|error| AppError::internal("encoding token properties", error))?;
    state
        .token_records
        .record(jti, record, now_millis())
        .await?;
    Ok(CreatedToken { token })
}

/// A new token id: a UUID (version 7) whose first 48 bits are `millis` and the rest random, as
/// 32 hexadecimal digits. Ids that grow with time land at the end of the records' primary-key
/// index, so a write of many records touches a page or two of it, where random ids (version 4)
/// touched one page per record all over the index, every one a page more to write at commit.
fn new_jti(millis: i64) -> String {
    let millis = u64::try_from(millis).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random())
        .into_uuid()
        .simple()
        .to_string()
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

/// What revoking a token records and where it looks for its sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The token's revocation key.
    pub key: String,
    /// The room it is for, when it names one.
    pub room: Option<String>,
    /// Its expiry (unix seconds): the revocation is kept until then.
    pub exp: Option<i64>,
}

/// The revocation of a token this deployment signed (expired or not). (Recording it and
/// ejecting its sessions, in one transaction, is the lobby's: `lobby::revoke_token`.)
pub fn revocation(state: &AppState, token: &str) -> Result<Revocation, AppError> {
    let claims = decode(token, state.api_key.expose(), &state.domain_id)?;
    Ok(Revocation {
        key: revocation_key(token, &claims),
        room: claims.r,
        exp: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CanAdmin, Lang, Permissions};
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    const KEY: &str = "unit-test-key";
    const DOMAIN: &str = "domain-1";

    #[test]
    fn token_ids_are_unique_uuids_that_grow_with_time() {
        let earlier = new_jti(1_764_500_000_000);
        let later: Vec<String> = (0..100).map(|_| new_jti(1_764_500_000_001)).collect();
        for jti in later.iter().chain([&earlier]) {
            assert_eq!(jti.len(), 32, "{jti}");
            let uuid = uuid::Uuid::parse_str(jti).expect("a UUID");
            assert_eq!(uuid.get_version_num(), 7, "{jti}");
        }
        assert!(
            later.iter().all(|jti| *jti > earlier),
            "a later id sorts after"
        );
        let unique: std::collections::HashSet<&String> = later.iter().collect();
        assert_eq!(unique.len(), later.len(), "random within one millisecond");
    }

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
                ..Permissions::default()
            }),
            lang: Some(Lang::En),
            enable_prejoin_ui: Some(false),
            start_video_off: Some(true),
            close_tab_on_exit: Some(true),
            ..TokenProperties::default()
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
                "p": {"canAdmin": true}, "uil": "en", "epu": false, "vo": true,
                "ctoe": true, "jti": "abc"
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
            ..Permissions::default()
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
