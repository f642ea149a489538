//! M6: the contact's last-seen time. Widget activity (a session, a message, a page view, a
//! fetch of the messages, a read) marks the contact seen; the contact card shows the time.
//! Marking is throttled in memory to one write per contact every [`SEEN_EVERY_MS`], so a busy
//! visitor costs one small update per half minute, and the time shown is at most that old. A
//! failed mark is logged and never fails the visitor's request: it is a hint, not a record.

use conversation_core::Timestamp;
use conversation_core::entities::Contact;
use conversation_core::ids::{AccountId, ContactId};

use crate::app::App;
use crate::error::AppResult;

/// At most one last-seen write per contact in this many milliseconds.
pub const SEEN_EVERY_MS: u32 = 30_000;

impl App {
    /// M6: the contact is here now.
    pub(crate) async fn mark_contact_seen(&self, account: AccountId, contact: ContactId) {
        let now = self.now();
        if self.widget.seen_allowed(contact, now) {
            if let Err(error) = self.store.mark_contact_seen(account, contact, now).await {
                tracing::warn!(%contact, ?error, "could not record the contact's last-seen time");
            }
        }
    }

    /// M6: when a contact the caller already read was last seen.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn contact_last_seen(&self, contact: &Contact) -> AppResult<Option<Timestamp>> {
        Ok(self
            .store
            .contact_last_seen(contact.account, contact.id)
            .await?)
    }
}
