//! N4: the Twilio-compatible SMS client against a local axum server speaking Twilio's wire
//! format: the exact request (path, form fields, basic auth), the answer's `sid` and `status`,
//! and the mapping of Twilio's error answers (H3: 429 and 5xx transient with `Retry-After`,
//! other 4xx permanent with Twilio's message).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use conversation_core::ports::DeliveryError;
use inbox_channels::sms::{SmsClient, SmsSender, TwilioConfig};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token-123";

#[derive(Clone, Debug)]
struct Seen {
    account: String,
    authorization: Option<String>,
    content_type: Option<String>,
    form: Vec<(String, String)>,
}

/// A scripted answer: status, `Retry-After`, body.
type Answer = (StatusCode, Option<&'static str>, String);

#[derive(Clone, Default)]
struct Twilio {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

async fn messages(
    State(twilio): State<Twilio>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let form: Vec<(String, String)> = url_decode(&body);
    twilio.seen.lock().unwrap().push(Seen {
        account: account.clone(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form,
    });
    let scripted = twilio.answers.lock().unwrap().pop_front();
    match scripted {
        Some((status, retry_after, body)) => {
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                "content-type",
                "application/json".parse().unwrap(),
            );
            if let Some(retry_after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", retry_after.parse().unwrap());
            }
            response
        }
        None => (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            format!(
                r#"{{"sid":"SM{:032x}","status":"queued","account_sid":"{account}","num_segments":"1","error_code":null}}"#,
                twilio.seen.lock().unwrap().len()
            ),
        )
            .into_response(),
    }
}

/// `application/x-www-form-urlencoded`, decoded (`+` is a space, `%XX` a byte).
fn url_decode(body: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

async fn start() -> (Twilio, String) {
    let twilio = Twilio::default();
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(messages),
        )
        .with_state(twilio.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (twilio, base)
}

fn client(base: &str, sender: SmsSender) -> SmsClient {
    SmsClient::new(
        TwilioConfig::new(SID.into(), TOKEN.into(), sender).with_base_url(&format!("{base}/")),
    )
    .unwrap()
}

// spec: N4 (the exact Twilio request: path, form fields, basic auth)
#[tokio::test]
async fn n4_a_text_is_posted_in_twilios_format() {
    let (twilio, base) = start().await;
    let sms = client(&base, SmsSender::Number("+14155550100".into()));
    let receipt = sms
        .send(
            "+4915112345678",
            "A visitor started a chat on Web & Shop: 100% new",
        )
        .await
        .unwrap();
    assert_eq!(receipt.sid, format!("SM{:032x}", 1));
    assert_eq!(receipt.status, "queued");

    let seen = twilio.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].account, SID);
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(expected_auth.as_str())
    );
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let field = |name: &str| {
        seen[0]
            .form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(field("To").as_deref(), Some("+4915112345678"));
    assert_eq!(field("From").as_deref(), Some("+14155550100"));
    assert_eq!(
        field("Body").as_deref(),
        Some("A visitor started a chat on Web & Shop: 100% new")
    );
    assert_eq!(field("MessagingServiceSid"), None);
    assert_eq!(seen[0].form.len(), 3);
}

// spec: N4
#[tokio::test]
async fn n4_a_messaging_service_replaces_from() {
    let (twilio, base) = start().await;
    let sms = client(
        &base,
        SmsSender::MessagingService("MG9752274e9e519418a7406176694466fa".into()),
    );
    sms.send("+14155550199", "hello").await.unwrap();
    let seen = twilio.seen.lock().unwrap().clone();
    let keys: Vec<&str> = seen[0].form.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["To", "MessagingServiceSid", "Body"]);
    assert_eq!(seen[0].form[1].1, "MG9752274e9e519418a7406176694466fa");
}

