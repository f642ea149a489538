//! Dialogs end to end (spec section D), over HTTP on both stores: creation with participants
//! and their tasks (D1, D2, D11), one active dialog per contact (D3), where agents may write
//! (D5, D6), the dialog's own messages (D7), changes and the account's setting lists (D9, D10),
//! completion with both ratings (D12-D14), every change an event that is published (C12), and
//! foreign ids answering 404 (A1, A2, S1, S5).
//!
//! The API cannot yet create inboxes, contacts or visitor sessions, so the fixture arranges
//! them through the store and the use cases (`server.app`), and the contact writes through
//! `App::receive_inbound`, as a channel would.

use std::collections::BTreeSet;

use conversation_core::actor::Role;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Agent, Availability, DEFAULT_CAPACITY, Inbox, SettingEntry};
use conversation_core::ids::{AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId};
use conversation_core::message::MessageKind;
use conversation_core::ports::{AggregateId, Session, SessionSubject, SettingKind};
use conversation_core::{DomainEvent, dialog::DialogEvent};
use inbox_app::{Caller, Inbound, TokenKind, hash_password, new_token, token_hash};
use inbox_tests::{AGENT_PASSWORD, TestServer, e2e};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// What every test starts from: an account with its setting lists, a web-chat inbox, a
/// contact who wrote once, and their open conversation.
struct World {
    account: AccountId,
    owner: AgentId,
    inbox: Inbox,
    contact: ContactId,
    conversation: ConversationId,
    support: Uuid,
    refund: Uuid,
    reason: Uuid,
    archived_reason: Uuid,
    component: Uuid,
}

async fn setting(server: &TestServer, account: AccountId, kind: SettingKind, name: &str) -> Uuid {
    let entry = SettingEntry::new(Uuid::new_v4(), name).unwrap();
    server
        .app
        .store()
        .save_setting(account, kind, &entry)
        .await
        .unwrap();
    entry.id
}

/// D1: the account's request type of this name: the one a new account starts with, or a new
/// one where the account does not have it.
async fn request_type(server: &TestServer, account: AccountId, name: &str) -> Uuid {
    let types = server
        .app
        .store()
        .settings(account, SettingKind::RequestType)
        .await
        .unwrap();
    match types.iter().find(|t| t.name == name && t.is_live()) {
        Some(existing) => existing.id,
        None => setting(server, account, SettingKind::RequestType, name).await,
    }
}

async fn inbox(server: &TestServer, account: AccountId) -> Inbox {
    server.inbox_in(account, ChannelKind::WebChat, None).await
}

async fn contact(server: &TestServer, account: AccountId) -> ContactId {
    server.contact_in(account).await
}

/// The contact writes on the inbox (C2: the first message starts the conversation).
async fn contact_writes(
    server: &TestServer,
    inbox: &Inbox,
    contact: ContactId,
    body: &str,
) -> ConversationId {
    server
        .app
        .receive_inbound(
            inbox,
            contact,
            Inbound {
                kind: MessageKind::Text,
                body: body.into(),
                attachment: None,
                external_id: None,
                client_id: None,
            },
        )
        .await
        .unwrap()
        .conversation
}

async fn caller_of(server: &TestServer, token: &str) -> (AccountId, AgentId) {
    match server.app.authenticate(token).await.unwrap() {
        Caller::Agent { account, principal } => (account, principal.agent),
        other => panic!("the owner is an agent, not {other:?}"),
    }
}

