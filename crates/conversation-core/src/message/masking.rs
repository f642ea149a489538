//! M3: card numbers are masked in every message body before it is stored, sent or emitted.
//! [`mask_card_numbers`] replaces each digit of a card number with `*`, except its last four,
//! and leaves every other character exactly where and as it was.
//!
//! What counts as a card number:
//! - A *run* is digits joined by single separators: one space or one dash between two digits.
//!   Anything else (a letter, a dot, two spaces, ` - `) ends the run. The separators between the
//!   digits of a run may be mixed and placed anywhere (`4111 1111-1111 1111`, Amex `3782 822463
//!   10005`).
//! - A run is cut at its separators into *groups*. A *candidate* is a sequence of whole,
//!   consecutive groups of one run with 13 to 19 digits in all. A candidate that passes the Luhn
//!   check is a card number. So a card written with separators is still found when a short number
//!   sits next to it with one space (`ref 555 4111 1111 1111 1111` masks the card, not `555`).
//!   Where several candidates starting at the same group pass, the longest is masked (more
//!   digits hidden); the search then goes on after it.
//! - A candidate never starts or ends inside a group: digits glued to other digits are one
//!   number. A separator-free string of more than 19 digits (a tracking number, an IBAN's digits)
//!   is not a card number and is left alone, even if some 13 to 19 of its digits would pass Luhn;
//!   looking inside such strings would mask a tenth of all long identifiers.
//! - Masking can leave the last four digits of a card next to other groups that, with them, form
//!   a new candidate; the search is repeated on its own output until nothing changes, so the
//!   result never contains a Luhn-valid candidate.
//! - Digits are ASCII `0-9` and, because contacts write in their own script, the Arabic-Indic
//!   (`٠-٩`), Extended Arabic-Indic (`۰-۹`) and fullwidth (`０-９`) digits. Each masked digit
//!   becomes one `*`, so the character count never changes (the byte length may shrink).

use std::borrow::Cow;
use std::ops::Range;

/// The character that replaces a masked digit.
pub const MASK: char = '*';
/// The fewest digits of a card number.
pub const CARD_DIGITS_MIN: usize = 13;
/// The most digits of a card number.
pub const CARD_DIGITS_MAX: usize = 19;
/// How many trailing digits of a card number stay visible.
const KEPT_DIGITS: usize = 4;

/// The value of a decimal digit in one of the scripts we read (see the module docs).
fn decimal_value(c: char) -> Option<u8> {
    const ZEROS: [char; 4] = ['0', '\u{0660}', '\u{06F0}', '\u{FF10}'];
    let code = u32::from(c);
    ZEROS.iter().find_map(|&zero| {
        let offset = code.wrapping_sub(u32::from(zero));
        if offset < 10 {
            u8::try_from(offset).ok()
        } else {
            None
        }
    })
}

fn is_digit(c: char) -> bool {
    decimal_value(c).is_some()
}

fn is_separator(c: char) -> bool {
    c == ' ' || c == '-'
}

/// M3: the text with every card number masked, keeping the last four digits of each.
///
/// Returns the text itself, unallocated, when it holds no card number. See the module docs for
/// exactly what counts as a card number.
#[must_use]
pub fn mask_card_numbers(text: &str) -> Cow<'_, str> {
    if text.chars().filter(|&c| is_digit(c)).count() < CARD_DIGITS_MIN {
        return Cow::Borrowed(text);
    }
    let mut chars: Vec<char> = text.chars().collect();
    let mut changed = false;
    // Each pass that changes something masks at least nine digits, so this ends.
    while mask_pass(&mut chars) {
        changed = true;
    }
    if changed {
        Cow::Owned(chars.into_iter().collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `digits` is non-empty, made only of decimal digits (no separators), and passes the
/// Luhn check.
#[must_use]
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0_u8;
    let mut count = 0_usize;
    for (index, c) in digits.chars().rev().enumerate() {
        let Some(value) = decimal_value(c) else {
            return false;
        };
        sum = (sum + luhn_term(value, index)) % 10;
        count += 1;
    }
    count > 0 && sum == 0
}

/// One digit's share of the Luhn sum; `index` counts from the right, starting at 0.
const fn luhn_term(value: u8, index: usize) -> u8 {
    if index % 2 == 1 {
        let doubled = value * 2;
        if doubled > 9 { doubled - 9 } else { doubled }
    } else {
        value
    }
}

fn luhn_values(values: &[u8]) -> bool {
    let sum = values
        .iter()
        .rev()
        .enumerate()
        .fold(0_u8, |sum, (index, &value)| {
            (sum + luhn_term(value, index)) % 10
        });
    !values.is_empty() && sum == 0
}

/// One pass over the text: masks the card numbers of every run. Returns whether it masked any.
fn mask_pass(chars: &mut [char]) -> bool {
    let mut changed = false;
    let mut groups = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        if is_digit(chars[index]) {
            groups.clear();
            index = read_run(chars, index, &mut groups);
            changed |= mask_run(chars, &groups);
        } else {
            index += 1;
        }
    }
    changed
}

