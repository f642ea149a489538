//! The account's setting lists: dialog request types, reasons and components (D10: changed
//! only with `edit_dialog_settings`) and wrap-up reasons (R10: owners and admins). Every agent
//! reads them, with a search (R10: "searchable"). Removing an entry archives it: what used it
//! keeps it, and it is no longer offered for new work (D10).

use conversation_core::DomainError;
use conversation_core::actor::Principal;
use conversation_core::entities::SettingEntry;
use conversation_core::permissions;
use conversation_core::ports::SettingKind;
use uuid::Uuid;

use super::required;
use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;

/// Changes to an entry; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingChanges {
    /// A new name.
    pub name: Option<String>,
    /// `true` archives it, `false` brings it back.
    pub archived: Option<bool>,
}

/// D10, R10: whether the principal may change this list.
fn check_may_edit(principal: &Principal, kind: SettingKind) -> AppResult<()> {
    let allowed = match kind {
        SettingKind::RequestType | SettingKind::Reason | SettingKind::Component => {
            permissions::can_edit_dialog_settings(principal)
        }
        SettingKind::WrapUpReason => permissions::can_manage_account(principal),
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            action: match kind {
                SettingKind::WrapUpReason => "change wrap-up reasons without being an admin",
                _ => "change dialog settings without the edit_dialog_settings permission",
            },
        }
        .into())
    }
}

/// Case-insensitive search on the name.
fn matches(entry: &SettingEntry<Uuid>, query: Option<&str>) -> bool {
    query
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .is_none_or(|q| entry.name.to_lowercase().contains(&q.to_lowercase()))
}

impl App {
    /// D10, R10: a setting list, by name, filtered by `query` (a part of the name, any case);
    /// archived entries only when asked for.
    ///
    /// # Errors
    /// `forbidden` for callers that are not agents.
    pub async fn setting_list(
        &self,
        caller: &Caller,
        kind: SettingKind,
        query: Option<&str>,
        include_archived: bool,
    ) -> AppResult<Vec<SettingEntry<Uuid>>> {
        let (account, _) = agent_of(caller)?;
        Ok(self
            .store
            .settings(account, kind)
            .await?
            .into_iter()
            .filter(|entry| include_archived || entry.is_live())
            .filter(|entry| matches(entry, query))
            .collect())
    }

    /// D10, R10: adds an entry to a list.
    ///
    /// # Errors
    /// `forbidden` (D10); `missing_field` for a blank name; `conflict` when a live entry has
    /// the name already (any case).
    pub async fn create_setting(
        &self,
        caller: &Caller,
        kind: SettingKind,
        name: &str,
    ) -> AppResult<SettingEntry<Uuid>> {
        let (account, principal) = agent_of(caller)?;
        check_may_edit(principal, kind)?;
        let entry = SettingEntry::new(self.new_id(), name)?;
        self.check_unique(account, kind, &entry).await?;
        self.store.save_setting(account, kind, &entry).await?;
        Ok(entry)
    }

    /// D10, R10: renames, archives or brings back an entry.
    ///
    /// # Errors
    /// As [`App::create_setting`]; `not_found` for an entry of another list or account (S1).
    pub async fn update_setting(
        &self,
        caller: &Caller,
        kind: SettingKind,
        id: Uuid,
        changes: SettingChanges,
    ) -> AppResult<SettingEntry<Uuid>> {
        let (account, principal) = agent_of(caller)?;
        check_may_edit(principal, kind)?;
        let mut entry = self
            .store
            .settings(account, kind)
            .await?
            .into_iter()
            .find(|entry| entry.id == id)
            .ok_or(DomainError::NotFound)?;
        if let Some(name) = changes.name {
            entry.name = required("name", &name)?;
        }
        match changes.archived {
            Some(true) if entry.archived_at.is_none() => entry.archived_at = Some(self.now()),
            Some(false) => entry.archived_at = None,
            _ => {}
        }
        if entry.is_live() {
            self.check_unique(account, kind, &entry).await?;
        }
        self.store.save_setting(account, kind, &entry).await?;
        Ok(entry)
    }

    /// D10: no two live entries of a list share a name.
    async fn check_unique(
        &self,
        account: conversation_core::ids::AccountId,
        kind: SettingKind,
        entry: &SettingEntry<Uuid>,
    ) -> AppResult<()> {
        let name = entry.name.to_lowercase();
        let taken = self
            .store
            .settings(account, kind)
            .await?
            .iter()
            .any(|other| {
                other.id != entry.id && other.is_live() && other.name.to_lowercase() == name
            });
        if taken {
            return Err(DomainError::Conflict {
                what: "an entry of the list with this name",
            }
            .into());
        }
        Ok(())
    }
}
