//! One test per row of the conversation's transition table, each naming its rule id.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::Timestamp;
use crate::actor::{Actor, Permission, Principal, Role};
use crate::channel::ChannelKind;
use crate::dialog::ContactDialogs;
use crate::error::DomainError;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
    WrapUpReasonId,
};

pub(super) const ALICE: AgentId = AgentId::from_u128(0xA1);
pub(super) const BOB: AgentId = AgentId::from_u128(0xB0);
pub(super) const CAROL: AgentId = AgentId::from_u128(0xC0);
pub(super) const SUPPORT: QueueId = QueueId::from_u128(0x51);
pub(super) const BILLING: QueueId = QueueId::from_u128(0x52);
const REASON: WrapUpReasonId = WrapUpReasonId::from_u128(0x77);

pub(super) fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::seconds(secs)
}

pub(super) fn msg(n: u128) -> MessageId {
    MessageId::from_u128(n)
}

pub(super) fn start_cmd(
    channel: ChannelKind,
    queue: Option<QueueId>,
    bot: Option<&str>,
) -> StartConversation {
    StartConversation {
        id: ConversationId::from_u128(1),
        account: AccountId::from_u128(2),
        inbox: InboxId::from_u128(3),
        channel,
        contact: ContactId::from_u128(4),
        message: msg(1),
        queue,
        bot_flow: bot.map(str::to_owned),
    }
}

/// A web-chat conversation waiting in SUPPORT since t(0).
pub(super) fn started() -> Conversation {
    let events =
        Conversation::decide_start(&start_cmd(ChannelKind::WebChat, Some(SUPPORT), None), t(0));
    Conversation::replay(&events).unwrap()
}

/// Decides, applies, and returns the events.
pub(super) fn run(
    c: &mut Conversation,
    cmd: ConversationCommand,
    now: Timestamp,
) -> Result<Vec<ConversationEvent>, DomainError> {
    let events = c.decide(&cmd, now)?;
    for e in &events {
        c.apply(e);
    }
    Ok(events)
}

fn code(c: &Conversation, cmd: ConversationCommand, now: Timestamp) -> &'static str {
    let before = c.clone();
    let err = c.decide(&cmd, now).unwrap_err();
    assert_eq!(&before, c, "decide never mutates");
    err.code()
}

fn kinds(events: &[ConversationEvent]) -> Vec<&ConversationEventKind> {
    events.iter().map(|e| &e.kind).collect()
}

fn agent(id: AgentId) -> Principal {
    Principal::agent(id)
}

fn admin(id: AgentId) -> Principal {
    Principal::agent(id).with_role(Role::Admin)
}

fn policy(window: Option<Duration>) -> ReplyPolicy {
    ReplyPolicy {
        reply_window: window,
        templates: true,
        wrap_up_mandatory: false,
    }
}

fn reply(n: u128, kind: ReplyKind) -> Reply {
    Reply {
        message: msg(n),
        kind,
        dialog: None,
        dialogs: ContactDialogs::none(crate::ids::ContactId::from_u128(4)),
        policy: policy(Some(Duration::hours(48))),
    }
}

fn assigned_to(agent_id: AgentId) -> Conversation {
    let mut c = started();
    run(
        &mut c,
        ConversationCommand::RouteAssign { agent: agent_id },
        t(1),
    )
    .unwrap();
    c
}

fn resolved() -> Conversation {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::Resolve {
            by: agent(ALICE),
            wrap_up: None,
            closing: None,
            wrap_up_mandatory: false,
        },
        t(10),
    )
    .unwrap();
    c
}

// ---- C1, C2: start -------------------------------------------------------------------------

#[test]
fn c1_c2_inbound_from_new_contact_starts_open_conversation_waiting_in_queue() {
    let c = started();
    assert_eq!(c.status(), ConversationStatus::Open);
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: SUPPORT,
            since: t(0)
        })
    );
    assert_eq!(c.last_inbound_at, Some(t(0)));
    assert_eq!(
        (c.inbox, c.contact, c.account),
        (
            InboxId::from_u128(3),
            ContactId::from_u128(4),
            AccountId::from_u128(2)
        )
    );
    assert_eq!(c.channel, ChannelKind::WebChat);
}

#[test]
fn c2_inbox_with_bot_flow_starts_in_bot_status() {
    let events = Conversation::decide_start(
        &start_cmd(ChannelKind::Telegram, Some(SUPPORT), Some("welcome")),
        t(0),
    );
    let c = Conversation::replay(&events).unwrap();
    assert_eq!(c.status(), ConversationStatus::Bot);
    assert_eq!(
        c.state,
        ConversationState::Bot {
            flow: "welcome".into()
        }
    );
}

