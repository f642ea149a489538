//! Property tests of the report folds (P1, D15): folding a log in one go equals folding it in
//! any split into chunks with the state stored (serialized) between them, so a catch-up that
//! resumes from stored state counts exactly what a full replay counts; and durations are never
//! negative nor longer than the span of the events, even when times step back.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::actor::Actor;
use crate::channel::ChannelKind;
use crate::conversation::{
    ConversationEvent, ConversationEventKind as Kind, ReplyKind, TransferTarget,
};
use crate::dialog::{DialogCreated, DialogEvent, DialogTitle, Satisfaction, Stars};
use crate::events::DomainEvent;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
    RequestTypeId, WrapUpReasonId,
};

const CONVERSATION: ConversationId = ConversationId::from_u128(1);
const DIALOG: DialogId = DialogId::from_u128(2);

fn agent() -> impl Strategy<Value = AgentId> {
    (1..4u128).prop_map(AgentId::from_u128)
}

fn queue() -> impl Strategy<Value = Option<QueueId>> {
    prop_oneof![
        Just(None),
        (1..3u128).prop_map(|q| Some(QueueId::from_u128(q)))
    ]
}

fn reason() -> WrapUpReasonId {
    WrapUpReasonId::from_u128(9)
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (queue(), any::<bool>()).prop_map(|(queue, bot)| Kind::Started {
            account: AccountId::from_u128(1),
            inbox: InboxId::from_u128(5),
            channel: ChannelKind::WebChat,
            contact: ContactId::from_u128(4),
            queue,
            bot_flow: bot.then(|| "flow".to_owned()),
        }),
        Just(Kind::InboundReceived {
            message: MessageId::from_u128(7),
            dialog: None
        }),
        queue().prop_map(|queue| Kind::Reopened { queue }),
        prop_oneof![
            Just(ReplyKind::FreeForm),
            Just(ReplyKind::Template),
            Just(ReplyKind::Note)
        ]
        .prop_map(|kind| Kind::ReplySent {
            message: MessageId::from_u128(8),
            kind,
            dialog: None
        }),
        (any::<bool>(), proptest::option::of(agent())).prop_map(|(wrap, released)| {
            Kind::Resolved {
                wrap_up: wrap.then(reason),
                released,
            }
        }),
        proptest::option::of(agent()).prop_map(|released| Kind::Dropped { released }),
        (queue(), proptest::option::of(agent()))
            .prop_map(|(queue, released)| Kind::Queued { queue, released }),
        agent().prop_map(|agent| Kind::OfferAccepted { agent }),
        agent().prop_map(|agent| Kind::Assigned {
            agent,
            released: None
        }),
        (agent(), queue()).prop_map(|(from, queue)| Kind::Transferred {
            from,
            target: queue.map_or(
                TransferTarget::Agent {
                    agent: AgentId::from_u128(3),
                    available: true,
                    queue: None,
                    deadline: Utc.timestamp_opt(0, 0).unwrap(),
                },
                |queue| TransferTarget::Queue { queue },
            ),
            wrap_up: reason(),
        }),
        agent().prop_map(|agent| Kind::ConferenceJoined { agent }),
        (agent(), agent()).prop_map(|(agent, remaining)| Kind::ConferenceLeft {
            agent,
            wrap_up: reason(),
            remaining,
        }),
        Just(Kind::HandedToBot {
            flow: "flow".into(),
            released: None
        }),
        queue().prop_map(|queue| Kind::HandedBack { queue }),
    ]
}

fn dialog_event(at: chrono::DateTime<Utc>, by: Actor, pick: u8) -> DialogEvent {
    match pick {
        0 => DialogEvent::Created(DialogCreated {
            at,
            by,
            dialog: DIALOG,
            account: AccountId::from_u128(1),
            conversation: CONVERSATION,
            contact: ContactId::from_u128(4),
            title: DialogTitle::parse("Refund").unwrap(),
            request_type: RequestTypeId::from_u128(11),
            participants: BTreeSet::from([AgentId::from_u128(1)]),
            reasons: BTreeSet::new(),
            components: BTreeSet::new(),
        }),
        1 => DialogEvent::Paused { at, by },
        2 => DialogEvent::Resumed { at, by },
        3 => DialogEvent::Completed {
            at,
            by,
            contact_rating: Some(Stars::new(2).unwrap()),
        },
        4 => DialogEvent::ParticipantAdded {
            at,
            by,
            agent: AgentId::from_u128(2),
        },
        _ => DialogEvent::SatisfactionRecorded {
            at,
            by: Actor::Contact(ContactId::from_u128(4)),
            value: Satisfaction::Excellent,
            thank_you: "thanks".into(),
        },
    }
}

