//! The dialog's decisions: [`Dialog::decide_create`] for a new dialog and [`Dialog::decide`]
//! for a command on an existing one. Both are pure: they read the state, the command, the
//! snapshot and `now`, and return the events or a refusal; they never mutate. The transition
//! table they implement is `docs/state-machines.md (dialog)`, one test below per row.
//!
//! Order of checks in `decide`: the contact's click first (the only command a completed dialog
//! takes), then "completed is final" (`dialog_completed` before any validation of input), then
//! the command's own state and input checks. A command that would change nothing (the same
//! title, an agent already there, the same set of reasons) returns no event: D9 records changes.

use super::aggregate::Dialog;
use super::command::{CreateDialog, DialogCommand};
use super::event::{DialogCreated, DialogEvent};
use super::rating::{Satisfaction, Stars};
use super::snapshot::ContactDialogs;
use super::status::DialogStatus;
use super::title::DialogTitle;
use crate::actor::Actor;
use crate::entities::{SatisfactionForm, Timestamp};
use crate::error::{DomainError, DomainResult};
use crate::ids::{AgentId, ContactId};

/// The name of this machine in `invalid_transition` errors.
const MACHINE: &str = "dialog";

impl Dialog {
    /// D1-D3: decides the creation of a dialog from the contact's dialogs as the store sees
    /// them now. The creator is added to the participants. Apply the event with
    /// [`Dialog::from_created`].
    ///
    /// # Errors
    /// - `invalid_value` when `dialogs` is the snapshot of another contact;
    /// - `dialog_already_active` when the contact has an active dialog (D3);
    /// - `conflict` when the snapshot already knows the new dialog's id;
    /// - `missing_field` / `invalid_value` for a blank or too long title (D1).
    pub fn decide_create(
        command: CreateDialog,
        dialogs: &ContactDialogs,
        now: Timestamp,
    ) -> DomainResult<DialogCreated> {
        dialogs.ensure_of(command.contact)?;
        if let Some(active) = dialogs.active() {
            return Err(DomainError::DialogAlreadyActive { active });
        }
        if dialogs.status_of(command.dialog).is_some() {
            return Err(DomainError::Conflict { what: "the dialog" });
        }
        let title = DialogTitle::parse(&command.title)?;
        let mut participants = command.participants;
        participants.insert(command.by);
        Ok(DialogCreated {
            at: now,
            by: Actor::Agent(command.by),
            dialog: command.dialog,
            account: command.account,
            conversation: command.conversation,
            contact: command.contact,
            title,
            request_type: command.request_type,
            participants,
            reasons: command.reasons,
            components: command.components,
        })
    }

    /// D3, D4, D9, D12, D13: decides what a command does to this dialog. Pure; apply the
    /// returned events, in order, with [`Dialog::apply`]. An empty list means the command
    /// changes nothing.
    ///
    /// # Errors
    /// - `dialog_completed` for every agent command on a completed dialog (D4);
    /// - `invalid_transition` for a status change the current status does not allow (D4), and
    ///   for a satisfaction click on a dialog with no satisfaction form sent (D13);
    /// - `dialog_already_active` when resuming while another dialog of the contact is active,
    ///   and `invalid_value` when that snapshot belongs to another contact (D3);
    /// - `missing_field` / `invalid_value` for a bad title (D1) or a blank satisfaction form;
    /// - `invalid_value` when removing the last participant;
    /// - `forbidden` when someone other than the dialog's contact answers its form (D13).
    pub fn decide(&self, command: DialogCommand, now: Timestamp) -> DomainResult<Vec<DialogEvent>> {
        let name = command.name();
        let is_click = matches!(command, DialogCommand::RecordSatisfaction { .. });
        if self.is_completed() && !is_click {
            return Err(DomainError::DialogCompleted);
        }
        let at = now;
        match command {
            DialogCommand::RecordSatisfaction { contact, value } => {
                self.decide_satisfaction(contact, value, at, name)
            }
            DialogCommand::Pause { by } => match self.status {
                DialogStatus::Active => Ok(vec![DialogEvent::Paused {
                    at,
                    by: Actor::Agent(by),
                }]),
                _ => Err(self.invalid(name)),
            },
            DialogCommand::Resume { by, dialogs } => match self.status {
                DialogStatus::Paused { .. } => {
                    dialogs.ensure_of(self.contact)?;
                    match dialogs.active() {
                        Some(active) if active != self.id => {
                            Err(DomainError::DialogAlreadyActive { active })
                        }
                        _ => Ok(vec![DialogEvent::Resumed {
                            at,
                            by: Actor::Agent(by),
                        }]),
                    }
                }
                _ => Err(self.invalid(name)),
            },
            DialogCommand::Complete {
                by,
                contact_rating,
                send_satisfaction_form,
            } => Self::decide_complete(by, contact_rating, send_satisfaction_form, at),
            DialogCommand::Rename { by, title } => {
                let title = DialogTitle::parse(&title)?;
                Ok(change(title != self.title, || DialogEvent::Renamed {
                    at,
                    by: Actor::Agent(by),
                    title,
                }))
            }
            DialogCommand::ChangeRequestType { by, request_type } => {
                Ok(change(request_type != self.request_type, || {
                    DialogEvent::RequestTypeChanged {
                        at,
                        by: Actor::Agent(by),
                        request_type,
                    }
                }))
            }
            DialogCommand::AddParticipant { by, agent } => {
                Ok(change(!self.participants.contains(&agent), || {
                    DialogEvent::ParticipantAdded {
                        at,
                        by: Actor::Agent(by),
                        agent,
                    }
                }))
            }
            DialogCommand::RemoveParticipant { by, agent } => {
                if self.participants.contains(&agent) && self.participants.len() == 1 {
                    return Err(DomainError::InvalidValue {
                        field: "participants",
                        reason: "a dialog keeps at least one participant; add another first",
                    });
                }
                Ok(change(self.participants.contains(&agent), || {
                    DialogEvent::ParticipantRemoved {
                        at,
                        by: Actor::Agent(by),
                        agent,
                    }
                }))
            }
            DialogCommand::SetReasons { by, reasons } => {
                Ok(change(reasons != self.reasons, || {
                    DialogEvent::ReasonsChanged {
                        at,
                        by: Actor::Agent(by),
                        reasons,
                    }
                }))
            }
            DialogCommand::SetComponents { by, components } => {
                Ok(change(components != self.components, || {
                    DialogEvent::ComponentsChanged {
                        at,
                        by: Actor::Agent(by),
                        components,
                    }
                }))
            }
        }
    }

