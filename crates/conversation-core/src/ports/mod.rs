//! The port traits: what the use cases need from the outside world, implemented by adapters
//! (`inbox-store`, `inbox-channels`, the application's clock and id generator). Traits are small
//! role traits used as `Arc<dyn Trait>`; methods take `&self`; each method's rustdoc states
//! what the implementation guarantees (atomicity, ordering, idempotence). To add a port: one
//! file here, the trait with its guarantees, and a contract test in the adapters' suite.

mod channel;
mod clock;
mod ids;
mod staff;
mod store;
mod webhook;

pub use channel::{
    ChannelAdapter, ChannelConnection, ChannelEvent, ContactAddress, DeliveryError, FetchedMedia,
    InboundChannelMessage, MediaReference, OutboundContent, OutboundDelivery, ReadWatermark,
    SentReceipt, StatusReport, WebhookError, WebhookOutcome, WebhookRequest,
};
pub use clock::{Clock, ManualClock};
pub use ids::{IdGenerator, SequentialIds};
pub use staff::{StaffEmail, StaffMailer, StaffText, StaffTexter};
pub use store::*;
pub use webhook::{PostOutcome, WebhookPost, WebhookPoster};
