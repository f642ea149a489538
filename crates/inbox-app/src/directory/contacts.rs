//! Contacts: the card (K1), its edits including notes, custom attributes and the responsible
//! agent (K1, K3), merging two contacts (K2) and the contact's conversations. Agents of the
//! account read and edit contacts; integrations with an API token too (external customer data,
//! K1); merging is for those who see every conversation (owners, admins, full access), since it
//! joins two histories.

use std::collections::BTreeMap;

use conversation_core::DomainError;
use conversation_core::actor::Principal;
use conversation_core::conversation::Conversation;
use conversation_core::entities::Contact;
use conversation_core::ids::{AccountId, AgentId, ContactId};
use conversation_core::permissions;
use conversation_core::ports::Versioned;

use super::{email, optional};
use crate::app::App;
use crate::caller::Caller;
use crate::error::AppResult;

/// The most custom attributes a contact keeps.
const MAX_ATTRIBUTES: usize = 200;

/// Changes to a contact; `None` keeps the current value, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactChanges {
    /// Name.
    pub name: Option<Option<String>>,
    /// Email.
    pub email: Option<Option<String>>,
    /// Phone.
    pub phone: Option<Option<String>>,
    /// Location.
    pub location: Option<Option<String>>,
    /// K1: notes visible to all agents (the whole new text).
    pub notes: Option<String>,
    /// K1: custom attributes to set (`Some`) or remove (`None`); the others are kept.
    pub attributes: Option<BTreeMap<String, Option<String>>>,
    /// K3: the account manager; `Some(None)` removes them.
    pub responsible_agent: Option<Option<AgentId>>,
}

/// Who reads or edits contacts: an agent (with their rights) or an integration.
fn staff(caller: &Caller) -> AppResult<(AccountId, Option<&Principal>)> {
    match caller {
        Caller::Agent { account, principal } => Ok((*account, Some(principal))),
        Caller::Integration { account } => Ok((*account, None)),
        Caller::Visitor { .. } => Err(DomainError::Forbidden {
            action: "read the contact directory as a visitor",
        }
        .into()),
    }
}

