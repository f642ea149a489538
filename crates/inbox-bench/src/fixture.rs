//! The accounts, inboxes and conversations a scenario needs, made through the application's own
//! use cases on the scenario's database before the server starts (conversations begin the way
//! they do in production: a contact's inbound message on a web-chat inbox).

use std::sync::Arc;

use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Contact, Inbox, InboxSettings};
use conversation_core::ids::{AccountId, ContactId, ConversationId, InboxId};
use conversation_core::message::MessageKind;
use inbox_app::system::{SystemClock, UuidV7Ids};
use inbox_app::{App, AppConfig, Inbound};
use inbox_store::SqlStore;

use crate::BenchResult;
use crate::server::PASSWORD;

/// One account made for a scenario.
#[derive(Clone, Debug)]
pub struct AccountFixture {
    /// The account.
    pub account: AccountId,
    /// Its owner's email (sign in with [`PASSWORD`]).
    pub owner_email: String,
    /// Its web-chat inbox.
    pub inbox: Inbox,
    /// Its open conversations, one contact each.
    pub conversations: Vec<ConversationId>,
}

/// The application over an open store (no server).
#[must_use]
pub fn app(store: SqlStore) -> App {
    App::new(
        Arc::new(store),
        Arc::new(SystemClock::default()),
        Arc::new(UuidV7Ids),
        AppConfig::default(),
    )
}

/// Creates `accounts` accounts, each with an owner `<prefix>-<n>@bench.test`, a web-chat inbox
/// and `conversations` open conversations started by inbound messages.
///
/// # Errors
/// When a use case or the store refuses.
pub async fn accounts(
    app: &App,
    prefix: &str,
    accounts: usize,
    conversations: usize,
) -> BenchResult<Vec<AccountFixture>> {
    let mut out = Vec::with_capacity(accounts);
    for n in 0..accounts {
        let owner_email = format!("{prefix}-{n}@bench.test");
        let created = app
            .bootstrap(&owner_email, Some(PASSWORD))
            .await?
            .ok_or_else(|| format!("{owner_email} already exists: the database is not fresh"))?;
        let account = created.account;
        let inbox = Inbox {
            id: InboxId::from_uuid(app.new_id()),
            account,
            name: "Bench web chat".into(),
            channel: ChannelKind::WebChat,
            queue: None,
            settings: InboxSettings::default(),
        };
        app.store().save_inbox(&inbox).await?;
        let contacts: Vec<Contact> = (0..conversations)
            .map(|i| contact(app, account, i))
            .collect();
        app.store().save_contacts(&contacts).await?;
        let mut ids = Vec::with_capacity(conversations);
        for contact in &contacts {
            let received = app
                .receive_inbound(
                    &inbox,
                    contact.id,
                    Inbound {
                        kind: MessageKind::Text,
                        body: "Hello, I have a question about my order.".into(),
                        attachment: None,
                        external_id: None,
                        client_id: None,
                    },
                )
                .await?;
            ids.push(received.conversation);
        }
        out.push(AccountFixture {
            account,
            owner_email,
            inbox,
            conversations: ids,
        });
    }
    Ok(out)
}

/// A new contact of the account, named after `n`.
#[must_use]
pub fn contact(app: &App, account: AccountId, n: usize) -> Contact {
    Contact {
        id: ContactId::from_uuid(app.new_id()),
        account,
        name: Some(format!("Bench contact {n}")),
        email: None,
        phone: None,
        location: None,
        notes: String::new(),
        attributes: std::collections::BTreeMap::new(),
        responsible_agent: None,
        identities: Vec::new(),
        merged_into: None,
        created_at: app.now(),
    }
}
