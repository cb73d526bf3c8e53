//! The macros that turn a property table into its types: one row per property (its name, type,
//! default, check and whether Knock acts on it) gives the struct fields, the name lists, the
//! defaults, `config()`, merging a patch and the checks, so no property is written twice.

/// The type a room property is stored as: `T` with a default, `Option<T>` without one.
macro_rules! stored_type {
    ($ty:ty) => { Option<$ty> };
    ($ty:ty, $default:expr) => { $ty };
}

/// A room property's default: the row's value, or `None` when it has none.
macro_rules! default_value {
    () => {
        None
    };
    ($default:expr) => {
        $default
    };
}

/// The name list and the [`PropertyInfo`](super::PropertyInfo) list of one table.
macro_rules! property_lists {
    ($names:ident, $infos:ident, $what:literal; $($name:ident, $effect:ident, [$($doc:literal)*];)*) => {
        #[doc = concat!("The names of all ", $what, " properties, in the table's order.")]
        pub const $names: &[&str] = &[$(stringify!($name)),*];

        #[doc = concat!("Every ", $what, " property: its name, whether Knock acts on it, what it means.")]
        pub const $infos: &[PropertyInfo] = &[$(PropertyInfo {
            name: stringify!($name),
            effect: Effect::$effect,
            doc: concat!($($doc),*).trim_ascii_start(),
        }),*];
    };
}

/// Room properties from their table: [`RoomProperties`](super::RoomProperties) (every value in
/// effect), [`RoomPropertiesPatch`](super::RoomPropertiesPatch) (a create or update request),
/// `ROOM_PROPERTY_NAMES`, `ROOM_PROPERTIES`, the defaults, `config()`, `merge()` and (on the
/// server) `checked()`.
///
/// A row: `/// doc` `name: T = default, Acts|Stored, check = f, schema(...);`. Without a
/// default the property is stored as `Option<T>` and defaults to `None`; `check` names a
/// function of `crate::ssr::validate::property`; `schema(...)` adds OpenAPI attributes.
macro_rules! room_properties {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty $(= $default:expr)?, $effect:ident
            $(, check = $check:ident)? $(, schema($($schema:tt)*))?;
    )*) => {
        /// A room's properties with every value in effect (defaults filled in), as stored. A
        /// property missing from what was stored (a room older than the property) is its default.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct RoomProperties {
            $($(#[doc = $doc])* pub $name: stored_type!($ty $(, $default)?),)*
        }

        impl Default for RoomProperties {
            fn default() -> Self {
                Self { $($name: default_value!($($default)?),)* }
            }
        }

        impl RoomProperties {
            /// The properties that differ from their defaults: a room's `config`.
            pub fn config(&self) -> Map<String, Value> {
                let defaults = Self::default();
                let mut config = Map::new();
                $(if self.$name != defaults.$name
                    && let Ok(value) = serde_json::to_value(&self.$name)
                {
                    config.insert(stringify!($name).to_owned(), value);
                })*
                config
            }

            /// Applies a patch: an absent property is kept, `null` returns it to its default, a
            /// value replaces it. Check the patch first (`checked`).
            pub fn merge(&mut self, patch: RoomPropertiesPatch) {
                let defaults = Self::default();
                $(match patch.$name {
                    Patch::Absent => {}
                    Patch::Null => self.$name = defaults.$name,
                    Patch::Value(value) => self.$name = value.into(),
                })*
            }
        }

        /// Room properties in a create or update request. Unknown properties are refused by name.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(ToSchema))]
        #[serde(deny_unknown_fields)]
        pub struct RoomPropertiesPatch {
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Patch::is_absent")]
                #[cfg_attr(feature = "ssr", schema(value_type = Option<$ty> $(, $($schema)*)?))]
                pub $name: Patch<$ty>,
            )*
        }

        #[cfg(feature = "ssr")]
        impl RoomPropertiesPatch {
            /// Checks every value the patch sets, in the table's order; returns them as stored.
            pub fn checked(mut self, now: i64) -> Result<Self, crate::error::AppError> {
                $($(if let Patch::Value(value) = self.$name {
                    self.$name = Patch::Value(crate::ssr::validate::property::$check(
                        concat!("properties.", stringify!($name)), value, now,
                    )?);
                })?)*
                Ok(self)
            }
        }

        property_lists! {
            ROOM_PROPERTY_NAMES, ROOM_PROPERTIES, "room";
            $($name, $effect, [$($doc)*];)*
        }
    };
}

/// Meeting-token properties from their table: [`TokenProperties`](super::TokenProperties)
/// (every property optional, absent ones not serialized), on the server `TokenClaims` (the same
/// properties under their JWT claim names, Daily's abbreviations, plus `iat`, `d` and `jti`),
/// `TOKEN_PROPERTY_NAMES`, `TOKEN_PROPERTIES` and (on the server) `checked()`.
///
/// A row: `/// doc` `name: T, Acts|Stored, claim = c, check = f;`, `check` as for rooms; `c` is
/// the claim's name in the token.
macro_rules! token_properties {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty, $effect:ident, claim = $claim:ident $(, check = $check:ident)?;
    )*) => {
        /// A meeting token's properties, with Daily's long names.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(ToSchema))]
        #[serde(deny_unknown_fields)]
        pub struct TokenProperties {
            $(
                $(#[doc = $doc])*
                #[serde(
                    default,
                    deserialize_with = "wire::option",
                    skip_serializing_if = "Option::is_none"
                )]
                pub $name: Option<$ty>,
            )*
        }

        /// The claims of a meeting token: its properties under their short names (Daily's
        /// abbreviations, which self-signed tokens use too), plus when and by whom it was issued.
        #[cfg(feature = "ssr")]
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct TokenClaims {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                #[serde(
                    default,
                    deserialize_with = "wire::option",
                    skip_serializing_if = "Option::is_none"
                )]
                pub $claim: Option<$ty>,
            )*
            /// Issued at, unix seconds.
            #[serde(
                default,
                deserialize_with = "wire::option",
                skip_serializing_if = "Option::is_none"
            )]
            pub iat: Option<i64>,
            /// The domain id of the deployment that issued it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub d: Option<String>,
            /// The token's id: what revocation records. Self-signed tokens may lack it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub jti: Option<String>,
        }

        #[cfg(feature = "ssr")]
        impl TokenClaims {
            /// The claims carrying `properties` (no `iat`, `d` or `jti` yet).
            pub fn carrying(properties: &TokenProperties) -> Self {
                Self {
                    $($claim: properties.$name.clone(),)*
                    iat: None,
                    d: None,
                    jti: None,
                }
            }

            /// The token's properties under their long names.
            pub fn properties(&self) -> TokenProperties {
                TokenProperties { $($name: self.$claim.clone(),)* }
            }
        }

        #[cfg(feature = "ssr")]
        impl TokenProperties {
            /// Checks every property that is set, in the table's order; returns them as stored.
            pub fn checked(mut self, now: i64) -> Result<Self, crate::error::AppError> {
                $($(if let Some(value) = self.$name {
                    self.$name = Some(crate::ssr::validate::property::$check(
                        concat!("properties.", stringify!($name)), value, now,
                    )?);
                })?)*
                Ok(self)
            }
        }

        property_lists! {
            TOKEN_PROPERTY_NAMES, TOKEN_PROPERTIES, "meeting-token";
            $($name, $effect, [$($doc)*];)*
        }
    };
}

pub(super) use {default_value, property_lists, room_properties, stored_type, token_properties};
