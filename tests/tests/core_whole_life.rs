//! One contact's whole life driven through `conversation-core`'s public API, across every
//! machine: routing chooses, the conversation records the offer, the offer times out (the agent
//! goes `rona`), the next agent accepts, a dialog is opened and worked, rated both ways, the
//! conversation is resolved and the contact's next message reopens it. Every event goes through
//! the `DomainEvent` envelope and back, as the event log will store it.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use conversation_core::actor::Principal;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    Assignment, Conversation, ConversationCommand, ConversationStatus, Reply, ReplyKind,
    ReplyPolicy, StartConversation,
};
use conversation_core::dialog::{
    ContactDialogs, CreateDialog, Dialog, DialogCommand, DialogEvent, DialogStatusKind,
    Satisfaction, Stars,
};
use conversation_core::entities::RoutingStrategy;
use conversation_core::entities::{Availability, SatisfactionForm};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
    RequestTypeId, WrapUpReasonId,
};
use conversation_core::presence::{AgentPresence, PresenceCommand};
use conversation_core::routing::{
    AgentLoad, Candidate, RoutingChoice, RoutingContext, choose_agent,
};
use conversation_core::{DomainEvent, Timestamp};

const ALICE: AgentId = AgentId::from_u128(1);
const BOB: AgentId = AgentId::from_u128(2);
const CONTACT: ContactId = ContactId::from_u128(10);
const QUEUE: QueueId = QueueId::from_u128(20);

fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap() + Duration::seconds(secs)
}

fn candidate(agent: AgentId, presence: &AgentPresence, assigned_open: u32) -> Candidate {
    Candidate {
        agent,
        availability: presence.availability,
        load: AgentLoad {
            assigned_open,
            outstanding_offers: 0,
            capacity: 2,
        },
        experience_level: 1,
        cost_tier: 1,
        idle_since: presence.since,
    }
}

/// The event log: every event goes in through the envelope's JSON, as a store keeps it.
#[derive(Default)]
struct Log(Vec<DomainEvent>);

impl Log {
    fn push(&mut self, event: DomainEvent) {
        let json = serde_json::to_string(&event).expect("serializes");
        self.0
            .push(serde_json::from_str(&json).expect("deserializes"));
    }
}

fn step(c: &mut Conversation, log: &mut Log, command: ConversationCommand, now: Timestamp) {
    for event in c.decide(&command, now).expect("command accepted") {
        c.apply(&event);
        log.push(DomainEvent::Conversation(event));
    }
}

