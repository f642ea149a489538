//! Reports end to end (P1, D14, D15), on both stores over real HTTP with a manual clock: each
//! metric from a scripted timeline driven through the API, with the expected numbers worked out
//! by hand in the comments; a bot handoff for first response; reopen gaps excluded from time to
//! close; handle time per segment across a transfer; the totals of every breakdown equal to the
//! overall figure on a randomized timeline; the CSV export parsed back and compared with the
//! JSON; another account's token sees nothing (A1); who may read what; catch-ups of two
//! processes at once count each event once. The worked example of `docs/reports.md` is
//! `p1_first_response_reply_time_to_close_handle_time_and_wrap_ups`.

mod support;

use std::collections::BTreeMap;

use chrono::Duration;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Inbox, SettingEntry};
use conversation_core::ids::ConversationId;
use conversation_core::ports::SettingKind;
use inbox_app::reports::ReportWorker;
use inbox_tests::{TestServer, e2e_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use support::{agent, queue, text, visitor_token};

/// A wrap-up reason (or another setting) of the owner's account.
async fn setting(server: &TestServer, kind: SettingKind, name: &str) -> Uuid {
    let entry = SettingEntry::new(Uuid::new_v4(), name).unwrap();
    let account = server.account().await;
    server
        .app
        .store()
        .save_setting(account, kind, &entry)
        .await
        .unwrap();
    entry.id
}

/// `from` and `to` around today, so that the manual clock's moves stay inside.
fn around_today(server: &TestServer) -> String {
    days_from_today(server, 3)
}

/// From two days ago to `ahead` days ahead.
fn days_from_today(server: &TestServer, ahead: i64) -> String {
    let today = server.app.now().date_naive();
    format!(
        "from={}&to={}",
        today - Duration::days(2),
        today + Duration::days(ahead)
    )
}

async fn report(server: &TestServer, token: &str, query: &str) -> Value {
    let (status, body) = server
        .get(
            &format!("/api/v1/reports/conversations?{query}"),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn total(server: &TestServer, extra: &str) -> Value {
    let query = format!("{}{extra}", around_today(server));
    report(server, &server.owner, &query).await["total"].clone()
}

/// A duration metric as (count, avg, median, p90).
fn duration(figures: &Value, metric: &str) -> (u64, f64, u64, u64) {
    let m = &figures[metric];
    (
        m["count"].as_u64().unwrap(),
        m["avg"].as_f64().unwrap_or(0.0),
        m["median"].as_u64().unwrap_or(0),
        m["p90"].as_u64().unwrap_or(0),
    )
}

fn counts(figures: &Value) -> [u64; 4] {
    ["opened", "resolved", "dropped", "reopened"].map(|k| figures[k].as_u64().unwrap())
}

async fn act(server: &TestServer, token: &str, id: ConversationId, action: &str, body: Value) {
    let (status, answer) = server
        .post(
            &format!("/api/v1/conversations/{id}/{action}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {answer}");
}

async fn reply(server: &TestServer, token: &str, id: ConversationId) {
    let (status, answer) = server
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(token),
            &json!({"body": "On it"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

async fn writes(
    server: &TestServer,
    inbox: &Inbox,
    contact: conversation_core::ids::ContactId,
) -> ConversationId {
    server
        .inbound(inbox, contact, "Hello?", None)
        .await
        .conversation
}

e2e_manual!(
    p1_first_response_reply_time_to_close_handle_time_and_wrap_ups,
    |server: TestServer| async move {
        let (alice, alice_token) = agent(&server, json!({})).await;
        let solved = setting(&server, SettingKind::WrapUpReason, "Solved").await;
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let contact = server.contact().await;

        // t=0: the contact writes: opened; first response and reply clocks start at 0.
        let id = writes(&server, &inbox, contact).await;
        // t=20: the owner assigns Alice: her segment starts.
        server.advance(20);
        act(
            &server,
            &server.owner,
            id,
            "assign",
            json!({"agent": alice}),
        )
        .await;
        // t=60: Alice replies: first response 60 s, reply 60 s.
        server.advance(40);
        reply(&server, &alice_token, id).await;
        // t=90: the contact writes again; t=120: Alice replies: reply 30 s.
        server.advance(30);
        writes(&server, &inbox, contact).await;
        server.advance(30);
        reply(&server, &alice_token, id).await;
        // A private note is no reply.
        server.advance(5);
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{id}/messages"),
                Some(&alice_token),
                &json!({"body": "note", "kind": "note"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        // t=300: Alice resolves with "Solved": time to close 300 s, handle time 280 s.
        server.advance(175);
        act(
            &server,
            &alice_token,
            id,
            "resolve",
            json!({"wrap_up": solved}),
        )
        .await;
        // t=1300: the contact writes: reopened (C3); a new episode and clocks start at 1300.
        server.advance(1_000);
        assert_eq!(writes(&server, &inbox, contact).await, id);
        // t=1310: assigned to Alice again; t=1360: she replies: first response 60, reply 60.
        server.advance(10);
        act(
            &server,
            &server.owner,
            id,
            "assign",
            json!({"agent": alice}),
        )
        .await;
        server.advance(50);
        reply(&server, &alice_token, id).await;
        // t=1400: she resolves: time to close 100 s (the 1000 s closed gap is not counted),
        // handle time 90 s.
        server.advance(40);
        act(&server, &alice_token, id, "resolve", json!({})).await;

        let t = total(&server, "").await;
        assert_eq!(
            counts(&t),
            [1, 2, 0, 1],
            "opened, resolved, dropped, reopened"
        );
        // First response: 60, 60.
        assert_eq!(duration(&t, "first_response"), (2, 60.0, 60, 60));
        // Reply: 60, 30, 60 -> avg 50; nearest rank: median = 2nd of (30, 60, 60) = 60, p90 = 3rd.
        assert_eq!(duration(&t, "reply"), (3, 50.0, 60, 60));
        // Time to close: 300, 100 -> avg 200; median = 1st of (100, 300) = 100; p90 = 2nd = 300.
        assert_eq!(duration(&t, "time_to_close"), (2, 200.0, 100, 300));
        // Handle time: 280, 90 -> avg 185; median 90; p90 280.
        assert_eq!(duration(&t, "handle_time"), (2, 185.0, 90, 280));
        assert_eq!(t["wrap_up"], json!([{"reason": solved, "count": 1}]));
        assert_eq!(t["contact_rating"]["count"], 0);
    }
);

e2e_manual!(
    p1_first_response_counts_from_the_bot_handoff_not_from_creation,
    |server: TestServer| async move {
        let (alice, alice_token) = agent(&server, json!({})).await;
        let account = server.account().await;
        let mut inbox = server.inbox_in(account, ChannelKind::WebChat, None).await;
        inbox.settings.starts_in_bot = true;
        server.app.store().save_inbox(&inbox).await.unwrap();
        let integration = server.api_token(&server.owner).await;
        let contact = server.contact().await;

        // t=0: the conversation starts in the bot flow: no first-response clock yet.
        let id = writes(&server, &inbox, contact).await;
        // t=300: the bot hands it back: the clock starts at 300.
        server.advance(300);
        act(&server, &integration, id, "hand_back", json!({})).await;
        // t=310: assigned to Alice; t=345: she replies: first response 45 s (not 345).
        server.advance(10);
        act(
            &server,
            &server.owner,
            id,
            "assign",
            json!({"agent": alice}),
        )
        .await;
        server.advance(35);
        reply(&server, &alice_token, id).await;
        // The reply itself answers the contact's message of t=0: reply time 345 s.
        let t = total(&server, "").await;
        assert_eq!(duration(&t, "first_response"), (1, 45.0, 45, 45));
        assert_eq!(duration(&t, "reply"), (1, 345.0, 345, 345));

        // An agent hands it to a bot again at t=400 and the bot hands back at t=1000; Alice
        // (assigned at 1000) replies at t=1030: a second first response of 30 s.
        server.advance(55);
        act(
            &server,
            &alice_token,
            id,
            "hand_to_bot",
            json!({"flow": "survey"}),
        )
        .await;
        server.advance(600);
        act(&server, &integration, id, "hand_back", json!({})).await;
        act(
            &server,
            &server.owner,
            id,
            "assign",
            json!({"agent": alice}),
        )
        .await;
        server.advance(30);
        reply(&server, &alice_token, id).await;
        let t = total(&server, "").await;
        assert_eq!(duration(&t, "first_response"), (2, 37.5, 30, 45));
        // Handle time: Alice's segments 310..400 (90 s) and 1000..now still running.
        assert_eq!(duration(&t, "handle_time"), (1, 90.0, 90, 90));
    }
);

e2e_manual!(
    p1_handle_time_per_agent_segment_across_a_transfer_and_drops_apart,
    |server: TestServer| async move {
        let (alice, alice_token) = agent(&server, json!({})).await;
        let (bob, bob_token) = agent(&server, json!({})).await;
        let first = queue(&server, "manual", "direct", &[alice, bob]).await;
        let second = queue(&server, "manual", "direct", &[alice, bob]).await;
        let handed = setting(&server, SettingKind::WrapUpReason, "Escalated").await;
        let inbox = server.inbox(ChannelKind::WebChat, Some(first)).await;

        // t=0 opened in the first queue; t=10 Alice assigned; t=70 she transfers to the second
        // queue with "Escalated": her segment is 60 s. t=100 Bob assigned; t=250 Bob resolves:
        // his segment is 150 s; time to close 250 s.
        let id = writes(&server, &inbox, server.contact().await).await;
        server.advance(10);
        act(
            &server,
            &server.owner,
            id,
            "assign",
            json!({"agent": alice}),
        )
        .await;
        server.advance(60);
        act(
            &server,
            &alice_token,
            id,
            "transfer",
            json!({"queue": second, "wrap_up": handed}),
        )
        .await;
        server.advance(30);
        act(&server, &server.owner, id, "assign", json!({"agent": bob})).await;
        server.advance(150);
        act(&server, &bob_token, id, "resolve", json!({})).await;

        // Another conversation: Bob takes it at once and drops it 40 s later (C6): dropped,
        // handle time 40 s, and no time to close.
        let other = writes(&server, &inbox, server.contact().await).await;
        act(
            &server,
            &server.owner,
            other,
            "assign",
            json!({"agent": bob}),
        )
        .await;
        server.advance(40);
        act(&server, &bob_token, other, "drop", json!({})).await;

        let t = total(&server, "").await;
        assert_eq!(counts(&t), [2, 1, 1, 0]);
        assert_eq!(duration(&t, "time_to_close"), (1, 250.0, 250, 250));
        assert_eq!(duration(&t, "handle_time"), (3, 250.0 / 3.0, 60, 150));
        let by_agent = report(
            &server,
            &server.owner,
            &format!("{}&breakdown=agent", around_today(&server)),
        )
        .await;
        let row = |agent: Uuid| -> Value {
            let mut sum = BTreeMap::new();
            for row in by_agent["rows"].as_array().unwrap() {
                if row["key"] == json!(agent) {
                    let h = duration(&row["figures"], "handle_time");
                    *sum.entry("handle_count").or_insert(0.0) += h.0 as f64;
                    *sum.entry("handle_sum").or_insert(0.0) += h.0 as f64 * h.1;
                    *sum.entry("wrap_up").or_insert(0.0) +=
                        row["figures"]["wrap_up"].as_array().unwrap().len() as f64;
                }
            }
            json!(sum)
        };
        // Alice: one segment of 60 s and her transfer's wrap-up; Bob: 150 + 40 s, none.
        assert_eq!(
            row(alice),
            json!({"handle_count": 1.0, "handle_sum": 60.0, "wrap_up": 1.0})
        );
        assert_eq!(
            row(bob),
            json!({"handle_count": 2.0, "handle_sum": 190.0, "wrap_up": 0.0})
        );
        // Filtered by queue: the drop and the resolve happened in different queues.
        let in_second = total(&server, &format!("&queue={second}")).await;
        assert_eq!(counts(&in_second), [0, 1, 0, 0]);
    }
);

e2e_manual!(
    d14_d15_dialog_report_with_durations_and_both_ratings,
    |server: TestServer| async move {
        let account = server.account().await;
        let refund = setting(&server, SettingKind::RequestType, "Refund").await;
        let support_type = setting(&server, SettingKind::RequestType, "Support").await;
        let late = setting(&server, SettingKind::Reason, "Late delivery").await;
        let inbox = server.inbox_in(account, ChannelKind::WebChat, None).await;
        let contact = server.contact().await;
        let id = writes(&server, &inbox, contact).await;
        let (status, dialog) = server
            .post(
                &format!("/api/v1/conversations/{id}/dialogs"),
                Some(&server.owner),
                &json!({"title": "Refund order 7", "request_type": refund, "reasons": [late]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{dialog}");
        let dialog = text(&dialog["id"]);
        // Active 100 s, paused 50 s, active 100 s, completed with 3 stars: duration 250 s,
        // active 200 s. The contact answers the form with 2 (Normal).
        server.advance(100);
        server
            .post(
                &format!("/api/v1/dialogs/{dialog}/pause"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        server.advance(50);
        server
            .post(
                &format!("/api/v1/dialogs/{dialog}/resume"),
                Some(&server.owner),
                &json!({}),
            )
            .await;
        server.advance(100);
        let (status, done) = server
            .post(
                &format!("/api/v1/dialogs/{dialog}/complete"),
                Some(&server.owner),
                &json!({"contact_rating": 3, "send_satisfaction_form": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        let visitor = visitor_token(&server, &inbox, contact).await;
        let (status, _) = server
            .post(
                &format!("/api/v1/widget/dialogs/{dialog}/satisfaction"),
                Some(&visitor),
                &json!({"value": 2}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // A second dialog, of another contact, still active.
        let other = writes(&server, &inbox, server.contact().await).await;
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{other}/dialogs"),
                Some(&server.owner),
                &json!({"title": "Question", "request_type": support_type}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);

        let range = around_today(&server);
        let (status, all) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{all}");
        let t = &all["total"];
        assert_eq!(
            (
                t["dialogs"].as_u64(),
                t["active"].as_u64(),
                t["completed"].as_u64()
            ),
            (Some(2), Some(1), Some(1))
        );
        assert_eq!(
            (
                t["avg_duration_secs"].as_f64(),
                t["avg_active_secs"].as_f64()
            ),
            (Some(250.0), Some(200.0))
        );
        assert_eq!(
            t["contact_rating"],
            json!({"count": 1, "avg": 3.0, "distribution": [0, 0, 1]})
        );
        assert_eq!(
            t["satisfaction"],
            json!({"count": 1, "avg": 2.0, "distribution": [0, 1, 0]})
        );
        // D14: both ratings also in the conversation report.
        let c = total(&server, "").await;
        assert_eq!(
            c["contact_rating"],
            json!({"count": 1, "avg": 3.0, "distribution": [0, 0, 1]})
        );
        assert_eq!(
            c["satisfaction"],
            json!({"count": 1, "avg": 2.0, "distribution": [0, 1, 0]})
        );

        // D15 breakdowns: by status, request type and reason; filters.
        let rows = |body: &Value| -> BTreeMap<String, u64> {
            body["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["key"].as_str().unwrap_or("none").to_owned(),
                        r["figures"]["dialogs"].as_u64().unwrap(),
                    )
                })
                .fold(BTreeMap::new(), |mut m, (k, n)| {
                    *m.entry(k).or_insert(0) += n;
                    m
                })
        };
        let (_, by_status) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&breakdown=status"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(
            rows(&by_status),
            BTreeMap::from([("active".into(), 1), ("completed".into(), 1)])
        );
        let (_, by_type) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&breakdown=request_type"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(
            rows(&by_type),
            BTreeMap::from([(refund.to_string(), 1), (support_type.to_string(), 1)])
        );
        let (_, by_reason) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&breakdown=reason"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(
            rows(&by_reason),
            BTreeMap::from([(late.to_string(), 1), ("none".into(), 1)])
        );
        assert_eq!(
            by_reason["total"]["dialogs"], 2,
            "the total counts each dialog once"
        );
        let (_, completed) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&status=completed&reason={late}"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(completed["total"]["dialogs"], 1);
    }
);

/// A dialog on a new conversation of a new contact, active `[active, paused, active]` seconds
/// in turn (a zero pause is none), then completed.
async fn timed_dialog(
    server: &TestServer,
    inbox: &Inbox,
    request_type: Uuid,
    [first, pause, second]: [i64; 3],
) {
    let id = writes(server, inbox, server.contact().await).await;
    let (status, dialog) = server
        .post(
            &format!("/api/v1/conversations/{id}/dialogs"),
            Some(&server.owner),
            &json!({"title": "Timed", "request_type": request_type}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dialog}");
    let dialog = text(&dialog["id"]);
    let step = |action: &'static str| {
        let path = format!("/api/v1/dialogs/{dialog}/{action}");
        async move {
            let (status, body) = server.post(&path, Some(&server.owner), &json!({})).await;
            assert_eq!(status, StatusCode::OK, "{action}: {body}");
        }
    };
    server.advance(first);
    if pause > 0 {
        step("pause").await;
        server.advance(pause);
        step("resume").await;
    }
    server.advance(second);
    step("complete").await;
}

e2e_manual!(
    d15_dialog_medians_and_p90_of_duration_and_time_active,
    |server: TestServer| async move {
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let request_type = setting(&server, SettingKind::RequestType, "Order").await;
        // spec: D15. Four completed dialogs, worked by hand:
        //   A: active 100 s                      duration  100, active 100
        //   B: active 50, paused 200, active 50  duration  300, active 100
        //   C: active 400                        duration  400, active 400
        //   D: active 20, paused 980             duration 1000, active  20
        // Durations 100, 300, 400, 1000: median (rank ceil(0.5 x 4) = 2) 300, p90 (rank
        // ceil(0.9 x 4) = 4) 1000, average 450. Active 20, 100, 100, 400: median 100, p90 400,
        // average 155. A fifth dialog, still active, counts in neither.
        for timing in [[100, 0, 0], [50, 200, 50], [400, 0, 0], [20, 980, 0]] {
            timed_dialog(&server, &inbox, request_type, timing).await;
        }
        let id = writes(&server, &inbox, server.contact().await).await;
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{id}/dialogs"),
                Some(&server.owner),
                &json!({"title": "Open", "request_type": request_type}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);

        let range = around_today(&server);
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&breakdown=status"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let spread = |f: &Value| {
            [
                "avg_duration_secs",
                "median_duration_secs",
                "p90_duration_secs",
                "avg_active_secs",
                "median_active_secs",
                "p90_active_secs",
            ]
            .map(|k| f[k].as_f64())
        };
        let expected = [450.0, 300.0, 1000.0, 155.0, 100.0, 400.0].map(Some);
        let t = &body["total"];
        assert_eq!(
            (t["dialogs"].as_u64(), t["completed"].as_u64()),
            (Some(5), Some(4))
        );
        assert_eq!(spread(t), expected);
        let completed = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "completed")
            .unwrap();
        assert_eq!(spread(&completed["figures"]), expected);
        let active = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "active")
            .unwrap();
        assert_eq!(spread(&active["figures"]), [None; 6], "no completed dialog");

        // The same figures in the CSV export.
        let (status, csv) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&format=csv"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let csv = parse_csv(csv.as_str().unwrap());
        let total = csv.last().unwrap();
        assert_eq!(total["period"], "total");
        for (column, value) in [
            ("median_duration_secs", "300"),
            ("p90_duration_secs", "1000"),
            ("median_active_secs", "100"),
            ("p90_active_secs", "400"),
        ] {
            assert_eq!(total[column], value, "{column}");
        }
    }
);

e2e_manual!(
    p1_after_the_report_worker_a_report_folds_nothing_new,
    |server: TestServer| async move {
        let account = server.account().await;
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        for _ in 0..3 {
            writes(&server, &inbox, server.contact().await).await;
        }
        // The server's worker catches up every account; this one is kept to the test's account
        // (the database is shared with other tests).
        let worker = ReportWorker::for_account(server.app.clone(), account);
        assert!(worker.run_once().await.unwrap() > 0, "the log is folded");
        // What a report's own catch-up then finds: nothing new.
        assert_eq!(
            server.app.store().catch_up_reports(account).await.unwrap(),
            0
        );
        assert_eq!(total(&server, "").await["opened"], 3);
        server.advance(30);
        writes(&server, &inbox, server.contact().await).await;
        assert!(worker.run_once().await.unwrap() > 0);
        assert_eq!(worker.run_once().await.unwrap(), 0, "nothing new");
        assert_eq!(
            server.app.store().catch_up_reports(account).await.unwrap(),
            0
        );
        assert_eq!(total(&server, "").await["opened"], 4);
    }
);

/// A small deterministic generator (xorshift), seeded per run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

/// The sums of a report's rows: counts, and per duration metric its count and sum of seconds.
fn sums(rows: &[Value]) -> BTreeMap<String, f64> {
    let mut sums = BTreeMap::new();
    for row in rows {
        add(&mut sums, &row["figures"]);
    }
    sums
}

#[expect(clippy::cast_precision_loss, reason = "test counts are small")]
fn add(sums: &mut BTreeMap<String, f64>, figures: &Value) {
    for key in ["opened", "resolved", "dropped", "reopened"] {
        *sums.entry(key.into()).or_default() += figures[key].as_u64().unwrap() as f64;
    }
    for metric in ["first_response", "reply", "time_to_close", "handle_time"] {
        let (count, avg, _, _) = duration(figures, metric);
        *sums.entry(format!("{metric}_count")).or_default() += count as f64;
        *sums.entry(format!("{metric}_sum")).or_default() += (count as f64 * avg).round();
    }
    for w in figures["wrap_up"].as_array().unwrap() {
        *sums
            .entry(format!("wrap_up_{}", text(&w["reason"])))
            .or_default() += w["count"].as_u64().unwrap() as f64;
    }
}

e2e_manual!(
    p1_every_breakdown_adds_up_to_the_overall_figure_on_a_random_timeline,
    |server: TestServer| async move {
        let seed = u64::from_le_bytes(Uuid::new_v4().as_bytes()[..8].try_into().unwrap()) | 1;
        eprintln!("seed {seed}");
        let mut dice = Dice(seed);
        // At most 10 x 2 x 45 000 s pass: 11 days.
        let range = days_from_today(&server, 14);
        let (alice, alice_token) = agent(&server, json!({})).await;
        let (bob, bob_token) = agent(&server, json!({})).await;
        let agents = [(alice, alice_token), (bob, bob_token)];
        let queues = [
            queue(&server, "manual", "direct", &[alice, bob]).await,
            queue(&server, "manual", "direct", &[alice, bob]).await,
        ];
        let inboxes = [
            server.inbox(ChannelKind::WebChat, Some(queues[0])).await,
            server.inbox(ChannelKind::WebChat, Some(queues[1])).await,
            server.inbox(ChannelKind::WebChat, None).await,
        ];
        let reasons = [
            setting(&server, SettingKind::WrapUpReason, "Solved").await,
            setting(&server, SettingKind::WrapUpReason, "Spam").await,
        ];
        for _ in 0..10 {
            let inbox = &inboxes[usize::try_from(dice.roll(3)).unwrap()];
            let contact = server.contact().await;
            let id = writes(&server, inbox, contact).await;
            let rounds = 1 + dice.roll(2);
            for _ in 0..rounds {
                let who = usize::try_from(dice.roll(2)).unwrap();
                let (agent_id, token) = &agents[who];
                server.advance(i64::try_from(1 + dice.roll(600)).unwrap());
                act(
                    &server,
                    &server.owner,
                    id,
                    "assign",
                    json!({"agent": agent_id}),
                )
                .await;
                server.advance(i64::try_from(1 + dice.roll(600)).unwrap());
                reply(&server, token, id).await;
                if dice.roll(3) == 0 {
                    // Transfer to the other agent's hands through a queue.
                    let target = queues[usize::try_from(dice.roll(2)).unwrap()];
                    server.advance(i64::try_from(1 + dice.roll(300)).unwrap());
                    act(
                        &server,
                        token,
                        id,
                        "transfer",
                        json!({"queue": target, "wrap_up": reasons[1]}),
                    )
                    .await;
                    let (other_id, other_token) = &agents[1 - who];
                    act(
                        &server,
                        &server.owner,
                        id,
                        "assign",
                        json!({"agent": other_id}),
                    )
                    .await;
                    server.advance(i64::try_from(1 + dice.roll(300)).unwrap());
                    act(
                        &server,
                        other_token,
                        id,
                        "resolve",
                        json!({"wrap_up": reasons[0]}),
                    )
                    .await;
                } else if dice.roll(4) == 0 {
                    server.advance(i64::try_from(1 + dice.roll(300)).unwrap());
                    act(&server, token, id, "drop", json!({})).await;
                } else {
                    server.advance(i64::try_from(1 + dice.roll(3_000)).unwrap());
                    act(
                        &server,
                        token,
                        id,
                        "resolve",
                        json!({"wrap_up": reasons[usize::try_from(dice.roll(2)).unwrap()]}),
                    )
                    .await;
                }
                // Sometimes hours pass (other days) before the contact writes again: a reopen.
                server.advance(i64::try_from(dice.roll(40_000)).unwrap());
                writes(&server, inbox, contact).await;
            }
        }
        let overall = report(&server, &server.owner, &range).await;
        let mut expected = BTreeMap::new();
        add(&mut expected, &overall["total"]);
        assert_eq!(expected["opened"], 10.0);
        for group_by in ["day", "week", "month"] {
            for breakdown in [
                "",
                "&breakdown=inbox",
                "&breakdown=queue",
                "&breakdown=agent",
            ] {
                let body = report(
                    &server,
                    &server.owner,
                    &format!("{range}&group_by={group_by}{breakdown}"),
                )
                .await;
                let rows = body["rows"].as_array().unwrap();
                assert_eq!(
                    sums(rows),
                    expected,
                    "rows of group_by={group_by}{breakdown} (seed {seed})"
                );
                let mut total = BTreeMap::new();
                add(&mut total, &body["total"]);
                assert_eq!(
                    total, expected,
                    "total of group_by={group_by}{breakdown} (seed {seed})"
                );
            }
        }
    }
);

/// A CSV body as header -> value maps, one per line.
fn parse_csv(body: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = body.split("\r\n").filter(|line| !line.is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn number(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A CSV number and a JSON number are the same number (`61` and `61.0`).
fn same_number(csv: &str, json: &Value) -> bool {
    match json {
        Value::Null => csv.is_empty(),
        other => csv.parse::<f64>().ok() == other.as_f64(),
    }
}

e2e_manual!(
    p1_d15_csv_exports_match_the_json,
    |server: TestServer| async move {
        let (alice, alice_token) = agent(&server, json!({})).await;
        let solved = setting(&server, SettingKind::WrapUpReason, "Solved").await;
        let request_type = setting(&server, SettingKind::RequestType, "Refund").await;
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        for n in 0..3 {
            let id = writes(&server, &inbox, server.contact().await).await;
            server.advance(10 + n);
            act(
                &server,
                &server.owner,
                id,
                "assign",
                json!({"agent": alice}),
            )
            .await;
            server.advance(25 * (n + 1));
            reply(&server, &alice_token, id).await;
            if n == 2 {
                let (status, _) = server
                    .post(
                        &format!("/api/v1/conversations/{id}/dialogs"),
                        Some(&server.owner),
                        &json!({"title": "Refund", "request_type": request_type}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED);
            }
            act(
                &server,
                &alice_token,
                id,
                "resolve",
                json!({"wrap_up": solved}),
            )
            .await;
        }
        let query = format!("{}&breakdown=agent", around_today(&server));
        let json_report = report(&server, &server.owner, &query).await;
        let response = server
            .http
            .get(format!(
                "{}/api/v1/reports/conversations?{query}",
                server.base
            ))
            .bearer_auth(&server.owner)
            .header("accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = parse_csv(&response.text().await.unwrap());
        let rows = json_report["rows"].as_array().unwrap();
        assert_eq!(csv.len(), rows.len() + 1, "one line per row and the total");
        let lines = rows
            .iter()
            .map(|r| {
                (
                    r["period"].as_str().unwrap().to_owned(),
                    number(&r["key"]).trim_matches('"').to_owned(),
                    &r["figures"],
                )
            })
            .chain([("total".to_owned(), String::new(), &json_report["total"])]);
        for (line, (period, key, figures)) in csv.iter().zip(lines) {
            assert_eq!((&line["period"], &line["key"]), (&period, &key));
            for count in ["opened", "resolved", "dropped", "reopened"] {
                assert_eq!(line[count], number(&figures[count]), "{count}");
            }
            for metric in ["first_response", "reply", "time_to_close", "handle_time"] {
                for part in ["count", "avg", "median", "p90"] {
                    let column = format!("{metric}_{part}");
                    assert!(
                        same_number(&line[&column], &figures[metric][part]),
                        "{metric}_{part}"
                    );
                }
            }
            let wrap: Vec<String> = figures["wrap_up"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| format!("{}={}", text(&w["reason"]), w["count"]))
                .collect();
            assert_eq!(line["wrap_up"], wrap.join(";"));
        }
        assert_eq!(csv.last().unwrap()["first_response_count"], "3");

        // D15: the dialog report's CSV (format=csv) matches its JSON too.
        let range = around_today(&server);
        let (_, dialogs) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&breakdown=request_type"),
                Some(&server.owner),
            )
            .await;
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&breakdown=request_type&format=csv"),
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let csv = parse_csv(body.as_str().unwrap());
        assert_eq!(csv.len(), 2);
        assert_eq!(csv[0]["key"], request_type.to_string());
        let figures = &dialogs["rows"][0]["figures"];
        for column in [
            "dialogs",
            "active",
            "paused",
            "completed",
            "avg_duration_secs",
        ] {
            assert!(same_number(&csv[0][column], &figures[column]), "{column}");
        }
        assert_eq!(csv[1]["period"], "total");
        assert_eq!(csv[1]["dialogs"], "1");
    }
);

e2e_manual!(
    p1_a1_who_may_read_reports_and_bad_parameters,
    |server: TestServer| async move {
        let (alice, alice_token) = agent(&server, json!({})).await;
        let (bob, _) = agent(&server, json!({})).await;
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        for helper in [alice, bob] {
            let id = writes(&server, &inbox, server.contact().await).await;
            act(
                &server,
                &server.owner,
                id,
                "assign",
                json!({"agent": helper}),
            )
            .await;
            server.advance(60);
            act(&server, &server.owner, id, "resolve", json!({})).await;
        }
        let range = around_today(&server);
        assert_eq!(
            report(&server, &server.owner, &range).await["total"]["resolved"],
            2
        );

        // A plain agent reads their own figures only; naming someone else is forbidden.
        let own = report(&server, &alice_token, &range).await;
        assert_eq!(own["total"]["resolved"], 1);
        assert_eq!(own["total"]["opened"], 0, "openings are credited to nobody");
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/conversations?{range}&agent={bob}"),
                Some(&alice_token),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::FORBIDDEN, "forbidden".into())
        );
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/dialogs?{range}&agent={bob}"),
                Some(&alice_token),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::FORBIDDEN, "forbidden".into())
        );

        // A1: another account's owner sees nothing of this account.
        let stranger = server.stranger().await;
        let theirs = report(&server, &stranger, &range).await;
        assert_eq!(counts(&theirs["total"]), [0, 0, 0, 0]);
        assert_eq!(theirs["rows"], json!([]));
        let theirs = report(&server, &stranger, &format!("{range}&agent={alice}")).await;
        assert_eq!(theirs["total"]["resolved"], 0);

        // A widget visitor gets nothing.
        let contact = server.contact().await;
        let visitor = visitor_token(&server, &inbox, contact).await;
        let (status, _) = server
            .get(
                &format!("/api/v1/reports/conversations?{range}"),
                Some(&visitor),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Bad parameters: 400 invalid_report_query saying what to send.
        for (query, hint) in [
            ("from=yesterday", "YYYY-MM-DD"),
            ("group_by=year", "day, week, month"),
            ("breakdown=colour", "inbox, queue, agent"),
            ("inbox=42", "UUID"),
            ("format=xml", "json or csv"),
            ("color=red", "parameters"),
        ] {
            let (status, body) = server
                .get(
                    &format!("/api/v1/reports/conversations?{query}"),
                    Some(&server.owner),
                )
                .await;
            assert_eq!(
                (status, text(&body["code"])),
                (StatusCode::BAD_REQUEST, "invalid_report_query".into()),
                "{query}"
            );
            assert!(text(&body["detail"]).contains(hint), "{query}: {body}");
        }
        let (status, body) = server
            .get("/api/v1/reports/dialogs?status=open", Some(&server.owner))
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::BAD_REQUEST, "invalid_report_query".into())
        );
        let (status, body) = server
            .get(
                "/api/v1/reports/conversations?from=2026-05-02&to=2026-05-01",
                Some(&server.owner),
            )
            .await;
        assert_eq!(
            (status, text(&body["code"])),
            (StatusCode::BAD_REQUEST, "bad_request".into()),
            "{body}"
        );
        assert!(text(&body["detail"]).contains("from <= to"));
        let (status, _) = server
            .get(
                "/api/v1/reports/conversations?from=2020-01-01&to=2026-01-01",
                Some(&server.owner),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = server.get("/api/v1/reports/conversations", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

e2e_manual!(
    p1_catch_ups_of_two_processes_at_once_count_each_event_once,
    |server: TestServer| async move {
        let other = server.another_process().await;
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let range = around_today(&server);
        let mut opened = 0;
        for round in 0..4 {
            // New events, then both processes catch up at the same time, twice each.
            for _ in 0..15 {
                let id = writes(&server, &inbox, server.contact().await).await;
                server.advance(1);
                act(&server, &server.owner, id, "resolve", json!({})).await;
            }
            opened += 15;
            let (a, b, c, d) = tokio::join!(
                report(&server, &server.owner, &range),
                report(&other, &other.owner, &range),
                report(&other, &other.owner, &range),
                report(&server, &server.owner, &range),
            );
            for body in [a, b, c, d] {
                assert_eq!(body["total"]["opened"], opened, "round {round}");
                assert_eq!(body["total"]["resolved"], opened, "round {round}");
                assert_eq!(
                    body["total"]["time_to_close"]["count"], opened,
                    "round {round}"
                );
            }
        }
    }
);