/// Reads the run that starts at `start` (a digit) into its groups; returns where the run ends.
fn read_run(chars: &[char], start: usize, groups: &mut Vec<Range<usize>>) -> usize {
    let mut position = start;
    loop {
        let group_start = position;
        while chars.get(position).copied().is_some_and(is_digit) {
            position += 1;
        }
        groups.push(group_start..position);
        match (chars.get(position), chars.get(position + 1)) {
            (Some(&separator), Some(&next)) if is_separator(separator) && is_digit(next) => {
                position += 1;
            }
            _ => return position,
        }
    }
}

/// Masks the card numbers of one run, left to right. Returns whether it masked any.
fn mask_run(chars: &mut [char], groups: &[Range<usize>]) -> bool {
    let mut changed = false;
    let mut first = 0;
    while first < groups.len() {
        if let Some(count) = longest_card(chars, &groups[first..]) {
            mask_window(chars, &groups[first..first + count]);
            changed = true;
            first += count;
        } else {
            first += 1;
        }
    }
    changed
}

/// The number of groups, from the first one, of the longest Luhn-valid candidate.
fn longest_card(chars: &[char], groups: &[Range<usize>]) -> Option<usize> {
    let mut values = Vec::with_capacity(CARD_DIGITS_MAX);
    let mut longest = None;
    for (index, group) in groups.iter().enumerate() {
        if values.len() + group.len() > CARD_DIGITS_MAX {
            break;
        }
        values.extend(
            chars[group.clone()]
                .iter()
                .filter_map(|&c| decimal_value(c)),
        );
        if values.len() >= CARD_DIGITS_MIN && luhn_values(&values) {
            longest = Some(index + 1);
        }
    }
    longest
}