#[test]
fn r6_d3_c3_a_contacts_whole_life_across_every_machine() {
    let mut log = Log::default();
    let mut alice = AgentPresence::new(ALICE, t(-600));
    let mut bob = AgentPresence::new(BOB, t(-600));
    for (presence, at) in [(&mut alice, t(-300)), (&mut bob, t(-200))] {
        for event in presence.decide(PresenceCommand::SetAvailable, at).unwrap() {
            presence.apply(&event);
        }
    }

    // C2: the contact writes on WhatsApp; the conversation waits in the queue.
    let start = StartConversation {
        id: ConversationId::from_u128(100),
        account: AccountId::from_u128(1),
        inbox: InboxId::from_u128(2),
        channel: ChannelKind::Whatsapp,
        contact: CONTACT,
        message: MessageId::from_u128(1000),
        queue: Some(QUEUE),
        bot_flow: None,
    };
    let started = Conversation::decide_start(&start, t(0));
    let mut c = Conversation::replay(&started).unwrap();
    started
        .into_iter()
        .for_each(|e| log.push(DomainEvent::Conversation(e)));

    // R3: least loaded, ties to the agent idle longest: Alice (available since t(-300)).
    let candidates = [candidate(ALICE, &alice, 0), candidate(BOB, &bob, 0)];
    let choice = choose_agent(
        RoutingStrategy::LeastLoaded,
        &candidates,
        RoutingContext::default(),
    );
    assert_eq!(choice, RoutingChoice::Agent(ALICE));
    step(
        &mut c,
        &mut log,
        ConversationCommand::RouteOffer {
            agent: ALICE,
            deadline: t(30),
        },
        t(1),
    );

    // R6: Alice does not answer; she goes rona and routing skips her.
    step(
        &mut c,
        &mut log,
        ConversationCommand::ExpireOffer { agent: ALICE },
        t(30),
    );
    for event in alice
        .decide(PresenceCommand::MarkRona { conversation: c.id }, t(30))
        .unwrap()
    {
        alice.apply(&event);
        log.push(DomainEvent::Presence(event));
    }
    assert_eq!(alice.availability, Availability::Rona);
    let skip: Vec<AgentId> = c.skipped_agents.iter().copied().collect();
    let candidates = [candidate(ALICE, &alice, 0), candidate(BOB, &bob, 0)];
    let context = RoutingContext {
        skip: &skip,
        last_chosen: None,
    };
    assert_eq!(
        choose_agent(RoutingStrategy::LeastLoaded, &candidates, context),
        RoutingChoice::Agent(BOB)
    );
    step(
        &mut c,
        &mut log,
        ConversationCommand::RouteOffer {
            agent: BOB,
            deadline: t(61),
        },
        t(31),
    );
    step(
        &mut c,
        &mut log,
        ConversationCommand::AcceptOffer { agent: BOB },
        t(35),
    );
    assert_eq!(c.assignee(), Some(BOB));

    // D1-D3: Bob opens a dialog; a second active one for the contact is refused.
    let create = |dialog: u128| CreateDialog {
        dialog: DialogId::from_u128(dialog),
        account: c.account,
        conversation: c.id,
        contact: CONTACT,
        by: BOB,
        title: "Refund for order 77".into(),
        request_type: RequestTypeId::from_u128(5),
        participants: BTreeSet::new(),
        reasons: BTreeSet::new(),
        components: BTreeSet::new(),
    };
    let created =
        Dialog::decide_create(create(300), &ContactDialogs::none(CONTACT), t(40)).unwrap();
    let mut dialog = Dialog::from_created(&created);
    log.push(DomainEvent::Dialog {
        dialog: dialog.id,
        conversation: c.id,
        event: DialogEvent::Created(created),
    });
    let snapshot = ContactDialogs::new(CONTACT, [(dialog.id, DialogStatusKind::Active)]);
    let refused = Dialog::decide_create(create(301), &snapshot, t(41)).unwrap_err();
    assert_eq!(refused.code(), "dialog_already_active");

    // D5: Bob writes inside the dialog; the general chat is closed meanwhile.
    let policy = ReplyPolicy {
        reply_window: ChannelKind::Whatsapp.default_reply_window(),
        templates: true,
        wrap_up_mandatory: true,
    };
    let reply = |n: u128, dialog| Reply {
        message: MessageId::from_u128(n),
        kind: ReplyKind::FreeForm,
        dialog,
        dialogs: snapshot.clone(),
        policy,
    };
    let general = ConversationCommand::SendReply {
        by: Principal::agent(BOB),
        reply: reply(1001, None),
    };
    assert_eq!(
        c.decide(&general, t(50)).unwrap_err().code(),
        "write_inside_active_dialog"
    );
    step(
        &mut c,
        &mut log,
        ConversationCommand::SendReply {
            by: Principal::agent(BOB),
            reply: reply(1002, Some(dialog.id)),
        },
        t(50),
    );
    assert_eq!(c.waiting_since, None);

    // D12, D13: completed with a rating of the contact and the form; the first click counts.
    let complete = DialogCommand::Complete {
        by: BOB,
        contact_rating: Some(Stars::new(3).unwrap()),
        send_satisfaction_form: Some(SatisfactionForm::default()),
    };
    for command in [
        complete,
        DialogCommand::RecordSatisfaction {
            contact: CONTACT,
            value: Satisfaction::Excellent,
        },
        DialogCommand::RecordSatisfaction {
            contact: CONTACT,
            value: Satisfaction::Bad,
        },
    ] {
        for event in dialog.decide(command, t(60)).unwrap() {
            dialog.apply(&event);
            log.push(DomainEvent::Dialog {
                dialog: dialog.id,
                conversation: c.id,
                event,
            });
        }
    }
    assert_eq!(dialog.satisfaction(), Some(Satisfaction::Excellent));
    assert_eq!(dialog.contact_rating(), Some(Stars::new(3).unwrap()));

    // R10, C5: resolving needs the inbox's mandatory wrap-up reason.
    let resolve = |wrap_up| ConversationCommand::Resolve {
        by: Principal::agent(BOB),
        wrap_up,
        closing: None,
        wrap_up_mandatory: true,
    };
    assert_eq!(
        c.decide(&resolve(None), t(70)).unwrap_err().code(),
        "wrap_up_required"
    );
    step(
        &mut c,
        &mut log,
        resolve(Some(WrapUpReasonId::from_u128(9))),
        t(70),
    );
    assert_eq!(c.status(), ConversationStatus::Resolved);

    // C3: the contact writes again a day later: reopened and waiting in the queue.
    step(
        &mut c,
        &mut log,
        ConversationCommand::ReceiveInbound {
            message: MessageId::from_u128(1003),
            queue: Some(QUEUE),
            dialog: None,
        },
        t(86_400),
    );
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: QUEUE,
            since: t(86_400)
        })
    );

    // The log rebuilds the conversation and the dialog exactly.
    let conversation_events: Vec<_> = log
        .0
        .iter()
        .filter_map(|e| match e {
            DomainEvent::Conversation(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(Conversation::replay(&conversation_events), Some(c));
    let dialog_events: Vec<DialogEvent> = log
        .0
        .iter()
        .filter_map(|e| match e {
            DomainEvent::Dialog { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(Dialog::replay(&dialog_events), Some(dialog));
    assert!(log.0.windows(2).all(|w| w[0].at() <= w[1].at()));
}