#[test]
fn c2_inbox_without_queue_starts_unassigned() {
    let events = Conversation::decide_start(&start_cmd(ChannelKind::Email, None, None), t(0));
    let c = Conversation::replay(&events).unwrap();
    assert_eq!(c.assignment(), Some(&Assignment::Unassigned));
}

// ---- C3: inbound never refused ---------------------------------------------------------------

#[test]
fn c3_inbound_on_resolved_conversation_reopens_it_and_routes_again() {
    let mut c = resolved();
    let events = run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(9),
            queue: Some(SUPPORT),
            dialog: None,
        },
        t(100),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [
            &ConversationEventKind::Reopened {
                queue: Some(SUPPORT)
            },
            &ConversationEventKind::InboundReceived {
                message: msg(9),
                dialog: None
            }
        ]
    );
    assert_eq!(events[0].actor, Actor::Contact(c.contact));
    assert_eq!(c.status(), ConversationStatus::Open);
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: SUPPORT,
            since: t(100)
        })
    );
}

#[test]
fn c3_inbound_on_dropped_conversation_reopens_it() {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::Drop {
            by: agent(ALICE),
            member_of_queue: false,
        },
        t(5),
    )
    .unwrap();
    assert_eq!(c.status(), ConversationStatus::Dropped);
    run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(9),
            queue: None,
            dialog: None,
        },
        t(6),
    )
    .unwrap();
    assert_eq!(c.assignment(), Some(&Assignment::Unassigned));
}

#[test]
fn c3_inbound_on_interrupted_or_bot_conversation_is_stored_without_status_change() {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::Interrupt {
            cause: InterruptCause::QueueDeleted,
        },
        t(2),
    )
    .unwrap();
    let events = run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(5),
            queue: None,
            dialog: None,
        },
        t(3),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::InboundReceived {
            message: msg(5),
            dialog: None
        }]
    );
    assert!(matches!(c.state, ConversationState::Interrupted { .. }));
}

#[test]
fn d5_inbound_goes_into_the_active_dialog() {
    let mut c = started();
    let dialog = DialogId::from_u128(8);
    let events = run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(2),
            queue: None,
            dialog: Some(dialog),
        },
        t(1),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::InboundReceived {
            message: msg(2),
            dialog: Some(dialog)
        }]
    );
}

// ---- C4: reply window ------------------------------------------------------------------------

#[test]
fn c4_free_form_reply_inside_window_is_sent_and_outside_is_refused() {
    let c = assigned_to(ALICE);
    let inside = ConversationCommand::SendReply {
        by: agent(ALICE),
        reply: reply(2, ReplyKind::FreeForm),
    };
    assert!(c.decide(&inside, t(0) + Duration::hours(48)).is_ok());
    let err = c.decide(&inside, t(0) + Duration::hours(49)).unwrap_err();
    assert_eq!(
        err,
        DomainError::ReplyWindowClosed {
            closed_for: Duration::hours(1)
        }
    );
    assert_eq!(err.code(), "reply_window_closed");
}

#[test]
fn c4_window_counts_from_the_last_inbound_message() {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(3),
            queue: None,
            dialog: None,
        },
        t(0) + Duration::hours(40),
    )
    .unwrap();
    let cmd = ConversationCommand::SendReply {
        by: agent(ALICE),
        reply: reply(4, ReplyKind::FreeForm),
    };
    assert!(c.decide(&cmd, t(0) + Duration::hours(80)).is_ok());
}

#[test]
fn c4_template_is_allowed_outside_the_window_where_the_channel_has_templates() {
    let c = assigned_to(ALICE);
    let late = t(0) + Duration::days(30);
    let template = ConversationCommand::SendReply {
        by: agent(ALICE),
        reply: reply(2, ReplyKind::Template),
    };
    assert!(c.decide(&template, late).is_ok());
    let mut no_templates = reply(2, ReplyKind::Template);
    no_templates.policy.templates = false;
    let cmd = ConversationCommand::SendReply {
        by: agent(ALICE),
        reply: no_templates,
    };
    assert_eq!(code(&c, cmd, late), "capability_unsupported");
}

#[test]
fn c4_channel_without_window_always_allows_replies() {
    let c = assigned_to(ALICE);
    let mut r = reply(2, ReplyKind::FreeForm);
    r.policy.reply_window = ChannelKind::Email.default_reply_window();
    assert!(
        c.decide(
            &ConversationCommand::SendReply {
                by: agent(ALICE),
                reply: r
            },
            t(0) + Duration::days(365)
        )
        .is_ok()
    );
}

