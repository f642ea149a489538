//! A small SMTP server for the tests (RFC 5321): greeting, EHLO/HELO, AUTH PLAIN, MAIL FROM,
//! RCPT TO, DATA with dot-unstuffing, RSET, NOOP, QUIT. It captures every accepted mail, and
//! answers a scripted 4xx or 5xx at a chosen stage on demand, once per script entry. It does
//! not offer STARTTLS. It needs only tokio, so the end-to-end tests (`tests/tests/`) include
//! it too.

#![allow(dead_code, reason = "each test file uses a part of the helper")]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Where a scripted failure is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Instead of 250 to `MAIL FROM`.
    MailFrom,
    /// Instead of 250 to `RCPT TO`.
    RcptTo,
    /// Instead of 250 after the mail's final dot.
    DataEnd,
}

/// One mail the server accepted.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    /// The EHLO/HELO name.
    pub helo: String,
    /// `user\0password` from `AUTH PLAIN`, if the client authenticated.
    pub auth: Option<(String, String)>,
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_to: Vec<String>,
    /// The mail, dot-unstuffed, CRLF line ends, without the final dot.
    pub data: Vec<u8>,
}

#[derive(Default)]
struct State {
    captured: Vec<Captured>,
    script: VecDeque<(Stage, String)>,
    connections: usize,
}

/// A running server on 127.0.0.1.
#[derive(Clone)]
pub struct SmtpServer {
    /// Its port.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                tokio::spawn(session(socket, Arc::clone(&shared)));
            }
        });
        Self { port, state }
    }

    /// Answers `reply` (such as `451 4.3.0 Try again later`) instead of 250, once, at `stage`.
    pub fn fail_once(&self, stage: Stage, reply: &str) {
        self.state
            .lock()
            .unwrap()
            .script
            .push_back((stage, reply.to_owned()));
    }

    /// The mails accepted so far.
    pub fn captured(&self) -> Vec<Captured> {
        self.state.lock().unwrap().captured.clone()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    fn scripted(&self, stage: Stage) -> Option<String> {
        let mut state = self.state.lock().unwrap();
        let position = state.script.iter().position(|(at, _)| *at == stage)?;
        state.script.remove(position).map(|(_, reply)| reply)
    }
}

async fn session(socket: TcpStream, state: Arc<Mutex<State>>) {
    let server = SmtpServer { port: 0, state };
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut mail = Captured::default();
    if !say(&mut write, "220 smtp.test ESMTP ready").await {
        return;
    }
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO ") {
            mail.helo = line[5..].trim().to_owned();
            "250-smtp.test greets you\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SIZE 10485760"
                .to_owned()
        } else if upper.starts_with("HELO ") {
            mail.helo = line[5..].trim().to_owned();
            "250 smtp.test".to_owned()
        } else if upper.starts_with("AUTH PLAIN ") {
            let decoded = decode_base64(line[11..].trim());
            let parts: Vec<String> = decoded
                .split(|byte| *byte == 0)
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            if parts.len() == 3 {
                mail.auth = Some((parts[1].clone(), parts[2].clone()));
                "235 2.7.0 Authentication successful".to_owned()
            } else {
                "501 5.5.2 Cannot decode the response".to_owned()
            }
        } else if upper.starts_with("MAIL FROM:") {
            match server.scripted(Stage::MailFrom) {
                Some(reply) => reply,
                None => {
                    mail.mail_from = address(&line[10..]);
                    mail.rcpt_to.clear();
                    "250 2.1.0 Ok".to_owned()
                }
            }
        } else if upper.starts_with("RCPT TO:") {
            match server.scripted(Stage::RcptTo) {
                Some(reply) => reply,
                None => {
                    mail.rcpt_to.push(address(&line[8..]));
                    "250 2.1.5 Ok".to_owned()
                }
            }
        } else if upper == "DATA" {
            if !say(&mut write, "354 End data with <CR><LF>.<CR><LF>").await {
                return;
            }
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                match lines.read_until(b'\n', &mut raw).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let content = raw
                    .strip_suffix(b"\r\n")
                    .or_else(|| raw.strip_suffix(b"\n"))
                    .unwrap_or(&raw);
                if content == b"." {
                    break;
                }
                let content = content.strip_prefix(b".").unwrap_or(content);
                data.extend_from_slice(content);
                data.extend_from_slice(b"\r\n");
            }
            match server.scripted(Stage::DataEnd) {
                Some(reply) => reply,
                None => {
                    mail.data = data;
                    server.state.lock().unwrap().captured.push(mail.clone());
                    "250 2.0.0 Ok: queued".to_owned()
                }
            }
        } else if upper == "RSET" {
            mail.mail_from.clear();
            mail.rcpt_to.clear();
            "250 2.0.0 Ok".to_owned()
        } else if upper == "NOOP" {
            "250 2.0.0 Ok".to_owned()
        } else if upper == "QUIT" {
            let _ = say(&mut write, "221 2.0.0 Bye").await;
            return;
        } else {
            "502 5.5.2 Command not recognized".to_owned()
        };
        if !say(&mut write, &reply).await {
            return;
        }
    }
}

async fn say(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    write
        .write_all(format!("{text}\r\n").as_bytes())
        .await
        .is_ok()
}

/// Standard base64 (RFC 4648), padding optional; what does not decode is dropped.
fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for byte in text.bytes().take_while(|byte| *byte != b'=') {
        let Some(value) = ALPHABET.iter().position(|c| *c == byte) else {
            return Vec::new();
        };
        buffer = (buffer << 6) | u32::try_from(value).unwrap_or(0);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).unwrap_or(0));
        }
    }
    out
}

fn address(argument: &str) -> String {
    let argument = argument.trim();
    let end = argument.find('>').map_or(argument.len(), |end| end + 1);
    argument[..end]
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}
