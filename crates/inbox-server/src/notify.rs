//! The staff-notification settings (N3, N4, D11): the SMTP server notification emails go
//! through (`INBOX_SMTP_URL`, `INBOX_SMTP_FROM`) and the Twilio-compatible SMS gateway staff
//! texts go through (`INBOX_SMS_URL`, `INBOX_SMS_ACCOUNT_SID`, `INBOX_SMS_AUTH_TOKEN`,
//! `INBOX_SMS_FROM`), read at start. A bad value stops the start with a sentence naming the
//! setting; what is left unset turns that kind of notification off, said once in the log. The
//! password and the auth token are never logged (S9).

use std::sync::Arc;

use conversation_core::ports::{StaffMailer, StaffTexter};
use inbox_channels::email::{SmtpConfig, SmtpTls, StaffNotifier};
use inbox_channels::sms::{SmsClient, SmsSender, TwilioConfig};

use crate::config::Config;

/// The notification ports the server was configured with.
#[derive(Default)]
pub struct Notifiers {
    /// Email (N3, D11), when `INBOX_SMTP_URL` is set.
    pub mailer: Option<Arc<dyn StaffMailer>>,
    /// SMS (N4), when `INBOX_SMS_ACCOUNT_SID` is set.
    pub texter: Option<Arc<dyn StaffTexter>>,
}

/// The notification ports from the settings, each logged as on or off.
///
/// # Errors
/// A sentence naming the setting that is malformed or missing.
pub fn notifiers(config: &Config) -> Result<Notifiers, String> {
    let mut notifiers = Notifiers::default();
    match smtp(config)? {
        Some(smtp) => {
            tracing::info!(
                host = %smtp.host,
                port = smtp.port,
                tls = ?smtp.tls,
                from = %smtp.from,
                "staff email notifications are on (N3, D11)"
            );
            notifiers.mailer = Some(Arc::new(StaffNotifier::new(smtp)));
        }
        None => tracing::warn!(
            "staff email notifications are off (N3, D11): set INBOX_SMTP_URL and \
             INBOX_SMTP_FROM to send them"
        ),
    }
    match sms(config)? {
        Some(client) => {
            tracing::info!(
                gateway = %client.config().base_url,
                "staff SMS notifications are on (N4)"
            );
            notifiers.texter = Some(Arc::new(client));
        }
        None => tracing::warn!(
            "staff SMS notifications are off (N4): set INBOX_SMS_ACCOUNT_SID, \
             INBOX_SMS_AUTH_TOKEN and INBOX_SMS_FROM to send them"
        ),
    }
    Ok(notifiers)
}

/// The SMTP server of `INBOX_SMTP_URL` and `INBOX_SMTP_FROM`, if set.
///
/// # Errors
/// A sentence naming the setting.
pub fn smtp(config: &Config) -> Result<Option<SmtpConfig>, String> {
    let (url, from) = match (&config.smtp_url, &config.smtp_from) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(
                "INBOX_SMTP_FROM is set but INBOX_SMTP_URL is not: set both to send \
                        notification emails, or neither"
                    .to_owned(),
            );
        }
        (Some(_), None) => {
            return Err(
                "INBOX_SMTP_URL is set but INBOX_SMTP_FROM is not: set the address \
                        notification emails come from, such as inbox@example.com"
                    .to_owned(),
            );
        }
        (Some(url), Some(from)) => (url.trim(), from.trim()),
    };
    let mut smtp = parse_smtp_url(url)?;
    if !is_address(from) {
        return Err(format!(
            "INBOX_SMTP_FROM `{from}` is not an email address, such as inbox@example.com"
        ));
    }
    from.clone_into(&mut smtp.from);
    Ok(Some(smtp))
}

