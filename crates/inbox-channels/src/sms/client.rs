//! Sends one SMS (N4): `POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded
//! `To`, `From` (or `MessagingServiceSid`) and `Body`, HTTP basic auth `sid:token`. The answer
//! carries the message's `sid` and `status`; an error answer is Twilio's
//! `{"code", "message", "more_info", "status"}`: 429 and 5xx are transient (honouring
//! `Retry-After`), any other 4xx is permanent with Twilio's message (H3's mapping).
//! [`SmsClient`] is the application's [`StaffTexter`] port.

use std::time::Duration;

use async_trait::async_trait;
use conversation_core::ports::{DeliveryError, StaffText, StaffTexter};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde::Deserialize;

use super::config::{SmsSender, TwilioConfig, is_e164};

/// How long one request may take before it counts as a transient failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The provider accepted the text.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SmsReceipt {
    /// The provider's id of the message (`SM...`).
    pub sid: String,
    /// Its status (`queued`, `accepted`, `sent`, ...).
    pub status: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    code: Option<i64>,
    message: Option<String>,
}

/// A Twilio-compatible SMS client.
#[derive(Clone, Debug)]
pub struct SmsClient {
    config: TwilioConfig,
    http: reqwest::Client,
}

impl SmsClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// The settings' problem, from [`TwilioConfig::check`], or an HTTP client that cannot be
    /// built.
    pub fn new(config: TwilioConfig) -> Result<Self, String> {
        config.check()?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| format!("the HTTP client cannot be built: {error}"))?;
        Ok(Self { config, http })
    }

    /// Its settings.
    #[must_use]
    pub const fn config(&self) -> &TwilioConfig {
        &self.config
    }

    /// Sends `body` to `to` (E.164).
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] for 429, 5xx and connection failures (with the provider's
    /// `Retry-After`); [`DeliveryError::Permanent`] for another 4xx (with Twilio's message), a
    /// number that is not E.164, or an answer that is not Twilio's.
    pub async fn send(&self, to: &str, body: &str) -> Result<SmsReceipt, DeliveryError> {
        if !is_e164(to) {
            return Err(DeliveryError::Permanent {
                reason: format!("`{to}` is not a phone number in E.164 form, such as +14155550100"),
            });
        }
        let sender = match &self.config.sender {
            SmsSender::Number(number) => ("From", number.as_str()),
            SmsSender::MessagingService(sid) => ("MessagingServiceSid", sid.as_str()),
        };
        let form = [("To", to), sender, ("Body", body)];
        let response = self
            .http
            .post(self.config.messages_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|error| DeliveryError::Transient {
                reason: format!("SMS API unreachable: {error}"),
                retry_after: None,
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<i64>().ok())
            .filter(|secs| *secs >= 0)
            .map(chrono::Duration::seconds);
        let text = response
            .text()
            .await
            .map_err(|error| DeliveryError::Transient {
                reason: format!("SMS API answer cut off: {error}"),
                retry_after: None,
            })?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|error| DeliveryError::Permanent {
                reason: format!("the SMS API's answer is not a message ({error}): {text}"),
            });
        }
        let reason = match serde_json::from_str::<ErrorAnswer>(&text) {
            Ok(ErrorAnswer {
                code: Some(code),
                message: Some(message),
            }) => format!("SMS API {status}: {message} (code {code})"),
            Ok(ErrorAnswer {
                message: Some(message),
                ..
            }) => format!("SMS API {status}: {message}"),
            _ => format!("SMS API {status}: {}", text.trim()),
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            })
        } else {
            Err(DeliveryError::Permanent { reason })
        }
    }
}

#[async_trait]
impl StaffTexter for SmsClient {
    async fn send(&self, text: &StaffText) -> Result<String, DeliveryError> {
        Self::send(self, &text.to, &text.body)
            .await
            .map(|receipt| receipt.sid)
    }
}
