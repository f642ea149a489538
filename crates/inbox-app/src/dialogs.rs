//! Dialogs (spec section D): creating one inside a conversation (D1-D3, D11), reading the
//! contact's dialogs, one dialog and its messages (D7), changing it (D9, D10, D11), pausing,
//! resuming (D3, D4) and completing it with the agent's rating of the contact and the
//! satisfaction form (D12, D13), and the contact's click on that form (D13). Every change is
//! one commit: the dialog's new state with its events (C12), the D11 tasks and the D13 messages,
//! then the events are published (N1).
//!
//! Who may do what: an agent who sees the dialog's conversation (A2), or who participates in
//! the dialog, sees and works the dialog; anything else answers `not_found` (A1, S1). The
//! satisfaction click is the contact's own, through a visitor session bound to the dialog's
//! contact and inbox (S5).
//!
//! D11: adding a participant creates their personal task, due in five minutes, and in the same
//! commit a `TimerKind::TaskReminder` timer due at once, which the timer worker fires within a
//! minute as the notification "the task starts in 5 minutes" (`crate::timers`).

use std::collections::BTreeSet;

use chrono::Duration;
use conversation_core::actor::{Actor, Principal};
use conversation_core::conversation::Conversation;
use conversation_core::dialog::{
    ContactDialogs, CreateDialog, Dialog, DialogCommand, DialogEvent, Satisfaction, Stars,
    check_setting_choice,
};
use conversation_core::entities::{Inbox, SatisfactionForm, SettingEntry, Task, TaskSource};
use conversation_core::ids::{
    AccountId, AgentId, ComponentId, ConversationId, DialogId, MessageId, ReasonId, RequestTypeId,
    TaskId,
};
use conversation_core::message::{Direction, Message, MessageKind, MessageOrigin, NewMessage};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, ExpectedVersion, SettingKind, StoreError, Versioned,
};
use conversation_core::{DomainError, DomainEvent, Timestamp};
use uuid::Uuid;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::pipeline::Ctx;

/// D11: how long after being added to a dialog an agent's task starts.
pub const DIALOG_TASK_DELAY_MINUTES: i64 = 5;

/// D1: a dialog to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDialog {
    /// The title (required).
    pub title: String,
    /// The request type (required): a live entry of the account's list (D10).
    pub request_type: RequestTypeId,
    /// Other participating agents; the creator is added anyway.
    pub participants: BTreeSet<AgentId>,
    /// Reasons (optional): live entries of the account's list.
    pub reasons: BTreeSet<ReasonId>,
    /// Components (optional): live entries of the account's list.
    pub components: BTreeSet<ComponentId>,
}

/// D9: what to change on a dialog; `None` and empty sets leave a part as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DialogChanges {
    /// A new title.
    pub title: Option<String>,
    /// A new request type (D10: live, unless the dialog already has it).
    pub request_type: Option<RequestTypeId>,
    /// Agents to add (D11: each gets a task).
    pub add_participants: BTreeSet<AgentId>,
    /// Agents to remove (the last participant stays).
    pub remove_participants: BTreeSet<AgentId>,
    /// The whole new set of reasons (D10: archived ones the dialog holds are kept).
    pub reasons: Option<BTreeSet<ReasonId>>,
    /// The whole new set of components (D10: archived ones the dialog holds are kept).
    pub components: Option<BTreeSet<ComponentId>>,
}

/// D12, D13: how an agent completes a dialog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// D12: the agent's rating of the contact.
    pub contact_rating: Option<Stars>,
    /// D13: send the inbox's satisfaction form to the contact.
    pub send_satisfaction_form: bool,
}

/// The contact's dialogs, as an agent sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactDialogList {
    /// The dialogs the caller may see, newest first.
    pub dialogs: Vec<Dialog>,
    /// D3: the contact's active dialog, when the caller may see it.
    pub active: Option<Dialog>,
}

