//! The web chat widget's use cases (W1-W5, A3, S5, S6, S8): the public side of an inbox.
//!
//! A visitor's browser first asks for a proof-of-work challenge ([`pow`]), solves it, and
//! starts a session with the pre-chat form (W1), the page it is on and its referrer (W4), and
//! optionally an identity signed by the company's own site (W5). The session's token is bound
//! to one contact on one inbox (A3): every later call reaches only that contact's conversation
//! on that inbox (S5). Without a valid signature the visitor is a new anonymous contact,
//! whatever email it types (S6). Abuse protection (W3, S8) is in memory, per process:
//! [`limiter`] buckets per IP for the public calls and session starts, per visitor for
//! messages and page views.
//!
//! What does not live here: HTTP (client address, CORS headers, body limits are `inbox-http`'s),
//! what a contact's message does to the conversation ([`App::receive_inbound`]).

pub mod limiter;
pub mod pow;
pub mod user_agent;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock, PoisonError};

use chrono::Duration;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Availability, ChannelIdentity, Contact, Inbox, PreChatField};
use conversation_core::ids::{AccountId, ContactId, ConversationId, InboxId};
use conversation_core::message::{Message, MessageKind, for_contact};
use conversation_core::ports::{Session, SessionSubject};
use conversation_core::{DomainError, Timestamp};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::App;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::inbound::Inbound;
use crate::secrets::{TokenKind, new_token, random_bytes, token_hash};

pub use limiter::{Limiter, Rate, ip_key};
pub use pow::Challenge;

/// The longest text a visitor may send, in characters.
pub const VISITOR_TEXT_LIMIT: usize = 5000;
/// The longest page URL or referrer kept (W4).
pub const URL_LIMIT: usize = 2048;
/// How many visited pages a contact keeps (W4): the latest ones.
pub const PAGES_KEPT: usize = 50;
/// The longest `client_id` (M8).
pub const CLIENT_ID_LIMIT: usize = 100;

/// The contact attributes the widget writes (W4, K1).
pub mod attributes {
    /// The visitor's IP address at their latest session start.
    pub const IP: &str = "widget.ip";
    /// Their browser (`Chrome 124`).
    pub const BROWSER: &str = "widget.browser";
    /// Their operating system.
    pub const OS: &str = "widget.os";
    /// The page where the chat started.
    pub const START_PAGE: &str = "widget.start_page";
    /// The referrer of that page.
    pub const REFERRER: &str = "widget.referrer";
    /// The pages visited while chatting: a JSON array of `{"url", "title", "at"}`, the latest
    /// [`super::PAGES_KEPT`].
    pub const PAGES: &str = "widget.pages";
    /// The prefix of custom pre-chat fields (`form.company`).
    pub const FORM_PREFIX: &str = "form.";
    /// W5: the verified identifier of the visitor, when the site signed one.
    pub const VERIFIED_ID: &str = "widget.verified_id";
}

/// W3: the abuse protection's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WidgetConfig {
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a reverse
    /// proxy that sets it; otherwise clients could pick their own address).
    pub trusted_proxy: bool,
    /// The default proof-of-work difficulty, in leading zero bits (an inbox may override it).
    pub pow_difficulty: u8,
    /// How long a challenge may be solved, in seconds.
    pub challenge_ttl_secs: u32,
    /// The most spent challenges remembered at once.
    pub max_spent_challenges: usize,
    /// Per IP: challenges and status reads.
    pub public_per_ip: Rate,
    /// Per IP: session starts.
    pub sessions_per_ip: Rate,
    /// Per visitor: messages and page views.
    pub writes_per_visitor: Rate,
    /// The most keys each limiter remembers.
    pub max_tracked_keys: usize,
    /// How long an inbox's allowed origins are cached for CORS, in seconds.
    pub origins_cache_secs: u32,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        Self {
            trusted_proxy: false,
            pow_difficulty: 16,
            challenge_ttl_secs: 120,
            max_spent_challenges: 100_000,
            public_per_ip: Rate::new(60, 1000),
            sessions_per_ip: Rate::new(10, 12_000),
            writes_per_visitor: Rate::new(20, 1000),
            max_tracked_keys: 100_000,
            origins_cache_secs: 30,
        }
    }
}

