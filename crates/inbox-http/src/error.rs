//! The one mapping from errors to HTTP responses: `application/problem+json` (RFC 9457) with
//! the stable machine `code` of the domain. Internal details are logged, never returned (S10).

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use inbox_app::AppError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:inbox:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable machine code (`dialog_already_active`, `reply_window_closed`, ...).
    pub code: String,
    /// What went wrong and what to do next.
    pub detail: String,
}

/// An error answered as a problem document.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    detail: String,
    /// W3, S8: seconds for the `Retry-After` header of a 429.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and detail.
    #[must_use]
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 for a body or query that does not parse.
    #[must_use]
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// 404, the answer to anything the caller may not see (A1, S1).
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }
}

/// The HTTP status of a machine code.
#[must_use]
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "not_found" => StatusCode::NOT_FOUND,
        "forbidden" => StatusCode::FORBIDDEN,
        "unauthenticated" | "invalid_signature" => StatusCode::UNAUTHORIZED,
        "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
        "conflict"
        | "dialog_already_active"
        | "invalid_transition"
        | "duplicate"
        | "offer_expired"
        | "offer_not_found"
        | "capacity_exceeded"
        | "agent_unavailable"
        | "conversation_interrupted"
        | "already_rated"
        | "dialog_completed"
        | "dialog_not_active"
        | "message_already_deleted" => StatusCode::CONFLICT,
        "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "internal" => StatusCode::INTERNAL_SERVER_ERROR,
        "bad_request" => StatusCode::BAD_REQUEST,
        "payload_too_large" | "attachment_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_type_not_allowed" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = error.code();
        match &error {
            AppError::Internal(_) | AppError::Unavailable(_) => {
                tracing::error!(error = ?error, "request failed");
            }
            _ => {}
        }
        let retry_after = match &error {
            AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        Self {
            status: status_of(code),
            code: code.to_owned(),
            detail: error.to_string(),
            retry_after,
        }
    }
}

impl From<conversation_core::DomainError> for ApiError {
    fn from(error: conversation_core::DomainError) -> Self {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("urn:inbox:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail,
        };
        let mut response = (self.status, Json(problem)).into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Handlers' results.
pub type ApiResult<T> = Result<T, ApiError>;