// spec: N4, H3 (Twilio's errors: 429 and 5xx transient with Retry-After, other 4xx permanent)
#[tokio::test]
async fn n4_h3_twilio_errors_map_to_transient_and_permanent() {
    let (twilio, base) = start().await;
    let sms = client(&base, SmsSender::Number("+14155550100".into()));
    let error = |code: u32, message: &str, status: u16| {
        format!(
            r#"{{"code":{code},"message":"{message}","more_info":"https://www.twilio.com/docs/errors/{code}","status":{status}}}"#
        )
    };
    twilio.answers.lock().unwrap().extend([
        (
            StatusCode::BAD_REQUEST,
            None,
            error(
                21211,
                "The 'To' number +15005550001 is not a valid phone number.",
                400,
            ),
        ),
        (
            StatusCode::UNAUTHORIZED,
            None,
            error(20003, "Authenticate", 401),
        ),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("7"),
            error(20429, "Too Many Requests", 429),
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            error(20503, "Service Unavailable", 503),
        ),
        (
            StatusCode::BAD_GATEWAY,
            None,
            "<html>bad gateway</html>".to_owned(),
        ),
    ]);

    match sms.send("+15005550001", "hi").await {
        Err(DeliveryError::Permanent { reason }) => {
            assert!(reason.contains("is not a valid phone number"), "{reason}");
            assert!(reason.contains("21211"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    match sms.send("+15005550001", "hi").await {
        Err(DeliveryError::Permanent { reason }) => assert!(reason.contains("Authenticate")),
        other => panic!("{other:?}"),
    }
    match sms.send("+15005550001", "hi").await {
        Err(DeliveryError::Transient {
            reason,
            retry_after,
        }) => {
            assert!(reason.contains("Too Many Requests"), "{reason}");
            assert_eq!(retry_after, Some(chrono::Duration::seconds(7)));
        }
        other => panic!("{other:?}"),
    }
    match sms.send("+15005550001", "hi").await {
        Err(DeliveryError::Transient {
            reason,
            retry_after,
        }) => {
            assert!(reason.contains("Service Unavailable"), "{reason}");
            assert_eq!(retry_after, None);
        }
        other => panic!("{other:?}"),
    }
    match sms.send("+15005550001", "hi").await {
        Err(DeliveryError::Transient { reason, .. }) => {
            assert!(reason.contains("bad gateway"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(twilio.seen.lock().unwrap().len(), 5);
}

// spec: N4, H3
#[tokio::test]
async fn n4_an_unreachable_api_is_transient_and_a_bad_number_is_refused_before_sending() {
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let sms = client(
        &format!("http://127.0.0.1:{port}"),
        SmsSender::Number("+14155550100".into()),
    );
    assert!(matches!(
        sms.send("+14155550199", "hi").await,
        Err(DeliveryError::Transient { .. })
    ));
    let (twilio, base) = start().await;
    let sms = client(&base, SmsSender::Number("+14155550100".into()));
    assert!(matches!(
        sms.send("0151 1234", "hi").await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert!(twilio.seen.lock().unwrap().is_empty());
}

#[test]
fn n4_the_settings_are_checked_and_the_default_base_is_twilios() {
    let config = TwilioConfig::new(
        SID.into(),
        TOKEN.into(),
        SmsSender::Number("+14155550100".into()),
    );
    assert_eq!(
        config.messages_url(),
        format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json")
    );
    assert_eq!(config.check(), Ok(()));
    let broken = [
        TwilioConfig::new(
            String::new(),
            TOKEN.into(),
            SmsSender::Number("+14155550100".into()),
        ),
        TwilioConfig::new(
            "AC/../x".into(),
            TOKEN.into(),
            SmsSender::Number("+14155550100".into()),
        ),
        TwilioConfig::new(
            SID.into(),
            String::new(),
            SmsSender::Number("+14155550100".into()),
        ),
        TwilioConfig::new(
            SID.into(),
            TOKEN.into(),
            SmsSender::Number("4155550100".into()),
        ),
        TwilioConfig::new(
            SID.into(),
            TOKEN.into(),
            SmsSender::MessagingService(" ".into()),
        ),
        config.clone().with_base_url("ftp://example.com"),
    ];
    for config in broken {
        assert!(config.check().is_err(), "{config:?}");
        assert!(SmsClient::new(config).is_err());
    }
}
