//! Channel kinds and what each can do (H1, H2), with the default reply windows of C4.
//! The domain asks a channel's [`Capabilities`] before it acts; adapters declare them, never
//! the other way round. To add a channel kind: add a variant, its capabilities and its default
//! window here, and a module in `inbox-channels`.

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// The kind of channel an inbox is connected to (H1). The API shows it on every conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The website chat widget.
    WebChat,
    /// An email address.
    Email,
    /// Facebook Messenger.
    Messenger,
    /// Instagram direct messages.
    Instagram,
    /// WhatsApp Cloud API.
    Whatsapp,
    /// Twitter/X direct messages.
    Twitter,
    /// A Telegram bot.
    Telegram,
    /// A generic API channel: bring your own transport, signed webhooks.
    Api,
}

impl ChannelKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 8] = [
        Self::WebChat,
        Self::Email,
        Self::Messenger,
        Self::Instagram,
        Self::Whatsapp,
        Self::Twitter,
        Self::Telegram,
        Self::Api,
    ];

    /// C4: how long after the contact's last inbound message an agent may send a free-form
    /// reply; `None` means no limit.
    #[must_use]
    pub fn default_reply_window(self) -> Option<Duration> {
        match self {
            Self::Messenger => Some(Duration::days(7)),
            Self::Whatsapp => Some(Duration::hours(24)),
            Self::WebChat | Self::Twitter => Some(Duration::hours(48)),
            Self::Instagram => Some(Duration::hours(72)),
            Self::Telegram | Self::Email | Self::Api => None,
        }
    }

    /// H2: what the channel supports.
    #[must_use]
    pub fn capabilities(self) -> Capabilities {
        let chat = Capabilities {
            media: true,
            templates: false,
            unsend: false,
            read_receipts: false,
            reserves_angle_brackets: true,
            reply_window: self.default_reply_window(),
        };
        match self {
            Self::WebChat => Capabilities {
                unsend: true,
                read_receipts: true,
                ..chat
            },
            Self::Email => Capabilities {
                reserves_angle_brackets: false,
                ..chat
            },
            Self::Messenger => Capabilities {
                templates: true,
                read_receipts: true,
                ..chat
            },
            // Instagram's Send API has no approved templates: outside its window nothing goes.
            Self::Instagram => Capabilities {
                read_receipts: true,
                ..chat
            },
            Self::Whatsapp => Capabilities {
                templates: true,
                read_receipts: true,
                ..chat
            },
            Self::Twitter => Capabilities {
                read_receipts: true,
                ..chat
            },
            Self::Telegram => Capabilities {
                unsend: true,
                ..chat
            },
            Self::Api => Capabilities {
                templates: true,
                unsend: true,
                read_receipts: true,
                ..chat
            },
        }
    }
}

/// What a channel can do (H2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Images and files.
    pub media: bool,
    /// Approved template messages, allowed even outside the reply window (C4).
    pub templates: bool,
    /// Deleting a sent message on the contact's side (M5).
    pub unsend: bool,
    /// Delivered and read statuses (M6).
    pub read_receipts: bool,
    /// A digital chat channel where `<` and `>` are reserved for template parameters (M2).
    pub reserves_angle_brackets: bool,
    /// The default reply window (C4); `None` means no limit.
    pub reply_window: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c4_default_reply_windows_per_channel() {
        use ChannelKind::*;
        assert_eq!(Messenger.default_reply_window(), Some(Duration::days(7)));
        assert_eq!(Whatsapp.default_reply_window(), Some(Duration::hours(24)));
        assert_eq!(WebChat.default_reply_window(), Some(Duration::hours(48)));
        assert_eq!(Instagram.default_reply_window(), Some(Duration::hours(72)));
        assert_eq!(Twitter.default_reply_window(), Some(Duration::hours(48)));
        assert_eq!(Telegram.default_reply_window(), None);
        assert_eq!(Email.default_reply_window(), None);
        assert_eq!(Api.default_reply_window(), None);
    }

    #[test]
    fn h1_every_kind_serializes_to_its_name() {
        let names: Vec<String> = ChannelKind::ALL
            .iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"web_chat\"",
                "\"email\"",
                "\"messenger\"",
                "\"instagram\"",
                "\"whatsapp\"",
                "\"twitter\"",
                "\"telegram\"",
                "\"api\""
            ]
        );
    }

    #[test]
    fn h2_capabilities_carry_the_reply_window_and_templates() {
        for kind in ChannelKind::ALL {
            assert_eq!(
                kind.capabilities().reply_window,
                kind.default_reply_window()
            );
        }
        assert!(ChannelKind::Whatsapp.capabilities().templates);
        assert!(ChannelKind::Messenger.capabilities().templates);
        assert!(!ChannelKind::Instagram.capabilities().templates);
        assert!(!ChannelKind::Email.capabilities().reserves_angle_brackets);
        assert!(ChannelKind::Telegram.capabilities().unsend);
    }
}