#[test]
fn c4_agent_reopens_closed_conversation_only_inside_the_window() {
    let c = resolved();
    let reopen = ConversationCommand::Reopen {
        by: agent(BOB),
        reply_window: Some(Duration::hours(24)),
        queue: Some(BILLING),
    };
    let mut inside = c.clone();
    let events = run(&mut inside, reopen.clone(), t(0) + Duration::hours(23)).unwrap();
    assert_eq!(events[0].actor, Actor::Agent(BOB));
    assert_eq!(
        inside.assignment().and_then(Assignment::queue),
        Some(BILLING)
    );
    assert_eq!(
        code(&c, reopen, t(0) + Duration::hours(25)),
        "reply_window_closed"
    );
    assert_eq!(
        code(
            &started(),
            ConversationCommand::Reopen {
                by: agent(BOB),
                reply_window: None,
                queue: None
            },
            t(1)
        ),
        "invalid_transition"
    );
}

#[test]
fn m10_notes_need_no_window_and_do_not_answer_the_contact() {
    let mut c = assigned_to(ALICE);
    let late = t(0) + Duration::days(30);
    run(
        &mut c,
        ConversationCommand::SendReply {
            by: agent(BOB),
            reply: reply(2, ReplyKind::Note),
        },
        late,
    )
    .unwrap();
    assert_eq!(
        c.waiting_since,
        Some(t(0)),
        "a note is no reply to the contact"
    );
}

// ---- C5: resolve -------------------------------------------------------------------------------

#[test]
fn c5_assignee_resolves_and_frees_capacity() {
    let mut c = assigned_to(ALICE);
    let events = run(
        &mut c,
        ConversationCommand::Resolve {
            by: agent(ALICE),
            wrap_up: Some(REASON),
            closing: None,
            wrap_up_mandatory: false,
        },
        t(5),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Resolved {
            wrap_up: Some(REASON),
            released: Some(ALICE)
        }]
    );
    // C9: it remembers where it was, so its queue and its agent still find it.
    assert_eq!(
        c.state,
        ConversationState::Resolved {
            at: t(5),
            queue: Some(SUPPORT),
            agent: Some(ALICE)
        }
    );
    assert_eq!(c.load_holder(), None);
    assert_eq!(c.assignee(), None);
}

#[test]
fn c5_other_agent_may_not_resolve_but_full_access_admin_and_owner_may() {
    let c = assigned_to(ALICE);
    let by = |p: Principal| ConversationCommand::Resolve {
        by: p,
        wrap_up: None,
        closing: None,
        wrap_up_mandatory: false,
    };
    assert_eq!(code(&c, by(agent(BOB)), t(5)), "forbidden");
    assert!(c.decide(&by(agent(BOB).with_full_access()), t(5)).is_ok());
    assert!(c.decide(&by(admin(BOB)), t(5)).is_ok());
    assert!(
        c.decide(&by(agent(BOB).with_role(Role::Owner)), t(5))
            .is_ok()
    );
}

#[test]
fn c5_send_and_close_writes_the_last_message_and_resolves_atomically() {
    let mut c = assigned_to(ALICE);
    let cmd = ConversationCommand::Resolve {
        by: agent(ALICE),
        wrap_up: None,
        closing: Some(reply(7, ReplyKind::FreeForm)),
        wrap_up_mandatory: false,
    };
    let events = run(&mut c, cmd, t(5)).unwrap();
    assert_eq!(
        kinds(&events),
        [
            &ConversationEventKind::ReplySent {
                message: msg(7),
                kind: ReplyKind::FreeForm,
                dialog: None
            },
            &ConversationEventKind::Resolved {
                wrap_up: None,
                released: Some(ALICE)
            },
        ]
    );
    // The last message is checked like any reply: outside the window nothing happens.
    let c2 = assigned_to(ALICE);
    let cmd = ConversationCommand::Resolve {
        by: agent(ALICE),
        wrap_up: None,
        closing: Some(reply(7, ReplyKind::FreeForm)),
        wrap_up_mandatory: false,
    };
    assert_eq!(
        code(&c2, cmd, t(0) + Duration::days(3)),
        "reply_window_closed"
    );
}

#[test]
fn c5_resolving_twice_is_an_invalid_transition() {
    let c = resolved();
    assert_eq!(
        code(
            &c,
            ConversationCommand::Resolve {
                by: admin(BOB),
                wrap_up: None,
                closing: None,
                wrap_up_mandatory: false
            },
            t(20)
        ),
        "invalid_transition"
    );
}

