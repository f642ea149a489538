//! The account's directory over HTTP: agents and presence, queues, inboxes, contacts, setting
//! lists, personal tasks and orders, one module each. Request bodies refuse unknown fields
//! (S2); ids of another account answer 404 (S1). The enums of request bodies mirror the core's
//! so that the OpenAPI document lists their values.

mod agents;
mod contacts;
mod inboxes;
mod orders;
mod queues;
mod settings;
mod tasks;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes of the directory.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(agents::router())
        .merge(queues::router())
        .merge(inboxes::router())
        .merge(contacts::router())
        .merge(settings::router())
        .merge(orders::router())
        .merge(tasks::router())
}

/// For `Option<Option<T>>` fields: absent keeps the value (`None`), `null` clears it
/// (`Some(None)`), a value sets it. Use with `#[serde(default, deserialize_with = "nullable")]`.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The serde name of a unit variant of the core (`least_loaded`).
fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The JSON of a core value, as the core serializes it.
fn json_of<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// A deletion's result.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// C7: how many live conversations were interrupted.
    pub interrupted: usize,
}

/// Defines a request enum with the core's serde names and its conversion into the core's type.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident => $core:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<$name> for $core {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => Self::$variant),+
                }
            }
        }
    };
}
use mirror;
