//! The routers, one module per area. Every route is registered through `utoipa_axum::routes!`
//! with its `#[utoipa::path]`, so the OpenAPI document describes exactly what is served.

pub mod attachments;
pub mod auth;
pub mod automated;
pub mod channels;
pub mod conversations;
pub mod dialogs;
pub mod directory;
pub mod health;
pub mod notifications;
pub mod realtime;
pub mod reports;
pub mod webhooks;
pub mod widget;
