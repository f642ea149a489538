//! The application: the ports it runs on and the realtime hub. Use cases are methods of [`App`],
//! one module per area.

use std::sync::Arc;

use chrono::Duration;
use conversation_core::Timestamp;
use conversation_core::ports::{
    ChannelAdapter, Clock, IdGenerator, StaffMailer, StaffTexter, Store, WebhookPoster,
};
use uuid::Uuid;

use crate::channels::Adapters;
use crate::delivery::DeliveryConfig;
use crate::hub::Hub;
use crate::queue_turns::QueueTurns;
use crate::widget::{WidgetConfig, WidgetGuard};

/// Settings of the use cases.
#[derive(Clone, Copy, Debug)]
pub struct AppConfig {
    /// How long an agent's session lasts.
    pub session_ttl: Duration,
    /// How long a widget visitor's session lasts.
    pub visitor_ttl: Duration,
    /// How many times a change is decided again after losing a race.
    pub max_retries: u32,
    /// W3: the widget's abuse protection (rate limits, proof of work).
    pub widget: WidgetConfig,
    /// H3, N5: how the outbound queue retries.
    pub delivery: DeliveryConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::days(30),
            visitor_ttl: Duration::days(30),
            max_retries: 8,
            widget: WidgetConfig::default(),
            delivery: DeliveryConfig::default(),
        }
    }
}

/// The use cases, over a store, a clock and an id generator.
#[derive(Clone)]
pub struct App {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) config: AppConfig,
    pub(crate) widget: Arc<WidgetGuard>,
    pub(crate) queue_turns: Arc<QueueTurns>,
    pub(crate) adapters: Arc<Adapters>,
    pub(crate) webhook_poster: Option<Arc<dyn WebhookPoster>>,
    pub(crate) staff_mailer: Option<Arc<dyn StaffMailer>>,
    pub(crate) staff_texter: Option<Arc<dyn StaffTexter>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An application over these ports.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        config: AppConfig,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            hub: Arc::new(Hub::default()),
            widget: Arc::new(WidgetGuard::new(config.widget)),
            queue_turns: Arc::new(QueueTurns::default()),
            adapters: Arc::new(Adapters::default()),
            webhook_poster: None,
            staff_mailer: None,
            staff_texter: None,
            config,
        }
    }

    /// The same application with these channel adapters (H1, H2): one per channel kind, the
    /// last given winning. Without adapters, channel webhooks answer 404 and deliveries fail.
    #[must_use]
    pub fn with_adapters(
        mut self,
        adapters: impl IntoIterator<Item = Arc<dyn ChannelAdapter>>,
    ) -> Self {
        self.adapters = Arc::new(Adapters::new(adapters));
        self
    }

    /// The same application posting outgoing webhooks (N5) with this poster. Without one,
    /// webhook deliveries wait in the outbox.
    #[must_use]
    pub fn with_webhook_poster(mut self, poster: Arc<dyn WebhookPoster>) -> Self {
        self.webhook_poster = Some(poster);
        self
    }

    /// The same application emailing staff notifications (N3, D11) with this mailer. Without
    /// one, the notification worker drops email rows with a logged reason.
    #[must_use]
    pub fn with_staff_mailer(mut self, mailer: Arc<dyn StaffMailer>) -> Self {
        self.staff_mailer = Some(mailer);
        self
    }

    /// The same application texting staff (N4) with this texter. Without one, the
    /// notification worker drops text rows with a logged reason.
    #[must_use]
    pub fn with_staff_texter(mut self, texter: Arc<dyn StaffTexter>) -> Self {
        self.staff_texter = Some(texter);
        self
    }

    /// How the outbound queue retries (H3).
    #[must_use]
    pub const fn delivery_config(&self) -> DeliveryConfig {
        self.config.delivery
    }

    /// The channel adapters.
    #[must_use]
    pub fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    /// The realtime hub.
    #[must_use]
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The store (for readers that need no rule, such as event streams).
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A new id, time-ordered.
    #[must_use]
    pub fn new_id(&self) -> Uuid {
        self.ids.new_uuid(self.clock.now())
    }
}
