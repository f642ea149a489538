//! Property tests of the dialog machine over random command sequences on a few dialogs of one
//! contact. Each run builds the contact's snapshot from the current dialogs before every
//! command, as the store would, and records a trace that each property then checks.

use std::collections::BTreeMap;

use chrono::DateTime;
use proptest::prelude::*;

use super::*;
use crate::actor::Actor;
use crate::entities::{SatisfactionForm, Timestamp};
use crate::error::DomainError;
use crate::ids::{
    AccountId, AgentId, ComponentId, ContactId, ConversationId, DialogId, ReasonId, RequestTypeId,
};

const CONTACT: ContactId = ContactId::from_u128(20);
const OTHER_CONTACT: ContactId = ContactId::from_u128(21);
const SLOTS: u8 = 3;

/// One random step: what to do, on which of the contact's dialogs.
#[derive(Clone, Debug)]
enum Op {
    Create {
        slot: u8,
        agent: u8,
        title: &'static str,
        helpers: Vec<u8>,
    },
    Pause(u8, u8),
    Resume(u8, u8),
    Complete {
        slot: u8,
        agent: u8,
        rating: Option<u8>,
        form: bool,
    },
    Rename(u8, u8, &'static str),
    ChangeRequestType(u8, u8, u8),
    AddParticipant(u8, u8, u8),
    RemoveParticipant(u8, u8, u8),
    SetReasons(u8, u8, Vec<u8>),
    SetComponents(u8, u8, Vec<u8>),
    Click {
        slot: u8,
        value: u8,
        other_contact: bool,
    },
}

const TITLES: [&str; 4] = ["Refund", "  Login fails ", "   ", "Refund"];

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let agent = 0..3u8;
    let title = prop::sample::select(TITLES.to_vec());
    let small_set = prop::collection::vec(0..4u8, 0..3);
    prop_oneof![
        3 => (slot.clone(), agent.clone(), title.clone(), small_set.clone()).prop_map(
            |(slot, agent, title, helpers)| Op::Create { slot, agent, title, helpers }
        ),
        2 => (slot.clone(), agent.clone()).prop_map(|(s, a)| Op::Pause(s, a)),
        2 => (slot.clone(), agent.clone()).prop_map(|(s, a)| Op::Resume(s, a)),
        2 => (slot.clone(), agent.clone(), prop::option::of(0..5u8), any::<bool>()).prop_map(
            |(slot, agent, rating, form)| Op::Complete { slot, agent, rating, form }
        ),
        1 => (slot.clone(), agent.clone(), title).prop_map(|(s, a, t)| Op::Rename(s, a, t)),
        1 => (slot.clone(), agent.clone(), 0..2u8)
            .prop_map(|(s, a, t)| Op::ChangeRequestType(s, a, t)),
        1 => (slot.clone(), agent.clone(), 0..3u8)
            .prop_map(|(s, a, b)| Op::AddParticipant(s, a, b)),
        1 => (slot.clone(), agent.clone(), 0..3u8)
            .prop_map(|(s, a, b)| Op::RemoveParticipant(s, a, b)),
        1 => (slot.clone(), agent.clone(), small_set.clone())
            .prop_map(|(s, a, r)| Op::SetReasons(s, a, r)),
        1 => (slot.clone(), agent, small_set).prop_map(|(s, a, c)| Op::SetComponents(s, a, c)),
        3 => (slot, 0..5u8, prop::bool::weighted(0.1)).prop_map(
            |(slot, value, other_contact)| Op::Click { slot, value, other_contact }
        ),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 0..48)
}

fn dialog_id(slot: u8) -> DialogId {
    DialogId::from_u128(u128::from(slot) + 1)
}

fn agent(n: u8) -> AgentId {
    AgentId::from_u128(u128::from(n) + 100)
}

fn at(step: usize) -> Timestamp {
    DateTime::from_timestamp(1_700_000_000 + i64::try_from(step).unwrap() * 60, 0).unwrap()
}

/// What the world looked like after one step.
#[derive(Clone, Debug)]
struct Step {
    /// The contact's dialogs after the step.
    dialogs: BTreeMap<DialogId, Dialog>,
    /// Every dialog's events so far, oldest first.
    logs: BTreeMap<DialogId, Vec<DialogEvent>>,
    /// The events of this step.
    events: Vec<DialogEvent>,
    /// The refusal of this step, if any.
    refusal: Option<DomainError>,
}