/// D13: what the contact's click did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SatisfactionAnswered {
    /// The dialog after the click.
    pub dialog: Dialog,
    /// Whether this click was recorded (the first one) or ignored (a later one).
    pub recorded: bool,
    /// The thank-you message the contact was answered with.
    pub thank_you: String,
}

/// What a dialog command sees.
struct DialogCtx<'a> {
    /// The dialog as stored.
    dialog: &'a Dialog,
    /// The contact's dialogs (D3).
    dialogs: &'a ContactDialogs,
    /// The dialog's inbox (D13: its satisfaction form).
    inbox: &'a Inbox,
}

/// What a dialog change did.
struct DialogChanged {
    dialog: Versioned<Dialog>,
    events: Vec<DialogEvent>,
}

/// One of the account's setting lists, with typed ids.
fn catalog<I>(entries: Vec<SettingEntry<Uuid>>, make: fn(Uuid) -> I) -> Vec<SettingEntry<I>> {
    entries
        .into_iter()
        .map(|entry| SettingEntry {
            id: make(entry.id),
            name: entry.name,
            archived_at: entry.archived_at,
        })
        .collect()
}

/// The catalogs a choice needs, read once before deciding.
#[derive(Default)]
struct Catalogs {
    request_types: Vec<SettingEntry<RequestTypeId>>,
    reasons: Vec<SettingEntry<ReasonId>>,
    components: Vec<SettingEntry<ComponentId>>,
}

impl Catalogs {
    /// D10: the new choices must be live entries; what the dialog already holds is kept.
    fn check(
        &self,
        held: Option<&Dialog>,
        request_type: Option<RequestTypeId>,
        reasons: Option<&BTreeSet<ReasonId>>,
        components: Option<&BTreeSet<ComponentId>>,
    ) -> AppResult<()> {
        if let Some(request_type) = request_type {
            let held: BTreeSet<_> = held.map(|d| d.request_type).into_iter().collect();
            check_setting_choice(
                "request_type",
                &held,
                &BTreeSet::from([request_type]),
                &self.request_types,
            )?;
        }
        if let Some(reasons) = reasons {
            let empty = BTreeSet::new();
            let held = held.map_or(&empty, |d| &d.reasons);
            check_setting_choice("reasons", held, reasons, &self.reasons)?;
        }
        if let Some(components) = components {
            let empty = BTreeSet::new();
            let held = held.map_or(&empty, |d| &d.components);
            check_setting_choice("components", held, components, &self.components)?;
        }
        Ok(())
    }
}

/// D13: the form as one message: its text, then the three buttons' labels with their values,
/// so that a channel without buttons still shows what to answer. The labels are also on the
/// dialog (`satisfaction_form.form.labels`), which the message names, for channels that draw
/// buttons.
fn form_body(form: &SatisfactionForm) -> String {
    let mut body = form.text.trim().to_owned();
    for (value, label) in Satisfaction::ALL.iter().zip(&form.labels) {
        body.push('\n');
        body.push_str(&format!("{}. {}", value.value(), label.trim()));
    }
    body
}

impl App {
    /// Reads the setting lists the request touches (D10).
    async fn catalogs(
        &self,
        account: AccountId,
        request_type: bool,
        reasons: bool,
        components: bool,
    ) -> AppResult<Catalogs> {
        let mut catalogs = Catalogs::default();
        if request_type {
            catalogs.request_types = catalog(
                self.store
                    .settings(account, SettingKind::RequestType)
                    .await?,
                RequestTypeId::from_uuid,
            );
        }
        if reasons {
            catalogs.reasons = catalog(
                self.store.settings(account, SettingKind::Reason).await?,
                ReasonId::from_uuid,
            );
        }
        if components {
            catalogs.components = catalog(
                self.store.settings(account, SettingKind::Component).await?,
                ComponentId::from_uuid,
            );
        }
        Ok(catalogs)
    }

