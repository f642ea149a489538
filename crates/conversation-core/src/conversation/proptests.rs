//! Property tests of the conversation machine over random command sequences.

use chrono::Duration;
use proptest::prelude::*;

use super::tests::{ALICE, BILLING, BOB, CAROL, SUPPORT, msg, start_cmd, t};
use super::*;
use crate::actor::{Principal, Role};
use crate::channel::ChannelKind;
use crate::dialog::ContactDialogs;
use crate::ids::{AgentId, QueueId, WrapUpReasonId};

fn arb_agent() -> impl Strategy<Value = AgentId> {
    prop_oneof![Just(ALICE), Just(BOB), Just(CAROL)]
}

fn arb_principal() -> impl Strategy<Value = Principal> {
    (arb_agent(), 0..4u8).prop_map(|(agent, kind)| match kind {
        0 => Principal::agent(agent).with_role(Role::Admin),
        1 => Principal::agent(agent).with_full_access(),
        _ => Principal::agent(agent),
    })
}

fn arb_queue() -> impl Strategy<Value = Option<QueueId>> {
    prop_oneof![Just(None), Just(Some(SUPPORT)), Just(Some(BILLING))]
}

fn arb_wrap_up() -> impl Strategy<Value = Option<WrapUpReasonId>> {
    prop_oneof![Just(None), Just(Some(WrapUpReasonId::from_u128(9)))]
}

fn arb_reply(n: u128) -> impl Strategy<Value = Reply> {
    (
        prop_oneof![
            Just(ReplyKind::FreeForm),
            Just(ReplyKind::Template),
            Just(ReplyKind::Note)
        ],
        any::<bool>(),
    )
        .prop_map(move |(kind, templates)| Reply {
            message: msg(n),
            kind,
            dialog: None,
            dialogs: ContactDialogs::none(crate::ids::ContactId::from_u128(4)),
            policy: ReplyPolicy {
                reply_window: Some(Duration::hours(24)),
                templates,
                wrap_up_mandatory: false,
            },
        })
}

/// A command, given the time it is issued at (deadlines are in the future of it or not).
fn arb_command(n: u128) -> impl Strategy<Value = (ConversationCommand, i64)> {
    use ConversationCommand as C;
    let command = prop_oneof![
        3 => arb_queue().prop_map(move |queue| C::ReceiveInbound { message: msg(n), queue, dialog: None }),
        2 => (arb_principal(), arb_reply(n)).prop_map(|(by, reply)| C::SendReply { by, reply }),
        2 => (arb_principal(), arb_wrap_up(), any::<bool>()).prop_map(|(by, wrap_up, wrap_up_mandatory)| C::Resolve { by, wrap_up, closing: None, wrap_up_mandatory }),
        1 => (arb_principal(), any::<bool>()).prop_map(|(by, member_of_queue)| C::Drop { by, member_of_queue }),
        1 => (arb_principal(), arb_queue()).prop_map(|(by, queue)| C::Reopen { by, reply_window: Some(Duration::hours(24)), queue }),
        1 => (arb_principal(), arb_agent()).prop_map(|(by, agent)| C::AssignAgent { by, agent }),
        1 => (arb_principal(), arb_queue()).prop_map(|(by, queue)| C::AssignQueue { by, queue: queue.unwrap_or(SUPPORT) }),
        1 => (arb_principal(), any::<bool>()).prop_map(|(by, member_of_queue)| C::Claim { by, member_of_queue }),
        2 => arb_agent().prop_map(|agent| C::RouteAssign { agent }),
        3 => (arb_agent(), 1..60i64).prop_map(|(agent, secs)| C::RouteOffer { agent, deadline: t(secs) }),
        2 => arb_agent().prop_map(|agent| C::AcceptOffer { agent }),
        1 => arb_agent().prop_map(|agent| C::DeclineOffer { agent }),
        2 => arb_agent().prop_map(|agent| C::ExpireOffer { agent }),
        2 => (arb_principal(), arb_agent(), any::<bool>(), arb_queue(), arb_wrap_up()).prop_map(|(by, agent, to_agent, queue, wrap_up)| {
            let target = if to_agent {
                TransferTarget::Agent { agent, available: true, queue, deadline: t(30) }
            } else {
                TransferTarget::Queue { queue: queue.unwrap_or(BILLING) }
            };
            C::Transfer { by, target, wrap_up }
        }),
        2 => (arb_principal(), arb_agent(), any::<bool>()).prop_map(|(by, invitee, available)| C::InviteToConference { by, invitee, available, deadline: t(30) }),
        1 => arb_agent().prop_map(|agent| C::AcceptConference { agent }),
        1 => arb_agent().prop_map(|agent| C::DeclineConference { agent }),
        1 => (arb_agent(), arb_wrap_up()).prop_map(|(agent, wrap_up)| C::LeaveConference { agent, wrap_up }),
        1 => arb_principal().prop_map(|by| C::HandToBot { by, flow: "survey".into() }),
        1 => arb_queue().prop_map(|queue| C::HandBack { queue }),
        1 => prop_oneof![Just(InterruptCause::InboxDeleted), Just(InterruptCause::QueueDeleted)].prop_map(|cause| C::Interrupt { cause }),
        1 => (arb_agent(), arb_queue()).prop_map(|(agent, queue)| C::Requeue { agent, queue }),
    ];
    let step = prop_oneof![4 => 0..40i64, 1 => 3_600..100_000i64];
    (command, step)
}

