//! The email inbox's connection keys: `check_connection` names exactly what is missing or
//! malformed, and the defaults of the TLS mode and the port.

use conversation_core::channel::ChannelKind;
use conversation_core::ports::{ChannelAdapter, ChannelConnection};
use inbox_channels::email::{EmailAdapter, EmailSettings, SmtpTls};

fn complete() -> ChannelConnection {
    let mut connection = ChannelConnection::default();
    connection
        .settings
        .insert("address".into(), "support@shop.example".into());
    connection
        .settings
        .insert("smtp_host".into(), "smtp.shop.example".into());
    connection
        .secrets
        .insert("inbound_secret".into(), "a-long-random-key".into());
    connection
}

fn refused(connection: &ChannelConnection) -> String {
    EmailAdapter::new()
        .check_connection(connection)
        .expect_err("refused")
}

#[test]
fn h1_the_adapter_serves_email() {
    assert_eq!(EmailAdapter::new().kind(), ChannelKind::Email);
}

#[test]
fn a_complete_connection_defaults_to_starttls_on_587() {
    assert_eq!(EmailAdapter::new().check_connection(&complete()), Ok(()));
    let settings = EmailSettings::from_connection(&complete()).unwrap();
    assert_eq!(settings.smtp.tls, SmtpTls::StartTls);
    assert_eq!(settings.smtp.port, 587);
    assert_eq!(settings.smtp.from, "support@shop.example");
    assert_eq!(settings.smtp.domain(), "shop.example");
    assert_eq!(settings.smtp.credentials, None);
    assert_eq!(settings.inbound_secret, "a-long-random-key");
}

#[test]
fn the_port_follows_the_tls_mode_unless_given() {
    for (mode, port, tls) in [
        ("none", 25, SmtpTls::None),
        ("TLS", 465, SmtpTls::Tls),
        ("starttls", 587, SmtpTls::StartTls),
    ] {
        let mut connection = complete();
        connection.settings.insert("smtp_tls".into(), mode.into());
        let settings = EmailSettings::from_connection(&connection).unwrap();
        assert_eq!((settings.smtp.tls, settings.smtp.port), (tls, port));
        connection
            .settings
            .insert("smtp_port".into(), "2525".into());
        let settings = EmailSettings::from_connection(&connection).unwrap();
        assert_eq!(settings.smtp.port, 2525);
    }
}

#[test]
fn each_missing_or_malformed_key_is_named() {
    // (settings or secrets, key, new value or removed, the start of the answer)
    let cases = [
        (false, "address", None, "settings.address is missing"),
        (
            false,
            "address",
            Some("support"),
            "settings.address `support` is not an email address",
        ),
        (false, "address", Some("  "), "settings.address is missing"),
        (false, "smtp_host", None, "settings.smtp_host is missing"),
        (
            false,
            "smtp_host",
            Some("smtp://x:25"),
            "settings.smtp_host `smtp://x:25` is not a host name",
        ),
        (
            false,
            "smtp_tls",
            Some("ssl"),
            "settings.smtp_tls `ssl` is not a TLS mode",
        ),
        (
            false,
            "smtp_port",
            Some("0"),
            "settings.smtp_port `0` is not a port",
        ),
        (
            false,
            "smtp_port",
            Some("70000"),
            "settings.smtp_port `70000` is not a port",
        ),
        (
            true,
            "smtp_username",
            Some("u"),
            "secrets.smtp_password is missing",
        ),
        (
            true,
            "smtp_password",
            Some("p"),
            "secrets.smtp_username is missing",
        ),
        (
            true,
            "inbound_secret",
            None,
            "secrets.inbound_secret is missing",
        ),
    ];
    for (secret, key, value, expected) in cases {
        let mut connection = complete();
        let map = if secret {
            &mut connection.secrets
        } else {
            &mut connection.settings
        };
        match value {
            Some(value) => map.insert(key.to_owned(), value.to_owned()),
            None => map.remove(key),
        };
        let why = refused(&connection);
        assert!(why.starts_with(expected), "{why} / {expected}");
    }
}

#[test]
fn credentials_come_as_a_pair() {
    let mut connection = complete();
    connection
        .secrets
        .insert("smtp_username".into(), "user".into());
    connection
        .secrets
        .insert("smtp_password".into(), "pass".into());
    let settings = EmailSettings::from_connection(&connection).unwrap();
    assert_eq!(
        settings.smtp.credentials,
        Some(("user".to_owned(), "pass".to_owned()))
    );
}