async fn world(server: &TestServer) -> World {
    let (account, owner) = caller_of(server, &server.owner).await;
    let support = request_type(server, account, "Support").await;
    let refund = request_type(server, account, "Refund").await;
    let reason = setting(server, account, SettingKind::Reason, "Missing feature").await;
    let mut archived = SettingEntry::new(Uuid::new_v4(), "Old reason").unwrap();
    archived.archived_at = Some(server.app.now());
    server
        .app
        .store()
        .save_setting(account, SettingKind::Reason, &archived)
        .await
        .unwrap();
    let component = setting(server, account, SettingKind::Component, "Funnels").await;
    let inbox = inbox(server, account).await;
    let contact = contact(server, account).await;
    let conversation = contact_writes(server, &inbox, contact, "Hello, the widget is broken").await;
    World {
        account,
        owner,
        inbox,
        contact,
        conversation,
        support,
        refund,
        reason,
        archived_reason: archived.id,
        component,
    }
}

/// A signed-in agent of the account: `(id, token)`.
async fn agent(
    server: &TestServer,
    account: AccountId,
    name: &str,
    full_access: bool,
) -> (AgentId, String) {
    let agent = Agent {
        id: AgentId::from_uuid(Uuid::new_v4()),
        account,
        name: name.into(),
        email: format!("{name}-{}@example.test", Uuid::new_v4()),
        role: Role::Agent,
        full_access,
        permissions: BTreeSet::new(),
        availability: Availability::Offline,
        capacity: DEFAULT_CAPACITY,
        experience_level: 1,
        cost_tier: 1,
    };
    let store = server.app.store();
    store.save_agent(&agent).await.unwrap();
    store
        .set_password_hash(account, agent.id, &hash_password(AGENT_PASSWORD).unwrap())
        .await
        .unwrap();
    (agent.id, server.sign_in(&agent.email, AGENT_PASSWORD).await)
}

/// A widget visitor's token for the contact on the inbox (until the widget API issues them).
async fn visitor(
    server: &TestServer,
    account: AccountId,
    contact: ContactId,
    inbox: InboxId,
) -> String {
    let token = new_token(TokenKind::VisitorSession).unwrap();
    let now = server.app.now();
    server
        .app
        .store()
        .create_session(&Session {
            id: Uuid::new_v4(),
            account,
            subject: SessionSubject::Visitor { contact, inbox },
            token_hash: token_hash(&token),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        })
        .await
        .unwrap();
    token
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

fn dialog_id(body: &Value) -> DialogId {
    DialogId::from_uuid(body["id"].as_str().unwrap().parse().unwrap())
}

/// Creates a dialog in the conversation as the owner; returns the dialog view.
async fn create(server: &TestServer, conversation: ConversationId, body: &Value) -> Value {
    let (status, dialog) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/dialogs"),
            Some(&server.owner),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dialog}");
    dialog
}

async fn send(
    server: &TestServer,
    token: &str,
    conversation: ConversationId,
    text: &str,
    dialog: Option<&str>,
) -> (StatusCode, Value) {
    server
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(token),
            &json!({"body": text, "dialog": dialog}),
        )
        .await
}

fn kinds(messages: &Value) -> Vec<(String, String)> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