    /// S1: every agent to add must be an agent of the account.
    async fn ensure_agents(
        &self,
        account: AccountId,
        agents: impl IntoIterator<Item = &AgentId>,
    ) -> AppResult<()> {
        for agent in agents {
            self.store
                .agent(account, *agent)
                .await?
                .ok_or(DomainError::NotFound)?;
        }
        Ok(())
    }

    /// A dialog the agent may see: one of a conversation they see (A2), or one they
    /// participate in. Anything else is `not_found` (S1).
    ///
    /// # Errors
    /// `not_found`; `forbidden` for visitors and integrations.
    pub async fn dialog(&self, caller: &Caller, id: DialogId) -> AppResult<Versioned<Dialog>> {
        let (account, principal) = agent_of(caller)?;
        let stored = self
            .store
            .dialog(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if !stored.value.participants.contains(&principal.agent) {
            self.conversation(caller, stored.value.conversation).await?;
        }
        Ok(stored)
    }

    /// The contact of a conversation the caller sees: their dialogs across all their
    /// conversations that the caller may see, newest first, and the active one (D3).
    ///
    /// # Errors
    /// As [`App::conversation`].
    pub async fn dialogs_of_contact(
        &self,
        caller: &Caller,
        conversation: ConversationId,
    ) -> AppResult<ContactDialogList> {
        let (account, principal) = agent_of(caller)?;
        let seen = self.conversation(caller, conversation).await?;
        let all = self
            .store
            .dialogs_of_contact(account, seen.value.contact)
            .await?;
        let mut visible_conversations = BTreeSet::from([conversation]);
        let mut hidden_conversations = BTreeSet::new();
        let mut dialogs = Vec::with_capacity(all.len());
        for dialog in all {
            let visible = dialog.participants.contains(&principal.agent)
                || visible_conversations.contains(&dialog.conversation)
                || (!hidden_conversations.contains(&dialog.conversation)
                    && match self.conversation(caller, dialog.conversation).await {
                        Ok(_) => {
                            visible_conversations.insert(dialog.conversation);
                            true
                        }
                        Err(AppError::Domain(DomainError::NotFound)) => {
                            hidden_conversations.insert(dialog.conversation);
                            false
                        }
                        Err(error) => return Err(error),
                    });
            if visible {
                dialogs.push(dialog);
            }
        }
        let active = dialogs.iter().find(|d| d.is_active()).cloned();
        Ok(ContactDialogList { dialogs, active })
    }

    /// D7: the messages sent and received within a dialog, in sequence order.
    ///
    /// # Errors
    /// As [`App::dialog`].
    pub async fn dialog_messages(
        &self,
        caller: &Caller,
        id: DialogId,
        after: u64,
        limit: u32,
    ) -> AppResult<Vec<Message>> {
        self.dialog(caller, id).await?;
        Ok(self
            .store
            .dialog_messages(caller.account(), id, after, limit.clamp(1, 200))
            .await?)
    }

    /// D1-D3, D11: creates a dialog in a conversation the agent sees. The dialog is active;
    /// the creator participates; every other participant gets a task titled with the dialog's
    /// title, due in five minutes. The store's unique index refuses a second active dialog of
    /// the contact even under concurrent requests (D3).
    ///
    /// # Errors
    /// `not_found` for a conversation the caller may not see, or an unknown agent, request
    /// type, reason or component; `dialog_already_active` (D3); `missing_field` /
    /// `invalid_value` for the title (D1) or an archived setting (D10).
    pub async fn create_dialog(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        new: NewDialog,
    ) -> AppResult<Versioned<Dialog>> {
        let (account, principal) = agent_of(caller)?;
        let seen = self.conversation(caller, conversation).await?;
        self.ensure_agents(account, &new.participants).await?;
        let catalogs = self
            .catalogs(
                account,
                true,
                !new.reasons.is_empty(),
                !new.components.is_empty(),
            )
            .await?;
        catalogs.check(
            None,
            Some(new.request_type),
            Some(&new.reasons),
            Some(&new.components),
        )?;
        let contact = seen.value.contact;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let dialogs = self.store.contact_dialogs(account, contact).await?;
            let now = self.now();
            let command = CreateDialog {
                dialog: DialogId::from_uuid(self.ids.new_uuid(now)),
                account,
                conversation,
                contact,
                by: principal.agent,
                title: new.title.clone(),
                request_type: new.request_type,
                participants: new.participants.clone(),
                reasons: new.reasons.clone(),
                components: new.components.clone(),
            };
            let created = Dialog::decide_create(command, &dialogs, now)?;
            let dialog = Dialog::from_created(&created);
            let event = DialogEvent::Created(created);
            let mut commit = Commit::new(account);
            commit.tasks = self.dialog_tasks(&dialog, std::slice::from_ref(&event), now);
            commit.timers = crate::timers::task_reminders(&commit.tasks, now)?;
            commit.changes.push(AggregateChange {
                expected: ExpectedVersion::New,
                state: AggregateState::Dialog(Box::new(dialog.clone())),
                events: vec![DomainEvent::Dialog {
                    dialog: dialog.id,
                    conversation,
                    event,
                }],
            });
            match self.store.commit(commit.clone()).await {
                Ok(receipt) => {
                    self.publish(account, &commit, &receipt);
                    return Ok(Versioned {
                        value: dialog,
                        version: receipt.versions.first().copied().unwrap_or(1),
                    });
                }
                // The contact's other dialog changed meanwhile: decide again on fresh state.
                Err(StoreError::Domain(DomainError::Conflict { .. }))
                    if attempt <= self.config.max_retries => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// D9, D10, D11: changes a dialog's title, request type, participants, reasons and
    /// components, all in one commit (one event per change; nothing recorded when nothing
    /// changes). Added agents get their task.
    ///
    /// # Errors
    /// As [`App::dialog`]; `dialog_completed` (D4); `not_found` for an unknown agent or
    /// setting; `invalid_value` for an archived setting the dialog does not hold yet (D10) or
    /// removing the last participant; `missing_field` / `invalid_value` for the title.
    pub async fn update_dialog(
        &self,
        caller: &Caller,
        id: DialogId,
        changes: DialogChanges,
    ) -> AppResult<Versioned<Dialog>> {
        let (account, principal) = agent_of(caller)?;
        self.dialog(caller, id).await?;
        self.ensure_agents(account, &changes.add_participants)
            .await?;
        let catalogs = self
            .catalogs(
                account,
                changes.request_type.is_some(),
                changes.reasons.is_some(),
                changes.components.is_some(),
            )
            .await?;
        let by = principal.agent;
        let changed = self
            .change_dialog(account, id, |ctx| {
                // D4 first: a completed dialog refuses every change, whatever its input.
                if ctx.dialog.is_completed() {
                    return Err(DomainError::DialogCompleted.into());
                }
                catalogs.check(
                    Some(ctx.dialog),
                    changes.request_type,
                    changes.reasons.as_ref(),
                    changes.components.as_ref(),
                )?;
                let mut commands = Vec::new();
                if let Some(title) = &changes.title {
                    commands.push(DialogCommand::Rename {
                        by,
                        title: title.clone(),
                    });
                }
                if let Some(request_type) = changes.request_type {
                    commands.push(DialogCommand::ChangeRequestType { by, request_type });
                }
                // Additions first, so that replacing the only participant works.
                commands.extend(
                    changes
                        .add_participants
                        .iter()
                        .map(|agent| DialogCommand::AddParticipant { by, agent: *agent }),
                );
                commands.extend(
                    changes
                        .remove_participants
                        .iter()
                        .map(|agent| DialogCommand::RemoveParticipant { by, agent: *agent }),
                );
                if let Some(reasons) = &changes.reasons {
                    commands.push(DialogCommand::SetReasons {
                        by,
                        reasons: reasons.clone(),
                    });
                }
                if let Some(components) = &changes.components {
                    commands.push(DialogCommand::SetComponents {
                        by,
                        components: components.clone(),
                    });
                }
                Ok(commands)
            })
            .await?;
        Ok(changed.dialog)
    }

    /// D4, D6: pauses an active dialog; the general chat opens again.
    ///
    /// # Errors
    /// As [`App::dialog`]; `invalid_transition`; `dialog_completed`.
    pub async fn pause_dialog(
        &self,
        caller: &Caller,
        id: DialogId,
    ) -> AppResult<Versioned<Dialog>> {
        let by = self.dialog_actor(caller, id).await?;
        let changed = self
            .change_dialog(caller.account(), id, |_| {
                Ok(vec![DialogCommand::Pause { by }])
            })
            .await?;
        Ok(changed.dialog)
    }

    /// D3, D4: resumes a paused dialog, unless another dialog of the contact is active.
    ///
    /// # Errors
    /// As [`App::dialog`]; `dialog_already_active`; `invalid_transition`; `dialog_completed`.
    pub async fn resume_dialog(
        &self,
        caller: &Caller,
        id: DialogId,
    ) -> AppResult<Versioned<Dialog>> {
        let by = self.dialog_actor(caller, id).await?;
        let changed = self
            .change_dialog(caller.account(), id, |ctx| {
                Ok(vec![DialogCommand::Resume {
                    by,
                    dialogs: ctx.dialogs.clone(),
                }])
            })
            .await?;
        Ok(changed.dialog)
    }

    /// D4, D12, D13: completes a dialog, with the agent's rating of the contact and, when
    /// asked, the inbox's satisfaction form, sent to the contact as one `csat_request` message
    /// in the same commit.
    ///
    /// # Errors
    /// As [`App::dialog`]; `dialog_completed`; `missing_field` for a blank configured form.
    pub async fn complete_dialog(
        &self,
        caller: &Caller,
        id: DialogId,
        completion: Completion,
    ) -> AppResult<Versioned<Dialog>> {
        let by = self.dialog_actor(caller, id).await?;
        let changed = self
            .change_dialog(caller.account(), id, |ctx| {
                Ok(vec![DialogCommand::Complete {
                    by,
                    contact_rating: completion.contact_rating,
                    send_satisfaction_form: completion
                        .send_satisfaction_form
                        .then(|| ctx.inbox.settings.satisfaction_form.clone()),
                }])
            })
            .await?;
        Ok(changed.dialog)
    }

    /// D13: the contact clicks a button of the satisfaction form. The first click is recorded
    /// on the dialog, with the contact's answer (`csat_response`) in the conversation; every
    /// click is answered with the form's thank-you message; later clicks change nothing.
    ///
    /// # Errors
    /// `forbidden` for callers other than visitors; `not_found` for a dialog of another
    /// contact or inbox (S5); `invalid_transition` when no form was sent.
    pub async fn answer_satisfaction(
        &self,
        caller: &Caller,
        id: DialogId,
        value: Satisfaction,
    ) -> AppResult<SatisfactionAnswered> {
        let Caller::Visitor {
            account,
            contact,
            inbox,
        } = caller
        else {
            return Err(DomainError::Forbidden {
                action: "answer a satisfaction form as anyone but the contact",
            }
            .into());
        };
        let stored = self
            .store
            .dialog(*account, id)
            .await?
            .filter(|d| d.value.contact == *contact)
            .ok_or(DomainError::NotFound)?;
        self.store
            .conversation(*account, stored.value.conversation)
            .await?
            .filter(|c| c.value.inbox == *inbox && c.value.contact == *contact)
            .ok_or(DomainError::NotFound)?;
        let changed = self
            .change_dialog(*account, id, |_| {
                Ok(vec![DialogCommand::RecordSatisfaction {
                    contact: *contact,
                    value,
                }])
            })
            .await?;
        let (recorded, thank_you) = changed
            .events
            .iter()
            .find_map(|event| match event {
                DialogEvent::SatisfactionRecorded { thank_you, .. } => {
                    Some((true, thank_you.clone()))
                }
                DialogEvent::SatisfactionClickIgnored { thank_you, .. } => {
                    Some((false, thank_you.clone()))
                }
                _ => None,
            })
            .ok_or_else(|| AppError::Internal("no satisfaction event decided".into()))?;
        Ok(SatisfactionAnswered {
            dialog: changed.dialog.value,
            recorded,
            thank_you,
        })
    }

    /// The agent acting on a dialog they may see.
    async fn dialog_actor(&self, caller: &Caller, id: DialogId) -> AppResult<AgentId> {
        let (_, principal): (AccountId, &Principal) = agent_of(caller)?;
        self.dialog(caller, id).await?;
        Ok(principal.agent)
    }

    /// Runs one change of a dialog: load it with its conversation's inbox and the contact's
    /// dialogs, let `plan` give the commands, decide them in order on the dialog, commit the
    /// new state with its events, tasks (D11) and messages (D13), publish the events. A lost
    /// race is decided again on fresh state, up to `max_retries` times.
    async fn change_dialog<F>(
        &self,
        account: AccountId,
        id: DialogId,
        mut plan: F,
    ) -> AppResult<DialogChanged>
    where
        F: FnMut(&DialogCtx<'_>) -> AppResult<Vec<DialogCommand>> + Send,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self
                .store
                .dialog(account, id)
                .await?
                .ok_or(DomainError::NotFound)?;
            let conversation = self
                .store
                .conversation(account, stored.value.conversation)
                .await?
                .ok_or(DomainError::NotFound)?;
            let inbox = self
                .store
                .inbox(account, conversation.value.inbox)
                .await?
                .ok_or(DomainError::NotFound)?;
            let dialogs = self
                .store
                .contact_dialogs(account, stored.value.contact)
                .await?;
            let now = self.now();
            let commands = plan(&DialogCtx {
                dialog: &stored.value,
                dialogs: &dialogs,
                inbox: &inbox,
            })?;
            let mut after = stored.value.clone();
            let mut events = Vec::new();
            for command in commands {
                for event in after.decide(command, now)? {
                    after.apply(&event);
                    events.push(event);
                }
            }
            if events.is_empty() {
                return Ok(DialogChanged {
                    dialog: stored,
                    events,
                });
            }
            let messages = self.dialog_side_messages(&conversation.value, &after, &events, now)?;
            let ctx = Ctx {
                conversation: &conversation.value,
                inbox: &inbox,
                dialogs: &dialogs,
                now,
            };
            let mut commit = Commit::new(account);
            commit.outbox = self.delivery_outbox(&ctx, &messages)?;
            commit.messages = messages;
            commit.tasks = self.dialog_tasks(&after, &events, now);
            commit.timers = crate::timers::task_reminders(&commit.tasks, now)?;
            // D8: leaving `active` releases the contact's held messages (in this commit's
            // timer, so the release cannot be lost).
            commit.timers.extend(crate::timers::held_release(
                account,
                after.contact,
                &events,
                now,
            )?);
            commit.changes.push(AggregateChange {
                expected: ExpectedVersion::Exactly(stored.version),
                state: AggregateState::Dialog(Box::new(after.clone())),
                events: events
                    .iter()
                    .map(|event| DomainEvent::Dialog {
                        dialog: id,
                        conversation: after.conversation,
                        event: event.clone(),
                    })
                    .collect(),
            });
            match self.store.commit(commit.clone()).await {
                Ok(receipt) => {
                    self.publish(account, &commit, &receipt);
                    let version = receipt
                        .versions
                        .first()
                        .copied()
                        .unwrap_or(stored.version + 1);
                    return Ok(DialogChanged {
                        dialog: Versioned {
                            value: after,
                            version,
                        },
                        events,
                    });
                }
                Err(StoreError::Domain(DomainError::Conflict { .. }))
                    if attempt <= self.config.max_retries => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// D11: a personal task for every agent the events add, other than the agent who adds
    /// them (the creator participates by default and needs no reminder of their own dialog).
    fn dialog_tasks(&self, dialog: &Dialog, events: &[DialogEvent], now: Timestamp) -> Vec<Task> {
        let added = events.iter().flat_map(|event| match event {
            DialogEvent::Created(created) => created
                .participants
                .iter()
                .filter(|agent| Actor::Agent(**agent) != created.by)
                .copied()
                .collect::<Vec<_>>(),
            DialogEvent::ParticipantAdded { agent, by, .. } if Actor::Agent(*agent) != *by => {
                vec![*agent]
            }
            _ => Vec::new(),
        });
        added
            .map(|agent| Task {
                id: TaskId::from_uuid(self.ids.new_uuid(now)),
                account: dialog.account,
                agent,
                title: dialog.title.to_string(),
                source: TaskSource::Dialog { dialog: dialog.id },
                due_at: now + Duration::minutes(DIALOG_TASK_DELAY_MINUTES),
                created_at: now,
                done_at: None,
            })
            .collect()
    }

    /// D13: the messages the events send, all within the dialog (D7): the form
    /// (`csat_request`, outbound), the contact's first answer (`csat_response`, inbound, from
    /// the contact) and the thank-you (an outbound `system` message from the server) for every
    /// click. A later click gets only the thank-you: it changes nothing.
    fn dialog_side_messages(
        &self,
        conversation: &Conversation,
        dialog: &Dialog,
        events: &[DialogEvent],
        now: Timestamp,
    ) -> AppResult<Vec<Message>> {
        let mut messages = Vec::new();
        let mut push = |kind: MessageKind, direction: Direction, sender: Actor, body: String| {
            let origin = MessageOrigin {
                id: MessageId::from_uuid(self.ids.new_uuid(now)),
                account: conversation.account,
                conversation: conversation.id,
                dialog: Some(dialog.id),
                sequence: 0,
            };
            let new = NewMessage {
                kind,
                direction,
                sender,
                body,
                quote: None,
                attachment: None,
                client_id: None,
                external_id: None,
            };
            messages.push(Message::create(origin, new, now)?);
            AppResult::Ok(())
        };
        for event in events {
            match event {
                DialogEvent::SatisfactionFormSent { form, by, .. } => push(
                    MessageKind::CsatRequest,
                    Direction::Outbound,
                    *by,
                    form_body(form),
                )?,
                DialogEvent::SatisfactionRecorded {
                    by,
                    value,
                    thank_you,
                    ..
                } => {
                    let label = dialog
                        .satisfaction_form()
                        .and_then(|sent| sent.form.labels.get(value.button_index()))
                        .map_or_else(|| value.value().to_string(), |l| l.trim().to_owned());
                    push(MessageKind::CsatResponse, Direction::Inbound, *by, label)?;
                    push(
                        MessageKind::System,
                        Direction::Outbound,
                        Actor::System,
                        thank_you.clone(),
                    )?;
                }
                DialogEvent::SatisfactionClickIgnored { thank_you, .. } => push(
                    MessageKind::System,
                    Direction::Outbound,
                    Actor::System,
                    thank_you.clone(),
                )?,
                _ => {}
            }
        }
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d13_the_form_message_carries_the_text_and_the_three_labels_in_value_order() {
        let body = form_body(&SatisfactionForm::default());
        assert_eq!(
            body,
            "How would you rate our service?\n1. Bad\n2. Normal\n3. Excellent"
        );
    }
}
