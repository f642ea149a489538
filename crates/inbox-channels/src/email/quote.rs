//! Strips the quoted previous mail from a reply's text, conservatively: only a quote that is
//! clearly marked — an attribution line `On ... wrote:` (on one line or wrapped onto a second),
//! then nothing but `>`-quoted and blank lines up to the end. Anything else (a quote with the
//! answer below it, a forwarded mail, a quote without attribution) is kept whole.

/// The text without its trailing, clearly marked quote.
#[must_use]
pub fn strip_quote(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    for start in 0..lines.len() {
        let Some(after) = attribution_end(&lines, start) else {
            continue;
        };
        let rest = &lines[after..];
        let quoted = rest.iter().any(|line| line.trim_start().starts_with('>'));
        let only_quote = rest
            .iter()
            .all(|line| line.trim().is_empty() || line.trim_start().starts_with('>'));
        if quoted && only_quote {
            let kept = lines[..start].join("\n");
            if kept.trim().is_empty() {
                return text.to_owned();
            }
            return kept.trim_end().to_owned();
        }
    }
    text.to_owned()
}

/// If an attribution starts at `start`, the index of the line after it.
fn attribution_end(lines: &[&str], start: usize) -> Option<usize> {
    let first = lines[start].trim();
    if !first.starts_with("On ") {
        return None;
    }
    if first.ends_with("wrote:") {
        return Some(start + 1);
    }
    let second = lines.get(start + 1)?.trim();
    (!second.starts_with('>') && second.ends_with("wrote:")).then_some(start + 2)
}

#[cfg(test)]
mod tests {
    use super::strip_quote;

    #[test]
    fn a_marked_quote_at_the_end_is_stripped() {
        let text = "Thanks, that works.\n\nOn Mon, 2 Mar 2026 at 10:00, Support <s@x.com> wrote:\n> Try again.\n>\n> Bye\n";
        assert_eq!(strip_quote(text), "Thanks, that works.");
    }

    #[test]
    fn a_wrapped_attribution_is_recognised() {
        let text =
            "Yes.\nOn Mon, 2 Mar 2026 at 10:00, Support <\nsupport@x.com> wrote:\n> Is it fixed?\n";
        assert_eq!(strip_quote(text), "Yes.");
    }

    #[test]
    fn an_answer_below_the_quote_keeps_everything() {
        let text = "On Mon, Support wrote:\n> Is it fixed?\nYes, it is.\n";
        assert_eq!(strip_quote(text), text);
    }

    #[test]
    fn a_quote_without_attribution_or_without_answer_is_kept() {
        let unmarked = "Hello\n> quoted\n";
        assert_eq!(strip_quote(unmarked), unmarked);
        let only_quote = "On Mon, Support wrote:\n> Is it fixed?\n";
        assert_eq!(strip_quote(only_quote), only_quote);
        let no_quote_lines = "We met.\nOn Monday she wrote:\n";
        assert_eq!(strip_quote(no_quote_lines), no_quote_lines);
    }
}