    /// D4, D12, D13: completion, with the optional rating and satisfaction form.
    fn decide_complete(
        by: AgentId,
        contact_rating: Option<Stars>,
        form: Option<SatisfactionForm>,
        at: Timestamp,
    ) -> DomainResult<Vec<DialogEvent>> {
        let by = Actor::Agent(by);
        let mut events = vec![DialogEvent::Completed {
            at,
            by,
            contact_rating,
        }];
        if let Some(form) = form {
            check_form(&form)?;
            events.push(DialogEvent::SatisfactionFormSent { at, by, form });
        }
        Ok(events)
    }

    /// D13: the contact's click; the first one counts, later ones are answered and ignored.
    fn decide_satisfaction(
        &self,
        contact: ContactId,
        value: Satisfaction,
        at: Timestamp,
        name: &'static str,
    ) -> DomainResult<Vec<DialogEvent>> {
        if contact != self.contact {
            return Err(DomainError::Forbidden {
                action: "answer the satisfaction form of another contact's dialog",
            });
        }
        let by = Actor::Contact(contact);
        match &self.status {
            DialogStatus::Completed {
                satisfaction_form: Some(sent),
                ..
            } => {
                let thank_you = sent.form.thank_you.clone();
                Ok(vec![if sent.answer.is_none() {
                    DialogEvent::SatisfactionRecorded {
                        at,
                        by,
                        value,
                        thank_you,
                    }
                } else {
                    DialogEvent::SatisfactionClickIgnored {
                        at,
                        by,
                        value,
                        thank_you,
                    }
                }])
            }
            DialogStatus::Completed {
                satisfaction_form: None,
                ..
            } => Err(DomainError::InvalidTransition {
                machine: MACHINE,
                state: "completed without a satisfaction form",
                command: name,
            }),
            DialogStatus::Active | DialogStatus::Paused { .. } => Err(self.invalid(name)),
        }
    }

    /// The refusal of `command` in the current status.
    fn invalid(&self, command: &'static str) -> DomainError {
        DomainError::InvalidTransition {
            machine: MACHINE,
            state: self.status.kind().as_str(),
            command,
        }
    }
}

/// One event when `changed`, none otherwise (D9 records changes, not repeats).
fn change(changed: bool, event: impl FnOnce() -> DialogEvent) -> Vec<DialogEvent> {
    if changed { vec![event()] } else { Vec::new() }
}

