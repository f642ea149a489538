//! Routing end to end (R3 strategies and delivery modes, R4 returning contacts, R5 backfill and
//! queue position, R2 capacity), over real HTTP on both stores, with a manual clock.

use std::collections::BTreeMap;

use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::{ContactId, ConversationId, QueueId};
use inbox_tests::{TestServer, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

mod support;
use support::*;

e2e_manual!(
    r3_least_loaded_direct_spreads_the_load,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({"capacity": 3})).await;
        let (b, b_token) = agent(&server, json!({"capacity": 3})).await;
        available(&server, &a_token).await;
        available(&server, &b_token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a, b]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let mut load: BTreeMap<String, u32> = BTreeMap::new();
        for _ in 0..4 {
            let id = write(&server, &inbox).await;
            let c = conversation(&server, id).await;
            assert_eq!(c["assignment"]["type"], "assigned", "{c}");
            *load.entry(text(&c["assignee"])).or_default() += 1;
        }
        // spec: R3 least_loaded: lowest load/capacity ratio each time, so 2 and 2.
        assert_eq!(
            load.values().copied().collect::<Vec<_>>(),
            vec![2, 2],
            "{load:?}"
        );
    }
);

e2e_manual!(
    r3_round_robin_takes_turns_in_id_order,
    |server: TestServer| async move {
        let mut members = Vec::new();
        for _ in 0..3 {
            let (id, token) = agent(&server, json!({})).await;
            available(&server, &token).await;
            members.push(id);
        }
        let queue = queue(&server, "round_robin", "direct", &members).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let mut order = Vec::new();
        for _ in 0..6 {
            let id = write(&server, &inbox).await;
            order.push(text(&conversation(&server, id).await["assignee"]));
        }
        let mut sorted: Vec<String> = members.iter().map(ToString::to_string).collect();
        sorted.sort();
        let expected: Vec<String> = sorted.iter().chain(sorted.iter()).cloned().collect();
        assert_eq!(order, expected, "spec: R3 round_robin: each member in turn");
    }
);

e2e_manual!(
    r3_most_experienced_first_then_next_level,
    |server: TestServer| async move {
        let (junior, j) = agent(&server, json!({"experience_level": 1, "capacity": 1})).await;
        let (senior, s) = agent(&server, json!({"experience_level": 3, "capacity": 1})).await;
        let (middle, m) = agent(&server, json!({"experience_level": 2, "capacity": 1})).await;
        for token in [&j, &s, &m] {
            available(&server, token).await;
        }
        let queue = queue(
            &server,
            "most_experienced_first",
            "direct",
            &[junior, senior, middle],
        )
        .await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let mut got = Vec::new();
        for _ in 0..4 {
            let id = write(&server, &inbox).await;
            got.push(conversation(&server, id).await["assignee"].clone());
        }
        // spec: R3: highest level with a free slot; the fourth waits (R5).
        assert_eq!(
            got,
            vec![json!(senior), json!(middle), json!(junior), Value::Null]
        );
    }
);