impl App {
    /// K1: a contact's card (a merged contact shows `merged_into`).
    ///
    /// # Errors
    /// `not_found` (S1); `forbidden` for visitors.
    pub async fn contact(&self, caller: &Caller, id: ContactId) -> AppResult<Contact> {
        let (account, _) = staff(caller)?;
        Ok(self
            .store
            .contact(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// K1, K3: edits a contact.
    ///
    /// # Errors
    /// `not_found` for a contact or responsible agent of another account (S1);
    /// `invalid_value` for a bad email or attribute name.
    pub async fn update_contact(
        &self,
        caller: &Caller,
        id: ContactId,
        changes: ContactChanges,
    ) -> AppResult<Contact> {
        let (account, _) = staff(caller)?;
        let mut contact = self
            .store
            .contact(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if let Some(name) = changes.name {
            contact.name = optional(name);
        }
        if let Some(address) = changes.email {
            contact.email = optional(address).map(|a| email("email", &a)).transpose()?;
        }
        if let Some(phone) = changes.phone {
            contact.phone = optional(phone);
        }
        if let Some(location) = changes.location {
            contact.location = optional(location);
        }
        if let Some(notes) = changes.notes {
            contact.notes = notes;
        }
        if let Some(attributes) = changes.attributes {
            for (key, value) in attributes {
                let key = key.trim().to_owned();
                if key.is_empty() {
                    return Err(DomainError::InvalidValue {
                        field: "attributes",
                        reason: "an attribute needs a name",
                    }
                    .into());
                }
                match value {
                    Some(value) => {
                        contact.attributes.insert(key, value);
                    }
                    None => {
                        contact.attributes.remove(&key);
                    }
                }
            }
            if contact.attributes.len() > MAX_ATTRIBUTES {
                return Err(DomainError::InvalidValue {
                    field: "attributes",
                    reason: "a contact keeps at most 200 attributes",
                }
                .into());
            }
        }
        if let Some(agent) = changes.responsible_agent {
            if let Some(agent) = agent {
                self.store
                    .agent(account, agent)
                    .await?
                    .ok_or(DomainError::NotFound)?;
            }
            contact.responsible_agent = agent;
        }
        self.store.save_contact(&contact).await?;
        Ok(self
            .store
            .contact(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// K2: merges `merged` into `survivor`: the merged contact's channel identities move to the
    /// survivor (so what it writes next reaches the survivor), missing fields of the survivor
    /// are filled from it, attributes the survivor lacks are copied, and the merged contact
    /// keeps its history with `merged_into` set. Its conversations are listed with the
    /// survivor's. Written in one transaction.
    ///
    /// # Errors
    /// `forbidden` for agents who do not see every conversation; `not_found` (S1);
    /// `invalid_value` for merging a contact into itself or a contact already merged.
    pub async fn merge_contacts(
        &self,
        caller: &Caller,
        survivor: ContactId,
        merged: ContactId,
    ) -> AppResult<Contact> {
        let (account, principal) = staff(caller)?;
        if principal.is_some_and(|p| !permissions::can_see_all(p)) {
            return Err(DomainError::Forbidden {
                action: "merge contacts",
            }
            .into());
        }
        let mut keep = self
            .store
            .contact(account, survivor)
            .await?
            .ok_or(DomainError::NotFound)?;
        let mut gone = self
            .store
            .contact(account, merged)
            .await?
            .ok_or(DomainError::NotFound)?;
        if survivor == merged {
            return Err(DomainError::InvalidValue {
                field: "contact",
                reason: "a contact cannot be merged into itself",
            }
            .into());
        }
        if keep.merged_into.is_some() || gone.merged_into.is_some() {
            return Err(DomainError::InvalidValue {
                field: "contact",
                reason: "was already merged into another contact",
            }
            .into());
        }
        for identity in std::mem::take(&mut gone.identities) {
            if !keep.identities.contains(&identity) {
                keep.identities.push(identity);
            }
        }
        keep.name = keep.name.or_else(|| gone.name.clone());
        keep.email = keep.email.or_else(|| gone.email.clone());
        keep.phone = keep.phone.or_else(|| gone.phone.clone());
        keep.location = keep.location.or_else(|| gone.location.clone());
        keep.responsible_agent = keep.responsible_agent.or(gone.responsible_agent);
        if keep.notes.trim().is_empty() {
            keep.notes.clone_from(&gone.notes);
        } else if !gone.notes.trim().is_empty() {
            keep.notes = format!("{}\n\n{}", keep.notes, gone.notes);
        }
        for (key, value) in &gone.attributes {
            keep.attributes
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        gone.merged_into = Some(survivor);
        self.store.save_contacts(&[gone, keep]).await?;
        Ok(self
            .store
            .contact(account, survivor)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// K1: the contact's conversations (with those of contacts merged into it), newest
    /// activity first; an agent gets only those they may see (A2).
    ///
    /// # Errors
    /// `not_found` (S1).
    pub async fn contact_conversations(
        &self,
        caller: &Caller,
        id: ContactId,
    ) -> AppResult<Vec<Versioned<Conversation>>> {
        let (account, principal) = staff(caller)?;
        self.store
            .contact(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let all = self.store.contact_conversations(account, id).await?;
        let Some(principal) = principal else {
            return Ok(all);
        };
        if permissions::can_see_all(principal) {
            return Ok(all);
        }
        // A2: the same visibility as every conversation read (S1: the rest is absent).
        let mut visible = Vec::with_capacity(all.len());
        for stored in all {
            let access = self.access(account, principal, &stored.value).await?;
            if permissions::can_see_conversation(principal, access) {
                visible.push(stored);
            }
        }
        Ok(visible)
    }
}