/// Deadlines are generated as offsets from the command's own time.
fn shift_deadlines(command: &ConversationCommand, now: i64) -> ConversationCommand {
    use ConversationCommand as C;
    let shift = |deadline: crate::Timestamp| deadline + Duration::seconds(now);
    let mut command = command.clone();
    match &mut command {
        C::RouteOffer { deadline, .. }
        | C::InviteToConference { deadline, .. }
        | C::Transfer {
            target: TransferTarget::Agent { deadline, .. },
            ..
        } => *deadline = shift(*deadline),
        _ => {}
    }
    command
}

fn arb_commands() -> impl Strategy<Value = Vec<(ConversationCommand, i64)>> {
    prop::collection::vec(any::<u8>(), 0..60).prop_flat_map(|seeds| {
        seeds
            .iter()
            .enumerate()
            .map(|(i, _)| arb_command(u128::try_from(i).unwrap_or(0) + 10))
            .collect::<Vec<_>>()
    })
}

/// Runs the commands at increasing times; returns the state, every event, and the outcomes.
fn run_all(commands: &[(ConversationCommand, i64)]) -> (Conversation, Vec<ConversationEvent>) {
    let mut events =
        Conversation::decide_start(&start_cmd(ChannelKind::WebChat, Some(SUPPORT), None), t(0));
    let mut state = Conversation::replay(&events).expect("started");
    let mut now = 0;
    for (command, step) in commands {
        now += step;
        if let Ok(new) = state.decide(&shift_deadlines(command, now), t(now)) {
            for event in &new {
                state.apply(event);
            }
            events.extend(new);
        }
    }
    (state, events)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Replaying `apply` over the events of `decide` rebuilds the same state.
    #[test]
    fn replay_of_the_events_rebuilds_the_state(commands in arb_commands()) {
        let (state, events) = run_all(&commands);
        prop_assert_eq!(Conversation::replay(&events), Some(state));
    }

    /// C3: a resolved or dropped conversation is reopened by any inbound message, and no
    /// inbound message is ever refused, whatever state the conversation is in.
    #[test]
    fn c3_inbound_is_never_refused_and_reopens_closed_conversations(commands in arb_commands(), queue in arb_queue()) {
        let (state, _) = run_all(&commands);
        let was_closed = state.is_closed();
        let inbound = ConversationCommand::ReceiveInbound { message: msg(1_000), queue, dialog: None };
        let events = state.decide(&inbound, t(1_000_000));
        prop_assert!(events.is_ok());
        let mut after = state.clone();
        for event in &events.unwrap() {
            after.apply(event);
        }
        prop_assert!(!after.is_closed());
        prop_assert_eq!(after.last_inbound_at, Some(t(1_000_000)));
        if was_closed {
            prop_assert_eq!(after.status(), ConversationStatus::Open);
        }
    }

    /// C12: every event of the conversation carries its id and a time no earlier than the
    /// previous one's.
    #[test]
    fn c12_timeline_is_ordered_and_attributed(commands in arb_commands()) {
        let (state, events) = run_all(&commands);
        for pair in events.windows(2) {
            prop_assert!(pair[0].at <= pair[1].at);
        }
        prop_assert!(events.iter().all(|e| e.conversation == state.id));
    }

    /// Every event and every state survives a serde round trip.
    #[test]
    fn events_and_states_survive_serde(commands in arb_commands()) {
        let (state, events) = run_all(&commands);
        for event in &events {
            let json = serde_json::to_string(event).unwrap();
            prop_assert_eq!(&serde_json::from_str::<ConversationEvent>(&json).unwrap(), event);
        }
        let status = serde_json::to_string(&state.status()).unwrap();
        prop_assert_eq!(serde_json::from_str::<ConversationStatus>(&status).unwrap(), state.status());
        let json = serde_json::to_string(&state).unwrap();
        prop_assert_eq!(serde_json::from_str::<Conversation>(&json).unwrap(), state);
    }

    /// R6: routing never hands the conversation to an agent who let it time out in the same
    /// routing episode.
    #[test]
    fn r6_skipped_agents_are_never_offered_again(commands in arb_commands()) {
        let (_, events) = run_all(&commands);
        let mut skipped = std::collections::BTreeSet::new();
        for event in &events {
            match &event.kind {
                ConversationEventKind::OfferTimedOut { agent } | ConversationEventKind::OfferDeclined { agent } => { skipped.insert(*agent); }
                ConversationEventKind::Offered { agent, .. } if event.actor == crate::actor::Actor::System => {
                    prop_assert!(!skipped.contains(agent));
                }
                ConversationEventKind::Offered { .. } => {}
                ConversationEventKind::OfferAccepted { .. } | ConversationEventKind::Assigned { .. }
                | ConversationEventKind::Queued { .. } | ConversationEventKind::Reopened { .. }
                | ConversationEventKind::HandedBack { .. } | ConversationEventKind::Transferred { .. } => skipped.clear(),
                _ => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// R2: applying every change's `LoadChange` keeps a ledger in which the only agent with
    /// load is the conversation's load holder, with exactly one unit, and nobody goes negative.
    #[test]
    fn r2_load_changes_keep_the_ledger_equal_to_the_holder(commands in arb_commands()) {
        let events = Conversation::decide_start(&start_cmd(ChannelKind::WebChat, Some(SUPPORT), None), t(0));
        let mut state = Conversation::replay(&events).expect("started");
        let mut ledger = std::collections::BTreeMap::<AgentId, i64>::new();
        let mut now = 0;
        for (command, step) in &commands {
            now += step;
            let before = state.load_holder();
            if let Ok(new) = state.decide(&shift_deadlines(command, now), t(now)) {
                for event in &new {
                    state.apply(event);
                }
                let change = LoadChange::between(before, state.load_holder(), &new);
                if let Some(agent) = change.release {
                    *ledger.entry(agent).or_default() -= 1;
                }
                if let Some(claim) = change.claim {
                    *ledger.entry(claim.agent).or_default() += 1;
                }
                prop_assert!(ledger.values().all(|load| *load >= 0));
            }
        }
        ledger.retain(|_, load| *load != 0);
        let expected: std::collections::BTreeMap<AgentId, i64> = state.load_holder().into_iter().map(|agent| (agent, 1)).collect();
        prop_assert_eq!(ledger, expected);
    }
}
