//! C10: orders created from a conversation, with the `order.created` webhook.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use conversation_core::entities::{NewOrder, Order, OrderLine};
use conversation_core::ids::ConversationId;
use inbox_app::directory::CreateOrder;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::json_of;
use crate::error::ApiResult;
use crate::extract::{Auth, Body};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create))
}

/// One line of an order.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItemBody {
    /// What is ordered.
    pub name: String,
    /// How many (at least 1).
    pub quantity: u32,
    /// Price of one, in minor units of the currency (cents).
    pub unit_price_minor: i64,
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// Its lines (at least one).
    pub items: Vec<OrderItemBody>,
    /// The total you expect, in minor units: refused when it is not the sum of the lines.
    pub amount_minor: Option<i64>,
    /// ISO 4217 code (`EUR`, `HUF`, ...).
    pub currency: String,
    /// A free note.
    pub note: Option<String>,
    /// The reference in an external system.
    pub external_reference: Option<String>,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    /// Its id.
    pub id: Uuid,
    /// The conversation it was created from.
    pub conversation: Uuid,
    /// The contact it is for.
    pub contact: Uuid,
    /// Its lines.
    pub items: Vec<OrderItemBody>,
    /// Total in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// A free note.
    pub note: String,
    /// The reference in an external system.
    pub external_reference: Option<String>,
    /// Who created it: `{"type": "agent", "id": ...}`.
    #[schema(value_type = Object)]
    pub created_by: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.as_uuid(),
            conversation: o.conversation.as_uuid(),
            contact: o.contact.as_uuid(),
            items: o
                .items
                .iter()
                .map(|i| OrderItemBody {
                    name: i.name.clone(),
                    quantity: i.quantity,
                    unit_price_minor: i.unit_price_minor,
                })
                .collect(),
            amount_minor: o.amount_minor,
            currency: o.currency.clone(),
            note: o.note.clone(),
            external_reference: o.external_reference.clone(),
            created_by: json_of(&o.created_by),
            created_at: o.created_at,
        }
    }
}

/// C10: the orders of a conversation, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/orders", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Vec<OrderView>),
    (status = 404, body = crate::error::Problem),
))]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<OrderView>>> {
    let orders = state
        .app
        .orders(&caller, ConversationId::from_uuid(id))
        .await?;
    Ok(Json(orders.iter().map(OrderView::from).collect()))
}

/// C10: creates an order from the conversation; integrations get the `order.created` webhook.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/orders", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateOrderRequest, responses(
    (status = 201, body = OrderView),
    (status = 400, body = crate::error::Problem),
    (status = 404, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
))]
async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<Uuid>,
    Body(request): Body<CreateOrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let order = state
        .app
        .create_order(
            &caller,
            ConversationId::from_uuid(id),
            CreateOrder {
                order: NewOrder {
                    items: request
                        .items
                        .into_iter()
                        .map(|i| OrderLine {
                            name: i.name,
                            quantity: i.quantity,
                            unit_price_minor: i.unit_price_minor,
                        })
                        .collect(),
                    currency: request.currency,
                    note: request.note.unwrap_or_default(),
                    external_reference: request.external_reference,
                },
                amount_minor: request.amount_minor,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&order).into())))
}