/// `smtp://[user[:password]@]host[:port][?tls=starttls|tls|none]`; user and password
/// percent-encoded; `tls` `starttls` by default; the port the mode's usual one by default.
fn parse_smtp_url(url: &str) -> Result<SmtpConfig, String> {
    // Never repeat the URL itself in an error: it may carry the password.
    let bad = |why: &str| {
        format!(
            "INBOX_SMTP_URL is not usable: {why}; expected \
             smtp://user:password@host:587?tls=starttls (tls: starttls, tls or none)"
        )
    };
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| bad("it must start with smtp://"))?;
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.trim_end_matches('/');
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let mut tls = SmtpTls::StartTls;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("tls", mode)) => {
                tls = SmtpTls::parse(mode)
                    .ok_or_else(|| bad("`tls` must be starttls, tls or none"))?;
            }
            _ => return Err(bad("the only parameter it takes is `tls`")),
        }
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || hostport.starts_with('[') => (
            host,
            port.parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
        ),
        _ => (hostport, tls.default_port()),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return Err(bad("it names no host"));
    }
    let credentials = match userinfo {
        None => None,
        Some(userinfo) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let user = percent_decode(user).ok_or_else(|| bad("the user name is malformed"))?;
            let password =
                percent_decode(password).ok_or_else(|| bad("the password is malformed"))?;
            if user.is_empty() {
                return Err(bad("the user name is empty"));
            }
            Some((user, password))
        }
    };
    Ok(SmtpConfig {
        host: host.to_owned(),
        port,
        tls,
        credentials,
        from: String::new(),
    })
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A plain address: one `@` between a local part and a dotted-or-not domain, no spaces.
fn is_address(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !text.contains(char::is_whitespace)
                && !text.contains(['<', '>', ','])
        }
        None => false,
    }
}

