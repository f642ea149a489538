//! Request extractors: the authenticated caller from the `Authorization: Bearer` header (tokens
//! are never read from URLs, A3), and JSON bodies that refuse unknown fields (S2) with a problem
//! document instead of axum's plain-text rejection.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use inbox_app::{AppError, Caller};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Auth(pub Caller);

/// The bearer token of a request, if it has one.
#[must_use]
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(AppError::Unauthenticated)?;
        Ok(Self(state.app.authenticate(token).await?))
    }
}

/// A JSON body; unknown fields are refused by the types' `deny_unknown_fields`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return Err(ApiError::new(
                        rejection.status(),
                        "payload_too_large",
                        "the body is too large",
                    ));
                }
                Err(ApiError::bad_request(rejection.body_text()))
            }
        }
    }
}