#[test]
fn r10_mandatory_wrap_up_reason_is_required_to_resolve() {
    let c = assigned_to(ALICE);
    assert_eq!(
        code(
            &c,
            ConversationCommand::Resolve {
                by: agent(ALICE),
                wrap_up: None,
                closing: None,
                wrap_up_mandatory: true
            },
            t(5)
        ),
        "wrap_up_required"
    );
    assert!(
        c.decide(
            &ConversationCommand::Resolve {
                by: agent(ALICE),
                wrap_up: Some(REASON),
                closing: None,
                wrap_up_mandatory: true
            },
            t(5)
        )
        .is_ok()
    );
}

// ---- C6: drop ---------------------------------------------------------------------------------

#[test]
fn c6_drop_frees_capacity_and_sends_nothing() {
    let mut c = assigned_to(ALICE);
    let events = run(
        &mut c,
        ConversationCommand::Drop {
            by: agent(ALICE),
            member_of_queue: true,
        },
        t(5),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Dropped {
            released: Some(ALICE)
        }]
    );
    assert_eq!(c.status(), ConversationStatus::Dropped);
    assert_ne!(c.status(), ConversationStatus::Resolved);
}

#[test]
fn c6_drop_needs_assignee_queue_membership_or_supervision() {
    let c = assigned_to(ALICE);
    assert_eq!(
        code(
            &c,
            ConversationCommand::Drop {
                by: agent(BOB),
                member_of_queue: false
            },
            t(5)
        ),
        "forbidden"
    );
    assert!(
        started()
            .decide(
                &ConversationCommand::Drop {
                    by: agent(BOB),
                    member_of_queue: true
                },
                t(5)
            )
            .is_ok()
    );
    assert_eq!(
        code(
            &resolved(),
            ConversationCommand::Drop {
                by: admin(BOB),
                member_of_queue: true
            },
            t(20)
        ),
        "invalid_transition"
    );
}

// ---- C7: interruption -------------------------------------------------------------------------

#[test]
fn c7_deleted_queue_interrupts_alerts_agents_and_refuses_sending() {
    let mut c = assigned_to(ALICE);
    let events = run(
        &mut c,
        ConversationCommand::Interrupt {
            cause: InterruptCause::QueueDeleted,
        },
        t(5),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Interrupted {
            cause: InterruptCause::QueueDeleted,
            alerted: vec![ALICE]
        }]
    );
    assert_eq!(c.status(), ConversationStatus::Open);
    assert_eq!(
        code(
            &c,
            ConversationCommand::SendReply {
                by: agent(ALICE),
                reply: reply(3, ReplyKind::FreeForm)
            },
            t(6)
        ),
        "conversation_interrupted"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::SendReply {
                by: agent(ALICE),
                reply: reply(3, ReplyKind::Note)
            },
            t(6)
        ),
        "conversation_interrupted"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::AssignQueue {
                by: admin(BOB),
                queue: BILLING
            },
            t(6)
        ),
        "conversation_interrupted"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::Drop {
                by: agent(ALICE),
                member_of_queue: true
            },
            t(6)
        ),
        "conversation_interrupted"
    );
}

#[test]
fn c7_interrupted_conversation_ends_only_with_a_wrap_up_reason() {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::Interrupt {
            cause: InterruptCause::InboxDeleted,
        },
        t(5),
    )
    .unwrap();
    let end = |wrap_up| ConversationCommand::Resolve {
        by: agent(ALICE),
        wrap_up,
        closing: None,
        wrap_up_mandatory: false,
    };
    assert_eq!(code(&c, end(None), t(6)), "wrap_up_required");
    assert_eq!(
        code(
            &c,
            ConversationCommand::Resolve {
                by: agent(BOB),
                wrap_up: Some(REASON),
                closing: None,
                wrap_up_mandatory: false
            },
            t(6)
        ),
        "forbidden"
    );
    let closing = ConversationCommand::Resolve {
        by: agent(ALICE),
        wrap_up: Some(REASON),
        closing: Some(reply(4, ReplyKind::FreeForm)),
        wrap_up_mandatory: false,
    };
    assert_eq!(code(&c, closing, t(6)), "conversation_interrupted");
    run(&mut c, end(Some(REASON)), t(6)).unwrap();
    assert_eq!(c.status(), ConversationStatus::Resolved);
}