fn command(op: &Op, snapshot: &ContactDialogs) -> Option<(u8, DialogCommand)> {
    let set = |ns: &[u8]| ns.iter().map(|n| u128::from(*n)).collect::<Vec<_>>();
    Some(match op {
        Op::Create { .. } => return None,
        Op::Pause(s, a) => (*s, DialogCommand::Pause { by: agent(*a) }),
        Op::Resume(s, a) => (
            *s,
            DialogCommand::Resume {
                by: agent(*a),
                dialogs: snapshot.clone(),
            },
        ),
        Op::Complete {
            slot,
            agent: a,
            rating,
            form,
        } => (
            *slot,
            DialogCommand::Complete {
                by: agent(*a),
                contact_rating: rating.and_then(|r| Stars::new(r).ok()),
                send_satisfaction_form: form.then(SatisfactionForm::default),
            },
        ),
        Op::Rename(s, a, title) => (
            *s,
            DialogCommand::Rename {
                by: agent(*a),
                title: (*title).to_owned(),
            },
        ),
        Op::ChangeRequestType(s, a, t) => (
            *s,
            DialogCommand::ChangeRequestType {
                by: agent(*a),
                request_type: RequestTypeId::from_u128(u128::from(*t)),
            },
        ),
        Op::AddParticipant(s, a, b) => (
            *s,
            DialogCommand::AddParticipant {
                by: agent(*a),
                agent: agent(*b),
            },
        ),
        Op::RemoveParticipant(s, a, b) => (
            *s,
            DialogCommand::RemoveParticipant {
                by: agent(*a),
                agent: agent(*b),
            },
        ),
        Op::SetReasons(s, a, r) => (
            *s,
            DialogCommand::SetReasons {
                by: agent(*a),
                reasons: set(r).into_iter().map(ReasonId::from_u128).collect(),
            },
        ),
        Op::SetComponents(s, a, c) => (
            *s,
            DialogCommand::SetComponents {
                by: agent(*a),
                components: set(c).into_iter().map(ComponentId::from_u128).collect(),
            },
        ),
        Op::Click {
            slot,
            value,
            other_contact,
        } => (
            *slot,
            DialogCommand::RecordSatisfaction {
                contact: if *other_contact {
                    OTHER_CONTACT
                } else {
                    CONTACT
                },
                value: Satisfaction::from_value(*value).unwrap_or(Satisfaction::Normal),
            },
        ),
    })
}

/// Runs the ops against the machine and records every step.
fn run(ops: &[Op]) -> Vec<Step> {
    let mut dialogs: BTreeMap<DialogId, Dialog> = BTreeMap::new();
    let mut logs: BTreeMap<DialogId, Vec<DialogEvent>> = BTreeMap::new();
    let mut trace = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let now = at(i + 1);
        // The store builds the snapshot from the dialogs as they are now.
        let snapshot = ContactDialogs::from_dialogs(CONTACT, dialogs.values());
        let (events, refusal) = if let Op::Create {
            slot,
            agent: a,
            title,
            helpers,
        } = op
        {
            let create = CreateDialog {
                dialog: dialog_id(*slot),
                account: AccountId::from_u128(1),
                conversation: ConversationId::from_u128(u128::from(*slot % 2) + 1),
                contact: CONTACT,
                by: agent(*a),
                title: (*title).to_owned(),
                request_type: RequestTypeId::from_u128(0),
                participants: helpers.iter().map(|h| agent(*h)).collect(),
                reasons: std::collections::BTreeSet::new(),
                components: std::collections::BTreeSet::new(),
            };
            match Dialog::decide_create(create, &snapshot, now) {
                Ok(created) => {
                    dialogs.insert(created.dialog, Dialog::from_created(&created));
                    let event = DialogEvent::Created(created);
                    logs.entry(dialog_id(*slot))
                        .or_default()
                        .push(event.clone());
                    (vec![event], None)
                }
                Err(e) => (Vec::new(), Some(e)),
            }
        } else {
            let (slot, cmd) = command(op, &snapshot).expect("not a create");
            match dialogs.get_mut(&dialog_id(slot)) {
                None => (Vec::new(), None),
                Some(dialog) => {
                    let before = dialog.clone();
                    match dialog.decide(cmd, now) {
                        Ok(events) => {
                            assert_eq!(*dialog, before, "decide must not mutate");
                            for event in &events {
                                dialog.apply(event);
                            }
                            logs.entry(dialog.id)
                                .or_default()
                                .extend(events.iter().cloned());
                            (events, None)
                        }
                        Err(e) => (Vec::new(), Some(e)),
                    }
                }
            }
        };
        trace.push(Step {
            dialogs: dialogs.clone(),
            logs: logs.clone(),
            events,
            refusal,
        });
    }
    trace
}

/// The dialog with its satisfaction answer taken out: what must never change after completion.
fn without_answer(dialog: &Dialog) -> Dialog {
    let mut dialog = dialog.clone();
    if let DialogStatus::Completed {
        satisfaction_form: Some(sent),
        ..
    } = &mut dialog.status
    {
        sent.answer = None;
    }
    dialog
}