e2e_manual!(
    r3_cheapest_first_takes_the_lowest_tier,
    |server: TestServer| async move {
        let (dear, d) = agent(&server, json!({"cost_tier": 3, "capacity": 1})).await;
        let (cheap, c) = agent(&server, json!({"cost_tier": 1, "capacity": 1})).await;
        available(&server, &d).await;
        available(&server, &c).await;
        let queue = queue(&server, "cheapest_first", "direct", &[dear, cheap]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let first = write(&server, &inbox).await;
        let second = write(&server, &inbox).await;
        // spec: R3 cheapest_first.
        assert_eq!(conversation(&server, first).await["assignee"], json!(cheap));
        assert_eq!(conversation(&server, second).await["assignee"], json!(dear));
    }
);

e2e_manual!(
    r3_r5_manual_queue_waits_and_members_claim,
    |server: TestServer| async move {
        let (a, token) = agent(&server, json!({})).await;
        available(&server, &token).await;
        let queue = queue(&server, "manual", "direct", &[a]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        // spec: R3 manual: nobody is chosen; it waits, visible to the members (R5).
        assert_eq!(
            conversation(&server, id).await["assignment"]["type"],
            "waiting"
        );
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{id}/claim"),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(conversation(&server, id).await["assignee"], json!(a));
    }
);

e2e_manual!(
    r3_r6_offer_mode_offers_and_accept_assigns,
    |server: TestServer| async move {
        let (a, token) = agent(&server, json!({})).await;
        available(&server, &token).await;
        let queue = queue(&server, "least_loaded", "offer", &[a]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        let c = conversation(&server, id).await;
        // spec: R3 offer mode: offered with the queue's deadline (R6).
        assert_eq!(c["assignment"]["type"], "offered", "{c}");
        assert_eq!(c["assignment"]["agent"], json!(a));
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{id}/accept_offer"),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The accepted offer's timer is gone: time passing changes nothing.
        server.advance(120);
        server.run_timers().await;
        assert_eq!(conversation(&server, id).await["assignee"], json!(a));
        assert_eq!(availability(&server, a).await, "available");
    }
);

e2e_manual!(
    r6_offer_timeout_makes_rona_and_offers_the_next_agent,
    |server: TestServer| async move {
        let (a, a_token) = agent(&server, json!({})).await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &a_token).await;
        available(&server, &b_token).await;
        let queue = queue(&server, "least_loaded", "offer", &[a, b]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let id = write(&server, &inbox).await;
        let first = conversation(&server, id).await["assignment"]["agent"].clone();
        let (first_id, second_id) = if first == json!(a) { (a, b) } else { (b, a) };
        // Not yet due: nothing happens.
        server.advance(29);
        server.run_timers().await;
        assert_eq!(
            conversation(&server, id).await["assignment"]["agent"],
            json!(first_id)
        );
        // spec: R6: past the 30 s timeout the agent goes rona; the next agent gets the offer.
        server.advance(2);
        assert!(server.run_timers().await >= 1);
        assert_eq!(availability(&server, first_id).await, "rona");
        let c = conversation(&server, id).await;
        assert_eq!(c["assignment"]["type"], "offered", "{c}");
        assert_eq!(c["assignment"]["agent"], json!(second_id));
        // The second lets it time out too: nobody is left who did not, so it waits (R6, R5).
        server.advance(31);
        server.run_timers().await;
        assert_eq!(availability(&server, second_id).await, "rona");
        assert_eq!(
            conversation(&server, id).await["assignment"]["type"],
            "waiting"
        );
        // A timer that fires again does nothing more.
        assert_eq!(server.run_timers().await, 0);
    }
);

e2e_manual!(
    r5_backfill_oldest_first_when_available_and_when_capacity_frees,
    |server: TestServer| async move {
        let (a, token) = agent(&server, json!({"capacity": 2})).await;
        let queue = queue(&server, "least_loaded", "direct", &[a]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let mut ids = Vec::new();
        let mut visitors = Vec::new();
        for _ in 0..3 {
            let contact = server.contact().await;
            server.inbound(&inbox, contact, "hello", None).await;
            ids.push(latest(&server, &inbox, contact).await);
            visitors.push(visitor_token(&server, &inbox, contact).await);
            server.advance(1);
        }
        // Nobody available: all wait; the contacts are told their place (spec: R5).
        for (n, token) in visitors.iter().enumerate() {
            let (status, body) = server
                .get("/api/v1/widget/queue-position", Some(token))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["position"], json!(n + 1), "{body}");
        }
        // spec: R5: the agent becomes available: the two oldest are assigned.
        available(&server, &token).await;
        assert_eq!(conversation(&server, ids[0]).await["assignee"], json!(a));
        assert_eq!(conversation(&server, ids[1]).await["assignee"], json!(a));
        assert_eq!(
            conversation(&server, ids[2]).await["assignment"]["type"],
            "waiting"
        );
        let (_, body) = server
            .get("/api/v1/widget/queue-position", Some(&visitors[2]))
            .await;
        assert_eq!(body["position"], json!(1));
        let (_, body) = server
            .get("/api/v1/widget/queue-position", Some(&visitors[0]))
            .await;
        assert_eq!(body["position"], Value::Null);
        // spec: R5: resolving one frees a slot: the waiting one is assigned.
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{}/resolve", ids[0]),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(conversation(&server, ids[2]).await["assignee"], json!(a));
    }
);

e2e_manual!(
    r5_a_larger_capacity_takes_waiting_conversations,
    |server: TestServer| async move {
        let (a, token) = agent(&server, json!({"capacity": 1})).await;
        available(&server, &token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let _first = write(&server, &inbox).await;
        let second = write(&server, &inbox).await;
        assert_eq!(
            conversation(&server, second).await["assignment"]["type"],
            "waiting"
        );
        let (status, body) = server
            .patch(
                &format!("/api/v1/agents/{a}"),
                Some(&server.owner),
                &json!({"capacity": 2}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // spec: R5, R2: the new slot is filled.
        assert_eq!(conversation(&server, second).await["assignee"], json!(a));
    }
);

e2e_manual!(
    r4_returning_contact_goes_to_their_account_manager,
    |server: TestServer| async move {
        let (manager, m_token) = agent(&server, json!({})).await;
        let (other, o_token) = agent(&server, json!({})).await;
        available(&server, &m_token).await;
        available(&server, &o_token).await;
        // The manager is not even a member of the queue: R4 goes by responsibility.
        let queue = queue(&server, "least_loaded", "direct", &[other]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let contact = managed_contact(&server, manager).await;
        server.inbound(&inbox, contact, "it's me again", None).await;
        let id = latest(&server, &inbox, contact).await;
        // spec: R4: available with a free slot: the manager gets it.
        assert_eq!(conversation(&server, id).await["assignee"], json!(manager));
    }
);

e2e_manual!(
    r4_unavailable_manager_gets_a_task_and_the_queue_routes,
    |server: TestServer| async move {
        let (manager, m_token) = agent(&server, json!({})).await;
        let (other, o_token) = agent(&server, json!({})).await;
        available(&server, &o_token).await;
        let (status, _) = server
            .put(
                "/api/v1/me/availability",
                Some(&m_token),
                &json!({"availability": "busy"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let queue = queue(&server, "least_loaded", "direct", &[manager, other]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let contact = managed_contact(&server, manager).await;
        server.inbound(&inbox, contact, "hello again", None).await;
        let id = latest(&server, &inbox, contact).await;
        // spec: R4: the manager is busy: a task for them, and the queue's strategy routes it.
        assert_eq!(conversation(&server, id).await["assignee"], json!(other));
        let (status, tasks) = server.get("/api/v1/me/tasks", Some(&m_token)).await;
        assert_eq!(status, StatusCode::OK);
        let tasks = tasks.as_array().expect("a list").clone();
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        assert_eq!(tasks[0]["title"], "Managed contact wrote again");
    }
);

e2e_manual!(
    r3_reopened_and_transferred_conversations_are_routed_at_once,
    |server: TestServer| async move {
        let (a, token) = agent(&server, json!({})).await;
        available(&server, &token).await;
        let queue = queue(&server, "least_loaded", "direct", &[a]).await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
        let contact = server.contact().await;
        server.inbound(&inbox, contact, "first", None).await;
        let id = latest(&server, &inbox, contact).await;
        assert_eq!(conversation(&server, id).await["assignee"], json!(a));
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{id}/resolve"),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // spec: R3, C3: the contact writes again: reopened and routed at once.
        server.inbound(&inbox, contact, "again", None).await;
        let c = conversation(&server, id).await;
        assert_eq!(
            (c["status"].clone(), c["assignee"].clone()),
            (json!("open"), json!(a))
        );
        // spec: R3: transferred to a queue, it is routed there at once.
        let (_, reason) = server
            .post(
                "/api/v1/settings/wrap-up-reasons",
                Some(&server.owner),
                &json!({"name": "Moved"}),
            )
            .await;
        let (b, b_token) = agent(&server, json!({})).await;
        available(&server, &b_token).await;
        let other_queue = queue_named(&server, "least_loaded", "direct", &[b]).await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{id}/transfer"),
                Some(&token),
                &json!({"queue": other_queue, "wrap_up": reason["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["assignee"],
            json!(b),
            "the response shows it routed: {body}"
        );
    }
);

/// A contact whose account manager (K3) is `manager`.
async fn managed_contact(server: &TestServer, manager: Uuid) -> ContactId {
    let id = server.contact().await;
    let mut contact = server
        .app
        .store()
        .contact(server.account().await, id)
        .await
        .expect("read")
        .expect("exists");
    contact.name = Some("Managed contact".into());
    contact.responsible_agent = Some(conversation_core::ids::AgentId::from_uuid(manager));
    server
        .app
        .store()
        .save_contact(&contact)
        .await
        .expect("saved");
    id
}

/// The contact's conversation on the inbox.
async fn latest(server: &TestServer, inbox: &Inbox, contact: ContactId) -> ConversationId {
    server
        .app
        .store()
        .latest_conversation(inbox.account, inbox.id, contact)
        .await
        .expect("read")
        .expect("a conversation")
        .value
        .id
}

/// A second queue (same helper, other name).
async fn queue_named(
    server: &TestServer,
    strategy: &str,
    delivery: &str,
    members: &[Uuid],
) -> QueueId {
    queue(server, strategy, delivery, members).await
}
