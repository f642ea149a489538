//! M1, C4: template messages. A template body names its parameters between angle brackets,
//! `Hello <name>, your order <order_id> shipped.`; [`Template::parse`] checks the syntax once and
//! [`Template::render`] fills the parameters in. [`check_template_allowed`] is the template part
//! of C4: outside the reply window only an approved template may be sent, and only where the
//! channel supports templates.
//!
//! Syntax: a parameter name is one or more letters or digits (any script), `_` or `-`, with no
//! spaces. `<` and `>` are reserved for parameters (M2), so a template has no escape for them:
//! a `<` that is not closed by `>` before the next `<`, a lone `>`, an empty `<>` or a name with
//! another character is a syntax error. Rendering is one pass: a value is inserted as it is and
//! never read again as template text. A value may not contain `<` or `>` either (the rendered
//! body goes to channels that reserve them), nor be blank. Values for names the template does not
//! use are ignored. Card numbers in the rendered body are masked when the message is made
//! ([`Message::create`](super::Message::create)).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::channel::Capabilities;
use crate::error::{DomainError, DomainResult};

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// Text copied as is.
    Literal(String),
    /// A parameter, by name.
    Parameter(String),
}

/// A template body whose syntax was checked (M1). Serializes as its body text; deserializing
/// parses it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    segments: Vec<Segment>,
}

const FIELD: &str = "template";