/// The SMS gateway of the `INBOX_SMS_*` settings, if `INBOX_SMS_ACCOUNT_SID` is set.
///
/// # Errors
/// A sentence naming the setting.
pub fn sms(config: &Config) -> Result<Option<SmsClient>, String> {
    let Some(sid) = config.sms_account_sid.as_deref().map(str::trim) else {
        if config.sms_auth_token.is_some() || config.sms_from.is_some() || config.sms_url.is_some()
        {
            return Err(
                "INBOX_SMS_ACCOUNT_SID is not set, but other INBOX_SMS_* settings are: \
                        set INBOX_SMS_ACCOUNT_SID, INBOX_SMS_AUTH_TOKEN and INBOX_SMS_FROM to \
                        send staff texts, or none of them"
                    .to_owned(),
            );
        }
        return Ok(None);
    };
    if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            "INBOX_SMS_ACCOUNT_SID must be the gateway's account SID (letters and digits, AC...)"
                .to_owned(),
        );
    }
    let token = config
        .sms_auth_token
        .as_deref()
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or("INBOX_SMS_AUTH_TOKEN is not set: the SMS gateway's auth token is required")?;
    let from = config
        .sms_from
        .as_deref()
        .map(str::trim)
        .filter(|from| !from.is_empty())
        .ok_or(
            "INBOX_SMS_FROM is not set: the number texts come from (E.164, such as \
             +14155550100) or a messaging service SID (MG...)",
        )?;
    let sender = if from.starts_with('+') {
        if !inbox_channels::sms::config::is_e164(from) {
            return Err(format!(
                "INBOX_SMS_FROM `{from}` is not a number in E.164 form, such as +14155550100"
            ));
        }
        SmsSender::Number(from.to_owned())
    } else if from.starts_with("MG") && from.chars().all(|c| c.is_ascii_alphanumeric()) {
        SmsSender::MessagingService(from.to_owned())
    } else {
        return Err(format!(
            "INBOX_SMS_FROM `{from}` is neither an E.164 number (+14155550100) nor a messaging \
             service SID (MG...)"
        ));
    };
    let mut twilio = TwilioConfig::new(sid.to_owned(), token.to_owned(), sender);
    if let Some(url) = config.sms_url.as_deref().map(str::trim) {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() <= 8 {
            return Err(format!(
                "INBOX_SMS_URL `{url}` must be the gateway's base URL, starting with https:// \
                 (or http:// for a local endpoint)"
            ));
        }
        twilio = twilio.with_base_url(url);
    }
    SmsClient::new(twilio)
        .map(Some)
        .map_err(|error| format!("the INBOX_SMS_* settings are not usable: {error}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("inbox-server").chain(args.iter().copied()))
            .expect("flags parse")
    }

    #[test]
    fn n3_the_smtp_url_gives_host_port_tls_and_credentials() {
        let smtp = smtp(&config(&[
            "--smtp-url",
            "smtp://mailer%40example.com:p%3Ass@mail.example.com:2525?tls=none",
            "--smtp-from",
            "inbox@example.com",
        ]))
        .expect("valid")
        .expect("on");
        assert_eq!(smtp.host, "mail.example.com");
        assert_eq!(smtp.port, 2525);
        assert_eq!(smtp.tls, SmtpTls::None);
        assert_eq!(
            smtp.credentials,
            Some(("mailer@example.com".to_owned(), "p:ss".to_owned()))
        );
        assert_eq!(smtp.from, "inbox@example.com");
        let defaults = smtp_of("smtp://relay.local").expect("valid");
        assert_eq!(
            (defaults.port, defaults.tls, defaults.credentials),
            (587, SmtpTls::StartTls, None)
        );
        assert_eq!(
            smtp_of("smtp://relay.local?tls=tls").expect("valid").port,
            465
        );
    }

    fn smtp_of(url: &str) -> Result<SmtpConfig, String> {
        smtp(&config(&["--smtp-url", url, "--smtp-from", "a@b.test"])).map(|s| s.expect("on"))
    }

    #[test]
    fn n3_bad_smtp_settings_are_refused_naming_the_setting_and_never_the_password() {
        for url in [
            "http://user:secret-pw@host",
            "smtp://user:secret-pw@host:99999",
            "smtp://user:secret-pw@host?tls=maybe",
            "smtp://user:secret-pw@",
            "smtp://user:secret-pw@host?port=1",
        ] {
            let error = smtp_of(url).expect_err(url);
            assert!(error.starts_with("INBOX_SMTP_URL"), "{error}");
            assert!(!error.contains("secret-pw"), "{error}");
        }
        let error = smtp(&config(&["--smtp-url", "smtp://host"])).expect_err("no from");
        assert!(error.contains("INBOX_SMTP_FROM"), "{error}");
        let error = smtp(&config(&["--smtp-from", "a@b.test"])).expect_err("no url");
        assert!(error.contains("INBOX_SMTP_URL"), "{error}");
        let error = smtp(&config(&[
            "--smtp-url",
            "smtp://host",
            "--smtp-from",
            "nobody",
        ]))
        .expect_err("bad from");
        assert!(error.starts_with("INBOX_SMTP_FROM"), "{error}");
        assert!(smtp(&config(&[])).expect("valid").is_none());
    }

    #[test]
    fn n4_the_sms_settings_are_checked_at_start() {
        assert!(sms(&config(&[])).expect("valid").is_none());
        let on = sms(&config(&[
            "--sms-account-sid",
            "AC123",
            "--sms-auth-token",
            "secret-token",
            "--sms-from",
            "+14155550100",
            "--sms-url",
            "http://127.0.0.1:9/",
        ]))
        .expect("valid")
        .expect("on");
        assert_eq!(on.config().base_url, "http://127.0.0.1:9");
        // S9: the token never shows in a debug log.
        assert!(!format!("{on:?}").contains("secret-token"));
        for (args, setting) in [
            (vec!["--sms-auth-token", "t"], "INBOX_SMS_ACCOUNT_SID"),
            (
                vec!["--sms-account-sid", "AC1", "--sms-from", "+14155550100"],
                "INBOX_SMS_AUTH_TOKEN",
            ),
            (
                vec!["--sms-account-sid", "AC1", "--sms-auth-token", "t"],
                "INBOX_SMS_FROM",
            ),
            (
                vec![
                    "--sms-account-sid",
                    "AC1",
                    "--sms-auth-token",
                    "t",
                    "--sms-from",
                    "+12",
                ],
                "INBOX_SMS_FROM",
            ),
            (
                vec![
                    "--sms-account-sid",
                    "AC1",
                    "--sms-auth-token",
                    "t",
                    "--sms-from",
                    "+14155550100",
                    "--sms-url",
                    "ftp://x",
                ],
                "INBOX_SMS_URL",
            ),
        ] {
            let error = sms(&config(&args)).expect_err(setting);
            assert!(error.contains(setting), "{error}");
        }
    }

    #[test]
    fn s9_the_notifier_debug_hides_the_smtp_password() {
        let smtp = smtp_of("smtp://user:secret-pw@host").expect("valid");
        let notifier = StaffNotifier::new(smtp);
        assert!(!format!("{notifier:?}").contains("secret-pw"));
    }
}
