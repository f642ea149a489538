//! The settings of a Twilio-compatible SMS API (N4): the base URL is configurable (a
//! self-hosted or test endpoint), with Twilio's public one as the default.

/// Twilio's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// Who the text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsSender {
    /// A phone number of the account (`From`), in E.164 form.
    Number(String),
    /// A messaging service (`MessagingServiceSid`), which picks the number itself.
    MessagingService(String),
}

/// How to reach the SMS API. Its `Debug` never shows the auth token (S9).
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioConfig {
    /// The API's base URL, without a trailing slash ([`DEFAULT_BASE_URL`] by default).
    pub base_url: String,
    /// The account SID: the path's account and the basic-auth user.
    pub account_sid: String,
    /// The auth token: the basic-auth password.
    pub auth_token: String,
    /// Who the texts come from.
    pub sender: SmsSender,
}

impl std::fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<hidden>")
            .field("sender", &self.sender)
            .finish()
    }
}

impl TwilioConfig {
    /// A configuration for Twilio itself.
    #[must_use]
    pub fn new(account_sid: String, auth_token: String, sender: SmsSender) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            account_sid,
            auth_token,
            sender,
        }
    }

    /// The same configuration against another base URL.
    #[must_use]
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        base_url
            .trim_end_matches('/')
            .clone_into(&mut self.base_url);
        self
    }

    /// `{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`.
    #[must_use]
    pub fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url.trim_end_matches('/'),
            self.account_sid
        )
    }

    /// Checks the settings before they are used.
    ///
    /// # Errors
    /// A sentence naming what is missing or malformed.
    pub fn check(&self) -> Result<(), String> {
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(format!(
                "the SMS base URL `{}` must start with https:// (or http:// for a local endpoint)",
                self.base_url
            ));
        }
        if self.account_sid.trim().is_empty()
            || !self.account_sid.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err("the SMS account SID is missing or not alphanumeric (AC...)".to_owned());
        }
        if self.auth_token.trim().is_empty() {
            return Err("the SMS auth token is missing".to_owned());
        }
        match &self.sender {
            SmsSender::Number(number) if !is_e164(number) => Err(format!(
                "the SMS sender number `{number}` is not in E.164 form, such as +14155550100"
            )),
            SmsSender::MessagingService(sid) if sid.trim().is_empty() => {
                Err("the SMS messaging service SID is empty".to_owned())
            }
            _ => Ok(()),
        }
    }
}

/// Whether a phone number is in E.164 form: `+` and 8 to 15 digits.
#[must_use]
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}