e2e!(
    d1_d2_d11_a_new_dialog_is_active_with_its_creator_and_tasks_for_the_others,
    |server: TestServer| async move {
        let w = world(&server).await;
        let (bob, _) = agent(&server, w.account, "bob", false).await;
        let path = format!("/api/v1/conversations/{}/dialogs", w.conversation);

        // D1: the title and the request type are required.
        let (status, body) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({"title": "  ", "request_type": w.support}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "missing_field")
        );
        let (status, body) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({"title": "Widget is broken"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        // S2: what a caller may not set is refused.
        let (status, _) = server
            .post(
                &path,
                Some(&server.owner),
                &json!({"title": "x", "request_type": w.support, "status": "completed"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // D1, D2: created active, the creator and the chosen agent participate; reasons and
        // components optional.
        let dialog = create(
            &server,
            w.conversation,
            &json!({
                "title": " Widget is broken ",
                "request_type": w.support,
                "participants": [bob.as_uuid()],
                "components": [w.component],
            }),
        )
        .await;
        assert_eq!(dialog["status"], "active");
        assert_eq!(dialog["title"], "Widget is broken");
        assert_eq!(dialog["conversation"], w.conversation.to_string());
        assert_eq!(dialog["contact"], w.contact.to_string());
        assert_eq!(dialog["request_type"], w.support.to_string());
        let participants: BTreeSet<_> = dialog["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            participants,
            BTreeSet::from([w.owner.to_string(), bob.to_string()])
        );
        assert_eq!(dialog["reasons"], json!([]));
        assert_eq!(dialog["components"], json!([w.component]));

        // D11: a task for Bob titled with the dialog's title, starting in 5 minutes; none for the
        // creator.
        let tasks = server.app.store().tasks(w.account, bob).await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].title, "Widget is broken");
        let delay = tasks[0].due_at - tasks[0].created_at;
        assert_eq!(delay, chrono::Duration::minutes(5));
        assert!(
            server
                .app
                .store()
                .tasks(w.account, w.owner)
                .await
                .unwrap()
                .is_empty()
        );

        // Reading it back: one dialog, and the contact's list shows it as the active one.
        let id = dialog_id(&dialog);
        let (status, read) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&server.owner))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["id"], dialog["id"]);
        let (status, list) = server.get(&path, Some(&server.owner)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["active"]["id"], dialog["id"]);
        assert_eq!(list["dialogs"].as_array().unwrap().len(), 1);
    }
);

