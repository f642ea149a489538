//! Approved-template messages (M1, C4) for WhatsApp and Messenger utility messages, which take
//! the same `template` object: `name`, `language.code`, and a `body` component whose parameters
//! are positional (`{{1}}`, `{{2}}`: parameter names that are all numbers, sent in numeric
//! order) or named (`parameter_name`, for templates created with `parameter_format: NAMED`).

use std::collections::BTreeMap;

use conversation_core::ports::ChannelConnection;
use serde_json::{Value, json};

/// The language templates are sent in when `settings.template_language` is not set.
pub(crate) const DEFAULT_TEMPLATE_LANGUAGE: &str = "en_US";

/// The `template` object for `name` with `parameters`.
pub(crate) fn template_object(
    connection: &ChannelConnection,
    name: &str,
    parameters: &BTreeMap<String, String>,
) -> Value {
    let language = connection
        .setting("template_language")
        .unwrap_or(DEFAULT_TEMPLATE_LANGUAGE);
    let mut template = json!({ "name": name, "language": { "code": language } });
    if !parameters.is_empty() {
        template["components"] =
            json!([{ "type": "body", "parameters": body_parameters(parameters) }]);
    }
    template
}

fn body_parameters(parameters: &BTreeMap<String, String>) -> Vec<Value> {
    let positional: Option<Vec<(u32, &String)>> = parameters
        .iter()
        .map(|(name, value)| name.parse::<u32>().ok().map(|index| (index, value)))
        .collect();
    match positional {
        Some(mut numbered) => {
            numbered.sort_by_key(|(index, _)| *index);
            numbered
                .into_iter()
                .map(|(_, value)| json!({ "type": "text", "text": value }))
                .collect()
        }
        None => parameters
            .iter()
            .map(|(name, value)| json!({ "type": "text", "parameter_name": name, "text": value }))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m1_numbered_parameters_go_in_numeric_order() {
        let parameters = BTreeMap::from([
            ("10".to_owned(), "ten".to_owned()),
            ("2".to_owned(), "two".to_owned()),
        ]);
        let template = template_object(&ChannelConnection::default(), "order", &parameters);
        assert_eq!(
            template["components"][0]["parameters"],
            json!([{"type": "text", "text": "two"}, {"type": "text", "text": "ten"}])
        );
        assert_eq!(template["language"]["code"], "en_US");
    }

    #[test]
    fn m1_named_parameters_carry_their_names() {
        let parameters = BTreeMap::from([("first_name".to_owned(), "Ana".to_owned())]);
        let template = template_object(&ChannelConnection::default(), "hello", &parameters);
        assert_eq!(
            template["components"][0]["parameters"][0]["parameter_name"],
            "first_name"
        );
        let bare = template_object(&ChannelConnection::default(), "hello", &BTreeMap::new());
        assert!(bare.get("components").is_none());
    }
}
