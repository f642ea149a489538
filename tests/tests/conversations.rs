//! Conversation actions over real HTTP that involve more than one kind of caller: the bot
//! flow's hand-back by an integration's API token (C11), and what plain agents find in their
//! `resolved` list (C9, A2), on SQLite and PostgreSQL.

use std::str::FromStr;

use conversation_core::channel::ChannelKind;
use conversation_core::ids::QueueId;
use inbox_tests::{TestServer, e2e};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A new queue of the owner's account with these members.
async fn new_queue(server: &TestServer, members: &[&Value]) -> QueueId {
    let members: Vec<&Value> = members.iter().map(|agent| &agent["id"]).collect();
    let (status, queue) = server
        .post(
            "/api/v1/queues",
            Some(&server.owner),
            &json!({"name": "Support", "members": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{queue}");
    QueueId::from_str(queue["id"].as_str().unwrap()).unwrap()
}

/// A contact writes on a new web chat inbox routing to `queue`: the conversation's path.
async fn conversation_in(server: &TestServer, queue: Option<QueueId>) -> String {
    let inbox = server.inbox(ChannelKind::WebChat, queue).await;
    let contact = server.contact().await;
    let received = server.inbound(&inbox, contact, "hello", None).await;
    format!("/api/v1/conversations/{}", received.conversation)
}

/// The `type` of each event of a conversation's timeline, and its actor's type.
async fn timeline(server: &TestServer, path: &str) -> Vec<(String, String)> {
    let (status, events) = server
        .get(&format!("{path}/timeline"), Some(&server.owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let event = &e["event"];
            (
                event["type"].as_str().unwrap_or_default().to_owned(),
                event["actor"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

e2e!(
    c11_the_bot_flow_hands_the_conversation_back_with_its_api_token,
    |server: TestServer| async move {
        let queue = new_queue(&server, &[]).await;
        let other_queue = new_queue(&server, &[]).await;
        let path = conversation_in(&server, Some(queue)).await;
        let (status, bot) = server
            .post(
                &format!("{path}/hand_to_bot"),
                Some(&server.owner),
                &json!({"flow": "faq"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{bot}");
        assert_eq!(bot["status"], "bot");

        let integration = server.api_token(&server.owner).await;
        let (_, agent) = server.new_agent("Ann").await;
        let hand_back = format!("{path}/hand_back");
        // Only the flow's integration hands back: an agent is refused, and nothing changed.
        let (status, problem) = server.post(&hand_back, Some(&agent), &json!({})).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{problem}"
        );
        let (status, problem) = server
            .post(&hand_back, Some(&server.owner), &json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        // S1: another account's integration finds nothing, neither the conversation nor a
        // queue of ours named in the body.
        let other_owner = server.stranger().await;
        let other_integration = server.api_token(&other_owner).await;
        for (status, problem) in [
            server
                .post(&hand_back, Some(&other_integration), &json!({}))
                .await,
            server.get(&path, Some(&other_integration)).await,
        ] {
            assert_eq!(
                (status, problem["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("not_found")),
                "{problem}"
            );
        }
        let foreign_queue = {
            let (_, queue) = server
                .post(
                    "/api/v1/queues",
                    Some(&other_owner),
                    &json!({"name": "Theirs"}),
                )
                .await;
            queue["id"].clone()
        };
        let (status, problem) = server
            .post(
                &hand_back,
                Some(&integration),
                &json!({"queue": foreign_queue}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
        // Only `queue` is taken.
        let (status, problem) = server
            .post(&hand_back, Some(&integration), &json!({"flow": "faq"}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        let (_, still) = server.get(&path, Some(&integration)).await;
        assert_eq!(still["status"], "bot", "the refusals changed nothing");

        // The integration reads the conversation it handles and hands it back to another
        // queue: open, waiting there to be routed.
        let (status, back) = server
            .post(
                &hand_back,
                Some(&integration),
                &json!({"queue": other_queue.to_string()}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{back}");
        assert_eq!(back["status"], "open");
        assert_eq!(back["queue"], json!(other_queue.to_string()));
        assert_eq!(back["assignment"]["type"], "waiting");
        // Not with a bot any more: a second hand-back is refused.
        let (status, problem) = server
            .post(&hand_back, Some(&integration), &json!({}))
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_transition")),
            "{problem}"
        );
        // C12: the timeline says who did what.
        let events = timeline(&server, &path).await;
        assert!(
            events.ends_with(&[
                ("handed_to_bot".into(), "agent".into()),
                ("handed_back".into(), "integration".into()),
            ]),
            "{events:?}"
        );

        // Without a queue it waits in its inbox's queue.
        let path = conversation_in(&server, Some(queue)).await;
        server
            .post(
                &format!("{path}/hand_to_bot"),
                Some(&server.owner),
                &json!({"flow": "faq"}),
            )
            .await;
        let (status, back) = server
            .post(&format!("{path}/hand_back"), Some(&integration), &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{back}");
        assert_eq!(back["queue"], json!(queue.to_string()));

        // R3: handed back into a queue with an available member, it is routed at once.
        let (bob, bob_token) = server.new_agent("Bob").await;
        let staffed = new_queue(&server, &[&bob]).await;
        let (status, available) = server
            .put(
                "/api/v1/me/availability",
                Some(&bob_token),
                &json!({"availability": "available"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{available}");
        let path = conversation_in(&server, None).await;
        server
            .post(
                &format!("{path}/hand_to_bot"),
                Some(&server.owner),
                &json!({"flow": "faq"}),
            )
            .await;
        let (status, back) = server
            .post(
                &format!("{path}/hand_back"),
                Some(&integration),
                &json!({"queue": staffed.to_string()}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{back}");
        assert_eq!(back["assignee"], bob["id"], "{back}");
    }
);

e2e!(
    c9_a2_plain_agents_find_closed_conversations_of_theirs_and_of_their_queues,
    |server: TestServer| async move {
        let (ann, ann_token) = server.new_agent("Ann").await;
        let (bob, bob_token) = server.new_agent("Bob").await;
        let (_, carol_token) = server.new_agent("Carol").await;
        // Bob is a member of the queue; Ann is not, but holds the conversation; Carol is
        // neither.
        let queue = new_queue(&server, &[&bob]).await;
        let resolved = conversation_in(&server, Some(queue)).await;
        let (status, assigned) = server
            .post(
                &format!("{resolved}/assign"),
                Some(&server.owner),
                &json!({"agent": ann["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{assigned}");
        let (status, closed) = server
            .post(&format!("{resolved}/resolve"), Some(&ann_token), &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        assert_eq!(closed["status"], "resolved");
        // A dropped one of the queue that nobody held.
        let dropped = conversation_in(&server, Some(queue)).await;
        let (status, closed) = server
            .post(&format!("{dropped}/drop"), Some(&bob_token), &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        assert_eq!(closed["status"], "dropped");

        let list = |token: String| {
            let server = &server;
            async move {
                let (status, page) = server
                    .get("/api/v1/conversations?filter=resolved", Some(&token))
                    .await;
                assert_eq!(status, StatusCode::OK, "{page}");
                let mut ids: Vec<String> = page["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|row| format!("/api/v1/conversations/{}", row["id"].as_str().unwrap()))
                    .collect();
                ids.sort();
                assert_eq!(page["total"], ids.len(), "the total counts the rows");
                ids
            }
        };
        let mut both = vec![resolved.clone(), dropped.clone()];
        both.sort();
        assert_eq!(
            list(ann_token.clone()).await,
            vec![resolved.clone()],
            "Ann held it"
        );
        assert_eq!(list(bob_token.clone()).await, both, "Bob's queue had both");
        assert!(list(carol_token.clone()).await.is_empty());
        assert_eq!(list(server.owner.clone()).await, both, "the owner sees all");
        // A2: the list and the conversation agree: Ann reads what she resolved, Carol gets 404.
        assert_eq!(
            server.get(&resolved, Some(&ann_token)).await.0,
            StatusCode::OK
        );
        assert_eq!(
            server.get(&dropped, Some(&bob_token)).await.0,
            StatusCode::OK
        );
        for path in [&resolved, &dropped] {
            assert_eq!(
                server.get(path, Some(&carol_token)).await.0,
                StatusCode::NOT_FOUND
            );
        }
        assert_eq!(
            server.get(&dropped, Some(&ann_token)).await.0,
            StatusCode::NOT_FOUND
        );
        // Closed conversations are in no open list, whatever they remember.
        for filter in ["mine", "queue", "all", "unassigned"] {
            for token in [&ann_token, &bob_token] {
                let (_, page) = server
                    .get(
                        &format!("/api/v1/conversations?filter={filter}"),
                        Some(token),
                    )
                    .await;
                assert_eq!(page["total"], 0, "{filter}: {page}");
            }
        }
        // Reopened, it is open again and routed afresh: off the resolved lists.
        let (status, reopened) = server
            .post(&format!("{resolved}/reopen"), Some(&ann_token), &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{reopened}");
        assert!(list(ann_token.clone()).await.is_empty());
        assert_eq!(list(bob_token.clone()).await, vec![dropped.clone()]);
    }
);