proptest! {
    /// spec: D4, D12, D13. Once a dialog is completed (with its rating and form, applied in the
    /// same step), the only change it ever undergoes is its satisfaction answer going from
    /// `None` to `Some` once (the first click); after that it never changes at all.
    #[test]
    fn d4_d13_a_completed_dialog_never_changes_but_for_its_first_answer(ops in ops()) {
        let trace = run(&ops);
        let mut frozen: BTreeMap<DialogId, Dialog> = BTreeMap::new();
        for step in &trace {
            for (id, dialog) in &step.dialogs {
                if let Some(first) = frozen.get(id) {
                    prop_assert_eq!(without_answer(dialog), without_answer(first));
                    if let Some(answer) = first.satisfaction_form().and_then(|s| s.answer) {
                        prop_assert_eq!(
                            dialog.satisfaction_form().and_then(|s| s.answer),
                            Some(answer)
                        );
                    }
                }
                if dialog.is_completed() {
                    frozen.insert(*id, dialog.clone());
                }
            }
        }
        for log in trace.last().map(|s| s.logs.values()).into_iter().flatten() {
            let recorded = log
                .iter()
                .filter(|e| matches!(e, DialogEvent::SatisfactionRecorded { .. }))
                .count();
            let forms = log
                .iter()
                .filter(|e| matches!(e, DialogEvent::SatisfactionFormSent { .. }))
                .count();
            prop_assert!(recorded <= forms && forms <= 1);
        }
    }

    /// spec: D3, D5. Whatever the order of creations, resumes, pauses and completions, the
    /// contact never has two active dialogs; D5's targets follow the one active dialog.
    #[test]
    fn d3_a_contact_never_has_two_active_dialogs(ops in ops()) {
        for step in run(&ops) {
            let active: Vec<_> =
                step.dialogs.values().filter(|d| d.is_active()).map(|d| d.id).collect();
            prop_assert!(active.len() <= 1, "two active dialogs: {:?}", active);
            let snapshot = ContactDialogs::from_dialogs(CONTACT, step.dialogs.values());
            prop_assert_eq!(inbound_target(&snapshot), active.first().copied());
            prop_assert_eq!(check_agent_write(None, &snapshot).is_ok(), active.is_empty());
        }
    }

    /// spec: D9. Replaying `apply` over the events `decide` returned rebuilds the same state.
    #[test]
    fn d9_replaying_the_events_rebuilds_the_state(ops in ops()) {
        if let Some(last) = run(&ops).last() {
            for (id, dialog) in &last.dialogs {
                let replayed = Dialog::replay(&last.logs[id]);
                prop_assert_eq!(replayed.as_ref(), Some(dialog));
            }
        }
    }

    /// spec: D9, D13. Every event and every status survives a serde_json round trip, and every
    /// refusal carries one of the machine's codes.
    #[test]
    fn d9_events_and_statuses_survive_serde_and_refusals_are_known(ops in ops()) {
        const CODES: [&str; 7] = [
            "dialog_already_active", "dialog_completed", "invalid_transition", "missing_field",
            "invalid_value", "forbidden", "conflict",
        ];
        for step in run(&ops) {
            for event in &step.events {
                let json = serde_json::to_string(event).unwrap();
                prop_assert_eq!(&serde_json::from_str::<DialogEvent>(&json).unwrap(), event);
                prop_assert!(matches!(event.by(), Actor::Agent(_) | Actor::Contact(CONTACT)));
            }
            for dialog in step.dialogs.values() {
                let json = serde_json::to_string(&dialog.status).unwrap();
                prop_assert_eq!(
                    &serde_json::from_str::<DialogStatus>(&json).unwrap(),
                    &dialog.status
                );
                let json = serde_json::to_string(dialog).unwrap();
                prop_assert_eq!(&serde_json::from_str::<Dialog>(&json).unwrap(), dialog);
            }
            if let Some(refusal) = &step.refusal {
                prop_assert!(CODES.contains(&refusal.code()), "{:?}", refusal);
            }
        }
    }
}

/// The generator is worth something only if the runs reach the interesting cases: refusals by
/// D3, D4 and D13, first and later satisfaction clicks, and a resume after a pause.
#[test]
fn d3_d4_d13_random_runs_reach_the_interesting_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let ops = ops().new_tree(&mut runner).unwrap().current();
        for step in run(&ops) {
            if let Some(refusal) = &step.refusal {
                seen.insert(refusal.code().to_owned());
            }
            for event in &step.events {
                let json = serde_json::to_value(event).unwrap();
                seen.insert(json["type"].as_str().unwrap().to_owned());
            }
        }
    }
    for case in [
        "dialog_already_active",
        "dialog_completed",
        "invalid_transition",
        "forbidden",
        "created",
        "paused",
        "resumed",
        "completed",
        "satisfaction_form_sent",
        "satisfaction_recorded",
        "satisfaction_click_ignored",
    ] {
        assert!(seen.contains(case), "no run reached {case}: {seen:?}");
    }
}
