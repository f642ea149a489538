//! Hand-worked timelines of the conversation fold (P1) that the end-to-end tests do not drive:
//! a conference (each agent's segment and wrap-up), an offer accepted, a requeue, and a drop
//! ending an episode without a time to close.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::actor::Actor;
use crate::channel::ChannelKind;
use crate::conversation::{ConversationEvent, ConversationEventKind as Kind};
use crate::events::DomainEvent;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, InboxId, MessageId, QueueId, WrapUpReasonId,
};

const A: AgentId = AgentId::from_u128(1);
const B: AgentId = AgentId::from_u128(2);
const Q: QueueId = QueueId::from_u128(3);
const R: WrapUpReasonId = WrapUpReasonId::from_u128(4);

fn at(secs: i64) -> crate::Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap() + Duration::seconds(secs)
}

fn fold(timeline: Vec<(i64, Kind)>) -> Vec<Fact> {
    let mut state = ConversationFold::default();
    let mut facts = Vec::new();
    for (secs, kind) in timeline {
        let event = DomainEvent::Conversation(ConversationEvent {
            conversation: ConversationId::from_u128(9),
            at: at(secs),
            actor: Actor::System,
            kind,
        });
        state.fold(&event, &mut facts);
    }
    facts
}

fn started() -> Kind {
    Kind::Started {
        account: AccountId::from_u128(7),
        inbox: InboxId::from_u128(8),
        channel: ChannelKind::WebChat,
        contact: ContactId::from_u128(6),
        queue: Some(Q),
        bot_flow: None,
    }
}

fn values(facts: &[Fact], metric: Metric) -> Vec<(Option<AgentId>, Option<u64>)> {
    facts
        .iter()
        .filter(|fact| fact.metric == metric)
        .map(|fact| (fact.agent, fact.value))
        .collect()
}

#[test]
fn p1_conference_segments_and_wrap_ups_per_agent() {
    // t=0 started; t=30 A accepts the offer; t=100 B joins the conference; t=160 A leaves with
    // R (B holds it); t=400 B resolves: A handled 30..160 = 130 s, B 100..400 = 300 s; time to
    // close 400 s; wrap-ups: A's R on leaving.
    let facts = fold(vec![
        (0, started()),
        (30, Kind::OfferAccepted { agent: A }),
        (100, Kind::ConferenceJoined { agent: B }),
        (
            160,
            Kind::ConferenceLeft {
                agent: A,
                wrap_up: R,
                remaining: B,
            },
        ),
        (
            400,
            Kind::Resolved {
                wrap_up: None,
                released: Some(B),
            },
        ),
    ]);
    assert_eq!(
        values(&facts, Metric::HandleTime),
        vec![(Some(A), Some(130)), (Some(B), Some(300))]
    );
    assert_eq!(values(&facts, Metric::WrapUp), vec![(Some(A), None)]);
    assert_eq!(
        facts
            .iter()
            .find(|f| f.metric == Metric::WrapUp)
            .unwrap()
            .reason,
        Some(R)
    );
    assert_eq!(
        values(&facts, Metric::TimeToClose),
        vec![(Some(B), Some(400))]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.queue == Some(Q) && f.inbox == Some(InboxId::from_u128(8)))
    );
}

#[test]
fn p1_a_requeue_ends_the_segment_and_a_drop_ends_the_episode_without_time_to_close() {
    // t=0 started; t=10 A assigned; t=70 requeued (A's segment: 60 s); t=100 B assigned;
    // t=130 the contact writes; t=150 dropped: B's segment 50 s; no time to close; no reply.
    let facts = fold(vec![
        (0, started()),
        (
            10,
            Kind::Assigned {
                agent: A,
                released: None,
            },
        ),
        (
            70,
            Kind::Queued {
                queue: Some(Q),
                released: Some(A),
            },
        ),
        (
            100,
            Kind::Assigned {
                agent: B,
                released: None,
            },
        ),
        (
            130,
            Kind::InboundReceived {
                message: MessageId::from_u128(5),
                dialog: None,
            },
        ),
        (150, Kind::Dropped { released: Some(B) }),
    ]);
    assert_eq!(
        values(&facts, Metric::HandleTime),
        vec![(Some(A), Some(60)), (Some(B), Some(50))]
    );
    assert_eq!(values(&facts, Metric::Dropped), vec![(Some(B), None)]);
    assert!(values(&facts, Metric::TimeToClose).is_empty());
    assert!(values(&facts, Metric::Reply).is_empty());
    assert!(values(&facts, Metric::FirstResponse).is_empty());
}
