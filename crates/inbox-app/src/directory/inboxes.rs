//! Inboxes: one connected channel each (H1), the queue their conversations enter, and their
//! settings: reply window (C4), text limit (M2), mandatory wrap-up (R10), starting in a bot
//! (C2), offline grace (R11), reply-time target (C8), attachment limit (M7) and the
//! satisfaction form's texts (D13), and a web chat's email continuity (W7, checked by
//! `App::check_continuity`). Deleting one interrupts its live conversations and marks it
//! deleted; nothing stored is deleted (C7).

use conversation_core::DomainError;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::InterruptCause;
use conversation_core::entities::{
    EmailContinuity, Inbox, InboxSettings, ReplyWindowSetting, SatisfactionForm,
};
use conversation_core::ids::{InboxId, QueueId};
use conversation_core::ports::Dependency;

use super::{manager_of, required, within};
use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;

/// A new inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInbox {
    /// Display name.
    pub name: String,
    /// H1: the channel kind.
    pub channel: ChannelKind,
    /// The queue its conversations enter, if any.
    pub queue: Option<QueueId>,
    /// Settings that differ from the defaults.
    pub settings: InboxSettingsChanges,
}

/// Changes to an inbox; `None` keeps the current value. Its channel kind never changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboxChanges {
    /// Display name.
    pub name: Option<String>,
    /// `Some(None)` routes to no queue.
    pub queue: Option<Option<QueueId>>,
    /// Settings to change.
    pub settings: InboxSettingsChanges,
}

/// Changes to an inbox's settings; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboxSettingsChanges {
    /// C4: the reply window.
    pub reply_window: Option<ReplyWindowSetting>,
    /// M2: the longest agent text, in characters.
    pub text_limit: Option<usize>,
    /// R10: ending a live chat needs a wrap-up reason.
    pub wrap_up_mandatory: Option<bool>,
    /// C2: new conversations start in a bot flow.
    pub starts_in_bot: Option<bool>,
    /// R11: offline agents keep their conversations.
    pub keep_assignments_when_offline: Option<bool>,
    /// R11: the grace period of offline agents, in seconds.
    pub offline_grace_secs: Option<u32>,
    /// C8: the reply-time target in seconds; `Some(None)` removes it.
    pub reply_time_target_secs: Option<Option<u32>>,
    /// M7: the largest attachment, in bytes.
    pub attachment_max_bytes: Option<u64>,
    /// D13: the satisfaction form's texts.
    pub satisfaction_form: Option<SatisfactionForm>,
    /// W7: email continuity of a web chat inbox; `Some(None)` turns it off.
    pub email_continuity: Option<Option<EmailContinuity>>,
}

impl InboxSettingsChanges {
    /// Applies the changes to `settings`, validating each.
    ///
    /// # Errors
    /// `invalid_value` or `missing_field` naming the first bad setting.
    pub fn apply_to(self, settings: &mut InboxSettings) -> AppResult<()> {
        if let Some(window) = self.reply_window {
            if let ReplyWindowSetting::Custom(secs) = window {
                within(
                    "reply_window",
                    secs,
                    1,
                    366 * 24 * 3600,
                    "a custom window is between 1 second and a year",
                )?;
            }
            settings.reply_window = window;
        }
        if let Some(limit) = self.text_limit {
            settings.text_limit = within(
                "text_limit",
                limit,
                1,
                10_000,
                "must be between 1 and 10000 characters",
            )?;
        }
        if let Some(value) = self.wrap_up_mandatory {
            settings.wrap_up_mandatory = value;
        }
        if let Some(value) = self.starts_in_bot {
            settings.starts_in_bot = value;
        }
        if let Some(value) = self.keep_assignments_when_offline {
            settings.keep_assignments_when_offline = value;
        }
        if let Some(secs) = self.offline_grace_secs {
            settings.offline_grace_secs = within(
                "offline_grace_secs",
                secs,
                0,
                24 * 3600,
                "must be between 0 and 86400 seconds",
            )?;
        }
        if let Some(target) = self.reply_time_target_secs {
            if let Some(secs) = target {
                within(
                    "reply_time_target_secs",
                    secs,
                    1,
                    7 * 24 * 3600,
                    "must be between 1 second and a week",
                )?;
            }
            settings.reply_time_target_secs = target;
        }
        if let Some(bytes) = self.attachment_max_bytes {
            settings.attachment_max_bytes = within(
                "attachment_max_bytes",
                bytes,
                1,
                conversation_core::message::ATTACHMENT_MAX_BYTES_CEILING,
                "must be between 1 byte and 50 MiB",
            )?;
        }
        if let Some(continuity) = self.email_continuity {
            if let Some(continuity) = continuity {
                within(
                    "email_continuity.after_secs",
                    continuity.after_secs,
                    1,
                    24 * 3600,
                    "must be between 1 second and a day (default 120)",
                )?;
            }
            settings.widget.email_continuity = continuity;
        }
        if let Some(form) = self.satisfaction_form {
            let [bad, normal, excellent] = form.labels;
            settings.satisfaction_form = SatisfactionForm {
                text: required("satisfaction_form.text", &form.text)?,
                labels: [
                    required("satisfaction_form.labels", &bad)?,
                    required("satisfaction_form.labels", &normal)?,
                    required("satisfaction_form.labels", &excellent)?,
                ],
                thank_you: required("satisfaction_form.thank_you", &form.thank_you)?,
            };
        }
        Ok(())
    }
}