/// A log: conversation and dialog events, with times that mostly move forward (by 0 to 999
/// seconds) and sometimes step back.
fn log() -> impl Strategy<Value = Vec<DomainEvent>> {
    prop::collection::vec(
        (
            prop_oneof![4 => kind().prop_map(Some), 1 => Just(None)],
            0..6u8,
            -50..1000i64,
            prop_oneof![agent().prop_map(Actor::Agent), Just(Actor::System)],
        ),
        0..40,
    )
    .prop_map(|steps| {
        let mut at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        steps
            .into_iter()
            .map(|(kind, pick, step, actor)| {
                at += Duration::seconds(step);
                match kind {
                    Some(kind) => DomainEvent::Conversation(ConversationEvent {
                        conversation: CONVERSATION,
                        at,
                        actor,
                        kind,
                    }),
                    None => DomainEvent::Dialog {
                        dialog: DIALOG,
                        conversation: CONVERSATION,
                        event: dialog_event(at, actor, pick),
                    },
                }
            })
            .collect()
    })
}

fn fold_all(
    events: &[DomainEvent],
    conversation: &mut ConversationFold,
    dialog: &mut DialogFold,
) -> Vec<Fact> {
    let mut facts = Vec::new();
    for event in events {
        conversation.fold(event, &mut facts);
        if let DomainEvent::Dialog { event, .. } = event {
            dialog.fold(event);
        }
    }
    facts
}

proptest! {
    #[test]
    fn p1_d15_incremental_folding_equals_folding_in_one_go(
        events in log(),
        cuts in prop::collection::vec(0..40usize, 0..5),
    ) {
        let mut whole = (ConversationFold::default(), DialogFold::default());
        let expected = fold_all(&events, &mut whole.0, &mut whole.1);

        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(events.len())).collect();
        cuts.sort_unstable();
        cuts.push(events.len());
        let mut facts = Vec::new();
        let mut stored = (
            serde_json::to_string(&ConversationFold::default()).unwrap(),
            serde_json::to_string(&DialogFold::default()).unwrap(),
        );
        let mut from = 0;
        for cut in cuts {
            let mut conversation: ConversationFold = serde_json::from_str(&stored.0).unwrap();
            let mut dialog: DialogFold = serde_json::from_str(&stored.1).unwrap();
            facts.extend(fold_all(&events[from..cut], &mut conversation, &mut dialog));
            stored = (
                serde_json::to_string(&conversation).unwrap(),
                serde_json::to_string(&dialog).unwrap(),
            );
            from = cut;
        }
        prop_assert_eq!(facts, expected);
        prop_assert_eq!(serde_json::from_str::<ConversationFold>(&stored.0).unwrap(), whole.0);
        prop_assert_eq!(serde_json::from_str::<DialogFold>(&stored.1).unwrap(), whole.1);
    }

    #[test]
    fn p1_durations_are_never_negative_nor_longer_than_the_log(events in log()) {
        let facts = fold_all(&events, &mut ConversationFold::default(), &mut DialogFold::default());
        let first = events.iter().map(DomainEvent::at).min();
        let last = events.iter().map(DomainEvent::at).max();
        let span = match (first, last) {
            (Some(first), Some(last)) => seconds_between(first, last),
            _ => 0,
        };
        for fact in &facts {
            if fact.metric.is_duration() {
                let value = fact.value.expect("a duration carries its seconds");
                prop_assert!(value <= span, "{fact:?} longer than the log's {span} s");
            } else if fact.metric.is_rating() {
                prop_assert!(matches!(fact.value, Some(1..=3)));
            } else {
                prop_assert_eq!(fact.value, None);
            }
        }
        let count = |metric| facts.iter().filter(|fact| fact.metric == metric).count();
        // One time to close per resolution at most, one first response per opening at most.
        prop_assert!(count(Metric::TimeToClose) <= count(Metric::Resolved));
    }
}
