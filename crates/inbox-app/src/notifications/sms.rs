//! N4: SMS to staff when a visitor starts a chat. Owners and admins set, per account, whether
//! texts are sent and to which numbers (E.164, at most [`MAX_NUMBERS`]); a plain agent is
//! refused (`forbidden`) and every account reads and writes only its own setting (A1). When a
//! visitor's first message starts a conversation on a web chat inbox, the start's commit
//! carries one `staff_sms` notification row per number (none when the setting is off or has no
//! number); the [`NotificationWorker`](super::sender::NotificationWorker) sends them.

use conversation_core::DomainError;
use conversation_core::entities::Inbox;
use conversation_core::ids::{AccountId, ConversationId};
use conversation_core::ports::{OutboxItem, StaffSmsSettings};

use super::Notification;
use crate::app::App;
use crate::caller::Caller;
use crate::directory::manager_of;
use crate::error::AppResult;

/// The most staff numbers an account may set.
pub const MAX_NUMBERS: usize = 20;

/// Whether a phone number is in E.164 form: `+` and 8 to 15 digits, the first not 0.
#[must_use]
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// The setting checked: numbers trimmed, each E.164, duplicates dropped, order kept.
fn checked(settings: StaffSmsSettings) -> AppResult<StaffSmsSettings> {
    let mut numbers: Vec<String> = Vec::new();
    for number in settings.numbers {
        let number = number.trim().to_owned();
        if !is_e164(&number) {
            return Err(DomainError::InvalidValue {
                field: "numbers",
                reason: "each number must be in E.164 form: + and 8 to 15 digits, \
                         such as +14155550100",
            }
            .into());
        }
        if !numbers.contains(&number) {
            numbers.push(number);
        }
    }
    if numbers.len() > MAX_NUMBERS {
        return Err(DomainError::InvalidValue {
            field: "numbers",
            reason: "at most 20 numbers",
        }
        .into());
    }
    Ok(StaffSmsSettings {
        enabled: settings.enabled,
        numbers,
    })
}

impl App {
    /// N4: the account's staff SMS setting (owners and admins); off with no number when never
    /// set.
    ///
    /// # Errors
    /// `forbidden` for anyone else.
    pub async fn staff_sms_settings(&self, caller: &Caller) -> AppResult<StaffSmsSettings> {
        let (account, _) = manager_of(caller, "manage SMS notifications")?;
        Ok(self.store.staff_sms(account).await?.unwrap_or_default())
    }

    /// N4: replaces the account's staff SMS setting (owners and admins); answers it as stored.
    ///
    /// # Errors
    /// `forbidden` for anyone else; `invalid_value` (`numbers`) for a number that is not in
    /// E.164 form or more than [`MAX_NUMBERS`] numbers. Nothing is written then.
    pub async fn set_staff_sms_settings(
        &self,
        caller: &Caller,
        settings: StaffSmsSettings,
    ) -> AppResult<StaffSmsSettings> {
        let (account, _) = manager_of(caller, "manage SMS notifications")?;
        let settings = checked(settings)?;
        self.store
            .save_staff_sms(account, &settings, self.now())
            .await?;
        Ok(settings)
    }

    /// N4: the rows a visitor's new chat on `inbox` writes in its start's commit: one text per
    /// staff number of the account, none when its setting is off.
    pub(crate) async fn staff_sms_rows(
        &self,
        inbox: &Inbox,
        conversation: ConversationId,
    ) -> AppResult<Vec<OutboxItem>> {
        let account: AccountId = inbox.account;
        let Some(settings) = self.store.staff_sms(account).await? else {
            return Ok(Vec::new());
        };
        if !settings.enabled {
            return Ok(Vec::new());
        }
        let text = format!(
            "A visitor started a chat on {}. Conversation {conversation}.",
            inbox.name
        );
        settings
            .numbers
            .into_iter()
            .map(|to| {
                self.notification(
                    account,
                    &Notification::StaffSms {
                        conversation,
                        to,
                        text: text.clone(),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n4_numbers_must_be_e164() {
        assert!(is_e164("+14155550100"));
        assert!(is_e164("+33612345678"));
        for bad in [
            "14155550100",
            "+1415",
            "+1415555010012345",
            "+1 415 555",
            "+0123456789",
            "",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn n4_the_setting_is_trimmed_and_deduplicated_and_a_bad_number_refused() {
        let settings = checked(StaffSmsSettings {
            enabled: true,
            numbers: vec![
                " +14155550100".into(),
                "+14155550100".into(),
                "+33612345678".into(),
            ],
        })
        .expect("valid");
        assert_eq!(settings.numbers, ["+14155550100", "+33612345678"]);
        let refused = checked(StaffSmsSettings {
            enabled: true,
            numbers: vec!["+14155550100".into(), "call me".into()],
        });
        assert!(matches!(
            refused,
            Err(crate::AppError::Domain(DomainError::InvalidValue {
                field: "numbers",
                ..
            }))
        ));
        let too_many = (0..=MAX_NUMBERS)
            .map(|i| format!("+1415555{i:04}"))
            .collect();
        assert!(
            checked(StaffSmsSettings {
                enabled: true,
                numbers: too_many
            })
            .is_err()
        );
    }
}
