use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::SatisfactionForm;
use crate::channel::{Capabilities, ChannelKind};
use crate::ids::{AccountId, InboxId, QueueId};

/// M2: the default maximum length of an agent's chat text, in characters.
pub const DEFAULT_TEXT_LIMIT: usize = 1000;

/// C4: an inbox's choice of reply window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "seconds", rename_all = "snake_case")]
pub enum ReplyWindowSetting {
    /// The channel kind's default.
    #[default]
    ChannelDefault,
    /// No window: replies are always allowed.
    Unlimited,
    /// A custom window, in seconds.
    Custom(i64),
}

/// The settings an inbox can change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxSettings {
    /// C4: the reply window.
    pub reply_window: ReplyWindowSetting,
    /// M2: the maximum length of agent text, in characters.
    pub text_limit: usize,
    /// R10: ending a live chat needs a wrap-up reason.
    pub wrap_up_mandatory: bool,
    /// C2: every new conversation starts in a bot flow.
    pub starts_in_bot: bool,
    /// R11: agents who go offline keep their conversations.
    pub keep_assignments_when_offline: bool,
    /// R11: how long an offline agent keeps their conversations, in seconds (default 120).
    pub offline_grace_secs: u32,
    /// C8: the reply-time target after which an awaiting conversation is overdue, in seconds.
    pub reply_time_target_secs: Option<u32>,
    /// M7: the largest attachment, in bytes (default 20 MB).
    pub attachment_max_bytes: u64,
    /// D13: the satisfaction form sent on this inbox.
    pub satisfaction_form: SatisfactionForm,
    /// W1-W5: the web chat widget (only used by `web_chat` inboxes).
    #[serde(default)]
    pub widget: WidgetSettings,
}

impl Default for InboxSettings {
    fn default() -> Self {
        Self {
            reply_window: ReplyWindowSetting::ChannelDefault,
            text_limit: DEFAULT_TEXT_LIMIT,
            wrap_up_mandatory: false,
            starts_in_bot: false,
            keep_assignments_when_offline: false,
            offline_grace_secs: 120,
            reply_time_target_secs: None,
            attachment_max_bytes: 20 * 1024 * 1024,
            satisfaction_form: SatisfactionForm::default(),
            widget: WidgetSettings::default(),
        }
    }
}

/// W1: one field of the widget's pre-chat form. The keys `name`, `email` and `phone` fill the
/// contact's card; any other key is a custom field, kept as a contact attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreChatField {
    /// The key the widget sends the value under.
    pub key: String,
    /// The label the widget shows.
    pub label: String,
    /// Whether the visitor must fill it.
    #[serde(default)]
    pub required: bool,
}

/// The settings of a web chat widget (W1-W5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WidgetSettings {
    /// W5: the secret the company's own site signs visitor identities with
    /// (`HMAC-SHA256(secret, identifier)`). Never shown to visitors. No secret: no verified
    /// identities, every visitor is anonymous.
    pub secret: Option<String>,
    /// The origins (`https://shop.example.com`) allowed to call the widget API from a browser.
    pub allowed_origins: Vec<String>,
    /// W2: the company logo shown as the widget's avatar.
    pub logo_url: Option<String>,
    /// W3: the proof-of-work difficulty in leading zero bits; `None` for the server's default.
    pub pow_difficulty: Option<u8>,
    /// W1: the pre-chat form; empty for none.
    pub pre_chat_fields: Vec<PreChatField>,
    /// W7: agent replies the visitor has not seen go by email through this email inbox.
    pub email_continuity: Option<EmailContinuity>,
}

/// W7: the default delay, in seconds, between an agent's reply and the check whether the
/// visitor saw it (Chatwoot's two minutes).
pub const DEFAULT_CONTINUITY_AFTER_SECS: u32 = 120;

fn default_continuity_after_secs() -> u32 {
    DEFAULT_CONTINUITY_AFTER_SECS
}

/// W7: how a web chat inbox reaches visitors who left by email.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContinuity {
    /// An email inbox of the same account: its SMTP connection sends, its inbound address
    /// receives the visitor's answer.
    pub inbox: InboxId,
    /// How long after an agent's reply the visitor counts as gone if not seen since, in
    /// seconds.
    #[serde(default = "default_continuity_after_secs")]
    pub after_secs: u32,
}

/// One connected channel instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    /// Its id.
    pub id: InboxId,
    /// The account.
    pub account: AccountId,
    /// Display name.
    pub name: String,
    /// The channel kind (H1).
    pub channel: ChannelKind,
    /// The queue new conversations enter, if any.
    pub queue: Option<QueueId>,
    /// Its settings.
    pub settings: InboxSettings,
}

impl Inbox {
    /// C4: the reply window in force: the inbox's override, else the channel's default.
    /// `None` means replies are always allowed.
    #[must_use]
    pub fn reply_window(&self) -> Option<Duration> {
        match self.settings.reply_window {
            ReplyWindowSetting::ChannelDefault => self.channel.default_reply_window(),
            ReplyWindowSetting::Unlimited => None,
            ReplyWindowSetting::Custom(secs) => Some(Duration::seconds(secs)),
        }
    }

    /// H2: the channel's capabilities with this inbox's reply window.
    #[must_use]
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            reply_window: self.reply_window(),
            ..self.channel.capabilities()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbox(channel: ChannelKind, reply_window: ReplyWindowSetting) -> Inbox {
        Inbox {
            id: InboxId::from_u128(1),
            account: AccountId::from_u128(1),
            name: "inbox".into(),
            channel,
            queue: None,
            settings: InboxSettings {
                reply_window,
                ..InboxSettings::default()
            },
        }
    }

    #[test]
    fn c4_inbox_overrides_the_channel_window() {
        let default = inbox(ChannelKind::Whatsapp, ReplyWindowSetting::ChannelDefault);
        assert_eq!(default.reply_window(), Some(Duration::hours(24)));
        let custom = inbox(ChannelKind::Whatsapp, ReplyWindowSetting::Custom(3600));
        assert_eq!(custom.reply_window(), Some(Duration::hours(1)));
        assert_eq!(custom.capabilities().reply_window, Some(Duration::hours(1)));
        let unlimited = inbox(ChannelKind::Messenger, ReplyWindowSetting::Unlimited);
        assert_eq!(unlimited.reply_window(), None);
        let email_custom = inbox(ChannelKind::Email, ReplyWindowSetting::Custom(60));
        assert_eq!(email_custom.reply_window(), Some(Duration::minutes(1)));
    }

    #[test]
    fn m2_default_text_limit_is_1000() {
        assert_eq!(InboxSettings::default().text_limit, 1000);
    }
}