#[test]
fn c7_closed_conversations_are_not_interrupted() {
    let c = resolved();
    assert!(
        c.decide(
            &ConversationCommand::Interrupt {
                cause: InterruptCause::InboxDeleted
            },
            t(30)
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn c7_conference_interruption_alerts_both_agents() {
    let mut c = in_conference();
    let events = run(
        &mut c,
        ConversationCommand::Interrupt {
            cause: InterruptCause::InboxDeleted,
        },
        t(20),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Interrupted {
            cause: InterruptCause::InboxDeleted,
            alerted: vec![ALICE, BOB]
        }]
    );
}

// ---- C8: awaiting reply ------------------------------------------------------------------------

#[test]
fn c8_waiting_since_is_the_oldest_unanswered_contact_message() {
    let mut c = assigned_to(ALICE);
    assert_eq!(c.waiting_since, Some(t(0)));
    run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(2),
            queue: None,
            dialog: None,
        },
        t(30),
    )
    .unwrap();
    assert_eq!(c.waiting_since, Some(t(0)));
    run(
        &mut c,
        ConversationCommand::SendReply {
            by: agent(ALICE),
            reply: reply(3, ReplyKind::FreeForm),
        },
        t(40),
    )
    .unwrap();
    assert_eq!(c.waiting_since, None);
    run(
        &mut c,
        ConversationCommand::ReceiveInbound {
            message: msg(4),
            queue: None,
            dialog: None,
        },
        t(50),
    )
    .unwrap();
    assert_eq!(c.waiting_since, Some(t(50)));
}

#[test]
fn c8_awaiting_conversation_is_overdue_past_the_target() {
    let c = started();
    let target = Some(Duration::minutes(5));
    assert!(!c.is_overdue(target, t(300)));
    assert!(c.is_overdue(target, t(301)));
    assert!(!c.is_overdue(None, t(100_000)));
}

// ---- C11: bot flows -----------------------------------------------------------------------------

#[test]
fn c11_hand_to_bot_frees_capacity_and_hand_back_routes_again() {
    let mut c = assigned_to(ALICE);
    let events = run(
        &mut c,
        ConversationCommand::HandToBot {
            by: agent(ALICE),
            flow: " survey ".into(),
        },
        t(5),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::HandedToBot {
            flow: "survey".into(),
            released: Some(ALICE)
        }]
    );
    assert_eq!(c.status(), ConversationStatus::Bot);
    assert_eq!(c.load_holder(), None);
    let events = run(
        &mut c,
        ConversationCommand::HandBack {
            queue: Some(SUPPORT),
        },
        t(9),
    )
    .unwrap();
    assert_eq!(events[0].actor, Actor::Integration);
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: SUPPORT,
            since: t(9)
        })
    );
}

#[test]
fn c11_hand_to_bot_needs_a_flow_and_rights() {
    let c = assigned_to(ALICE);
    assert_eq!(
        code(
            &c,
            ConversationCommand::HandToBot {
                by: agent(ALICE),
                flow: "  ".into()
            },
            t(5)
        ),
        "missing_field"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::HandToBot {
                by: agent(BOB),
                flow: "x".into()
            },
            t(5)
        ),
        "forbidden"
    );
    assert_eq!(
        code(&c, ConversationCommand::HandBack { queue: None }, t(5)),
        "invalid_transition"
    );
}

// ---- C12: timeline ------------------------------------------------------------------------------

#[test]
fn c12_every_change_records_who_and_when() {
    let mut c = started();
    let events = run(
        &mut c,
        ConversationCommand::AssignAgent {
            by: admin(CAROL),
            agent: ALICE,
        },
        t(7),
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].at, events[0].actor, events[0].conversation),
        (t(7), Actor::Agent(CAROL), c.id)
    );
}

// ---- R6: offers ---------------------------------------------------------------------------------

fn offered_to_alice() -> Conversation {
    let mut c = started();
    run(
        &mut c,
        ConversationCommand::RouteOffer {
            agent: ALICE,
            deadline: t(31),
        },
        t(1),
    )
    .unwrap();
    c
}

#[test]
fn r6_offer_carries_agent_times_and_counts_toward_load() {
    let c = offered_to_alice();
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Offered {
            queue: Some(SUPPORT),
            agent: ALICE,
            offered_at: t(1),
            queued_since: t(0),
            deadline: t(31)
        })
    );
    assert_eq!(c.load_holder(), Some(ALICE));
    assert_eq!(c.assignee(), None);
}

#[test]
fn r6_accept_before_deadline_assigns() {
    let mut c = offered_to_alice();
    run(
        &mut c,
        ConversationCommand::AcceptOffer { agent: ALICE },
        t(31),
    )
    .unwrap();
    assert_eq!(c.assignee(), Some(ALICE));
    assert_eq!(
        code(
            &offered_to_alice(),
            ConversationCommand::AcceptOffer { agent: ALICE },
            t(32)
        ),
        "offer_expired"
    );
    assert_eq!(
        code(
            &offered_to_alice(),
            ConversationCommand::AcceptOffer { agent: BOB },
            t(2)
        ),
        "offer_not_found"
    );
}

