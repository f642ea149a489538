//! Attachments (M7, S4): agents upload a file into a conversation as `multipart/form-data`
//! (a reply or a private note, M10); agents who may see the conversation and the widget
//! visitor of that conversation download it (S1, S5: otherwise 404).
//!
//! Only the upload route reads a body larger than the global limit: up to
//! [`UPLOAD_BODY_LIMIT`], the attachment ceiling plus room for the form's other parts; each
//! inbox's own limit is checked by the core. Downloads are never rendered by the browser: the
//! content type is the allow-listed one, always `Content-Disposition: attachment`, with
//! `X-Content-Type-Options: nosniff`, a sandboxing `Content-Security-Policy` and
//! `Cache-Control: private, no-store` (S4).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use conversation_core::ids::{ConversationId, DialogId, MessageId};
use conversation_core::message::allowed_content_type;
use conversation_core::ports::StoredFile;
use inbox_app::{Outgoing, SendAttachment};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::routes::widget::{VisitorParams, check_inbox};
use crate::state::AppState;
use crate::views::MessageView;

/// The largest upload body: the 50 MiB attachment ceiling
/// (`conversation_core::message::ATTACHMENT_MAX_BYTES_CEILING`) plus 64 KiB for the form.
pub const UPLOAD_BODY_LIMIT: usize = 50 * 1024 * 1024 + 64 * 1024;

/// The longest text part of the form (caption, kind, ids), in bytes.
const TEXT_PART_LIMIT: usize = 16 * 1024;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(download))
        .routes(routes!(widget_download))
        .merge(upload)
}

/// The upload form (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "documents the form in the OpenAPI document; the parts are read one by one"
)]
pub struct UploadForm {
    /// The file, with its file name and content type (M7: png, jpeg, gif, webp, pdf, plain
    /// text, csv, ogg/mpeg/mp4 audio, mp4 video, office documents; never SVG or HTML).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A caption shown with the file (M2 applies).
    caption: Option<String>,
    /// `reply` (default: sent to the contact) or `note` (private, M10).
    kind: Option<String>,
    /// D5: the dialog to write in.
    dialog_id: Option<Uuid>,
    /// M8: your id of this message; a retry with the same id is stored once.
    client_id: Option<String>,
}

fn multipart_error(error: &MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the upload is larger than any attachment may be; send a smaller file",
        );
    }
    ApiError::bad_request(format!(
        "the multipart form is malformed: {}",
        error.body_text()
    ))
}

async fn text_part(field: Field<'_>) -> ApiResult<String> {
    let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
    if bytes.len() > TEXT_PART_LIMIT {
        return Err(ApiError::bad_request("a text part of the form is too long"));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request("a text part of the form is not UTF-8"))
}

fn parse_kind(kind: Option<&str>) -> ApiResult<Outgoing> {
    match kind.map(str::trim) {
        None | Some("" | "reply") => Ok(Outgoing::Text),
        Some("note") => Ok(Outgoing::Note),
        Some(other) => Err(ApiError::bad_request(format!(
            "unknown kind {other:?}: use reply or note"
        ))),
    }
}

/// The parts of an upload form, as read.
#[derive(Default)]
struct Form {
    file: Option<(String, String, Bytes)>,
    caption: Option<String>,
    kind: Option<String>,
    dialog: Option<DialogId>,
    client_id: Option<String>,
}

async fn read_form(mut multipart: Multipart) -> ApiResult<Form> {
    let mut form = Form::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                if form.file.is_some() {
                    return Err(ApiError::bad_request("send one file per message"));
                }
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
                form.file = Some((file_name, content_type, bytes));
            }
            "caption" => form.caption = Some(text_part(field).await?),
            "kind" => form.kind = Some(text_part(field).await?),
            "dialog_id" => {
                let text = text_part(field).await?;
                let id = Uuid::parse_str(text.trim())
                    .map_err(|_| ApiError::bad_request("dialog_id is not a UUID"))?;
                form.dialog = Some(DialogId::from_uuid(id));
            }
            "client_id" => form.client_id = Some(text_part(field).await?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown part {other:?}: use file, caption, kind, dialog_id or client_id"
                )));
            }
        }
    }
    Ok(form)
}

