//! `inbox-http`: the HTTP face of the inbox, over axum.
//!
//! What belongs here: routers (one module per area under `routes`), request extractors
//! (bearer authentication, JSON bodies that refuse unknown fields), the views the API returns,
//! the one mapping from errors to `application/problem+json`, and the OpenAPI document, which
//! is generated from the same router that serves the requests (`utoipa-axum`), so it describes
//! exactly the routes served. What does not: rules (the core's), use cases (`inbox-app`'s),
//! SQL (this crate never names a store type).
//!
//! To add a route: a handler with `#[utoipa::path]` in the module of its area, registered with
//! `routes!` in that module's `router()`; its request types derive `ToSchema` with
//! `#[serde(deny_unknown_fields)]`; errors go through `?` into [`error::ApiError`].

pub mod error;
pub mod extract;
pub mod routes;
pub mod state;
pub mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use inbox_app::App;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

pub use state::AppState;

/// The largest request body accepted (S8); uploads have their own limit
/// (`routes::attachments::UPLOAD_BODY_LIMIT`).
pub const BODY_LIMIT: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "inbox", description = "The customer-support inbox API: agents, conversations, dialogs, widget, realtime."),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and their OpenAPI document, before the state is given.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::conversations::router())
        .merge(routes::automated::router())
        .merge(routes::attachments::router())
        .merge(routes::directory::router())
        .merge(routes::dialogs::router())
        .merge(routes::realtime::router())
        .merge(routes::reports::router())
        .merge(routes::widget::router())
        .merge(routes::channels::router())
        .merge(routes::webhooks::router())
        .merge(routes::notifications::router())
        .split_for_parts()
}

/// The whole application: every route, the OpenAPI document at `/api/v1/openapi.json`, body
/// limits and request tracing.
pub fn router(app: App) -> Router {
    let (routes, openapi) = api();
    let openapi = std::sync::Arc::new(openapi);
    routes
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let openapi = std::sync::Arc::clone(&openapi);
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            AppState { app: app.clone() },
            routes::widget::cors,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(AppState { app })
}