/// Masks every digit of the groups except the last four.
fn mask_window(chars: &mut [char], groups: &[Range<usize>]) {
    let total: usize = groups.iter().map(ExactSizeIterator::len).sum();
    let masked = total.saturating_sub(KEPT_DIGITS);
    for index in groups.iter().cloned().flatten().take(masked) {
        chars[index] = MASK;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn masked(text: &str) -> String {
        mask_card_numbers(text).into_owned()
    }

    #[test]
    fn m3_luhn_check() {
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("٤١١١١١١١١١١١١١١١"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("4111 1111 1111 1111"));
        assert!(!luhn_valid("4111x"));
    }

    #[test]
    fn m3_card_numbers_keep_only_their_last_four_digits() {
        assert_eq!(
            masked("card 4111 1111 1111 1111 thanks"),
            "card **** **** **** 1111 thanks"
        );
        assert_eq!(masked("4111-1111-1111-1111"), "****-****-****-1111");
        assert_eq!(masked("4111111111111111"), "************1111");
        assert_eq!(masked("4111 1111-1111 1111"), "**** ****-**** 1111");
    }

    #[test]
    fn m3_every_length_from_13_to_19_digits() {
        // Visa 13, Amex 15 in 4-6-5 groups, Mastercard 16, a 19-digit Maestro-like number.
        assert_eq!(masked("4222222222222"), "*********2222");
        assert_eq!(masked("3782 822463 10005"), "**** ****** *0005");
        assert_eq!(masked("5500 0000 0000 0004"), "**** **** **** 0004");
        assert_eq!(masked("6304000000000000000"), "***************0000");
    }

    #[test]
    fn m3_numbers_that_are_not_card_numbers_are_left_alone() {
        // Fails Luhn.
        let text = "4111 1111 1111 1112";
        assert!(matches!(mask_card_numbers(text), Cow::Borrowed(_)));
        // Luhn-valid but 12 digits.
        assert!(luhn_valid("411111111117"));
        assert_eq!(masked("4111 1111 1117"), "4111 1111 1117");
        // Two spaces end the run, leaving two short ones.
        assert_eq!(masked("4111  1111 1111 1111"), "4111  1111 1111 1111");
        // A space and a dash are not one separator.
        assert_eq!(masked("4111 -1111 1111 1111"), "4111 -1111 1111 1111");
        // Phone numbers and dates.
        assert_eq!(
            masked("call +1 555-0100 on 2026-01-31"),
            "call +1 555-0100 on 2026-01-31"
        );
    }

    #[test]
    fn m3_a_separator_free_run_longer_than_19_digits_is_left_alone() {
        // Its first 16 digits are a valid card number, but they are glued to four more digits.
        assert!(luhn_valid("4111111111111111"));
        let text = "tracking 41111111111111111234";
        assert_eq!(masked(text), text);
    }

    #[test]
    fn m3_a_card_next_to_another_number_is_found_by_its_groups() {
        assert_eq!(
            masked("order 555 4111 1111 1111 1111"),
            "order 555 **** **** **** 1111"
        );
        assert_eq!(
            masked("4111 1111 1111 1111 exp 12 27 cvv 123"),
            "**** **** **** 1111 exp 12 27 cvv 123"
        );
    }

    #[test]
    fn m3_the_longest_valid_candidate_from_a_group_is_masked() {
        // Both the 16 digits and the 19 digits with the trailing group pass Luhn: the longer one
        // is masked, hiding more digits (its last four are then `1 003`).
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("4111111111111111003"));
        assert_eq!(masked("4111 1111 1111 1111 003"), "**** **** **** ***1 003");
    }

    #[test]
    fn m3_two_cards_in_one_message() {
        assert_eq!(
            masked("4111111111111111 or 5500-0000-0000-0004?"),
            "************1111 or ****-****-****-0004?"
        );
    }

    #[test]
    fn m3_unicode_text_and_digits() {
        assert_eq!(
            masked("رقم البطاقة ٤١١١ ١١١١ ١١١١ ١١١١ شكرا"),
            "رقم البطاقة **** **** **** ١١١١ شكرا"
        );
        assert_eq!(masked("💳4111111111111111💳"), "💳************1111💳");
        assert_eq!(
            masked("номер: ４１１１１１１１１１１１１１１１"),
            "номер: ************１１１１"
        );
    }

    #[test]
    fn m3_text_without_card_numbers_is_not_copied() {
        for text in ["", "hello", "12345", "order 1234567890123"] {
            assert!(
                matches!(mask_card_numbers(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    /// The property tests' oracle, written apart from the implementation: every substring that
    /// starts and ends at a digit not glued to another digit, is digits with at most one
    /// separator between two of them, has 13 to 19 digits, and passes Luhn.
    fn card_candidates(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut found = Vec::new();
        for start in 0..chars.len() {
            if !is_digit(chars[start]) || (start > 0 && is_digit(chars[start - 1])) {
                continue;
            }
            let mut digits = String::new();
            let mut at = start;
            loop {
                digits.push(chars[at]);
                let group_ends = chars.get(at + 1).is_none_or(|&c| !is_digit(c));
                let count = digits.chars().count();
                if count > CARD_DIGITS_MAX {
                    break;
                }
                if group_ends && count >= CARD_DIGITS_MIN && naive_luhn(&digits) {
                    found.push(chars[start..=at].iter().collect());
                }
                match (chars.get(at + 1), chars.get(at + 2)) {
                    (Some(&next), _) if is_digit(next) => at += 1,
                    (Some(&sep), Some(&next)) if (sep == ' ' || sep == '-') && is_digit(next) => {
                        at += 2;
                    }
                    _ => break,
                }
            }
        }
        found
    }

    fn naive_luhn(digits: &str) -> bool {
        let values: Vec<u32> = digits
            .chars()
            .map(|c| u32::from(decimal_value(c).unwrap()))
            .collect();
        let mut sum = 0;
        for (i, value) in values.iter().rev().enumerate() {
            sum += if i % 2 == 1 {
                let d = value * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                *value
            };
        }
        sum % 10 == 0
    }

    /// A Luhn-valid number of 13 to 19 ASCII digits.
    fn card_digits() -> impl Strategy<Value = String> {
        prop::collection::vec(0_u8..10, CARD_DIGITS_MIN - 1..CARD_DIGITS_MAX).prop_map(|body| {
            let mut digits: String = body.iter().map(|d| char::from(b'0' + d)).collect();
            let check = (0_u8..10)
                .find(|d| {
                    let mut candidate = digits.clone();
                    candidate.push(char::from(b'0' + d));
                    luhn_valid(&candidate)
                })
                .expect("one check digit fits");
            digits.push(char::from(b'0' + check));
            digits
        })
    }

    /// A Luhn-valid number written with random single separators.
    fn formatted_card() -> impl Strategy<Value = (String, String)> {
        card_digits().prop_flat_map(|digits| {
            let gaps = digits.len() - 1;
            prop::collection::vec(prop::sample::select(vec!["", "", "", " ", "-"]), gaps).prop_map(
                move |separators| {
                    let mut text = String::new();
                    for (i, c) in digits.chars().enumerate() {
                        if i > 0 {
                            text.push_str(separators[i - 1]);
                        }
                        text.push(c);
                    }
                    (digits.clone(), text)
                },
            )
        })
    }

    fn expected_mask(formatted: &str) -> String {
        let total = formatted.chars().filter(|&c| is_digit(c)).count();
        let mut seen = 0;
        formatted
            .chars()
            .map(|c| {
                if is_digit(c) {
                    seen += 1;
                    if seen <= total - KEPT_DIGITS {
                        return MASK;
                    }
                }
                c
            })
            .collect()
    }

    /// Text rich in digit runs, separators, cards and non-ASCII characters.
    fn noisy_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => "[0-9]{1,8}([ -][0-9]{1,8}){0,5}",
            2 => formatted_card().prop_map(|(_, text)| text),
            1 => "[٠-٩]{1,6}( [٠-٩]{1,6}){0,4}",
            2 => "[ -]{1,2}",
            2 => "[a-zA-Zé😀ب*.+]{1,4}",
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// spec: M3
        #[test]
        fn m3_output_has_no_card_number_left(text in noisy_text()) {
            let output = mask_card_numbers(&text);
            prop_assert!(
                card_candidates(&output).is_empty(),
                "left {:?} in {:?}",
                card_candidates(&output),
                output
            );
        }

        /// spec: M3
        #[test]
        fn m3_only_digits_change_and_only_into_the_mask(text in noisy_text()) {
            let output = mask_card_numbers(&text);
            prop_assert_eq!(output.chars().count(), text.chars().count());
            for (before, after) in text.chars().zip(output.chars()) {
                prop_assert!(
                    before == after || (is_digit(before) && after == MASK),
                    "{:?} became {:?}", before, after
                );
            }
            if card_candidates(&text).is_empty() {
                prop_assert_eq!(output.as_ref(), text.as_str());
            }
        }

        /// spec: M3
        #[test]
        fn m3_cards_between_words_keep_exactly_their_last_four(
            cards in prop::collection::vec(formatted_card(), 1..4),
            words in prop::collection::vec("[a-zA-Zж ]{0,6}", 4),
        ) {
            let mut text = String::new();
            let mut expected = String::new();
            for (i, (_, card)) in cards.iter().enumerate() {
                text.push_str(&words[i]);
                expected.push_str(&words[i]);
                // A delimiter that is neither a digit nor a separator.
                text.push('|');
                expected.push('|');
                text.push_str(card);
                expected.push_str(&expected_mask(card));
                text.push('|');
                expected.push('|');
            }
            let output = mask_card_numbers(&text);
            prop_assert_eq!(output.as_ref(), expected.as_str());
        }
    }
}