/// The widget's in-memory state: the challenge key, spent challenges, rate limits, and the
/// allowed origins of inboxes (CORS).
pub struct WidgetGuard {
    config: WidgetConfig,
    challenger: OnceLock<pow::Challenger>,
    public: Limiter<IpAddr>,
    sessions: Limiter<IpAddr>,
    writes: Limiter<ContactId>,
    origins: Mutex<HashMap<InboxId, (Vec<String>, Timestamp)>>,
}

impl std::fmt::Debug for WidgetGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetGuard")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WidgetGuard {
    /// A guard with these settings; the challenge key is generated now (or, should the system
    /// have no randomness yet, at the first challenge).
    #[must_use]
    pub fn new(config: WidgetConfig) -> Self {
        let guard = Self {
            config,
            challenger: OnceLock::new(),
            public: Limiter::new(config.public_per_ip, config.max_tracked_keys),
            sessions: Limiter::new(config.sessions_per_ip, config.max_tracked_keys),
            writes: Limiter::new(config.writes_per_visitor, config.max_tracked_keys),
            origins: Mutex::new(HashMap::new()),
        };
        let _ = guard.challenger();
        guard
    }

    fn challenger(&self) -> AppResult<&pow::Challenger> {
        if let Some(challenger) = self.challenger.get() {
            return Ok(challenger);
        }
        let challenger = pow::Challenger::new(
            random_bytes::<32>()?,
            Duration::seconds(i64::from(self.config.challenge_ttl_secs.max(1))),
            self.config.max_spent_challenges,
        );
        Ok(self.challenger.get_or_init(|| challenger))
    }
}

fn limited(result: Result<(), u64>) -> AppResult<()> {
    result.map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })
}

/// What the HTTP layer knows of the visitor's browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address.
    pub ip: IpAddr,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// W5: an identifier the company's site vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIdentity {
    /// The site's id of its customer.
    pub identifier: String,
    /// Lower-case hex of `HMAC-SHA256(inbox widget secret, identifier)`.
    pub signature: String,
}

/// W1, W3-W5: what a visitor sends to start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartVisitor {
    /// The challenge token, as received.
    pub challenge: String,
    /// Its solution.
    pub solution: String,
    /// W1: the pre-chat form: `name`, `email`, `phone` and custom fields.
    pub form: BTreeMap<String, String>,
    /// W4: the page the chat starts on.
    pub page_url: Option<String>,
    /// W4: that page's referrer.
    pub referrer: Option<String>,
    /// W5: a signed identity.
    pub identity: Option<SignedIdentity>,
}

/// A started visitor session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorSession {
    /// The bearer token: shown once.
    pub token: String,
    /// The contact it is bound to.
    pub contact: ContactId,
    /// The inbox it is bound to.
    pub inbox: InboxId,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// W5: whether the contact is a verified returning customer.
    pub verified: bool,
}

/// W2: what the widget shows before the chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetStatus {
    /// The inbox's name.
    pub name: String,
    /// Whether an agent of the inbox's queue is available now.
    pub online: bool,
    /// The company logo.
    pub logo_url: Option<String>,
    /// The name of an available agent, to show with the avatar.
    pub agent_name: Option<String>,
    /// W1: the pre-chat form.
    pub pre_chat_fields: Vec<PreChatField>,
}

/// The visitor's messages after a point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorMessages {
    /// The messages the contact may see (M10), in sequence order.
    pub messages: Vec<Message>,
    /// Pass as `after` for the next page: the last sequence read (notes included, so a page of
    /// hidden notes does not stall the reader).
    pub after: u64,
    /// The conversation, once there is one.
    pub conversation: Option<ConversationId>,
}