#[test]
fn r6_timeout_puts_it_back_at_its_place_and_skips_the_agent() {
    let mut c = offered_to_alice();
    assert!(
        c.decide(&ConversationCommand::ExpireOffer { agent: ALICE }, t(30))
            .unwrap()
            .is_empty(),
        "not yet due"
    );
    let events = run(
        &mut c,
        ConversationCommand::ExpireOffer { agent: ALICE },
        t(31),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::OfferTimedOut { agent: ALICE }]
    );
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: SUPPORT,
            since: t(0)
        })
    );
    assert!(c.skipped_agents.contains(&ALICE));
    assert_eq!(
        code(
            &c,
            ConversationCommand::RouteOffer {
                agent: ALICE,
                deadline: t(90)
            },
            t(40)
        ),
        "invalid_value"
    );
    run(
        &mut c,
        ConversationCommand::RouteOffer {
            agent: BOB,
            deadline: t(90),
        },
        t(40),
    )
    .unwrap();
    run(
        &mut c,
        ConversationCommand::AcceptOffer { agent: BOB },
        t(41),
    )
    .unwrap();
    assert!(
        c.skipped_agents.is_empty(),
        "an accepted offer ends the routing episode"
    );
}

#[test]
fn r6_stale_offer_timer_changes_nothing() {
    let mut c = offered_to_alice();
    run(
        &mut c,
        ConversationCommand::AcceptOffer { agent: ALICE },
        t(5),
    )
    .unwrap();
    assert!(
        c.decide(&ConversationCommand::ExpireOffer { agent: ALICE }, t(60))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn r6_decline_requeues_and_skips_the_agent() {
    let mut c = offered_to_alice();
    run(
        &mut c,
        ConversationCommand::DeclineOffer { agent: ALICE },
        t(3),
    )
    .unwrap();
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: SUPPORT,
            since: t(0)
        })
    );
    assert!(c.skipped_agents.contains(&ALICE));
}

#[test]
fn r3_routing_only_hands_out_what_nobody_holds() {
    let c = assigned_to(ALICE);
    assert_eq!(
        code(&c, ConversationCommand::RouteAssign { agent: BOB }, t(2)),
        "invalid_transition"
    );
    assert_eq!(
        code(
            &started(),
            ConversationCommand::RouteOffer {
                agent: BOB,
                deadline: t(0)
            },
            t(2)
        ),
        "invalid_value"
    );
}

// ---- R5, R7: claim and manual assignment ----------------------------------------------------

#[test]
fn r5_queue_member_claims_a_waiting_conversation() {
    let mut c = started();
    assert_eq!(
        code(
            &c,
            ConversationCommand::Claim {
                by: agent(BOB),
                member_of_queue: false
            },
            t(2)
        ),
        "forbidden"
    );
    run(
        &mut c,
        ConversationCommand::Claim {
            by: agent(BOB),
            member_of_queue: true,
        },
        t(2),
    )
    .unwrap();
    assert_eq!(c.assignee(), Some(BOB));
    assert_eq!(
        code(
            &c,
            ConversationCommand::Claim {
                by: agent(CAROL),
                member_of_queue: true
            },
            t(3)
        ),
        "invalid_transition"
    );
}

#[test]
fn r7_manual_assignment_needs_permission_and_replaces_the_holder() {
    let mut c = assigned_to(ALICE);
    assert_eq!(
        code(
            &c,
            ConversationCommand::AssignAgent {
                by: agent(BOB),
                agent: BOB
            },
            t(2)
        ),
        "forbidden"
    );
    let assigner = agent(CAROL).with_permission(Permission::AssignConversations);
    let events = run(
        &mut c,
        ConversationCommand::AssignAgent {
            by: assigner.clone(),
            agent: BOB,
        },
        t(2),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Assigned {
            agent: BOB,
            released: Some(ALICE)
        }]
    );
    assert!(
        c.decide(
            &ConversationCommand::AssignAgent {
                by: assigner,
                agent: BOB
            },
            t(3)
        )
        .unwrap()
        .is_empty(),
        "already assigned: no change"
    );
}

#[test]
fn r7_assigning_to_a_queue_removes_the_assignee() {
    let mut c = assigned_to(ALICE);
    let events = run(
        &mut c,
        ConversationCommand::AssignQueue {
            by: admin(CAROL),
            queue: BILLING,
        },
        t(4),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Queued {
            queue: Some(BILLING),
            released: Some(ALICE)
        }]
    );
    assert_eq!(c.assignee(), None);
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: BILLING,
            since: t(4)
        })
    );
}

// ---- R8: transfer -------------------------------------------------------------------------------