/// D13: a form the contact can answer: a text, three labels and a thank-you, none blank.
fn check_form(form: &SatisfactionForm) -> DomainResult<()> {
    if form.text.trim().is_empty() {
        return Err(DomainError::MissingField {
            field: "satisfaction form text",
        });
    }
    if form.labels.iter().any(|label| label.trim().is_empty()) {
        return Err(DomainError::MissingField {
            field: "satisfaction form label",
        });
    }
    if form.thank_you.trim().is_empty() {
        return Err(DomainError::MissingField {
            field: "satisfaction form thank-you message",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! One test per row of `docs/state-machines.md (dialog)`, named after the rule it proves.

    use std::collections::BTreeSet;

    use chrono::DateTime;

    use super::*;
    use crate::dialog::{DialogStatusKind, SatisfactionAnswer, SentSatisfactionForm};
    use crate::ids::{AccountId, ComponentId, ConversationId, DialogId, ReasonId, RequestTypeId};

    const ID: DialogId = DialogId::from_u128(1);
    const OTHER_DIALOG: DialogId = DialogId::from_u128(2);
    const CONTACT: ContactId = ContactId::from_u128(20);
    const OTHER_CONTACT: ContactId = ContactId::from_u128(21);
    const CREATOR: AgentId = AgentId::from_u128(10);
    const HELPER: AgentId = AgentId::from_u128(11);
    const SUPPORT: RequestTypeId = RequestTypeId::from_u128(30);
    const REFUND: RequestTypeId = RequestTypeId::from_u128(31);

    fn t(seconds: i64) -> Timestamp {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn create_command() -> CreateDialog {
        CreateDialog {
            dialog: ID,
            account: AccountId::from_u128(40),
            conversation: ConversationId::from_u128(50),
            contact: CONTACT,
            by: CREATOR,
            title: "  Widget does not load ".into(),
            request_type: SUPPORT,
            participants: BTreeSet::new(),
            reasons: BTreeSet::new(),
            components: BTreeSet::new(),
        }
    }

    fn no_dialogs() -> ContactDialogs {
        ContactDialogs::none(CONTACT)
    }

    fn other_active() -> ContactDialogs {
        ContactDialogs::new(
            CONTACT,
            [
                (ID, DialogStatusKind::Paused),
                (OTHER_DIALOG, DialogStatusKind::Active),
            ],
        )
    }

    fn active() -> Dialog {
        Dialog::from_created(&Dialog::decide_create(create_command(), &no_dialogs(), t(0)).unwrap())
    }

    fn after(mut dialog: Dialog, command: DialogCommand, at: i64) -> Dialog {
        for event in dialog.decide(command, t(at)).unwrap() {
            dialog.apply(&event);
        }
        dialog
    }

    fn paused() -> Dialog {
        after(active(), DialogCommand::Pause { by: CREATOR }, 1)
    }

    fn complete(form: bool) -> DialogCommand {
        DialogCommand::Complete {
            by: CREATOR,
            contact_rating: Some(Stars::new(2).unwrap()),
            send_satisfaction_form: form.then(SatisfactionForm::default),
        }
    }

    fn completed(form: bool) -> Dialog {
        after(active(), complete(form), 2)
    }

    fn click(contact: ContactId, value: Satisfaction) -> DialogCommand {
        DialogCommand::RecordSatisfaction { contact, value }
    }

    fn code(result: DomainResult<Vec<DialogEvent>>) -> &'static str {
        result.unwrap_err().code()
    }

    fn ids<T: Ord>(make: fn(u128) -> T, ns: &[u128]) -> BTreeSet<T> {
        ns.iter().map(|n| make(*n)).collect()
    }

    fn every_agent_command() -> Vec<DialogCommand> {
        vec![
            DialogCommand::Pause { by: CREATOR },
            DialogCommand::Resume {
                by: CREATOR,
                dialogs: no_dialogs(),
            },
            complete(true),
            DialogCommand::Rename {
                by: CREATOR,
                title: "New".into(),
            },
            DialogCommand::Rename {
                by: CREATOR,
                title: "   ".into(),
            },
            DialogCommand::ChangeRequestType {
                by: CREATOR,
                request_type: REFUND,
            },
            DialogCommand::AddParticipant {
                by: CREATOR,
                agent: HELPER,
            },
            DialogCommand::RemoveParticipant {
                by: CREATOR,
                agent: CREATOR,
            },
            DialogCommand::SetReasons {
                by: CREATOR,
                reasons: ids(ReasonId::from_u128, &[1]),
            },
            DialogCommand::SetComponents {
                by: CREATOR,
                components: ids(ComponentId::from_u128, &[1]),
            },
        ]
    }

    // ---- creation ----

    #[test]
    fn d1_d2_create_without_an_active_dialog_makes_an_active_dialog_with_its_creator() {
        let mut command = create_command();
        command.participants.insert(HELPER);
        command.reasons = ids(ReasonId::from_u128, &[1, 2]);
        command.components = ids(ComponentId::from_u128, &[3]);
        let created = Dialog::decide_create(command, &no_dialogs(), t(0)).unwrap();
        assert_eq!(created.title.as_str(), "Widget does not load");
        assert_eq!(created.participants, BTreeSet::from([CREATOR, HELPER]));
        assert_eq!(created.by, Actor::Agent(CREATOR));
        assert_eq!(created.at, t(0));
        let dialog = Dialog::from_created(&created);
        assert_eq!(dialog.status, DialogStatus::Active);
        assert_eq!(dialog.reasons, ids(ReasonId::from_u128, &[1, 2]));
        assert_eq!(dialog.components, ids(ComponentId::from_u128, &[3]));
        assert_eq!(dialog.created_by, Actor::Agent(CREATOR));
    }

    #[test]
    fn d1_reasons_and_components_are_optional_and_the_creator_is_added_by_default() {
        let created = Dialog::decide_create(create_command(), &no_dialogs(), t(0)).unwrap();
        assert!(created.reasons.is_empty() && created.components.is_empty());
        assert_eq!(created.participants, BTreeSet::from([CREATOR]));
    }

    #[test]
    fn d2_create_beside_paused_and_completed_dialogs_is_allowed() {
        let dialogs = ContactDialogs::new(
            CONTACT,
            [
                (DialogId::from_u128(7), DialogStatusKind::Paused),
                (DialogId::from_u128(8), DialogStatusKind::Completed),
            ],
        );
        assert!(Dialog::decide_create(create_command(), &dialogs, t(0)).is_ok());
    }

    #[test]
    fn d3_create_while_another_dialog_is_active_is_refused() {
        let dialogs = ContactDialogs::new(CONTACT, [(OTHER_DIALOG, DialogStatusKind::Active)]);
        assert_eq!(
            Dialog::decide_create(create_command(), &dialogs, t(0)),
            Err(DomainError::DialogAlreadyActive {
                active: OTHER_DIALOG
            })
        );
    }

    #[test]
    fn d1_create_with_a_blank_title_is_refused() {
        let mut command = create_command();
        command.title = " \t ".into();
        assert_eq!(
            Dialog::decide_create(command, &no_dialogs(), t(0)),
            Err(DomainError::MissingField { field: "title" })
        );
    }

    #[test]
    fn d1_create_with_a_too_long_title_is_refused() {
        let mut command = create_command();
        command.title = "x".repeat(DialogTitle::MAX_CHARS + 1);
        assert_eq!(
            Dialog::decide_create(command, &no_dialogs(), t(0))
                .unwrap_err()
                .code(),
            "invalid_value"
        );
    }

    #[test]
    fn d3_create_with_the_snapshot_of_another_contact_is_refused() {
        assert_eq!(
            Dialog::decide_create(create_command(), &ContactDialogs::none(OTHER_CONTACT), t(0))
                .unwrap_err()
                .code(),
            "invalid_value"
        );
    }

    #[test]
    fn d3_create_with_an_id_the_snapshot_knows_is_a_conflict() {
        let dialogs = ContactDialogs::new(CONTACT, [(ID, DialogStatusKind::Completed)]);
        assert_eq!(
            Dialog::decide_create(create_command(), &dialogs, t(0))
                .unwrap_err()
                .code(),
            "conflict"
        );
    }

    // ---- status changes (D4) ----

    #[test]
    fn d4_active_pause_emits_paused() {
        let events = active()
            .decide(DialogCommand::Pause { by: HELPER }, t(5))
            .unwrap();
        assert_eq!(
            events,
            [DialogEvent::Paused {
                at: t(5),
                by: Actor::Agent(HELPER)
            }]
        );
        let mut dialog = active();
        dialog.apply(&events[0]);
        assert_eq!(dialog.status, DialogStatus::Paused { since: t(5) });
    }

    #[test]
    fn d4_paused_pause_is_an_invalid_transition() {
        assert_eq!(
            paused().decide(DialogCommand::Pause { by: CREATOR }, t(5)),
            Err(DomainError::InvalidTransition {
                machine: "dialog",
                state: "paused",
                command: "pause"
            })
        );
    }

    #[test]
    fn d4_active_resume_is_an_invalid_transition() {
        let command = DialogCommand::Resume {
            by: CREATOR,
            dialogs: no_dialogs(),
        };
        assert_eq!(
            active().decide(command, t(5)),
            Err(DomainError::InvalidTransition {
                machine: "dialog",
                state: "active",
                command: "resume"
            })
        );
    }

    #[test]
    fn d4_paused_resume_without_another_active_dialog_emits_resumed() {
        let dialogs = ContactDialogs::new(CONTACT, [(ID, DialogStatusKind::Paused)]);
        let command = DialogCommand::Resume {
            by: CREATOR,
            dialogs,
        };
        let events = paused().decide(command, t(5)).unwrap();
        assert_eq!(
            events,
            [DialogEvent::Resumed {
                at: t(5),
                by: Actor::Agent(CREATOR)
            }]
        );
        let mut dialog = paused();
        dialog.apply(&events[0]);
        assert!(dialog.is_active());
    }

    #[test]
    fn d3_paused_resume_while_another_dialog_is_active_is_refused() {
        let command = DialogCommand::Resume {
            by: CREATOR,
            dialogs: other_active(),
        };
        assert_eq!(
            paused().decide(command, t(5)),
            Err(DomainError::DialogAlreadyActive {
                active: OTHER_DIALOG
            })
        );
    }

    #[test]
    fn d3_resume_with_a_snapshot_naming_this_dialog_active_is_allowed() {
        // A stale snapshot that already shows this dialog active does not block it: only
        // another active dialog does (the store's unique index has the last word).
        let dialogs = ContactDialogs::new(CONTACT, [(ID, DialogStatusKind::Active)]);
        let command = DialogCommand::Resume {
            by: CREATOR,
            dialogs,
        };
        assert_eq!(paused().decide(command, t(5)).unwrap().len(), 1);
    }

    #[test]
    fn d3_resume_with_the_snapshot_of_another_contact_is_refused() {
        let command = DialogCommand::Resume {
            by: CREATOR,
            dialogs: ContactDialogs::none(OTHER_CONTACT),
        };
        assert_eq!(code(paused().decide(command, t(5))), "invalid_value");
    }

    #[test]
    fn d4_active_complete_emits_completed() {
        let command = DialogCommand::Complete {
            by: CREATOR,
            contact_rating: None,
            send_satisfaction_form: None,
        };
        let events = active().decide(command, t(5)).unwrap();
        assert_eq!(
            events,
            [DialogEvent::Completed {
                at: t(5),
                by: Actor::Agent(CREATOR),
                contact_rating: None
            }]
        );
        let dialog = Dialog::replay(
            std::iter::once(&DialogEvent::Created(
                Dialog::decide_create(create_command(), &no_dialogs(), t(0)).unwrap(),
            ))
            .chain(&events),
        )
        .unwrap();
        assert_eq!(
            dialog.status,
            DialogStatus::Completed {
                at: t(5),
                contact_rating: None,
                satisfaction_form: None
            }
        );
    }

    #[test]
    fn d4_paused_complete_emits_completed() {
        let dialog = after(paused(), complete(false), 5);
        assert!(dialog.is_completed());
        assert_eq!(dialog.contact_rating(), Stars::new(2).ok());
    }

    #[test]
    fn d12_complete_with_a_rating_records_the_contact_rating() {
        let command = DialogCommand::Complete {
            by: CREATOR,
            contact_rating: Some(Stars::MAX),
            send_satisfaction_form: None,
        };
        let events = active().decide(command, t(5)).unwrap();
        assert_eq!(
            events,
            [DialogEvent::Completed {
                at: t(5),
                by: Actor::Agent(CREATOR),
                contact_rating: Some(Stars::MAX)
            }]
        );
        assert_eq!(
            after(active(), complete(false), 5).contact_rating(),
            Stars::new(2).ok()
        );
    }

    #[test]
    fn d13_complete_with_the_form_sends_it_with_its_text_and_labels() {
        let form = SatisfactionForm {
            text: "Rate us".into(),
            labels: ["Meh".into(), "OK".into(), "Wow".into()],
            thank_you: "Thanks!".into(),
        };
        let command = DialogCommand::Complete {
            by: CREATOR,
            contact_rating: None,
            send_satisfaction_form: Some(form.clone()),
        };
        let events = paused().decide(command, t(5)).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[1],
            DialogEvent::SatisfactionFormSent {
                at: t(5),
                by: Actor::Agent(CREATOR),
                form: form.clone()
            }
        );
        let mut dialog = paused();
        for event in &events {
            dialog.apply(event);
        }
        assert_eq!(
            dialog.satisfaction_form(),
            Some(&SentSatisfactionForm {
                sent_at: t(5),
                form,
                answer: None
            })
        );
    }

    #[test]
    fn d13_complete_with_a_blank_form_is_refused() {
        let blank_text = SatisfactionForm {
            text: " ".into(),
            ..SatisfactionForm::default()
        };
        let blank_label = SatisfactionForm {
            labels: ["Bad".into(), String::new(), "Excellent".into()],
            ..SatisfactionForm::default()
        };
        let blank_thanks = SatisfactionForm {
            thank_you: String::new(),
            ..SatisfactionForm::default()
        };
        for form in [blank_text, blank_label, blank_thanks] {
            for dialog in [active(), paused()] {
                let command = DialogCommand::Complete {
                    by: CREATOR,
                    contact_rating: None,
                    send_satisfaction_form: Some(form.clone()),
                };
                assert_eq!(code(dialog.decide(command, t(5))), "missing_field");
            }
        }
    }

    #[test]
    fn d4_completed_refuses_every_agent_command() {
        for dialog in [completed(false), completed(true)] {
            for command in every_agent_command() {
                let name = command.name();
                assert_eq!(
                    dialog.decide(command, t(9)),
                    Err(DomainError::DialogCompleted),
                    "{name}"
                );
            }
        }
    }

    // ---- edits until completion (D9) ----

    #[test]
    fn d9_rename_emits_renamed_while_active_or_paused() {
        for dialog in [active(), paused()] {
            let command = DialogCommand::Rename {
                by: HELPER,
                title: " Refund for order 12 ".into(),
            };
            let events = dialog.decide(command, t(5)).unwrap();
            let title = DialogTitle::parse("Refund for order 12").unwrap();
            assert_eq!(
                events,
                [DialogEvent::Renamed {
                    at: t(5),
                    by: Actor::Agent(HELPER),
                    title: title.clone()
                }]
            );
            let mut dialog = dialog;
            dialog.apply(&events[0]);
            assert_eq!(dialog.title, title);
        }
    }

    #[test]
    fn d9_rename_to_the_same_title_emits_nothing() {
        let command = DialogCommand::Rename {
            by: CREATOR,
            title: "Widget does not load  ".into(),
        };
        assert_eq!(active().decide(command, t(5)), Ok(vec![]));
    }

    #[test]
    fn d1_rename_to_a_blank_or_too_long_title_is_refused() {
        for dialog in [active(), paused()] {
            let blank = DialogCommand::Rename {
                by: CREATOR,
                title: "  ".into(),
            };
            assert_eq!(code(dialog.decide(blank, t(5))), "missing_field");
            let too_long = DialogCommand::Rename {
                by: CREATOR,
                title: "x".repeat(DialogTitle::MAX_CHARS + 1),
            };
            assert_eq!(code(dialog.decide(too_long, t(5))), "invalid_value");
        }
    }

    #[test]
    fn d9_change_request_type_emits_request_type_changed() {
        for dialog in [active(), paused()] {
            let command = DialogCommand::ChangeRequestType {
                by: CREATOR,
                request_type: REFUND,
            };
            let events = dialog.decide(command, t(5)).unwrap();
            assert_eq!(
                events,
                [DialogEvent::RequestTypeChanged {
                    at: t(5),
                    by: Actor::Agent(CREATOR),
                    request_type: REFUND
                }]
            );
            let mut dialog = dialog;
            dialog.apply(&events[0]);
            assert_eq!(dialog.request_type, REFUND);
        }
    }

    #[test]
    fn d9_change_to_the_same_request_type_emits_nothing() {
        let command = DialogCommand::ChangeRequestType {
            by: CREATOR,
            request_type: SUPPORT,
        };
        assert_eq!(active().decide(command, t(5)), Ok(vec![]));
    }

    #[test]
    fn d9_add_participant_emits_participant_added() {
        for dialog in [active(), paused()] {
            let command = DialogCommand::AddParticipant {
                by: CREATOR,
                agent: HELPER,
            };
            let events = dialog.decide(command, t(5)).unwrap();
            assert_eq!(
                events,
                [DialogEvent::ParticipantAdded {
                    at: t(5),
                    by: Actor::Agent(CREATOR),
                    agent: HELPER
                }]
            );
            let mut dialog = dialog;
            dialog.apply(&events[0]);
            assert_eq!(dialog.participants, BTreeSet::from([CREATOR, HELPER]));
        }
    }

    #[test]
    fn d9_add_a_participant_already_there_emits_nothing() {
        let command = DialogCommand::AddParticipant {
            by: HELPER,
            agent: CREATOR,
        };
        assert_eq!(active().decide(command, t(5)), Ok(vec![]));
    }

    #[test]
    fn d9_remove_participant_emits_participant_removed() {
        let add = DialogCommand::AddParticipant {
            by: CREATOR,
            agent: HELPER,
        };
        for dialog in [after(active(), add.clone(), 3), after(paused(), add, 3)] {
            let command = DialogCommand::RemoveParticipant {
                by: HELPER,
                agent: CREATOR,
            };
            let events = dialog.decide(command, t(5)).unwrap();
            assert_eq!(
                events,
                [DialogEvent::ParticipantRemoved {
                    at: t(5),
                    by: Actor::Agent(HELPER),
                    agent: CREATOR
                }]
            );
            let mut dialog = dialog;
            dialog.apply(&events[0]);
            assert_eq!(dialog.participants, BTreeSet::from([HELPER]));
        }
    }

    #[test]
    fn d9_remove_an_agent_who_is_not_a_participant_emits_nothing() {
        let command = DialogCommand::RemoveParticipant {
            by: CREATOR,
            agent: HELPER,
        };
        assert_eq!(active().decide(command, t(5)), Ok(vec![]));
    }

    #[test]
    fn d9_remove_the_last_participant_is_refused() {
        for dialog in [active(), paused()] {
            let command = DialogCommand::RemoveParticipant {
                by: CREATOR,
                agent: CREATOR,
            };
            assert_eq!(code(dialog.decide(command, t(5))), "invalid_value");
        }
    }

    #[test]
    fn d9_set_reasons_emits_reasons_changed() {
        for dialog in [active(), paused()] {
            let reasons = ids(ReasonId::from_u128, &[4, 5]);
            let command = DialogCommand::SetReasons {
                by: CREATOR,
                reasons: reasons.clone(),
            };
            let events = dialog.decide(command, t(5)).unwrap();
            assert_eq!(
                events,
                [DialogEvent::ReasonsChanged {
                    at: t(5),
                    by: Actor::Agent(CREATOR),
                    reasons: reasons.clone()
                }]
            );
            let mut dialog = dialog;
            dialog.apply(&events[0]);
            assert_eq!(dialog.reasons, reasons);
            let clear = DialogCommand::SetReasons {
                by: CREATOR,
                reasons: BTreeSet::new(),
            };
            assert_eq!(dialog.decide(clear, t(6)).unwrap().len(), 1);
        }
    }

    #[test]
    fn d9_set_the_same_reasons_emits_nothing() {
        let command = DialogCommand::SetReasons {
            by: CREATOR,
            reasons: BTreeSet::new(),
        };
        assert_eq!(active().decide(command, t(5)), Ok(vec![]));
    }

    #[test]
    fn d9_set_components_emits_components_changed() {
        for dialog in [active(), paused()] {
            let components = ids(ComponentId::from_u128, &[6]);
            let command = DialogCommand::SetComponents {
                by: CREATOR,
                components: components.clone(),
            };
            let events = dialog.decide(command, t(5)).unwrap();
            assert_eq!(
                events,
                [DialogEvent::ComponentsChanged {
                    at: t(5),
                    by: Actor::Agent(CREATOR),
                    components: components.clone()
                }]
            );
            let mut dialog = dialog;
            dialog.apply(&events[0]);
            assert_eq!(dialog.components, components);
        }
    }

    #[test]
    fn d9_set_the_same_components_emits_nothing() {
        let command = DialogCommand::SetComponents {
            by: CREATOR,
            components: BTreeSet::new(),
        };
        assert_eq!(active().decide(command, t(5)), Ok(vec![]));
    }

    #[test]
    fn d10_archived_settings_the_dialog_holds_are_never_refused() {
        // The dialog holds only ids: whatever became of REFUND and reason 9 in the account's
        // list, the dialog keeps them and every edit still goes through.
        let mut dialog = after(
            active(),
            DialogCommand::ChangeRequestType {
                by: CREATOR,
                request_type: REFUND,
            },
            3,
        );
        dialog = after(
            dialog,
            DialogCommand::SetReasons {
                by: CREATOR,
                reasons: ids(ReasonId::from_u128, &[9]),
            },
            4,
        );
        let keep_and_add = DialogCommand::SetReasons {
            by: CREATOR,
            reasons: ids(ReasonId::from_u128, &[9, 10]),
        };
        let dialog = after(dialog, keep_and_add, 5);
        let dialog = after(dialog, complete(false), 6);
        assert_eq!(dialog.request_type, REFUND);
        assert_eq!(dialog.reasons, ids(ReasonId::from_u128, &[9, 10]));
    }

    // ---- the contact's satisfaction click (D13) ----

    #[test]
    fn d13_click_on_an_active_or_paused_dialog_is_an_invalid_transition() {
        assert_eq!(
            active().decide(click(CONTACT, Satisfaction::Bad), t(5)),
            Err(DomainError::InvalidTransition {
                machine: "dialog",
                state: "active",
                command: "record the contact's satisfaction"
            })
        );
        assert_eq!(
            code(paused().decide(click(CONTACT, Satisfaction::Bad), t(5))),
            "invalid_transition"
        );
    }

    #[test]
    fn d13_click_on_a_completed_dialog_without_a_form_is_an_invalid_transition() {
        assert_eq!(
            completed(false).decide(click(CONTACT, Satisfaction::Normal), t(5)),
            Err(DomainError::InvalidTransition {
                machine: "dialog",
                state: "completed without a satisfaction form",
                command: "record the contact's satisfaction"
            })
        );
    }

    #[test]
    fn d13_first_click_is_recorded_and_answered_with_the_thank_you() {
        let dialog = completed(true);
        let events = dialog
            .decide(click(CONTACT, Satisfaction::Excellent), t(7))
            .unwrap();
        assert_eq!(
            events,
            [DialogEvent::SatisfactionRecorded {
                at: t(7),
                by: Actor::Contact(CONTACT),
                value: Satisfaction::Excellent,
                thank_you: SatisfactionForm::default().thank_you
            }]
        );
        let mut dialog = dialog;
        dialog.apply(&events[0]);
        assert_eq!(dialog.satisfaction(), Some(Satisfaction::Excellent));
        assert_eq!(
            dialog.satisfaction_form().unwrap().answer,
            Some(SatisfactionAnswer {
                value: Satisfaction::Excellent,
                at: t(7)
            })
        );
    }

    #[test]
    fn d13_later_clicks_are_answered_but_change_nothing() {
        let answered = after(completed(true), click(CONTACT, Satisfaction::Bad), 7);
        let events = answered
            .decide(click(CONTACT, Satisfaction::Excellent), t(8))
            .unwrap();
        assert_eq!(
            events,
            [DialogEvent::SatisfactionClickIgnored {
                at: t(8),
                by: Actor::Contact(CONTACT),
                value: Satisfaction::Excellent,
                thank_you: SatisfactionForm::default().thank_you
            }]
        );
        let mut dialog = answered.clone();
        dialog.apply(&events[0]);
        assert_eq!(dialog, answered);
        assert_eq!(dialog.satisfaction(), Some(Satisfaction::Bad));
    }

    #[test]
    fn d13_click_by_another_contact_is_forbidden() {
        for dialog in [active(), completed(false), completed(true)] {
            assert_eq!(
                code(dialog.decide(click(OTHER_CONTACT, Satisfaction::Normal), t(5))),
                "forbidden"
            );
        }
    }

    // ---- apply and replay ----

    #[test]
    fn d4_apply_keeps_a_completed_dialog_final_even_for_stray_events() {
        let done = completed(false);
        let stray = [
            DialogEvent::Resumed {
                at: t(9),
                by: Actor::System,
            },
            DialogEvent::Paused {
                at: t(9),
                by: Actor::System,
            },
            DialogEvent::Renamed {
                at: t(9),
                by: Actor::System,
                title: DialogTitle::parse("Other").unwrap(),
            },
            DialogEvent::SatisfactionRecorded {
                at: t(9),
                by: Actor::Contact(CONTACT),
                value: Satisfaction::Bad,
                thank_you: String::new(),
            },
            DialogEvent::Created(
                Dialog::decide_create(create_command(), &no_dialogs(), t(9)).unwrap(),
            ),
        ];
        let mut dialog = done.clone();
        for event in &stray {
            dialog.apply(event);
        }
        assert_eq!(dialog, done);
    }

    #[test]
    fn d13_apply_ignores_satisfaction_events_before_completion() {
        let mut dialog = active();
        dialog.apply(&DialogEvent::SatisfactionFormSent {
            at: t(3),
            by: Actor::Agent(CREATOR),
            form: SatisfactionForm::default(),
        });
        assert_eq!(dialog, active());
    }

    #[test]
    fn d1_replay_needs_the_created_event_first() {
        assert_eq!(Dialog::replay([]), None);
        let paused = DialogEvent::Paused {
            at: t(1),
            by: Actor::Agent(CREATOR),
        };
        assert_eq!(Dialog::replay([&paused]), None);
    }

    #[test]
    fn d9_events_are_tagged_by_type_and_carry_at_and_by() {
        let event = DialogEvent::ParticipantAdded {
            at: t(5),
            by: Actor::Agent(CREATOR),
            agent: HELPER,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "participant_added");
        assert_eq!(event.at(), t(5));
        assert_eq!(event.by(), Actor::Agent(CREATOR));
        let created = DialogEvent::Created(
            Dialog::decide_create(create_command(), &no_dialogs(), t(0)).unwrap(),
        );
        assert_eq!(serde_json::to_value(&created).unwrap()["type"], "created");
        assert_eq!(created.by(), Actor::Agent(CREATOR));
    }
}