/// A3, S5: the contact and inbox a visitor token is bound to.
///
/// # Errors
/// `not_found` for anyone but a visitor (the widget's resources do not exist for them).
pub fn visitor_of(caller: &Caller) -> AppResult<(AccountId, ContactId, InboxId)> {
    match caller {
        Caller::Visitor {
            account,
            contact,
            inbox,
        } => Ok((*account, *contact, *inbox)),
        _ => Err(DomainError::NotFound.into()),
    }
}

fn invalid(field: &'static str, reason: &'static str) -> AppError {
    DomainError::InvalidValue { field, reason }.into()
}

fn clean(value: Option<&String>, field: &'static str, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(invalid(field, "too long or has control characters"));
    }
    Ok(Some(value.to_owned()))
}

/// W4: a page address: `http` or `https` only (nothing an agent's browser could run).
fn clean_url(value: Option<&str>, field: &'static str) -> AppResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(invalid(field, "must be an http or https address"));
    }
    if value.len() > URL_LIMIT || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(field, "too long or not an address"));
    }
    Ok(Some(value.to_owned()))
}

/// The pre-chat form, checked against the inbox's fields (W1).
#[derive(Debug, Default)]
struct Form {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    custom: BTreeMap<String, String>,
}

fn check_form(fields: &[PreChatField], form: &BTreeMap<String, String>) -> AppResult<Form> {
    let mut out = Form {
        name: clean(form.get("name"), "form.name", 200)?,
        email: clean(form.get("email"), "form.email", 254)?,
        phone: clean(form.get("phone"), "form.phone", 50)?,
        custom: BTreeMap::new(),
    };
    if out.email.as_deref().is_some_and(|e| {
        let mut parts = e.split('@');
        !matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.'))
    }) {
        return Err(invalid("form.email", "not an email address"));
    }
    for (key, value) in form {
        if matches!(key.as_str(), "name" | "email" | "phone") {
            continue;
        }
        if !fields.iter().any(|field| &field.key == key) {
            return Err(invalid(
                "form",
                "has a field the inbox's form does not have",
            ));
        }
        if let Some(value) = clean(Some(value), "form", 1000)? {
            out.custom.insert(key.clone(), value);
        }
    }
    for field in fields.iter().filter(|field| field.required) {
        let filled = match field.key.as_str() {
            "name" => out.name.is_some(),
            "email" => out.email.is_some(),
            "phone" => out.phone.is_some(),
            key => out.custom.contains_key(key),
        };
        if !filled {
            return Err(DomainError::MissingField {
                field: "a required field of the pre-chat form",
            }
            .into());
        }
    }
    Ok(out)
}