#[test]
fn r8_only_the_accepting_agent_transfers_and_gives_a_wrap_up_reason() {
    let c = assigned_to(ALICE);
    let to_queue = TransferTarget::Queue { queue: BILLING };
    assert_eq!(
        code(
            &c,
            ConversationCommand::Transfer {
                by: agent(BOB),
                target: to_queue,
                wrap_up: Some(REASON)
            },
            t(5)
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::Transfer {
                by: admin(BOB),
                target: to_queue,
                wrap_up: Some(REASON)
            },
            t(5)
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::Transfer {
                by: agent(ALICE),
                target: to_queue,
                wrap_up: None
            },
            t(5)
        ),
        "wrap_up_required"
    );
    assert_eq!(
        code(
            &offered_to_alice(),
            ConversationCommand::Transfer {
                by: agent(ALICE),
                target: to_queue,
                wrap_up: Some(REASON)
            },
            t(5)
        ),
        "forbidden"
    );
    let mut c = c;
    let events = run(
        &mut c,
        ConversationCommand::Transfer {
            by: agent(ALICE),
            target: to_queue,
            wrap_up: Some(REASON),
        },
        t(5),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Transferred {
            from: ALICE,
            target: to_queue,
            wrap_up: REASON
        }]
    );
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: BILLING,
            since: t(5)
        })
    );
}

#[test]
fn r8_transfer_to_an_agent_offers_it_and_a_timeout_leaves_it_in_the_target_queue() {
    let mut c = assigned_to(ALICE);
    let unavailable = TransferTarget::Agent {
        agent: BOB,
        available: false,
        queue: Some(BILLING),
        deadline: t(35),
    };
    assert_eq!(
        code(
            &c,
            ConversationCommand::Transfer {
                by: agent(ALICE),
                target: unavailable,
                wrap_up: Some(REASON)
            },
            t(5)
        ),
        "agent_unavailable"
    );
    let target = TransferTarget::Agent {
        agent: BOB,
        available: true,
        queue: Some(BILLING),
        deadline: t(35),
    };
    run(
        &mut c,
        ConversationCommand::Transfer {
            by: agent(ALICE),
            target,
            wrap_up: Some(REASON),
        },
        t(5),
    )
    .unwrap();
    assert_eq!(c.load_holder(), Some(BOB));
    run(
        &mut c,
        ConversationCommand::ExpireOffer { agent: BOB },
        t(35),
    )
    .unwrap();
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: BILLING,
            since: t(5)
        })
    );
}

// ---- R9: conference -----------------------------------------------------------------------------

fn in_conference() -> Conversation {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::InviteToConference {
            by: agent(ALICE),
            invitee: BOB,
            available: true,
            deadline: t(40),
        },
        t(10),
    )
    .unwrap();
    run(
        &mut c,
        ConversationCommand::AcceptConference { agent: BOB },
        t(11),
    )
    .unwrap();
    c
}

#[test]
fn r9_only_the_accepting_agent_invites_an_available_agent() {
    let c = assigned_to(ALICE);
    assert_eq!(
        code(
            &c,
            ConversationCommand::InviteToConference {
                by: agent(BOB),
                invitee: CAROL,
                available: true,
                deadline: t(40)
            },
            t(10)
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::InviteToConference {
                by: agent(ALICE),
                invitee: BOB,
                available: false,
                deadline: t(40)
            },
            t(10)
        ),
        "agent_unavailable"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::InviteToConference {
                by: agent(ALICE),
                invitee: ALICE,
                available: true,
                deadline: t(40)
            },
            t(10)
        ),
        "invalid_value"
    );
}

#[test]
fn r9_conference_requested_then_joined_and_both_write() {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::InviteToConference {
            by: agent(ALICE),
            invitee: BOB,
            available: true,
            deadline: t(40),
        },
        t(10),
    )
    .unwrap();
    assert!(matches!(
        c.assignment(),
        Some(Assignment::ConferenceRequested { invitee: BOB, .. })
    ));
    let events = run(
        &mut c,
        ConversationCommand::AcceptConference { agent: BOB },
        t(11),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::ConferenceJoined { agent: BOB }]
    );
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Conference {
            queue: Some(SUPPORT),
            agent: ALICE,
            guest: BOB
        })
    );
    for writer in [ALICE, BOB] {
        assert!(
            c.decide(
                &ConversationCommand::SendReply {
                    by: agent(writer),
                    reply: reply(5, ReplyKind::FreeForm)
                },
                t(12)
            )
            .is_ok()
        );
    }
    assert_eq!(
        code(
            &c,
            ConversationCommand::SendReply {
                by: agent(CAROL),
                reply: reply(5, ReplyKind::FreeForm)
            },
            t(12)
        ),
        "forbidden"
    );
    assert_eq!(c.load_holder(), Some(ALICE));
}