/// M7: sends a file in a conversation, as a reply to the contact or a private note.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/attachments", tag = "messages", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = MessageView),
        (status = 400, description = "not a multipart form, no file part, an unknown part", body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 413, description = "attachment_too_large (the inbox's limit), payload_too_large (above any limit)", body = crate::error::Problem),
        (status = 415, description = "attachment_type_not_allowed", body = crate::error::Problem),
        (status = 422, description = "attachment_content_mismatch, reply_window_closed, capability_unsupported, ...", body = crate::error::Problem),
    ))]
async fn upload(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let multipart = multipart.map_err(|rejection| {
        ApiError::bad_request(format!(
            "send the file as multipart/form-data: {}",
            rejection.body_text()
        ))
    })?;
    let form = read_form(multipart).await?;
    let (file_name, content_type, bytes) = form
        .file
        .ok_or_else(|| ApiError::bad_request("the form has no file part"))?;
    let message = state
        .app
        .send_attachment(
            &caller,
            ConversationId::from_uuid(id),
            SendAttachment {
                kind: parse_kind(form.kind.as_deref())?,
                caption: form.caption.unwrap_or_default(),
                dialog: form.dialog,
                client_id: form.client_id,
                file_name,
                content_type,
                bytes: Arc::from(&*bytes),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&message).into())))
}

/// The name as a quoted-string of plain ASCII: anything else becomes `_`.
fn ascii_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 8187 `ext-value` encoding of the name (UTF-8, percent-encoded beyond `attr-char`).
fn encoded_file_name(name: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<encoded>`.
fn content_disposition(name: &str) -> String {
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_file_name(name),
        encoded_file_name(name)
    )
}

/// S4: the file as a download that no browser renders or sniffs.
fn file_response(file: StoredFile) -> ApiResult<Response> {
    let content_type =
        allowed_content_type(&file.attachment.content_type).unwrap_or("application/octet-stream");
    let disposition = HeaderValue::from_str(&content_disposition(&file.attachment.file_name))
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        })?;
    let mut response = Response::new(Body::from(Bytes::from_owner(file.bytes)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_DISPOSITION, disposition);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

/// M7: downloads a message's file (always as an attachment, S4).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{message}/attachment", tag = "messages", security(("bearer" = [])), params(("id" = Uuid, Path), ("message" = Uuid, Path)), responses(
    (status = 200, description = "the bytes, with the allow-listed Content-Type, Content-Disposition: attachment, X-Content-Type-Options: nosniff, Content-Security-Policy: default-src 'none'; sandbox, Cache-Control: private, no-store", content_type = "application/octet-stream", body = Vec<u8>),
    (status = 404, description = "not a conversation you may see (S1), no file, or a deleted message (M5)", body = crate::error::Problem),
))]
async fn download(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, message)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let file = state
        .app
        .attachment(
            &caller,
            ConversationId::from_uuid(id),
            MessageId::from_uuid(message),
        )
        .await?;
    file_response(file)
}

/// M7, M10: the visitor downloads the file of a message of their conversation (never a note's).
#[utoipa::path(get, path = "/api/v1/widget/messages/{message}/attachment", tag = "widget", security(("bearer" = [])), params(("message" = Uuid, Path), VisitorParams), responses(
    (status = 200, description = "the bytes, with the same headers as the agents' download", content_type = "application/octet-stream", body = Vec<u8>),
    (status = 401, body = crate::error::Problem),
    (status = 404, description = "not a visitor token, another conversation (S5), a private note (M10), no file, a deleted message (M5)", body = crate::error::Problem),
))]
async fn widget_download(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(message): Path<Uuid>,
    Query(params): Query<VisitorParams>,
) -> ApiResult<Response> {
    check_inbox(&caller, params.inbox)?;
    let file = state
        .app
        .visitor_attachment(&caller, MessageId::from_uuid(message))
        .await?;
    file_response(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m7_the_upload_limit_is_the_ceiling_plus_a_margin() {
        let ceiling = conversation_core::message::ATTACHMENT_MAX_BYTES_CEILING;
        let limit = u64::try_from(UPLOAD_BODY_LIMIT).unwrap();
        assert!(limit > ceiling && limit - ceiling <= 64 * 1024);
    }

    #[test]
    fn s4_the_download_name_is_quoted_safely_and_encoded() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("résumé \"final\";.pdf"),
            "attachment; filename=\"r_sum_ _final_;.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%3B.pdf"
        );
        assert!(HeaderValue::from_str(&content_disposition("a\r\nSet-Cookie: x")).is_ok());
    }
}