e2e!(
    d3_a_contact_has_one_active_dialog_across_conversations,
    |server: TestServer| async move {
        let w = world(&server).await;
        let first = create(
            &server,
            w.conversation,
            &json!({"title": "First", "request_type": w.support}),
        )
        .await;

        // D3: a second one is refused, in the same conversation and in the contact's conversation
        // on another inbox.
        let path = format!("/api/v1/conversations/{}/dialogs", w.conversation);
        let second = json!({"title": "Second", "request_type": w.refund});
        let (status, body) = server.post(&path, Some(&server.owner), &second).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "dialog_already_active")
        );
        let other_inbox = inbox(&server, w.account).await;
        let elsewhere = contact_writes(&server, &other_inbox, w.contact, "also here").await;
        assert_ne!(elsewhere, w.conversation);
        let other_path = format!("/api/v1/conversations/{elsewhere}/dialogs");
        let (status, body) = server.post(&other_path, Some(&server.owner), &second).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "dialog_already_active")
        );

        // D3 under concurrency: with the first paused, 8 creations at once make exactly one.
        let first_id = dialog_id(&first);
        let (status, _) = server
            .post(
                &format!("/api/v1/dialogs/{first_id}/pause"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let mut attempts = tokio::task::JoinSet::new();
        for n in 0..8 {
            let http = server.http.clone();
            let url = format!(
                "{}{}",
                server.base,
                if n % 2 == 0 { &path } else { &other_path }
            );
            let token = server.owner.clone();
            let body = json!({"title": format!("Race {n}"), "request_type": w.support});
            attempts.spawn(async move {
                let response = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            });
        }
        let results = attempts.join_all().await;
        let created: Vec<_> = results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .collect();
        assert_eq!(created.len(), 1, "{results:?}");
        for (status, body) in &results {
            if *status != StatusCode::CREATED {
                assert_eq!(
                    (*status, code(body)),
                    (StatusCode::CONFLICT, "dialog_already_active")
                );
            }
        }
        let winner = dialog_id(&created[0].1);

        // D3: resuming the first while the winner is active is refused too.
        let (status, body) = server
            .post(
                &format!("/api/v1/dialogs/{first_id}/resume"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "dialog_already_active")
        );
        // Once the winner is completed, the first resumes.
        let (status, _) = server
            .post(
                &format!("/api/v1/dialogs/{winner}/complete"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = server
            .post(
                &format!("/api/v1/dialogs/{first_id}/resume"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "active");

        // The list sees every dialog of the contact, across conversations, with the active one.
        let (_, list) = server.get(&other_path, Some(&server.owner)).await;
        assert_eq!(list["dialogs"].as_array().unwrap().len(), 2);
        assert_eq!(list["active"]["id"], first["id"]);
    }
);

e2e!(
    d5_d6_d7_agents_write_inside_the_active_dialog_and_its_view_shows_only_its_messages,
    |server: TestServer| async move {
        let w = world(&server).await;
        let dialog = create(
            &server,
            w.conversation,
            &json!({"title": "Refund", "request_type": w.refund}),
        )
        .await;
        let id = dialog["id"].as_str().unwrap().to_owned();

        // D5: the general chat is refused while the dialog is active; inside it is accepted.
        let (status, body) = send(&server, &server.owner, w.conversation, "general", None).await;
        assert_eq!(code(&body), "write_inside_active_dialog", "{status} {body}");
        let (status, body) =
            send(&server, &server.owner, w.conversation, "inside", Some(&id)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["dialog"], id);
        // D5: the contact's next message goes into the dialog.
        contact_writes(&server, &w.inbox, w.contact, "thanks, waiting").await;

        // D7: the dialog shows only what was written within it (not the first "Hello").
        let (status, messages) = server
            .get(
                &format!("/api/v1/dialogs/{id}/messages"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            kinds(&messages),
            [
                ("text".to_owned(), "inside".to_owned()),
                ("text".to_owned(), "thanks, waiting".to_owned())
            ]
        );

        // D6: paused, nobody writes in it, and the general chat is open again.
        let (status, paused) = server
            .post(
                &format!("/api/v1/dialogs/{id}/pause"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(paused["status"], "paused");
        assert!(paused["paused_since"].is_string());
        let (status, body) = send(
            &server,
            &server.owner,
            w.conversation,
            "inside again",
            Some(&id),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "dialog_not_active")
        );
        let (status, body) = send(
            &server,
            &server.owner,
            w.conversation,
            "general again",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["dialog"], Value::Null);
        // D4: pausing twice is not a transition.
        let (status, body) = server
            .post(
                &format!("/api/v1/dialogs/{id}/pause"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "invalid_transition")
        );
        let (_, messages) = server
            .get(
                &format!("/api/v1/dialogs/{id}/messages"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(messages.as_array().unwrap().len(), 2);
    }
);

e2e!(
    d9_d10_d11_c12_changes_are_recorded_checked_against_the_settings_and_published,
    |server: TestServer| async move {
        let w = world(&server).await;
        let mut feed = server.app.hub().subscribe(w.account);
        let (bob, _) = agent(&server, w.account, "bob", false).await;
        let (carol, _) = agent(&server, w.account, "carol", false).await;
        let dialog = create(
            &server,
            w.conversation,
            &json!({"title": "Funnel", "request_type": w.support}),
        )
        .await;
        let id = dialog_id(&dialog);
        let path = format!("/api/v1/dialogs/{id}");

        // D10: a removed (archived) reason cannot be newly chosen; an unknown one is not found.
        let (status, body) = server
            .patch(
                &path,
                Some(&server.owner),
                &json!({"reasons": [w.archived_reason]}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        );
        let (status, _) = server
            .patch(
                &path,
                Some(&server.owner),
                &json!({"reasons": [Uuid::new_v4()]}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{}/dialogs", w.conversation),
                Some(&server.owner),
                &json!({"title": "x", "request_type": Uuid::new_v4()}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // D9: everything changes in one request; D11: Bob and Carol get their tasks.
        let (status, changed) = server
            .patch(
                &path,
                Some(&server.owner),
                &json!({
                    "title": "Funnel stops at step 2",
                    "request_type": w.refund,
                    "add_participants": [bob.as_uuid(), carol.as_uuid()],
                    "reasons": [w.reason],
                    "components": [w.component],
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["title"], "Funnel stops at step 2");
        assert_eq!(changed["request_type"], w.refund.to_string());
        assert_eq!(changed["participants"].as_array().unwrap().len(), 3);
        assert_eq!(changed["reasons"], json!([w.reason]));
        assert_eq!(changed["components"], json!([w.component]));
        for agent in [bob, carol] {
            let tasks = server.app.store().tasks(w.account, agent).await.unwrap();
            assert_eq!(tasks.len(), 1);
            assert_eq!(tasks[0].title, "Funnel stops at step 2");
        }
        // Removing one; the same values again change nothing.
        let (status, changed) = server
            .patch(
                &path,
                Some(&server.owner),
                &json!({"remove_participants": [carol.as_uuid()], "reasons": [w.reason]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(changed["participants"].as_array().unwrap().len(), 2);

        // D10: once the reason is archived, the dialog keeps it and can still be changed.
        let mut archived = SettingEntry::new(w.reason, "Missing feature").unwrap();
        archived.archived_at = Some(server.app.now());
        server
            .app
            .store()
            .save_setting(w.account, SettingKind::Reason, &archived)
            .await
            .unwrap();
        let (status, changed) = server
            .patch(
                &path,
                Some(&server.owner),
                &json!({"reasons": [w.reason], "title": "Funnel, step 2"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["reasons"], json!([w.reason]));

        // C12, D9: every change is an event of the dialog, in order, with who did it.
        let events = server
            .app
            .store()
            .aggregate_events(w.account, AggregateId::Dialog(id), 0, 100)
            .await
            .unwrap();
        let names: Vec<&str> = events
            .iter()
            .map(|e| match &e.event {
                DomainEvent::Dialog { event, .. } => match event {
                    DialogEvent::Created(_) => "created",
                    DialogEvent::Renamed { .. } => "renamed",
                    DialogEvent::RequestTypeChanged { .. } => "request_type_changed",
                    DialogEvent::ParticipantAdded { .. } => "participant_added",
                    DialogEvent::ParticipantRemoved { .. } => "participant_removed",
                    DialogEvent::ReasonsChanged { .. } => "reasons_changed",
                    DialogEvent::ComponentsChanged { .. } => "components_changed",
                    _ => "other",
                },
                _ => "not a dialog event",
            })
            .collect();
        assert_eq!(
            names,
            [
                "created",
                "renamed",
                "request_type_changed",
                "participant_added",
                "participant_added",
                "reasons_changed",
                "components_changed",
                "participant_removed",
                "renamed",
            ]
        );

        // N1: the same events were published to the account's subscribers, numbered as stored.
        let mut published = Vec::new();
        while let Ok(event) = feed.try_recv() {
            if matches!(event.aggregate, AggregateId::Dialog(d) if d == id) {
                published.push(event.sequence);
            }
        }
        assert_eq!(
            published,
            events.iter().map(|e| e.sequence).collect::<Vec<_>>()
        );
    }
);

e2e!(
    d4_d12_d13_d14_completion_with_both_ratings_and_the_first_click_counting,
    |server: TestServer| async move {
        let w = world(&server).await;
        let dialog = create(
            &server,
            w.conversation,
            &json!({"title": "Refund", "request_type": w.refund}),
        )
        .await;
        let id = dialog["id"].as_str().unwrap().to_owned();
        let visitor = visitor(&server, w.account, w.contact, w.inbox.id).await;

        // D13: no form sent yet: the click is not a transition.
        let click = format!("/api/v1/widget/dialogs/{id}/satisfaction");
        let (status, body) = server
            .post(&click, Some(&visitor), &json!({"value": 3}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "invalid_transition")
        );

        // D12: the rating is 1 to 3 stars.
        let complete = format!("/api/v1/dialogs/{id}/complete");
        let (status, body) = server
            .post(
                &complete,
                Some(&server.owner),
                &json!({"contact_rating": 4}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        );
        let (status, done) = server
            .post(
                &complete,
                Some(&server.owner),
                &json!({"contact_rating": 2, "send_satisfaction_form": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "completed");
        assert_eq!(done["contact_rating"], 2);
        assert!(done["satisfaction_form_sent_at"].is_string());
        assert_eq!(done["satisfaction"], Value::Null);

        // D13: the form went to the contact as one csat_request message in the dialog, with the
        // inbox's text and the three labels.
        let (_, messages) = server
            .get(
                &format!("/api/v1/dialogs/{id}/messages"),
                Some(&server.owner),
            )
            .await;
        let form = w.inbox.settings.satisfaction_form.clone();
        assert_eq!(
            kinds(&messages),
            [(
                "csat_request".to_owned(),
                format!(
                    "{}\n1. {}\n2. {}\n3. {}",
                    form.text, form.labels[0], form.labels[1], form.labels[2]
                )
            )]
        );
        assert_eq!(messages[0]["direction"], "outbound");
        assert_eq!(messages[0]["conversation"], w.conversation.to_string());

        // D4: completed is final for agents.
        for action in ["pause", "resume", "complete"] {
            let (status, body) = server
                .post(
                    &format!("/api/v1/dialogs/{id}/{action}"),
                    Some(&server.owner),
                    &json!({}),
                )
                .await;
            assert_eq!(
                (status, code(&body)),
                (StatusCode::CONFLICT, "dialog_completed"),
                "{action}"
            );
        }
        let (status, body) = server
            .patch(
                &format!("/api/v1/dialogs/{id}"),
                Some(&server.owner),
                &json!({"title": "Late"}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "dialog_completed")
        );

        // D13: the contact's first click counts and is thanked; a later one is thanked and ignored.
        let (status, body) = server
            .post(&click, Some(&visitor), &json!({"value": 0}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        );
        let (status, first) = server
            .post(&click, Some(&visitor), &json!({"value": 3}))
            .await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(
            first,
            json!({"recorded": true, "satisfaction": 3, "thank_you": form.thank_you})
        );
        let (status, later) = server
            .post(&click, Some(&visitor), &json!({"value": 1}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            later,
            json!({"recorded": false, "satisfaction": 3, "thank_you": form.thank_you})
        );

        // D14: both ratings show on the dialog.
        let (_, read) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&server.owner))
            .await;
        assert_eq!(
            (read["contact_rating"].clone(), read["satisfaction"].clone()),
            (json!(2), json!(3))
        );
        assert!(read["satisfaction_at"].is_string());

        // D13: the contact's answer and both thank-yous are in the dialog's messages.
        let (_, messages) = server
            .get(
                &format!("/api/v1/dialogs/{id}/messages"),
                Some(&server.owner),
            )
            .await;
        let all = kinds(&messages);
        assert_eq!(
            all[1..],
            [
                ("csat_response".to_owned(), form.labels[2].clone()),
                ("system".to_owned(), form.thank_you.clone()),
                ("system".to_owned(), form.thank_you.clone()),
            ]
        );
        assert_eq!(messages[1]["direction"], "inbound");
        assert_eq!(messages[2]["direction"], "outbound");
    }
);

e2e!(
    a1_a2_s1_s5_foreign_ids_answer_404_and_nothing_changes,
    |server: TestServer| async move {
        let w = world(&server).await;
        let dialog = create(
            &server,
            w.conversation,
            &json!({"title": "Ours", "request_type": w.support}),
        )
        .await;
        let id = dialog["id"].as_str().unwrap().to_owned();
        let (_, before) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&server.owner))
            .await;

        // S1: the owner of another account sees none of it, by any path.
        let other_email = format!("other-{}@example.test", Uuid::new_v4());
        server
            .app
            .bootstrap(&other_email, Some("other-password-1"))
            .await
            .unwrap()
            .unwrap();
        let (_, signed) = server
            .post(
                "/api/v1/auth/sign-in",
                None,
                &json!({"email": other_email, "password": "other-password-1"}),
            )
            .await;
        let stranger = signed["token"].as_str().unwrap().to_owned();
        let conversation_path = format!("/api/v1/conversations/{}/dialogs", w.conversation);
        for (status, body) in [
            server
                .get(&format!("/api/v1/dialogs/{id}"), Some(&stranger))
                .await,
            server
                .get(&format!("/api/v1/dialogs/{id}/messages"), Some(&stranger))
                .await,
            server
                .patch(
                    &format!("/api/v1/dialogs/{id}"),
                    Some(&stranger),
                    &json!({"title": "Theirs"}),
                )
                .await,
            server
                .post(
                    &format!("/api/v1/dialogs/{id}/pause"),
                    Some(&stranger),
                    &json!({}),
                )
                .await,
            server
                .post(
                    &format!("/api/v1/dialogs/{id}/complete"),
                    Some(&stranger),
                    &json!({"contact_rating": 1}),
                )
                .await,
            server.get(&conversation_path, Some(&stranger)).await,
            server
                .post(
                    &conversation_path,
                    Some(&stranger),
                    &json!({"title": "x", "request_type": w.support}),
                )
                .await,
        ] {
            assert_eq!(
                (status, code(&body)),
                (StatusCode::NOT_FOUND, "not_found"),
                "{body}"
            );
        }
        // S1 in a body field: an agent of another account cannot be added.
        let (other_account, other_owner) = caller_of(&server, &stranger).await;
        let (status, _) = server
            .patch(
                &format!("/api/v1/dialogs/{id}"),
                Some(&server.owner),
                &json!({"add_participants": [other_owner.as_uuid()]}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // ... nor another account's request type used in its own conversation.
        let their_inbox = inbox(&server, other_account).await;
        let their_contact = contact(&server, other_account).await;
        let their_conversation = contact_writes(&server, &their_inbox, their_contact, "hi").await;
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{their_conversation}/dialogs"),
                Some(&stranger),
                &json!({"title": "x", "request_type": w.support}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, after) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&server.owner))
            .await;
        assert_eq!(after, before);

        // A2: an agent without full access sees no dialog of a conversation they do not see,
        // until they are added to it (D11).
        let (dave, dave_token) = agent(&server, w.account, "dave", false).await;
        let (status, _) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&dave_token))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = server.get(&conversation_path, Some(&dave_token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = server
            .patch(
                &format!("/api/v1/dialogs/{id}"),
                Some(&server.owner),
                &json!({"add_participants": [dave.as_uuid()]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&dave_token))
            .await;
        assert_eq!(status, StatusCode::OK);

        // S5: the form of this dialog answers only its own contact on its own inbox.
        let (status, _) = server
            .post(
                &format!("/api/v1/dialogs/{id}/complete"),
                Some(&server.owner),
                &json!({"send_satisfaction_form": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let click = format!("/api/v1/widget/dialogs/{id}/satisfaction");
        let someone_else = contact(&server, w.account).await;
        let other_inbox = inbox(&server, w.account).await;
        for token in [
            visitor(&server, w.account, someone_else, w.inbox.id).await,
            visitor(&server, w.account, w.contact, other_inbox.id).await,
            visitor(&server, other_account, their_contact, their_inbox.id).await,
        ] {
            let (status, body) = server
                .post(&click, Some(&token), &json!({"value": 1}))
                .await;
            assert_eq!(
                (status, code(&body)),
                (StatusCode::NOT_FOUND, "not_found"),
                "{body}"
            );
        }
        // An agent's token is not the contact's.
        let (status, _) = server
            .post(&click, Some(&server.owner), &json!({"value": 1}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, read) = server
            .get(&format!("/api/v1/dialogs/{id}"), Some(&server.owner))
            .await;
        assert_eq!(read["satisfaction"], Value::Null);
    }
);