#[test]
fn r9_declined_or_late_invitation_leaves_the_assignee() {
    let mut c = assigned_to(ALICE);
    run(
        &mut c,
        ConversationCommand::InviteToConference {
            by: agent(ALICE),
            invitee: BOB,
            available: true,
            deadline: t(40),
        },
        t(10),
    )
    .unwrap();
    assert_eq!(
        code(
            &c,
            ConversationCommand::AcceptConference { agent: BOB },
            t(41)
        ),
        "offer_expired"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::AcceptConference { agent: CAROL },
            t(11)
        ),
        "offer_not_found"
    );
    run(
        &mut c,
        ConversationCommand::DeclineConference { agent: BOB },
        t(41),
    )
    .unwrap();
    assert_eq!(c.assignee(), Some(ALICE));
    assert!(matches!(c.assignment(), Some(Assignment::Assigned { .. })));
}

#[test]
fn r9_r10_leaving_a_conference_needs_a_wrap_up_and_leaves_the_other_agent() {
    let c = in_conference();
    assert_eq!(
        code(
            &c,
            ConversationCommand::LeaveConference {
                agent: BOB,
                wrap_up: None
            },
            t(20)
        ),
        "wrap_up_required"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::LeaveConference {
                agent: CAROL,
                wrap_up: Some(REASON)
            },
            t(20)
        ),
        "forbidden"
    );
    let mut guest_leaves = c.clone();
    run(
        &mut guest_leaves,
        ConversationCommand::LeaveConference {
            agent: BOB,
            wrap_up: Some(REASON),
        },
        t(20),
    )
    .unwrap();
    assert_eq!(guest_leaves.assignee(), Some(ALICE));
    let mut owner_leaves = c;
    let events = run(
        &mut owner_leaves,
        ConversationCommand::LeaveConference {
            agent: ALICE,
            wrap_up: Some(REASON),
        },
        t(20),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::ConferenceLeft {
            agent: ALICE,
            wrap_up: REASON,
            remaining: BOB
        }]
    );
    assert_eq!(owner_leaves.assignee(), Some(BOB));
}

#[test]
fn r9_no_transfer_or_manual_assignment_during_a_conference() {
    let c = in_conference();
    assert_eq!(
        code(
            &c,
            ConversationCommand::Transfer {
                by: agent(ALICE),
                target: TransferTarget::Queue { queue: BILLING },
                wrap_up: Some(REASON)
            },
            t(20)
        ),
        "invalid_transition"
    );
    assert_eq!(
        code(
            &c,
            ConversationCommand::AssignAgent {
                by: admin(CAROL),
                agent: CAROL
            },
            t(20)
        ),
        "invalid_transition"
    );
}

// ---- R11: requeue after grace -------------------------------------------------------------------

#[test]
fn r11_requeue_after_the_grace_period_frees_the_offline_agent() {
    let mut c = assigned_to(ALICE);
    let events = run(
        &mut c,
        ConversationCommand::Requeue {
            agent: ALICE,
            queue: Some(SUPPORT),
        },
        t(200),
    )
    .unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::Queued {
            queue: Some(SUPPORT),
            released: Some(ALICE)
        }]
    );
    assert_eq!(
        c.assignment(),
        Some(&Assignment::Waiting {
            queue: SUPPORT,
            since: t(200)
        })
    );
    assert!(
        assigned_to(BOB)
            .decide(
                &ConversationCommand::Requeue {
                    agent: ALICE,
                    queue: None
                },
                t(200)
            )
            .unwrap()
            .is_empty()
    );
}

// ---- D5, D6 through the conversation -----------------------------------------------------------

#[test]
fn d5_d6_replies_respect_the_contacts_dialogs() {
    use crate::dialog::{ContactDialogs, DialogStatusKind};
    let active = DialogId::from_u128(70);
    let paused = DialogId::from_u128(71);
    let dialogs = ContactDialogs::new(
        ContactId::from_u128(4),
        [
            (active, DialogStatusKind::Active),
            (paused, DialogStatusKind::Paused),
        ],
    );
    let c = assigned_to(ALICE);
    let with = |dialog| ConversationCommand::SendReply {
        by: agent(ALICE),
        reply: Reply {
            dialog,
            dialogs: dialogs.clone(),
            ..reply(6, ReplyKind::FreeForm)
        },
    };
    assert_eq!(code(&c, with(None), t(5)), "write_inside_active_dialog");
    assert_eq!(code(&c, with(Some(paused)), t(5)), "dialog_not_active");
    let events = c.decide(&with(Some(active)), t(5)).unwrap();
    assert_eq!(
        kinds(&events),
        [&ConversationEventKind::ReplySent {
            message: msg(6),
            kind: ReplyKind::FreeForm,
            dialog: Some(active)
        }]
    );
}