fn syntax_error(reason: &'static str) -> DomainError {
    DomainError::InvalidValue {
        field: FIELD,
        reason,
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl Template {
    /// Parses a template body.
    ///
    /// # Errors
    /// `invalid_value` (field `template`) for a `<` left open, a `>` with no `<`, an empty `<>`,
    /// or a parameter name with a character other than a letter, a digit, `_` or `-`.
    pub fn parse(body: &str) -> DomainResult<Self> {
        let mut segments = Vec::new();
        let mut rest = body;
        while let Some(open) = rest.find(['<', '>']) {
            if rest[open..].starts_with('>') {
                return Err(syntax_error("a '>' closes no parameter"));
            }
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find(['<', '>'])
                .filter(|&close| after[close..].starts_with('>'))
                .ok_or_else(|| syntax_error("a '<' is not closed by '>'"))?;
            let name = &after[..close];
            if name.is_empty() {
                return Err(syntax_error("a parameter has no name"));
            }
            if !name.chars().all(is_name_char) {
                return Err(syntax_error(
                    "a parameter name has only letters, digits, '_' and '-'",
                ));
            }
            segments.push(Segment::Parameter(name.to_owned()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_owned()));
        }
        Ok(Self { segments })
    }

    /// The parameter names, each once, in the order they first appear.
    #[must_use]
    pub fn parameters(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for segment in &self.segments {
            if let Segment::Parameter(name) = segment {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The body with every parameter replaced by its value.
    ///
    /// # Errors
    /// `missing_field` (field `template_parameters`) when a parameter has no value or a blank
    /// one; `reserved_character` when a value contains `<` or `>`.
    pub fn render(&self, values: &BTreeMap<String, String>) -> DomainResult<String> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Parameter(name) => {
                    let value = values
                        .get(name)
                        .filter(|value| !value.trim().is_empty())
                        .ok_or(DomainError::MissingField {
                            field: "template_parameters",
                        })?;
                    if let Some(character) = value.chars().find(|c| matches!(c, '<' | '>')) {
                        return Err(DomainError::ReservedCharacter { character });
                    }
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    /// The body as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => f.write_str(text)?,
                Segment::Parameter(name) => write!(f, "<{name}>")?,
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for Template {
    type Error = DomainError;

    fn try_from(body: String) -> DomainResult<Self> {
        Self::parse(&body)
    }
}

impl From<Template> for String {
    fn from(template: Template) -> Self {
        template.to_string()
    }
}

/// C4: whether a template message may be sent now. Inside the reply window a template is sent
/// like any reply. Outside it, only where the channel supports approved templates
/// (`Capabilities::templates`); a free-form reply outside the window is refused elsewhere, with
/// `reply_window_closed`. A channel without a window is always inside it.
///
/// # Errors
/// `capability_unsupported` (capability `templates`) outside the window on a channel without
/// templates.
pub const fn check_template_allowed(
    capabilities: &Capabilities,
    within_reply_window: bool,
) -> DomainResult<()> {
    if within_reply_window || capabilities.templates {
        Ok(())
    } else {
        Err(DomainError::CapabilityUnsupported {
            capability: "templates",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ChannelKind;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn m1_template_parameters_are_parsed_in_order_once_each() {
        let template = Template::parse("Hi <name>, order <order_id> for <name> is <état-2>.")
            .expect("valid template");
        assert_eq!(template.parameters(), ["name", "order_id", "état-2"]);
        assert!(
            Template::parse("no parameters")
                .unwrap()
                .parameters()
                .is_empty()
        );
        assert!(Template::parse("").unwrap().parameters().is_empty());
        assert_eq!(
            Template::parse("مرحبا <الاسم>").unwrap().parameters(),
            ["الاسم"]
        );
    }

    #[test]
    fn m1_template_renders_with_its_values() {
        let template = Template::parse("Hi <name>, order <order_id> for <name>.").unwrap();
        let rendered = template
            .render(&values(&[
                ("name", "Ann"),
                ("order_id", "A-17"),
                ("unused", "x"),
            ]))
            .unwrap();
        assert_eq!(rendered, "Hi Ann, order A-17 for Ann.");
        assert_eq!(
            Template::parse("<a><b>")
                .unwrap()
                .render(&values(&[("a", "1"), ("b", "2")])),
            Ok("12".to_owned())
        );
    }

    #[test]
    fn m1_missing_or_blank_values_are_refused() {
        let template = Template::parse("Hi <name>, order <order_id>").unwrap();
        let missing = DomainError::MissingField {
            field: "template_parameters",
        };
        assert_eq!(
            template.render(&values(&[("name", "Ann")])),
            Err(missing.clone())
        );
        assert_eq!(
            template.render(&values(&[("name", "Ann"), ("order_id", "  ")])),
            Err(missing)
        );
    }

    #[test]
    fn m1_values_are_inserted_once_and_may_not_hold_angle_brackets() {
        let template = Template::parse("Hi <name>").unwrap();
        assert_eq!(
            template.render(&values(&[("name", "<order_id>")])),
            Err(DomainError::ReservedCharacter { character: '<' })
        );
    }

    #[test]
    fn m1_bad_template_syntax_is_refused() {
        for body in [
            "Hi <name",
            "Hi name>",
            "Hi <>",
            "Hi <first name>",
            "Hi <a<b>",
            "Hi <a>>",
            "<",
            ">",
        ] {
            let error = Template::parse(body).unwrap_err();
            assert_eq!(error.code(), "invalid_value", "{body}");
        }
    }

    #[test]
    fn m1_template_round_trips_through_text_and_serde() {
        let body = "Hello <name>, see <link_1>!";
        let template = Template::parse(body).unwrap();
        assert_eq!(template.to_string(), body);
        let json = serde_json::to_string(&template).unwrap();
        assert_eq!(json, format!("\"{body}\""));
        assert_eq!(serde_json::from_str::<Template>(&json).unwrap(), template);
        assert!(serde_json::from_str::<Template>("\"Hello <name\"").is_err());
    }

    #[test]
    fn c4_template_outside_the_window_needs_channel_support() {
        let whatsapp = ChannelKind::Whatsapp.capabilities();
        let web_chat = ChannelKind::WebChat.capabilities();
        assert_eq!(check_template_allowed(&whatsapp, false), Ok(()));
        assert_eq!(
            check_template_allowed(&web_chat, false),
            Err(DomainError::CapabilityUnsupported {
                capability: "templates"
            })
        );
    }

    #[test]
    fn c4_template_inside_the_window_is_allowed_on_every_channel() {
        for kind in ChannelKind::ALL {
            assert_eq!(check_template_allowed(&kind.capabilities(), true), Ok(()));
        }
    }
}