impl App {
    /// The account's inboxes (deleted ones are gone), by name.
    ///
    /// # Errors
    /// `forbidden` for callers that are not agents.
    pub async fn inboxes(&self, caller: &Caller) -> AppResult<Vec<Inbox>> {
        let (account, _) = agent_of(caller)?;
        Ok(self.store.inboxes(account).await?)
    }

    /// One inbox.
    ///
    /// # Errors
    /// `not_found` for a deleted inbox or one of another account (S1).
    pub async fn inbox(&self, caller: &Caller, id: InboxId) -> AppResult<Inbox> {
        let (account, _) = agent_of(caller)?;
        Ok(self
            .store
            .inbox(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// H1: creates an inbox (owners and admins).
    ///
    /// # Errors
    /// `forbidden`; `missing_field`, `invalid_value`; `not_found` for a queue of another
    /// account (S1).
    pub async fn create_inbox(&self, caller: &Caller, new: NewInbox) -> AppResult<Inbox> {
        let (account, _) = manager_of(caller, "create inboxes")?;
        if let Some(Some(continuity)) = &new.settings.email_continuity {
            self.check_continuity(account, new.channel, continuity)
                .await?;
        }
        let mut settings = InboxSettings::default();
        new.settings.apply_to(&mut settings)?;
        let inbox = Inbox {
            id: InboxId::from_uuid(self.new_id()),
            account,
            name: required("name", &new.name)?,
            channel: new.channel,
            queue: new.queue,
            settings,
        };
        self.store.save_inbox(&inbox).await?;
        Ok(self
            .store
            .inbox(account, inbox.id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// Changes an inbox's name, queue or settings (owners and admins).
    ///
    /// # Errors
    /// As [`App::create_inbox`]; `not_found` for a deleted inbox or one of another account.
    pub async fn update_inbox(
        &self,
        caller: &Caller,
        id: InboxId,
        changes: InboxChanges,
    ) -> AppResult<Inbox> {
        let (account, _) = manager_of(caller, "change inboxes")?;
        let mut inbox = self
            .store
            .inbox(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if let Some(name) = changes.name {
            inbox.name = required("name", &name)?;
        }
        if let Some(queue) = changes.queue {
            inbox.queue = queue;
        }
        if let Some(Some(continuity)) = &changes.settings.email_continuity {
            self.check_continuity(account, inbox.channel, continuity)
                .await?;
        }
        changes.settings.apply_to(&mut inbox.settings)?;
        self.store.save_inbox(&inbox).await?;
        Ok(self
            .store
            .inbox(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// C7: deletes an inbox (owners and admins): its live conversations are interrupted (their
    /// agents are alerted; they can only be ended with a wrap-up reason), then the inbox is
    /// marked deleted and stops receiving. Nothing stored is deleted. Returns how many
    /// conversations were interrupted.
    ///
    /// # Errors
    /// `forbidden`; `not_found` for a deleted inbox or one of another account (S1).
    pub async fn delete_inbox(&self, caller: &Caller, id: InboxId) -> AppResult<usize> {
        let (account, _) = manager_of(caller, "delete inboxes")?;
        self.store
            .inbox(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let dependency = Dependency::Inbox(id);
        let cause = InterruptCause::InboxDeleted;
        let mut interrupted = self
            .interrupt_dependents(account, dependency, cause)
            .await?;
        if !self.store.delete_inbox(account, id, self.now()).await? {
            return Err(DomainError::NotFound.into());
        }
        // A conversation started while the inbox was being deleted is interrupted too.
        interrupted += self
            .interrupt_dependents(account, dependency, cause)
            .await?;
        Ok(interrupted)
    }
}
