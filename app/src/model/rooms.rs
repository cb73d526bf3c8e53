//! Rooms as the REST API shows them, and the bodies that create, change and delete them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::RoomPropertiesPatch;

/// Who may enter a room without a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// Anyone with the link.
    #[default]
    Public,
    /// Token holders, and knockers an admin lets in when knocking is enabled.
    Private,
}

impl Privacy {
    /// `public` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// A room as the REST API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Room {
    /// A UUID; the cursor of room listings.
    pub id: String,
    /// The room's name, the last segment of its URL.
    pub name: String,
    /// Always true: rooms are made through the API or the dashboard.
    pub api_created: bool,
    /// `public` or `private`.
    pub privacy: Privacy,
    /// `KNOCK_PUBLIC_URL/<name>`.
    pub url: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The properties that differ from their defaults.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub config: Map<String, Value>,
}

/// One page of rooms, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RoomList {
    /// How many rooms are listed in all (not only on this page).
    pub total_count: i64,
    /// This page.
    pub data: Vec<Room>,
}

/// The answer to a room deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RoomDeleted {
    /// Always true.
    pub deleted: bool,
    /// The deleted room's name.
    pub name: String,
}
/// `POST /v1/rooms`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// `[A-Za-z0-9_-]{1,128}`, not one of Knock's own paths; 20 random alphanumerics when
    /// omitted.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = "^[A-Za-z0-9_-]{1,128}$", example = "standup")
    )]
    pub name: Option<String>,
    /// Default `public`.
    #[serde(default)]
    pub privacy: Option<Privacy>,
    /// Room properties.
    #[serde(default)]
    pub properties: RoomPropertiesPatch,
}

/// `POST /v1/rooms/{name}`: properties merge; `null` resets one to its default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateRoom {
    /// New privacy.
    #[serde(default)]
    pub privacy: Option<Privacy>,
    /// Properties to change.
    #[serde(default)]
    pub properties: RoomPropertiesPatch,
}
