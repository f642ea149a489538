//! The account's directory over real HTTP, on SQLite and PostgreSQL: agents and presence (R1,
//! R2, R3, A2), queues and inboxes with the interruption of their live conversations when
//! deleted (C7), contacts (K1-K3), setting lists (D10, R10), tasks (N2), orders (C10), refusals
//! (403), another account's ids (A1, S1) and fields a caller must not set (S2).

use std::str::FromStr;

use chrono::Duration;
use conversation_core::DomainEvent;
use conversation_core::entities::{ChannelIdentity, Contact, Task, TaskSource};
use conversation_core::ids::{AccountId, AgentId, ContactId, ConversationId, InboxId, TaskId};
use conversation_core::message::MessageKind;
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, ExpectedVersion, OutboxKind,
};
use conversation_core::presence::PresenceCommand;
use inbox_app::Inbound;
use inbox_tests::{AGENT_PASSWORD, TestServer, e2e};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// `a` with the fields of `b` added.
fn with(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string: {value}"))
}

/// The account of the signed-in caller.
async fn account_of(server: &TestServer, token: &str) -> AccountId {
    let (status, me) = server.get("/api/v1/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    AccountId::from_str(text(&me["account"])).unwrap()
}

/// A new agent made by `token` with `extra` fields; returns their view and their token.
async fn new_agent(server: &TestServer, token: &str, extra: Value) -> (Value, String) {
    let email = format!("agent-{}@example.test", Uuid::new_v4());
    let body = with(
        json!({"name": "Agent", "email": email, "password": AGENT_PASSWORD}),
        extra,
    );
    let (status, agent) = server.post("/api/v1/agents", Some(token), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    let session = server.sign_in(&email, AGENT_PASSWORD).await;
    (agent, session)
}

async fn new_inbox(server: &TestServer, token: &str, body: Value) -> Value {
    let (status, inbox) = server.post("/api/v1/inboxes", Some(token), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{inbox}");
    inbox
}

async fn new_queue(server: &TestServer, token: &str, body: Value) -> Value {
    let (status, queue) = server.post("/api/v1/queues", Some(token), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{queue}");
    queue
}

/// A contact known on the inbox, who writes a first message there: returns the contact and
/// the conversation it started.
async fn contact_writes(
    server: &TestServer,
    account: AccountId,
    inbox: &Value,
) -> (ContactId, ConversationId) {
    let store = server.app.store();
    let inbox = store
        .inbox(account, InboxId::from_str(text(&inbox["id"])).unwrap())
        .await
        .unwrap()
        .expect("the inbox");
    let contact = Contact {
        id: ContactId::from_uuid(Uuid::new_v4()),
        account,
        name: Some("Customer".into()),
        email: None,
        phone: None,
        location: None,
        notes: String::new(),
        attributes: Default::default(),
        responsible_agent: None,
        identities: vec![ChannelIdentity {
            inbox: inbox.id,
            external_id: Uuid::new_v4().to_string(),
        }],
        merged_into: None,
        created_at: server.app.now(),
    };
    store.save_contact(&contact).await.unwrap();
    let received = server
        .app
        .receive_inbound(
            &inbox,
            contact.id,
            Inbound {
                kind: MessageKind::Text,
                body: "Hello, my order is late".into(),
                attachment: None,
                external_id: Some(Uuid::new_v4().to_string()),
                client_id: None,
            },
        )
        .await
        .unwrap();
    (contact.id, received.conversation)
}

/// What `token` reads at each of `paths`.
async fn snapshot(server: &TestServer, token: &str, paths: &[String]) -> Vec<Value> {
    let mut all = Vec::with_capacity(paths.len());
    for path in paths {
        all.push(server.get(path, Some(token)).await.1);
    }
    all
}

e2e!(
    r1_r2_r3_agents_are_created_listed_with_presence_and_changed_by_admins,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let (ann, ann_token) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        // R2: capacity defaults to 5; a new agent starts offline (red).
        assert_eq!(ann["capacity"], 5);
        assert_eq!(ann["role"], "agent");
        assert_eq!(ann["availability"], "offline");
        assert_eq!(ann["green"], false);
        let (admin, _) = new_agent(
            &server,
            &owner,
            json!({"name": "Bea", "role": "admin", "full_access": true, "capacity": 8,
                   "experience_level": 3, "cost_tier": 2, "permissions": ["assign_conversations"]}),
        )
        .await;
        assert_eq!(admin["role"], "admin");
        assert_eq!(admin["capacity"], 8);
        assert_eq!(admin["experience_level"], 3);
        assert_eq!(admin["cost_tier"], 2);
        assert_eq!(admin["permissions"], json!(["assign_conversations"]));

        // R1: lists show presence; every agent reads the list.
        let (status, list) = server.get("/api/v1/agents", Some(&ann_token)).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 3, "owner, Ann, Bea");
        let ann_path = format!("/api/v1/agents/{}", text(&ann["id"]));
        let (status, one) = server.get(&ann_path, Some(&ann_token)).await;
        assert_eq!((status, &one["name"]), (StatusCode::OK, &json!("Ann")));

        // The profile changes (owners and admins).
        let (status, changed) = server
            .patch(
                &ann_path,
                Some(&owner),
                &json!({"capacity": 3, "experience_level": 4, "cost_tier": 2,
                        "permissions": ["edit_dialog_settings"], "name": "Ann B."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["capacity"], 3);
        assert_eq!(changed["experience_level"], 4);
        assert_eq!(changed["permissions"], json!(["edit_dialog_settings"]));
        assert_eq!(changed["name"], "Ann B.");

        // Validation: one owner only (unknown role value), a used email, a short password, a
        // capacity of zero.
        let (status, body) = server
            .post(
                "/api/v1/agents",
                Some(&owner),
                &json!({"name": "X", "email": "x@example.test", "role": "owner", "password": AGENT_PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = server
            .post(
                "/api/v1/agents",
                Some(&owner),
                &json!({"name": "Ann again", "email": ann["email"], "password": AGENT_PASSWORD}),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::CONFLICT, "conflict")
        );
        let (status, body) = server
            .post(
                "/api/v1/agents",
                Some(&owner),
                &json!({"name": "Y", "email": "y@example.test", "password": "short"}),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        );
        let (status, _) = server
            .patch(&ann_path, Some(&owner), &json!({"capacity": 0}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // R1: the agent sets their own availability; green only when available.
        let (status, me) = server
            .put(
                "/api/v1/me/availability",
                Some(&ann_token),
                &json!({"availability": "available"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(
            (&me["availability"], &me["green"]),
            (&json!("available"), &json!(true))
        );
        // Asking again changes nothing.
        let (status, me) = server
            .put(
                "/api/v1/me/availability",
                Some(&ann_token),
                &json!({"availability": "available"}),
            )
            .await;
        assert_eq!(
            (status, &me["availability"]),
            (StatusCode::OK, &json!("available"))
        );

        // An admin sets it for them.
        let (status, set) = server
            .put(
                &format!("{ann_path}/availability"),
                Some(&owner),
                &json!({"availability": "busy"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{set}");
        assert_eq!(
            (&set["availability"], &set["green"]),
            (&json!("busy"), &json!(false))
        );
        let (_, listed) = server.get("/api/v1/agents", Some(&owner)).await;
        let shown = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == ann["id"])
            .unwrap()
            .clone();
        assert_eq!(shown["availability"], "busy");

        // The change is an event of the agent's presence, by the presence machine.
        let account = account_of(&server, &owner).await;
        let ann_id = AgentId::from_str(text(&ann["id"])).unwrap();
        let presence = server
            .app
            .store()
            .agent_presence(account, ann_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            presence.version, 2,
            "offline -> available -> busy; asking again is no change"
        );
    }
);

e2e!(
    r1_out_of_rona_only_available,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let (ann, token) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        let (status, _) = server
            .put(
                "/api/v1/me/availability",
                Some(&token),
                &json!({"availability": "available"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // The system marks her rona (an offer timed out, R6).
        let account = account_of(&server, &owner).await;
        let agent = AgentId::from_str(text(&ann["id"])).unwrap();
        let store = server.app.store();
        let stored = store.agent_presence(account, agent).await.unwrap().unwrap();
        let events = stored
            .value
            .decide(
                PresenceCommand::MarkRona {
                    conversation: ConversationId::from_uuid(Uuid::new_v4()),
                },
                server.app.now(),
            )
            .unwrap();
        let mut after = stored.value;
        for event in &events {
            after.apply(event);
        }
        let mut commit = Commit::new(account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::Exactly(stored.version),
            state: AggregateState::Agent(after),
            events: events.into_iter().map(DomainEvent::Presence).collect(),
        });
        store.commit(commit).await.unwrap();
        let (_, me) = server
            .get(&format!("/api/v1/agents/{agent}"), Some(&token))
            .await;
        assert_eq!(
            (&me["availability"], &me["green"]),
            (&json!("rona"), &json!(false))
        );

        // Neither the agent nor an admin takes her out of rona but to available.
        for (path, who) in [
            ("/api/v1/me/availability".to_owned(), &token),
            (format!("/api/v1/agents/{agent}/availability"), &owner),
        ] {
            for availability in ["busy", "offline"] {
                let (status, body) = server
                    .put(&path, Some(who), &json!({"availability": availability}))
                    .await;
                assert_eq!(
                    (status, text(&body["code"])),
                    (StatusCode::CONFLICT, "invalid_transition"),
                    "{availability}: {body}"
                );
            }
        }
        // Nobody sets rona by hand.
        let (status, _) = server
            .put(
                "/api/v1/me/availability",
                Some(&token),
                &json!({"availability": "rona"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, me) = server
            .put(
                "/api/v1/me/availability",
                Some(&token),
                &json!({"availability": "available"}),
            )
            .await;
        assert_eq!(
            (status, &me["availability"]),
            (StatusCode::OK, &json!("available"))
        );
    }
);

e2e!(
    a2_only_owners_and_admins_manage_agents_queues_inboxes_and_availability,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let (ann, agent) = new_agent(&server, &owner, json!({"full_access": true})).await;
        let (bob, _) = new_agent(&server, &owner, json!({})).await;
        let (_, admin) = new_agent(&server, &owner, json!({"role": "admin"})).await;
        let queue = new_queue(&server, &owner, json!({"name": "Support"})).await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat"}),
        )
        .await;
        let queue_path = format!("/api/v1/queues/{}", text(&queue["id"]));
        let inbox_path = format!("/api/v1/inboxes/{}", text(&inbox["id"]));
        let bob_path = format!("/api/v1/agents/{}", text(&bob["id"]));

        let forbidden = [
            server
                .post(
                    "/api/v1/agents",
                    Some(&agent),
                    &json!({"name": "Z", "email": "z@example.test", "password": AGENT_PASSWORD}),
                )
                .await,
            server
                .patch(&bob_path, Some(&agent), &json!({"capacity": 9}))
                .await,
            server
                .put(
                    &format!("{bob_path}/availability"),
                    Some(&agent),
                    &json!({"availability": "available"}),
                )
                .await,
            server
                .post("/api/v1/queues", Some(&agent), &json!({"name": "Q"}))
                .await,
            server
                .patch(&queue_path, Some(&agent), &json!({"name": "Q2"}))
                .await,
            server.delete(&queue_path, Some(&agent)).await,
            server
                .post(
                    "/api/v1/inboxes",
                    Some(&agent),
                    &json!({"name": "I", "channel": "email"}),
                )
                .await,
            server
                .patch(&inbox_path, Some(&agent), &json!({"name": "I2"}))
                .await,
            server.delete(&inbox_path, Some(&agent)).await,
        ];
        for (status, body) in forbidden {
            assert_eq!(
                (status, text(&body["code"])),
                (StatusCode::FORBIDDEN, "forbidden"),
                "{body}"
            );
        }
        // Nothing changed.
        let (_, still) = server.get(&queue_path, Some(&agent)).await;
        assert_eq!(still["name"], "Support");
        let (_, still) = server.get(&bob_path, Some(&agent)).await;
        assert_eq!(
            (&still["capacity"], &still["availability"]),
            (&json!(5), &json!("offline"))
        );

        // Reads are for every agent; admins manage.
        assert_eq!(
            server.get("/api/v1/queues", Some(&agent)).await.0,
            StatusCode::OK
        );
        assert_eq!(
            server.get("/api/v1/inboxes", Some(&agent)).await.0,
            StatusCode::OK
        );
        let (status, _) = server
            .patch(&bob_path, Some(&admin), &json!({"capacity": 9}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = server
            .patch(&queue_path, Some(&admin), &json!({"name": "Q2"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        // An admin does not change the owner's profile; nobody makes a second owner.
        let (_, me) = server.get("/api/v1/me", Some(&owner)).await;
        let owner_path = format!("/api/v1/agents/{}", text(&me["id"]));
        let (status, _) = server
            .patch(&owner_path, Some(&admin), &json!({"name": "Boss"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = server
            .patch(
                &format!("/api/v1/agents/{}", text(&ann["id"])),
                Some(&owner),
                &json!({"role": "owner"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

e2e!(
    r3_r6_queues_crud_with_strategy_delivery_offer_timeout_and_members,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let (ann, _) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        let (bob, _) = new_agent(&server, &owner, json!({"name": "Bob"})).await;
        // Defaults: least_loaded, direct, 30 s.
        let plain = new_queue(&server, &owner, json!({"name": "General"})).await;
        assert_eq!(plain["strategy"], "least_loaded");
        assert_eq!(plain["delivery"], "direct");
        assert_eq!(plain["offer_timeout_secs"], 30);
        assert_eq!(plain["members"], json!([]));

        let queue = new_queue(
            &server,
            &owner,
            json!({"name": "Tier 1", "strategy": "cheapest_first", "delivery": "offer",
                   "offer_timeout_secs": 45, "members": [ann["id"]]}),
        )
        .await;
        assert_eq!(queue["strategy"], "cheapest_first");
        assert_eq!(queue["delivery"], "offer");
        assert_eq!(queue["offer_timeout_secs"], 45);
        assert_eq!(queue["members"], json!([ann["id"]]));
        let path = format!("/api/v1/queues/{}", text(&queue["id"]));
        let (status, changed) = server
            .patch(
                &path,
                Some(&owner),
                &json!({"strategy": "most_experienced_first", "members": [ann["id"], bob["id"]],
                        "offer_timeout_secs": 20}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["strategy"], "most_experienced_first");
        assert_eq!(changed["delivery"], "offer", "kept");
        assert_eq!(changed["members"], json!([ann["id"], bob["id"]]));
        let (_, read) = server.get(&path, Some(&owner)).await;
        assert_eq!(read, changed);
        let (_, list) = server.get("/api/v1/queues", Some(&owner)).await;
        assert_eq!(list.as_array().unwrap().len(), 2);

        for bad in [json!({"offer_timeout_secs": 0}), json!({"name": "  "})] {
            let (status, body) = server.patch(&path, Some(&owner), &bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        let (status, _) = server
            .patch(&path, Some(&owner), &json!({"strategy": "fastest"}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // A member who is not an agent of the account.
        let (status, _) = server
            .patch(&path, Some(&owner), &json!({"members": [Uuid::new_v4()]}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, deleted) = server.delete(&path, Some(&owner)).await;
        assert_eq!(
            (status, &deleted["interrupted"]),
            (StatusCode::OK, &json!(0))
        );
        assert_eq!(
            server.get(&path, Some(&owner)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            server.delete(&path, Some(&owner)).await.0,
            StatusCode::NOT_FOUND
        );
    }
);

e2e!(
    c7_deleting_a_queue_interrupts_its_live_conversations,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let (ann, ann_token) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        let queue = new_queue(
            &server,
            &owner,
            json!({"name": "Support", "members": [ann["id"]]}),
        )
        .await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat", "queue": queue["id"]}),
        )
        .await;
        let (_, waiting) = contact_writes(&server, account, &inbox).await;
        let (_, claimed) = contact_writes(&server, account, &inbox).await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{claimed}/claim"),
                Some(&ann_token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let (status, deleted) = server
            .delete(
                &format!("/api/v1/queues/{}", text(&queue["id"])),
                Some(&owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{deleted}");
        assert_eq!(deleted["interrupted"], 2);

        for id in [waiting, claimed] {
            let (status, c) = server
                .get(&format!("/api/v1/conversations/{id}"), Some(&owner))
                .await;
            assert_eq!(status, StatusCode::OK, "{c}");
            assert_eq!(
                (&c["status"], &c["interrupted"]),
                (&json!("open"), &json!(true))
            );
        }
        // The agent on it got an alert in the timeline; sending is refused.
        let (_, timeline) = server
            .get(
                &format!("/api/v1/conversations/{claimed}/timeline"),
                Some(&ann_token),
            )
            .await;
        let alert = timeline
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"]["type"] == "interrupted")
            .unwrap_or_else(|| panic!("an interrupted event: {timeline}"))
            .clone();
        assert_eq!(alert["event"]["cause"], "queue_deleted");
        assert_eq!(alert["event"]["alerted"], json!([ann["id"]]));
        assert_eq!(alert["event"]["actor"]["type"], "system");
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{claimed}/messages"),
                Some(&ann_token),
                &json!({"body": "Still there?"}),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::CONFLICT, "conversation_interrupted")
        );
        // The only action left: end it with a wrap-up reason.
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{claimed}/resolve"),
                Some(&ann_token),
                &json!({}),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::UNPROCESSABLE_ENTITY, "wrap_up_required")
        );
        let (_, reason) = server
            .post(
                "/api/v1/settings/wrap-up-reasons",
                Some(&owner),
                &json!({"name": "Queue closed"}),
            )
            .await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{claimed}/resolve"),
                Some(&ann_token),
                &json!({"wrap_up": reason["id"]}),
            )
            .await;
        assert_eq!(
            (status, &body["status"]),
            (StatusCode::OK, &json!("resolved")),
            "{body}"
        );
        // Inboxes that routed to the queue route nowhere now.
        let (_, inbox) = server
            .get(
                &format!("/api/v1/inboxes/{}", text(&inbox["id"])),
                Some(&owner),
            )
            .await;
        assert_eq!(inbox["queue"], Value::Null);
    }
);

e2e!(
    c7_deleting_an_inbox_interrupts_and_deletes_nothing_stored,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "WhatsApp", "channel": "whatsapp"}),
        )
        .await;
        let other = new_inbox(
            &server,
            &owner,
            json!({"name": "Email", "channel": "email"}),
        )
        .await;
        let (_, live) = contact_writes(&server, account, &inbox).await;
        let (_, elsewhere) = contact_writes(&server, account, &other).await;
        let path = format!("/api/v1/inboxes/{}", text(&inbox["id"]));

        let (status, deleted) = server.delete(&path, Some(&owner)).await;
        assert_eq!(
            (status, &deleted["interrupted"]),
            (StatusCode::OK, &json!(1)),
            "{deleted}"
        );
        // The inbox is gone from the lists, its conversation and messages are kept.
        assert_eq!(
            server.get(&path, Some(&owner)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            server.delete(&path, Some(&owner)).await.0,
            StatusCode::NOT_FOUND
        );
        let (_, list) = server.get("/api/v1/inboxes", Some(&owner)).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (status, c) = server
            .get(&format!("/api/v1/conversations/{live}"), Some(&owner))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(c["interrupted"], true);
        let (_, messages) = server
            .get(
                &format!("/api/v1/conversations/{live}/messages"),
                Some(&owner),
            )
            .await;
        assert_eq!(messages.as_array().unwrap().len(), 1, "{messages}");
        let (_, untouched) = server
            .get(&format!("/api/v1/conversations/{elsewhere}"), Some(&owner))
            .await;
        assert_eq!(untouched["interrupted"], false);

        // It can still be ended with a wrap-up reason, though its inbox is deleted.
        let (_, reason) = server
            .post(
                "/api/v1/settings/wrap-up-reasons",
                Some(&owner),
                &json!({"name": "Channel removed"}),
            )
            .await;
        let (status, body) = server
            .post(
                &format!("/api/v1/conversations/{live}/resolve"),
                Some(&owner),
                &json!({"wrap_up": reason["id"]}),
            )
            .await;
        assert_eq!(
            (status, &body["status"]),
            (StatusCode::OK, &json!("resolved")),
            "{body}"
        );
    }
);

e2e!(
    h1_c4_m2_m7_r10_r11_c8_d13_inboxes_with_channel_and_settings,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let queue = new_queue(&server, &owner, json!({"name": "Support"})).await;
        let plain = new_inbox(
            &server,
            &owner,
            json!({"name": "WhatsApp", "channel": "whatsapp"}),
        )
        .await;
        // Defaults: the channel's reply window (C4: WhatsApp 24 h), 1000 characters (M2),
        // 20 MB (M7), 120 s grace (R11).
        assert_eq!(plain["channel"], "whatsapp");
        assert_eq!(plain["reply_window_secs"], 24 * 3600);
        assert_eq!(plain["settings"]["text_limit"], 1000);
        assert_eq!(plain["settings"]["attachment_max_bytes"], 20 * 1024 * 1024);
        assert_eq!(plain["settings"]["offline_grace_secs"], 120);
        assert_eq!(
            plain["settings"]["reply_window"],
            json!({"type": "channel_default"})
        );

        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat", "queue": queue["id"], "settings": {
                "reply_window": {"type": "custom", "seconds": 3600},
                "text_limit": 500, "wrap_up_mandatory": true, "starts_in_bot": true,
                "keep_assignments_when_offline": true, "offline_grace_secs": 60,
                "reply_time_target_secs": 300, "attachment_max_bytes": 1048576,
                "satisfaction_form": {"text": "Rate us", "labels": ["Meh", "OK", "Great"],
                                      "thank_you": "Thanks!"}
            }}),
        )
        .await;
        let s = &inbox["settings"];
        assert_eq!(inbox["queue"], queue["id"]);
        assert_eq!(inbox["reply_window_secs"], 3600);
        assert_eq!(
            s["reply_window"],
            json!({"type": "custom", "seconds": 3600})
        );
        assert_eq!(s["text_limit"], 500);
        assert_eq!(s["wrap_up_mandatory"], true);
        assert_eq!(s["starts_in_bot"], true);
        assert_eq!(s["keep_assignments_when_offline"], true);
        assert_eq!(s["offline_grace_secs"], 60);
        assert_eq!(s["reply_time_target_secs"], 300);
        assert_eq!(s["attachment_max_bytes"], 1_048_576);
        assert_eq!(
            s["satisfaction_form"]["labels"],
            json!(["Meh", "OK", "Great"])
        );
        assert_eq!(s["satisfaction_form"]["thank_you"], "Thanks!");

        let path = format!("/api/v1/inboxes/{}", text(&inbox["id"]));
        let (status, changed) = server
            .patch(
                &path,
                Some(&owner),
                &json!({"name": "Website", "queue": null, "settings": {
                    "reply_window": {"type": "unlimited"}, "reply_time_target_secs": null}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["name"], "Website");
        assert_eq!(changed["queue"], Value::Null);
        assert_eq!(changed["reply_window_secs"], Value::Null);
        assert_eq!(changed["settings"]["reply_time_target_secs"], Value::Null);
        assert_eq!(changed["settings"]["text_limit"], 500, "kept");
        let (_, read) = server.get(&path, Some(&owner)).await;
        assert_eq!(read, changed);

        for bad in [
            json!({"settings": {"satisfaction_form": {"text": "t", "labels": ["a", "b"], "thank_you": "x"}}}),
            json!({"settings": {"text_limit": 0}}),
            json!({"settings": {"reply_window": {"type": "custom"}}}),
            json!({"settings": {"reply_window": {"type": "custom", "seconds": -5}}}),
            json!({"settings": {"attachment_max_bytes": 0}}),
        ] {
            let (status, body) = server.patch(&path, Some(&owner), &bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        }
        let (status, _) = server
            .post(
                "/api/v1/inboxes",
                Some(&owner),
                &json!({"name": "Fax", "channel": "fax"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, read) = server.get(&path, Some(&owner)).await;
        assert_eq!(read, changed, "refused changes changed nothing");
    }
);

e2e!(
    k1_k3_a2_the_contact_card_is_read_and_edited,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let (ann, ann_token) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat"}),
        )
        .await;
        let (contact, conversation) = contact_writes(&server, account, &inbox).await;
        let path = format!("/api/v1/contacts/{contact}");

        let (status, card) = server.get(&path, Some(&ann_token)).await;
        assert_eq!(status, StatusCode::OK, "{card}");
        assert_eq!(card["name"], "Customer");
        assert_eq!(card["identities"][0]["inbox"], inbox["id"]);
        assert_eq!(card["merged_into"], Value::Null);

        // K1, K3: every agent edits the card.
        let (status, card) = server
            .patch(
                &path,
                Some(&ann_token),
                &json!({"name": "Kata Kiss", "email": "kata@example.test", "phone": "+36 1 234 5678",
                        "location": "Budapest", "notes": "Prefers email.",
                        "attributes": {"plan": "gold", "crm_id": "C-42"},
                        "responsible_agent": ann["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{card}");
        assert_eq!(card["name"], "Kata Kiss");
        assert_eq!(card["email"], "kata@example.test");
        assert_eq!(card["phone"], "+36 1 234 5678");
        assert_eq!(card["location"], "Budapest");
        assert_eq!(card["notes"], "Prefers email.");
        assert_eq!(
            card["attributes"],
            json!({"plan": "gold", "crm_id": "C-42"})
        );
        assert_eq!(card["responsible_agent"], ann["id"]);

        // Attributes merge: null removes one, the rest stay; null clears a field.
        let (status, card) = server
            .patch(
                &path,
                Some(&owner),
                &json!({"attributes": {"crm_id": null, "segment": "b2b"}, "phone": null,
                        "responsible_agent": null}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{card}");
        assert_eq!(
            card["attributes"],
            json!({"plan": "gold", "segment": "b2b"})
        );
        assert_eq!(card["phone"], Value::Null);
        assert_eq!(card["responsible_agent"], Value::Null);
        assert_eq!(card["email"], "kata@example.test", "kept");
        let (_, read) = server.get(&path, Some(&owner)).await;
        assert_eq!(read, card);

        let (status, body) = server
            .patch(&path, Some(&owner), &json!({"email": "not an email"}))
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        );
        let (status, _) = server
            .patch(
                &path,
                Some(&owner),
                &json!({"responsible_agent": Uuid::new_v4()}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The contact's conversations: the owner sees it; Ann (not on it, no queue) does not (A2).
        let (status, list) = server
            .get(&format!("{path}/conversations"), Some(&owner))
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["id"], json!(conversation));
        let (_, list) = server
            .get(&format!("{path}/conversations"), Some(&ann_token))
            .await;
        assert_eq!(list, json!([]));
        assert_eq!(
            server
                .get(
                    &format!("/api/v1/contacts/{}", Uuid::new_v4()),
                    Some(&owner)
                )
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
);

e2e!(
    k2_merging_moves_identities_and_keeps_both_histories,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let (_, agent) = new_agent(&server, &owner, json!({})).await;
        let web = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat"}),
        )
        .await;
        let whatsapp = new_inbox(
            &server,
            &owner,
            json!({"name": "WhatsApp", "channel": "whatsapp"}),
        )
        .await;
        let (survivor, first) = contact_writes(&server, account, &web).await;
        let (merged, second) = contact_writes(&server, account, &whatsapp).await;
        server
            .patch(
                &format!("/api/v1/contacts/{merged}"),
                Some(&owner),
                &json!({"email": "kata@example.test", "attributes": {"plan": "gold"}}),
            )
            .await;
        let path = format!("/api/v1/contacts/{survivor}/merge");

        // Merging joins two histories: only those who see every conversation.
        let (status, _) = server
            .post(&path, Some(&agent), &json!({"contact": merged}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = server
            .post(&path, Some(&owner), &json!({"contact": survivor}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, card) = server
            .post(&path, Some(&owner), &json!({"contact": merged}))
            .await;
        assert_eq!(status, StatusCode::OK, "{card}");
        let inboxes: Vec<&Value> = card["identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["inbox"])
            .collect();
        assert_eq!(inboxes, [&web["id"], &whatsapp["id"]]);
        assert_eq!(
            card["email"], "kata@example.test",
            "filled from the merged contact"
        );
        assert_eq!(card["attributes"], json!({"plan": "gold"}));

        let (_, gone) = server
            .get(&format!("/api/v1/contacts/{merged}"), Some(&owner))
            .await;
        assert_eq!(gone["merged_into"], json!(survivor));
        assert_eq!(gone["identities"], json!([]));
        // The merged contact's channel id now finds the survivor.
        let whatsapp_id = InboxId::from_str(text(&whatsapp["id"])).unwrap();
        let external = text(&card["identities"][1]["external_id"]).to_owned();
        let found = server
            .app
            .store()
            .contact_by_identity(account, whatsapp_id, &external)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, survivor);

        let (_, list) = server
            .get(
                &format!("/api/v1/contacts/{survivor}/conversations"),
                Some(&owner),
            )
            .await;
        let mut ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| text(&c["id"]).to_owned())
            .collect();
        ids.sort();
        let mut expected = vec![first.to_string(), second.to_string()];
        expected.sort();
        assert_eq!(ids, expected);
        // A merged contact is not merged again.
        let (status, _) = server
            .post(&path, Some(&owner), &json!({"contact": merged}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

e2e!(
    d10_r10_setting_lists_are_guarded_searchable_and_archived,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let (ann, ann_token) = new_agent(&server, &owner, json!({"full_access": true})).await;
        // D10: without `edit_dialog_settings`, even full access does not change the lists.
        for list in ["request-types", "reasons", "components"] {
            let (status, body) = server
                .post(
                    &format!("/api/v1/settings/{list}"),
                    Some(&ann_token),
                    &json!({"name": "X"}),
                )
                .await;
            assert_eq!(
                (status, text(&body["code"])),
                (StatusCode::FORBIDDEN, "forbidden")
            );
        }
        server
            .patch(
                &format!("/api/v1/agents/{}", text(&ann["id"])),
                Some(&owner),
                &json!({"permissions": ["edit_dialog_settings"]}),
            )
            .await;
        let mut late = Value::Null;
        for name in ["Late delivery", "Damaged item", "Latency"] {
            let (status, entry) = server
                .post(
                    "/api/v1/settings/reasons",
                    Some(&ann_token),
                    &json!({"name": name}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{entry}");
            assert_eq!(entry["archived_at"], Value::Null);
            if name == "Late delivery" {
                late = entry;
            }
        }
        for list in ["request-types", "components"] {
            let (status, _) = server
                .post(
                    &format!("/api/v1/settings/{list}"),
                    Some(&ann_token),
                    &json!({"name": "Router"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        // A live name is unique in its list (any case); a blank one is refused.
        let (status, _) = server
            .post(
                "/api/v1/settings/reasons",
                Some(&ann_token),
                &json!({"name": "late DELIVERY"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = server
            .post(
                "/api/v1/settings/reasons",
                Some(&ann_token),
                &json!({"name": "  "}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Searchable (R10), by name, any case.
        let (_, found) = server
            .get("/api/v1/settings/reasons?q=LATE", Some(&ann_token))
            .await;
        let names: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| text(&e["name"]))
            .collect();
        assert_eq!(names, ["Late delivery", "Latency"]);

        // D10: removing archives; what used it keeps it; it is no longer offered.
        let path = format!("/api/v1/settings/reasons/{}", text(&late["id"]));
        let (status, archived) = server.delete(&path, Some(&ann_token)).await;
        assert_eq!(status, StatusCode::OK, "{archived}");
        assert!(archived["archived_at"].is_string());
        let (_, live) = server
            .get("/api/v1/settings/reasons", Some(&ann_token))
            .await;
        assert_eq!(live.as_array().unwrap().len(), 2);
        let (_, all) = server
            .get(
                "/api/v1/settings/reasons?include_archived=true",
                Some(&ann_token),
            )
            .await;
        assert_eq!(all.as_array().unwrap().len(), 3);
        // Its name is free again; the archived one can be renamed or brought back.
        let (status, renamed) = server
            .patch(
                &path,
                Some(&ann_token),
                &json!({"name": "Late delivery (old)", "archived": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{renamed}");
        assert_eq!(renamed["archived_at"], Value::Null);

        // R10: wrap-up reasons are for owners and admins, read by everyone.
        let (status, _) = server
            .post(
                "/api/v1/settings/wrap-up-reasons",
                Some(&ann_token),
                &json!({"name": "Solved"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for name in ["Solved", "No answer", "Spam"] {
            let (status, _) = server
                .post(
                    "/api/v1/settings/wrap-up-reasons",
                    Some(&owner),
                    &json!({"name": name}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let (_, found) = server
            .get("/api/v1/settings/wrap-up-reasons?q=an", Some(&ann_token))
            .await;
        let names: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| text(&e["name"]))
            .collect();
        assert_eq!(names, ["No answer"]);
        assert_eq!(
            server.get("/api/v1/settings/colours", Some(&owner)).await.0,
            StatusCode::NOT_FOUND
        );
        // An entry of one list is not found through another.
        let (status, _) = server
            .delete(
                &format!("/api/v1/settings/components/{}", text(&late["id"])),
                Some(&owner),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

e2e!(n2_my_tasks_by_due_time, |server: TestServer| async move {
    let owner = server.owner.clone();
    let account = account_of(&server, &owner).await;
    let (ann, token) = new_agent(&server, &owner, json!({})).await;
    let ann_id = AgentId::from_str(text(&ann["id"])).unwrap();
    let now = server.app.now();
    let task = |title: &str, agent: AgentId, minutes: i64| Task {
        id: TaskId::from_uuid(Uuid::new_v4()),
        account,
        agent,
        title: title.into(),
        source: TaskSource::ReturningContact {
            contact: ContactId::from_uuid(Uuid::new_v4()),
            conversation: ConversationId::from_uuid(Uuid::new_v4()),
        },
        due_at: now + Duration::minutes(minutes),
        created_at: now,
        done_at: None,
    };
    let (_, me) = server.get("/api/v1/me", Some(&owner)).await;
    let owner_id = AgentId::from_str(text(&me["id"])).unwrap();
    let mut commit = Commit::new(account);
    commit.tasks = vec![
        task("Later", ann_id, 30),
        task("Sooner", ann_id, 5),
        task("Not mine", owner_id, 1),
    ];
    server.app.store().commit(commit).await.unwrap();

    let (status, tasks) = server.get("/api/v1/me/tasks", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    let titles: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| text(&t["title"]))
        .collect();
    assert_eq!(titles, ["Sooner", "Later"]);
    assert_eq!(tasks[0]["source"]["type"], "returning_contact");
    let (_, mine) = server.get("/api/v1/me/tasks", Some(&owner)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let not_mine = mine[0]["id"].clone();

    // Ann writes one down herself; it takes its place by due time.
    let due = now + Duration::minutes(10);
    let (status, written) = server
        .post(
            "/api/v1/me/tasks",
            Some(&token),
            &json!({"title": " Send the invoice ", "due_at": due}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    assert_eq!(written["title"], "Send the invoice");
    assert_eq!(written["source"], json!({"type": "personal"}));
    assert_eq!(written["done_at"], Value::Null);
    for bad in [
        json!({"title": "  ", "due_at": due}),
        json!({"title": "x".repeat(501), "due_at": due}),
    ] {
        let (status, problem) = server.post("/api/v1/me/tasks", Some(&token), &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    }
    // S2: nobody writes on someone else's list.
    let (status, _) = server
        .post(
            "/api/v1/me/tasks",
            Some(&token),
            &json!({"title": "x", "due_at": due, "agent": me["id"]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );

    // She ticks it off and on again; another agent's task is not found for her.
    let path = format!("/api/v1/me/tasks/{}", text(&written["id"]));
    let (status, done) = server
        .patch(&path, Some(&token), &json!({"done": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["done_at"].is_string(), "{done}");
    let (_, tasks) = server.get("/api/v1/me/tasks", Some(&token)).await;
    let titles: Vec<(&str, bool)> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (text(&t["title"]), t["done_at"].is_string()))
        .collect();
    assert_eq!(
        titles,
        [
            ("Sooner", false),
            ("Send the invoice", true),
            ("Later", false)
        ]
    );
    let (_, undone) = server
        .patch(&path, Some(&token), &json!({"done": false}))
        .await;
    assert_eq!(undone["done_at"], Value::Null);
    let (status, problem) = server
        .patch(
            &format!("/api/v1/me/tasks/{}", text(&not_mine)),
            Some(&token),
            &json!({"done": true}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, mine) = server.get("/api/v1/me/tasks", Some(&owner)).await;
    assert_eq!(mine[0]["done_at"], Value::Null, "unchanged");
});

e2e!(
    c10_orders_from_a_conversation_emit_the_order_created_webhook,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let (_, outsider) = new_agent(&server, &owner, json!({})).await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat"}),
        )
        .await;
        let (contact, conversation) = contact_writes(&server, account, &inbox).await;
        let path = format!("/api/v1/conversations/{conversation}/orders");
        let body = json!({
            "items": [{"name": "Router", "quantity": 2, "unit_price_minor": 4999},
                      {"name": "Cable", "quantity": 1, "unit_price_minor": 500}],
            "amount_minor": 10498, "currency": "eur", "note": "Deliver Monday",
            "external_reference": "ERP-7"
        });
        let (status, order) = server.post(&path, Some(&owner), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        assert_eq!(order["amount_minor"], 10498);
        assert_eq!(order["currency"], "EUR");
        assert_eq!(order["conversation"], json!(conversation));
        assert_eq!(order["contact"], json!(contact));
        assert_eq!(order["external_reference"], "ERP-7");
        assert_eq!(order["created_by"]["type"], "agent");

        // The amount must be the sum of the lines; lines and currency are validated.
        for bad in [
            with(body.clone(), json!({"amount_minor": 1})),
            with(body.clone(), json!({"items": []})),
            with(body.clone(), json!({"currency": "EURO"})),
            with(
                body.clone(),
                json!({"items": [{"name": "x", "quantity": 0, "unit_price_minor": 1}]}),
            ),
        ] {
            let (status, problem) = server.post(&path, Some(&owner), &bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        }

        let (status, list) = server.get(&path, Some(&owner)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list, json!([order]));
        // C10, C12: the order shows in the conversation's timeline, with who created it; the
        // refused ones left nothing there.
        let (status, timeline) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/timeline"),
                Some(&owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{timeline}");
        let orders: Vec<&Value> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["event"])
            .filter(|e| e["stream"] == "order_created")
            .collect();
        assert_eq!(orders.len(), 1, "{timeline}");
        assert_eq!(orders[0]["order"], order["id"]);
        assert_eq!(orders[0]["amount_minor"], 10498);
        assert_eq!(orders[0]["actor"]["type"], "agent");
        // A2, S1: an agent who may not see the conversation gets 404 both ways.
        assert_eq!(
            server.get(&path, Some(&outsider)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            server.post(&path, Some(&outsider), &body).await.0,
            StatusCode::NOT_FOUND
        );

        // N5: the webhook was written with the order, in the same commit.
        let store = server.app.store();
        let now = server.app.now();
        // The outbox is shared by every account of the database: claim until ours shows up.
        let mut webhook = None;
        while webhook.is_none() {
            let claimed = store
                .claim_outbox(now, "directory-test", now + Duration::seconds(60), 500)
                .await
                .unwrap();
            if claimed.is_empty() {
                break;
            }
            webhook = claimed
                .into_iter()
                .find(|w| w.item.account == account && w.item.kind == OutboxKind::Webhook)
                .map(|w| serde_json::from_str::<Value>(&w.item.payload).unwrap());
        }
        let webhook = webhook.expect("an order.created webhook");
        assert_eq!(webhook["event"], "order.created");
        assert_eq!(webhook["order"]["id"], order["id"]);
        assert_eq!(webhook["order"]["amount_minor"], 10498);
    }
);

e2e!(
    a1_s1_another_accounts_ids_answer_404_and_change_nothing,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let (ann, _) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        let queue = new_queue(
            &server,
            &owner,
            json!({"name": "Support", "members": [ann["id"]]}),
        )
        .await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat"}),
        )
        .await;
        let (contact, conversation) = contact_writes(&server, account, &inbox).await;
        let (_, reason) = server
            .post(
                "/api/v1/settings/reasons",
                Some(&owner),
                &json!({"name": "Late"}),
            )
            .await;
        let (_, wrap_up) = server
            .post(
                "/api/v1/settings/wrap-up-reasons",
                Some(&owner),
                &json!({"name": "Solved"}),
            )
            .await;

        let agent_path = format!("/api/v1/agents/{}", text(&ann["id"]));
        let queue_path = format!("/api/v1/queues/{}", text(&queue["id"]));
        let inbox_path = format!("/api/v1/inboxes/{}", text(&inbox["id"]));
        let contact_path = format!("/api/v1/contacts/{contact}");
        let orders_path = format!("/api/v1/conversations/{conversation}/orders");
        let reason_path = format!("/api/v1/settings/reasons/{}", text(&reason["id"]));
        let wrap_up_path = format!("/api/v1/settings/wrap-up-reasons/{}", text(&wrap_up["id"]));
        let watched = [
            agent_path.clone(),
            queue_path.clone(),
            inbox_path.clone(),
            contact_path.clone(),
            orders_path.clone(),
            "/api/v1/settings/reasons?include_archived=true".to_owned(),
            "/api/v1/settings/wrap-up-reasons?include_archived=true".to_owned(),
        ];
        let before = snapshot(&server, &owner, &watched).await;

        // The other account's owner, on the same server and store.
        let other = server.stranger().await;
        let other_account_id = account_of(&server, &other).await;
        assert_ne!(other_account_id, account);
        let order = json!({"items": [{"name": "x", "quantity": 1, "unit_price_minor": 1}], "currency": "EUR"});
        let attempts = [
            server.get(&agent_path, Some(&other)).await,
            server
                .patch(&agent_path, Some(&other), &json!({"capacity": 1}))
                .await,
            server
                .put(
                    &format!("{agent_path}/availability"),
                    Some(&other),
                    &json!({"availability": "available"}),
                )
                .await,
            server.get(&queue_path, Some(&other)).await,
            server
                .patch(&queue_path, Some(&other), &json!({"name": "Mine"}))
                .await,
            server.delete(&queue_path, Some(&other)).await,
            server.get(&inbox_path, Some(&other)).await,
            server
                .patch(&inbox_path, Some(&other), &json!({"name": "Mine"}))
                .await,
            server.delete(&inbox_path, Some(&other)).await,
            server.get(&contact_path, Some(&other)).await,
            server
                .patch(&contact_path, Some(&other), &json!({"notes": "mine"}))
                .await,
            server
                .get(&format!("{contact_path}/conversations"), Some(&other))
                .await,
            server.get(&orders_path, Some(&other)).await,
            server.post(&orders_path, Some(&other), &order).await,
            server
                .patch(&reason_path, Some(&other), &json!({"name": "Mine"}))
                .await,
            server.delete(&reason_path, Some(&other)).await,
            server.delete(&wrap_up_path, Some(&other)).await,
            // Ids of the first account in bodies of the second account's own requests.
            server
                .post(
                    "/api/v1/queues",
                    Some(&other),
                    &json!({"name": "Q", "members": [ann["id"]]}),
                )
                .await,
            server
                .post(
                    "/api/v1/inboxes",
                    Some(&other),
                    &json!({"name": "I", "channel": "email", "queue": queue["id"]}),
                )
                .await,
        ];
        for (i, (status, body)) in attempts.into_iter().enumerate() {
            assert_eq!(
                (status, text(&body["code"])),
                (StatusCode::NOT_FOUND, "not_found"),
                "attempt {i}: {body}"
            );
        }
        // The second account's own queue, inbox and contact, pointed at the first account.
        let own_queue = new_queue(&server, &other, json!({"name": "Own"})).await;
        let (status, _) = server
            .patch(
                &format!("/api/v1/queues/{}", text(&own_queue["id"])),
                Some(&other),
                &json!({"members": [ann["id"]]}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let own_inbox = new_inbox(
            &server,
            &other,
            json!({"name": "Own", "channel": "web_chat"}),
        )
        .await;
        let (status, _) = server
            .patch(
                &format!("/api/v1/inboxes/{}", text(&own_inbox["id"])),
                Some(&other),
                &json!({"queue": queue["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (own_contact, _) = contact_writes(&server, other_account_id, &own_inbox).await;
        let own_contact_path = format!("/api/v1/contacts/{own_contact}");
        for (path, body) in [(
            own_contact_path.clone(),
            json!({"responsible_agent": ann["id"]}),
        )] {
            let (status, _) = server.patch(&path, Some(&other), &body).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
        for (path, body) in [
            (
                format!("{own_contact_path}/merge"),
                json!({"contact": contact}),
            ),
            (
                format!("{contact_path}/merge"),
                json!({"contact": own_contact}),
            ),
        ] {
            let (status, _) = server.post(&path, Some(&other), &body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        // The first account's owner does not reach the second's either.
        let (status, _) = server
            .post(
                &format!("{contact_path}/merge"),
                Some(&owner),
                &json!({"contact": own_contact}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Lists show only the caller's account.
        let (_, agents) = server.get("/api/v1/agents", Some(&other)).await;
        assert_eq!(agents.as_array().unwrap().len(), 1);
        let (_, reasons) = server.get("/api/v1/settings/reasons", Some(&other)).await;
        assert_eq!(reasons, json!([]));

        assert_eq!(
            snapshot(&server, &owner, &watched).await,
            before,
            "nothing changed"
        );
    }
);

e2e!(
    s2_fields_a_caller_must_not_set_are_refused,
    |server: TestServer| async move {
        let owner = server.owner.clone();
        let account = account_of(&server, &owner).await;
        let (ann, token) = new_agent(&server, &owner, json!({"name": "Ann"})).await;
        let queue = new_queue(&server, &owner, json!({"name": "Support"})).await;
        let inbox = new_inbox(
            &server,
            &owner,
            json!({"name": "Web", "channel": "web_chat"}),
        )
        .await;
        let (contact, conversation) = contact_writes(&server, account, &inbox).await;
        let agent_path = format!("/api/v1/agents/{}", text(&ann["id"]));
        let queue_path = format!("/api/v1/queues/{}", text(&queue["id"]));
        let inbox_path = format!("/api/v1/inboxes/{}", text(&inbox["id"]));
        let contact_path = format!("/api/v1/contacts/{contact}");
        let orders_path = format!("/api/v1/conversations/{conversation}/orders");
        let before = [
            server.get(&agent_path, Some(&owner)).await.1,
            server.get(&queue_path, Some(&owner)).await.1,
            server.get(&inbox_path, Some(&owner)).await.1,
            server.get(&contact_path, Some(&owner)).await.1,
        ];
        let other = Uuid::new_v4();
        let attempts = [
            server
                .post(
                    "/api/v1/agents",
                    Some(&owner),
                    &json!({"name": "M", "email": "m@example.test", "password": AGENT_PASSWORD,
                            "account_id": other}),
                )
                .await,
            server
                .post(
                    "/api/v1/agents",
                    Some(&owner),
                    &json!({"name": "M", "email": "m@example.test", "password": AGENT_PASSWORD,
                            "availability": "available"}),
                )
                .await,
            server.patch(&agent_path, Some(&owner), &json!({"account_id": other})).await,
            server.patch(&agent_path, Some(&owner), &json!({"availability": "available"})).await,
            server.patch(&agent_path, Some(&owner), &json!({"password_hash": "x"})).await,
            server
                .put("/api/v1/me/availability", Some(&token), &json!({"availability": "busy", "role": "admin"}))
                .await,
            server.patch(&queue_path, Some(&owner), &json!({"account_id": other})).await,
            server.patch(&inbox_path, Some(&owner), &json!({"channel": "email"})).await,
            server.patch(&inbox_path, Some(&owner), &json!({"deleted_at": "2026-01-01T00:00:00Z"})).await,
            server.patch(&contact_path, Some(&token), &json!({"merged_into": other})).await,
            server
                .patch(&contact_path, Some(&token), &json!({"identities": [], "name": "X"}))
                .await,
            server.patch(&contact_path, Some(&token), &json!({"account_id": other})).await,
            server
                .post(
                    &orders_path,
                    Some(&owner),
                    &json!({"items": [{"name": "x", "quantity": 1, "unit_price_minor": 1}],
                            "currency": "EUR", "created_by": {"type": "system"}}),
                )
                .await,
            server
                .post(
                    &orders_path,
                    Some(&owner),
                    &json!({"items": [{"name": "x", "quantity": 1, "unit_price_minor": 1, "id": other}],
                            "currency": "EUR"}),
                )
                .await,
            server
                .post("/api/v1/settings/reasons", Some(&owner), &json!({"name": "x", "archived_at": null}))
                .await,
        ];
        for (i, (status, body)) in attempts.into_iter().enumerate() {
            assert_eq!(
                (status, text(&body["code"])),
                (StatusCode::BAD_REQUEST, "bad_request"),
                "attempt {i}: {body}"
            );
        }
        let after = [
            server.get(&agent_path, Some(&owner)).await.1,
            server.get(&queue_path, Some(&owner)).await.1,
            server.get(&inbox_path, Some(&owner)).await.1,
            server.get(&contact_path, Some(&owner)).await.1,
        ];
        assert_eq!(after, before, "the rows are unchanged");
        assert_eq!(server.get(&orders_path, Some(&owner)).await.1, json!([]));
        let (_, reasons) = server.get("/api/v1/settings/reasons", Some(&owner)).await;
        assert_eq!(reasons, json!([]));
        let (_, agents) = server.get("/api/v1/agents", Some(&owner)).await;
        assert_eq!(agents.as_array().unwrap().len(), 2, "no agent was created");
    }
);

e2e!(
    openapi_documents_the_directory_routes,
    |server: TestServer| async move {
        let (status, doc) = server.get("/api/v1/openapi.json", None).await;
        assert_eq!(status, StatusCode::OK);
        for path in [
            "/api/v1/agents",
            "/api/v1/agents/{id}",
            "/api/v1/agents/{id}/availability",
            "/api/v1/me/availability",
            "/api/v1/me/tasks",
            "/api/v1/queues",
            "/api/v1/queues/{id}",
            "/api/v1/inboxes",
            "/api/v1/inboxes/{id}",
            "/api/v1/contacts/{id}",
            "/api/v1/contacts/{id}/merge",
            "/api/v1/contacts/{id}/conversations",
            "/api/v1/settings/{list}",
            "/api/v1/settings/{list}/{id}",
            "/api/v1/conversations/{id}/orders",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
    }
);