/// W5: whether the site signed this identifier with the inbox's secret (constant-time).
fn identity_verified(secret: &str, identity: &SignedIdentity) -> bool {
    let Some(signature) = decode_hex(identity.signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(identity.identifier.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The origin as the widget settings and the `Origin` header compare it.
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl App {
    /// The widget's abuse-protection settings.
    #[must_use]
    pub fn widget_config(&self) -> &WidgetConfig {
        &self.widget.config
    }

    /// A web chat inbox, by its public id.
    async fn widget_inbox(&self, id: InboxId) -> AppResult<Inbox> {
        self.store
            .inbox_by_id(id)
            .await?
            .filter(|inbox| inbox.channel == ChannelKind::WebChat)
            .ok_or_else(|| DomainError::NotFound.into())
    }

    /// W3: a proof-of-work challenge for starting a session on the inbox.
    ///
    /// # Errors
    /// `rate_limited` for too many calls from this address; `not_found` for an unknown inbox
    /// or one that is not a web chat.
    pub async fn widget_challenge(&self, inbox: InboxId, ip: IpAddr) -> AppResult<Challenge> {
        let now = self.now();
        limited(self.widget.public.check(&ip_key(ip), now))?;
        let inbox = self.widget_inbox(inbox).await?;
        let difficulty = inbox
            .settings
            .widget
            .pow_difficulty
            .unwrap_or(self.widget.config.pow_difficulty);
        Ok(self
            .widget
            .challenger()?
            .issue(inbox.id, difficulty, random_bytes::<16>()?, now))
    }

    /// W2: the avatar, whether the team is online now, and the pre-chat form.
    ///
    /// # Errors
    /// As [`App::widget_challenge`].
    pub async fn widget_status(&self, inbox: InboxId, ip: IpAddr) -> AppResult<WidgetStatus> {
        limited(self.widget.public.check(&ip_key(ip), self.now()))?;
        let inbox = self.widget_inbox(inbox).await?;
        let members = match inbox.queue {
            Some(queue) => Some(
                self.store
                    .queue(inbox.account, queue)
                    .await?
                    .map(|q| q.members)
                    .unwrap_or_default(),
            ),
            None => None,
        };
        let available = self
            .store
            .agents(inbox.account)
            .await?
            .into_iter()
            .filter(|agent| agent.availability == Availability::Available)
            .find(|agent| members.as_ref().is_none_or(|m| m.contains(&agent.id)));
        Ok(WidgetStatus {
            name: inbox.name,
            online: available.is_some(),
            logo_url: inbox.settings.widget.logo_url,
            agent_name: available.map(|agent| agent.name),
            pre_chat_fields: inbox.settings.widget.pre_chat_fields,
        })
    }

    /// CORS: whether a browser page of `origin` may call the widget API of the inbox (its
    /// settings' allowed origins, cached for a few seconds).
    pub async fn widget_origin_allowed(&self, inbox: InboxId, origin: &str) -> bool {
        let now = self.now();
        let ttl = Duration::seconds(i64::from(self.widget.config.origins_cache_secs));
        let origin = normalize_origin(origin);
        let cached = {
            let cache = self
                .widget
                .origins
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            cache
                .get(&inbox)
                .filter(|(_, at)| now - *at < ttl)
                .map(|(origins, _)| origins.contains(&origin))
        };
        if let Some(allowed) = cached {
            return allowed;
        }
        let origins: Vec<String> = match self.widget_inbox(inbox).await {
            Ok(found) => found
                .settings
                .widget
                .allowed_origins
                .iter()
                .map(|o| normalize_origin(o))
                .collect(),
            Err(AppError::Domain(DomainError::NotFound)) => Vec::new(),
            Err(_) => return false,
        };
        let allowed = origins.contains(&origin);
        let mut cache = self
            .widget
            .origins
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= self.widget.config.max_tracked_keys {
            cache.retain(|_, (_, at)| now - *at < ttl);
            if cache.len() >= self.widget.config.max_tracked_keys {
                cache.clear();
            }
        }
        cache.insert(inbox, (origins, now));
        allowed
    }

    /// W1, W3-W5, A3, S6: starts a visitor's session on a web chat inbox.
    ///
    /// # Errors
    /// `rate_limited` for too many starts from this address; `not_found` for an unknown inbox;
    /// `invalid_value` for an unsolved, expired or spent challenge, a malformed form field or
    /// address, or an identity whose signature is wrong; `missing_field` for a required field
    /// of the form left empty.
    pub async fn start_visitor_session(
        &self,
        inbox: InboxId,
        start: StartVisitor,
        client: &ClientInfo,
    ) -> AppResult<VisitorSession> {
        let now = self.now();
        limited(self.widget.sessions.check(&ip_key(client.ip), now))?;
        let inbox = self.widget_inbox(inbox).await?;
        let settings = &inbox.settings.widget;
        let form = check_form(&settings.pre_chat_fields, &start.form)?;
        let page_url = clean_url(start.page_url.as_deref(), "page_url")?;
        let referrer = clean_url(start.referrer.as_deref(), "referrer")?;
        let verified = match &start.identity {
            None => None,
            Some(identity) => {
                let identifier = clean(Some(&identity.identifier), "identity.identifier", 200)?
                    .ok_or(DomainError::MissingField {
                        field: "identity.identifier",
                    })?;
                let secret = settings
                    .secret
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| invalid("identity", "this inbox does not verify identities"))?;
                if !identity_verified(secret, identity) {
                    return Err(invalid(
                        "identity.signature",
                        "does not match the identifier",
                    ));
                }
                Some(identifier)
            }
        };
        self.widget
            .challenger()?
            .redeem(inbox.id, &start.challenge, &start.solution, now)?;

        let mut contact = match &verified {
            // W5: the verified customer's contact on this inbox, or a new one for them.
            Some(identifier) => self.verified_contact(&inbox, identifier, now).await?,
            // S6: anyone else is a new anonymous contact, whatever they typed.
            None => {
                let id = ContactId::from_uuid(self.ids.new_uuid(now));
                new_contact(&inbox, id, format!("visitor:{id}"), now)
            }
        };
        if verified.is_some() {
            // A verified customer's card keeps what it has; the form only fills gaps.
            contact.name = contact.name.take().or(form.name);
            contact.email = contact.email.take().or(form.email);
            contact.phone = contact.phone.take().or(form.phone);
        } else {
            contact.name = form.name;
            contact.email = form.email;
            contact.phone = form.phone;
        }
        for (key, value) in form.custom {
            contact
                .attributes
                .insert(format!("{}{key}", attributes::FORM_PREFIX), value);
        }
        let agent = client
            .user_agent
            .as_deref()
            .map(user_agent::parse)
            .unwrap_or_else(|| user_agent::parse(""));
        let attrs = &mut contact.attributes;
        attrs.insert(attributes::IP.into(), client.ip.to_string());
        attrs.insert(attributes::BROWSER.into(), agent.browser);
        attrs.insert(attributes::OS.into(), agent.os);
        for (key, value) in [
            (attributes::START_PAGE, page_url),
            (attributes::REFERRER, referrer),
        ] {
            match value {
                Some(value) => attrs.insert(key.into(), value),
                None => attrs.remove(key),
            };
        }
        if let Some(identifier) = &verified {
            attrs.insert(attributes::VERIFIED_ID.into(), identifier.clone());
        }
        self.store.save_contact(&contact).await?;

        let token = new_token(TokenKind::VisitorSession)?;
        let expires_at = now + self.config.visitor_ttl;
        self.store
            .create_session(&Session {
                id: self.ids.new_uuid(now),
                account: inbox.account,
                subject: SessionSubject::Visitor {
                    contact: contact.id,
                    inbox: inbox.id,
                },
                token_hash: token_hash(&token),
                created_at: now,
                expires_at,
                revoked_at: None,
            })
            .await?;
        Ok(VisitorSession {
            token,
            contact: contact.id,
            inbox: inbox.id,
            expires_at,
            verified: verified.is_some(),
        })
    }

    /// W5: the contact known on the inbox by this verified identifier, created on first sight
    /// (a concurrent first start of the same customer finds the one the other created).
    async fn verified_contact(
        &self,
        inbox: &Inbox,
        identifier: &str,
        now: Timestamp,
    ) -> AppResult<Contact> {
        let external_id = format!("verified:{identifier}");
        for _ in 0..2 {
            if let Some(contact) = self
                .store
                .contact_by_identity(inbox.account, inbox.id, &external_id)
                .await?
            {
                return Ok(contact);
            }
            let id = ContactId::from_uuid(self.ids.new_uuid(now));
            let contact = new_contact(inbox, id, external_id.clone(), now);
            match self.store.save_contact(&contact).await {
                Ok(()) => return Ok(contact),
                Err(conversation_core::ports::StoreError::Domain(DomainError::Conflict {
                    ..
                })) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(DomainError::Conflict {
            what: "the contact",
        }
        .into())
    }

    /// A3, S5: the inbox of a visitor's token, still a web chat inbox of their account.
    pub(crate) async fn visitor_inbox(&self, caller: &Caller) -> AppResult<(Inbox, ContactId)> {
        let (account, contact, inbox) = visitor_of(caller)?;
        let inbox = self
            .store
            .inbox(account, inbox)
            .await?
            .filter(|inbox| inbox.channel == ChannelKind::WebChat)
            .ok_or(DomainError::NotFound)?;
        Ok((inbox, contact))
    }

    /// W1, C2, C3, M8: a visitor writes in their conversation (started by the first message,
    /// reopened if closed). A retry with the same `client_id` returns the stored message.
    ///
    /// # Errors
    /// `not_found` for a caller that is not a visitor or whose inbox is gone; `rate_limited`;
    /// `message_blank`, `message_too_long`, `invalid_value` for a bad `client_id`.
    pub async fn visitor_send(
        &self,
        caller: &Caller,
        text: &str,
        client_id: Option<String>,
    ) -> AppResult<Message> {
        let (inbox, contact) = self.visitor_inbox(caller).await?;
        limited(self.widget.writes.check(&contact, self.now()))?;
        if text.trim().is_empty() {
            return Err(DomainError::MessageBlank.into());
        }
        let length = text.chars().count();
        if length > VISITOR_TEXT_LIMIT {
            return Err(DomainError::MessageTooLong {
                max: VISITOR_TEXT_LIMIT,
                actual: length,
            }
            .into());
        }
        let client_id = clean(client_id.as_ref(), "client_id", CLIENT_ID_LIMIT)?;
        let received = self
            .receive_inbound(
                &inbox,
                contact,
                Inbound {
                    kind: MessageKind::Text,
                    body: text.to_owned(),
                    attachment: None,
                    external_id: None,
                    client_id,
                },
            )
            .await?;
        self.store
            .message(inbox.account, received.message)
            .await?
            .ok_or_else(|| AppError::Internal("stored message not found".into()))
    }

    /// M9, M10: the visitor's conversation's messages after `after`, without anything private.
    ///
    /// # Errors
    /// `not_found` for a caller that is not a visitor or whose inbox is gone.
    pub async fn visitor_messages(
        &self,
        caller: &Caller,
        after: u64,
        limit: u32,
    ) -> AppResult<VisitorMessages> {
        let (inbox, contact) = self.visitor_inbox(caller).await?;
        let Some(conversation) = self
            .store
            .latest_conversation(inbox.account, inbox.id, contact)
            .await?
        else {
            return Ok(VisitorMessages {
                messages: Vec::new(),
                after,
                conversation: None,
            });
        };
        let read = self
            .store
            .messages_after(
                inbox.account,
                conversation.value.id,
                after,
                limit.clamp(1, 200),
            )
            .await?;
        let last = read.last().map_or(after, |m| m.sequence);
        Ok(VisitorMessages {
            messages: for_contact(read).collect(),
            after: last,
            conversation: Some(conversation.value.id),
        })
    }

    /// W4: a page the visitor opened while chatting, kept on their contact card (the latest
    /// [`PAGES_KEPT`]).
    ///
    /// # Errors
    /// `not_found`; `rate_limited`; `invalid_value` for an address that is not http(s).
    pub async fn visitor_page_view(
        &self,
        caller: &Caller,
        url: &str,
        title: Option<&str>,
    ) -> AppResult<()> {
        let (inbox, contact) = self.visitor_inbox(caller).await?;
        let now = self.now();
        limited(self.widget.writes.check(&contact, now))?;
        let url = clean_url(Some(url), "url")?.ok_or(DomainError::MissingField { field: "url" })?;
        let title = clean(title.map(str::to_owned).as_ref(), "title", 300)?;
        let mut stored = self
            .store
            .contact(inbox.account, contact)
            .await?
            .ok_or(DomainError::NotFound)?;
        let mut pages: Vec<serde_json::Value> = stored
            .attributes
            .get(attributes::PAGES)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        pages.push(serde_json::json!({ "url": url, "title": title, "at": now }));
        let excess = pages.len().saturating_sub(PAGES_KEPT);
        pages.drain(..excess);
        stored.attributes.insert(
            attributes::PAGES.into(),
            serde_json::Value::Array(pages).to_string(),
        );
        self.store.save_contact(&stored).await?;
        Ok(())
    }
}

fn new_contact(inbox: &Inbox, id: ContactId, external_id: String, now: Timestamp) -> Contact {
    Contact {
        id,
        account: inbox.account,
        name: None,
        email: None,
        phone: None,
        location: None,
        notes: String::new(),
        attributes: BTreeMap::new(),
        responsible_agent: None,
        identities: vec![ChannelIdentity {
            inbox: inbox.id,
            external_id,
        }],
        merged_into: None,
        created_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, required: bool) -> PreChatField {
        PreChatField {
            key: key.into(),
            label: key.into(),
            required,
        }
    }

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn w1_the_form_fills_the_card_and_custom_fields() {
        let fields = [field("name", true), field("company", false)];
        let checked = check_form(
            &fields,
            &form(&[
                ("name", " Ada "),
                ("email", "ada@example.com"),
                ("company", "ACME"),
            ]),
        )
        .unwrap();
        assert_eq!(checked.name.as_deref(), Some("Ada"));
        assert_eq!(checked.email.as_deref(), Some("ada@example.com"));
        assert_eq!(
            checked.custom.get("company").map(String::as_str),
            Some("ACME")
        );
        assert_eq!(
            check_form(&fields, &form(&[("email", "a@b.c")]))
                .unwrap_err()
                .code(),
            "missing_field"
        );
        assert_eq!(
            check_form(&fields, &form(&[("name", "A"), ("role", "admin")]))
                .unwrap_err()
                .code(),
            "invalid_value",
            "S2: fields the form does not have are refused"
        );
        assert_eq!(
            check_form(&[], &form(&[("email", "not an email")]))
                .unwrap_err()
                .code(),
            "invalid_value"
        );
    }

    #[test]
    fn w4_only_web_addresses_are_kept() {
        assert_eq!(
            clean_url(Some("https://shop.example/p?q=1"), "page_url").unwrap(),
            Some("https://shop.example/p?q=1".to_owned())
        );
        assert_eq!(clean_url(Some("  "), "page_url").unwrap(), None);
        assert!(clean_url(Some("javascript:alert(1)"), "page_url").is_err());
        assert!(clean_url(Some("https://a b"), "page_url").is_err());
    }

    #[test]
    fn w5_only_the_inbox_secret_signs_an_identity() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"site secret").unwrap();
        mac.update(b"customer-42");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let identity = |signature: &str| SignedIdentity {
            identifier: "customer-42".into(),
            signature: signature.into(),
        };
        assert!(identity_verified("site secret", &identity(&hex)));
        assert!(identity_verified(
            "site secret",
            &identity(&hex.to_uppercase())
        ));
        assert!(!identity_verified("other secret", &identity(&hex)));
        assert!(!identity_verified("site secret", &identity("abc")));
        assert!(!identity_verified("site secret", &identity("")));
        let other = SignedIdentity {
            identifier: "customer-43".into(),
            signature: hex,
        };
        assert!(!identity_verified("site secret", &other));
    }

    #[test]
    fn cors_origins_compare_without_case_or_trailing_slash() {
        assert_eq!(
            normalize_origin("https://Shop.Example/"),
            "https://shop.example"
        );
    }
}
