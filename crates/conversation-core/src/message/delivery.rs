//! M6, H3: the delivery status of an outbound message, with the time of each status.
//!
//! A status only moves forward: `pending -> sent -> delivered -> read`, and a channel may skip
//! steps (a read receipt can arrive before the delivery receipt, or instead of it). `failed`
//! can follow `pending` or `sent` only. `read` and `failed` are final. Channels retry webhooks
//! and deliver them out of order, so a report that would move the status backward, sideways or
//! out of a final status is not an error: [`Delivery::record`] ignores it and answers
//! [`DeliveryChange::Unchanged`]. A skipped status keeps no time (`delivered_at` stays empty
//! when `read` came first); the times are the ones the channel reported, taken as given.
//!
//! Transition table (row: current status; column: reported status; `yes` moves):
//!
//! | from \ to   | sent | delivered | read | failed |
//! |-------------|------|-----------|------|--------|
//! | `pending`   | yes  | yes       | yes  | yes    |
//! | `sent`      | -    | yes       | yes  | yes    |
//! | `delivered` | -    | -         | yes  | -      |
//! | `read`      | -    | -         | -    | -      |
//! | `failed`    | -    | -         | -    | -      |

use serde::{Deserialize, Serialize};

use crate::entities::Timestamp;

/// Where an outbound message is on its way to the contact (M6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Stored, waiting in the outbound queue (H3).
    Pending,
    /// Accepted by the channel.
    Sent,
    /// The channel reports it reached the contact's device.
    Delivered,
    /// The contact read it. Final.
    Read,
    /// The channel refused it for good (H3). Final.
    Failed,
}

impl DeliveryStatus {
    /// Every status, in the order of the happy path, then `Failed`.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Sent,
        Self::Delivered,
        Self::Read,
        Self::Failed,
    ];

    /// Whether nothing can follow this status.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Read | Self::Failed)
    }

    /// M6: whether a report of `next` moves a message that is in this status (the table of the
    /// module docs).
    #[must_use]
    pub const fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (
                Self::Pending,
                Self::Sent | Self::Delivered | Self::Read | Self::Failed
            ) | (Self::Sent, Self::Delivered | Self::Read | Self::Failed)
                | (Self::Delivered, Self::Read)
        )
    }
}

/// What a channel (or the outbound queue) reports about an outbound message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeliveryReport {
    /// The channel accepted it.
    Sent,
    /// It reached the contact's device.
    Delivered,
    /// The contact read it.
    Read,
    /// The channel refused it for good.
    Failed {
        /// Why, as the channel said it.
        reason: String,
    },
}

impl DeliveryReport {
    /// The status this report asks for.
    #[must_use]
    pub const fn status(&self) -> DeliveryStatus {
        match self {
            Self::Sent => DeliveryStatus::Sent,
            Self::Delivered => DeliveryStatus::Delivered,
            Self::Read => DeliveryStatus::Read,
            Self::Failed { .. } => DeliveryStatus::Failed,
        }
    }
}

/// What [`Delivery::record`] did with a report.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeliveryChange {
    /// The status moved forward.
    Advanced {
        /// The status before.
        from: DeliveryStatus,
        /// The status now.
        to: DeliveryStatus,
    },
    /// The report was stale, backward or repeated, and was ignored.
    Unchanged,
}

/// M6: the delivery status of an outbound message and the time of each status it went through.
/// Only [`Delivery::pending`] makes one and only [`Delivery::record`] moves it, so the status
/// never goes backward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    status: DeliveryStatus,
    pending_at: Timestamp,
    sent_at: Option<Timestamp>,
    delivered_at: Option<Timestamp>,
    read_at: Option<Timestamp>,
    failed_at: Option<Timestamp>,
    failure_reason: Option<String>,
}

impl Delivery {
    /// A message just stored for sending.
    #[must_use]
    pub const fn pending(at: Timestamp) -> Self {
        Self {
            status: DeliveryStatus::Pending,
            pending_at: at,
            sent_at: None,
            delivered_at: None,
            read_at: None,
            failed_at: None,
            failure_reason: None,
        }
    }

    /// The current status.
    #[must_use]
    pub const fn status(&self) -> DeliveryStatus {
        self.status
    }

    /// When the message reached `status`; `None` if it did not, or skipped it.
    #[must_use]
    pub const fn at(&self, status: DeliveryStatus) -> Option<Timestamp> {
        match status {
            DeliveryStatus::Pending => Some(self.pending_at),
            DeliveryStatus::Sent => self.sent_at,
            DeliveryStatus::Delivered => self.delivered_at,
            DeliveryStatus::Read => self.read_at,
            DeliveryStatus::Failed => self.failed_at,
        }
    }

    /// When the current status was reached.
    #[must_use]
    pub const fn updated_at(&self) -> Timestamp {
        match self.at(self.status) {
            Some(at) => at,
            None => self.pending_at,
        }
    }

    /// Why the channel refused the message, once it `failed`.
    #[must_use]
    pub fn failure_reason(&self) -> Option<&str> {
        self.failure_reason.as_deref()
    }

    /// M6: records a report received at `at`. Moves forward only (see the module docs); any
    /// other report is ignored and answered [`DeliveryChange::Unchanged`], never an error.
    pub fn record(&mut self, report: DeliveryReport, at: Timestamp) -> DeliveryChange {
        let from = self.status;
        let to = report.status();
        if !from.can_become(to) {
            return DeliveryChange::Unchanged;
        }
        match report {
            DeliveryReport::Sent => self.sent_at = Some(at),
            DeliveryReport::Delivered => self.delivered_at = Some(at),
            DeliveryReport::Read => self.read_at = Some(at),
            DeliveryReport::Failed { reason } => {
                self.failed_at = Some(at);
                self.failure_reason = Some(reason);
            }
        }
        self.status = to;
        DeliveryChange::Advanced { from, to }
    }
}

#[cfg(test)]
pub(super) mod strategies {
    //! Proptest strategies for delivery reports and states.

    use proptest::prelude::*;

    use super::{Delivery, DeliveryReport};
    use crate::message::test_support::timestamp;

    /// Any report.
    pub(in crate::message) fn report() -> impl Strategy<Value = DeliveryReport> {
        prop_oneof![
            Just(DeliveryReport::Sent),
            Just(DeliveryReport::Delivered),
            Just(DeliveryReport::Read),
            "[a-z ]{0,12}".prop_map(|reason| DeliveryReport::Failed { reason }),
        ]
    }

    /// A delivery after a random sequence of reports.
    pub(in crate::message) fn delivery() -> impl Strategy<Value = Delivery> {
        (
            timestamp(),
            prop::collection::vec((report(), timestamp()), 0..6),
        )
            .prop_map(|(start, reports)| {
                let mut delivery = Delivery::pending(start);
                for (report, at) in reports {
                    let _ = delivery.record(report, at);
                }
                delivery
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::strategies::report;
    use super::*;
    use crate::message::test_support::{at, timestamp};

    fn failed(reason: &str) -> DeliveryReport {
        DeliveryReport::Failed {
            reason: reason.into(),
        }
    }

    #[test]
    fn m6_happy_path_records_the_time_of_each_status() {
        let mut delivery = Delivery::pending(at(0));
        assert_eq!(delivery.status(), DeliveryStatus::Pending);
        assert_eq!(
            delivery.record(DeliveryReport::Sent, at(1)),
            DeliveryChange::Advanced {
                from: DeliveryStatus::Pending,
                to: DeliveryStatus::Sent
            }
        );
        let _ = delivery.record(DeliveryReport::Delivered, at(2));
        let _ = delivery.record(DeliveryReport::Read, at(3));
        assert_eq!(delivery.status(), DeliveryStatus::Read);
        assert_eq!(delivery.at(DeliveryStatus::Pending), Some(at(0)));
        assert_eq!(delivery.at(DeliveryStatus::Sent), Some(at(1)));
        assert_eq!(delivery.at(DeliveryStatus::Delivered), Some(at(2)));
        assert_eq!(delivery.at(DeliveryStatus::Read), Some(at(3)));
        assert_eq!(delivery.updated_at(), at(3));
    }

    #[test]
    fn m6_read_may_arrive_before_delivered_which_is_then_ignored() {
        let mut delivery = Delivery::pending(at(0));
        let _ = delivery.record(DeliveryReport::Sent, at(1));
        assert_eq!(
            delivery.record(DeliveryReport::Read, at(3)),
            DeliveryChange::Advanced {
                from: DeliveryStatus::Sent,
                to: DeliveryStatus::Read
            }
        );
        assert_eq!(
            delivery.record(DeliveryReport::Delivered, at(2)),
            DeliveryChange::Unchanged
        );
        assert_eq!(delivery.status(), DeliveryStatus::Read);
        assert_eq!(delivery.at(DeliveryStatus::Delivered), None);
    }

    #[test]
    fn m6_stale_and_repeated_reports_are_no_change() {
        let mut delivery = Delivery::pending(at(0));
        let _ = delivery.record(DeliveryReport::Delivered, at(2));
        assert_eq!(
            delivery.record(DeliveryReport::Sent, at(1)),
            DeliveryChange::Unchanged
        );
        assert_eq!(
            delivery.record(DeliveryReport::Delivered, at(5)),
            DeliveryChange::Unchanged
        );
        assert_eq!(delivery.at(DeliveryStatus::Delivered), Some(at(2)));
        assert_eq!(delivery.at(DeliveryStatus::Sent), None);
    }

    #[test]
    fn m6_failed_follows_pending_or_sent_with_its_reason() {
        let mut from_pending = Delivery::pending(at(0));
        assert!(matches!(
            from_pending.record(failed("number not on whatsapp"), at(1)),
            DeliveryChange::Advanced { .. }
        ));
        assert_eq!(from_pending.status(), DeliveryStatus::Failed);
        assert_eq!(
            from_pending.failure_reason(),
            Some("number not on whatsapp")
        );
        assert_eq!(from_pending.at(DeliveryStatus::Failed), Some(at(1)));

        let mut from_sent = Delivery::pending(at(0));
        let _ = from_sent.record(DeliveryReport::Sent, at(1));
        let _ = from_sent.record(failed("blocked"), at(2));
        assert_eq!(from_sent.status(), DeliveryStatus::Failed);
    }

    #[test]
    fn m6_a_delivered_message_does_not_fail() {
        let mut delivery = Delivery::pending(at(0));
        let _ = delivery.record(DeliveryReport::Delivered, at(1));
        assert_eq!(
            delivery.record(failed("late"), at(2)),
            DeliveryChange::Unchanged
        );
        assert_eq!(delivery.status(), DeliveryStatus::Delivered);
        assert_eq!(delivery.failure_reason(), None);
    }

    #[test]
    fn m6_nothing_leaves_read_or_failed() {
        let mut read = Delivery::pending(at(0));
        let _ = read.record(DeliveryReport::Read, at(1));
        let mut gone = Delivery::pending(at(0));
        let _ = gone.record(failed("spam"), at(1));
        for report in [
            DeliveryReport::Sent,
            DeliveryReport::Delivered,
            DeliveryReport::Read,
            failed("again"),
        ] {
            assert_eq!(
                read.record(report.clone(), at(9)),
                DeliveryChange::Unchanged
            );
            assert_eq!(gone.record(report, at(9)), DeliveryChange::Unchanged);
        }
        assert_eq!(read.status(), DeliveryStatus::Read);
        assert_eq!(gone.failure_reason(), Some("spam"));
    }

    #[test]
    fn m6_transition_table_one_row_per_status() {
        use DeliveryStatus::*;
        let table = [
            (Pending, [true, true, true, true]),
            (Sent, [false, true, true, true]),
            (Delivered, [false, false, true, false]),
            (Read, [false, false, false, false]),
            (Failed, [false, false, false, false]),
        ];
        for (from, row) in table {
            assert!(!from.can_become(Pending), "{from:?} -> pending");
            for (to, allowed) in [Sent, Delivered, Read, Failed].into_iter().zip(row) {
                assert_eq!(from.can_become(to), allowed, "{from:?} -> {to:?}");
            }
            assert_eq!(from.is_final(), row == [false; 4]);
        }
    }

    #[test]
    fn m6_statuses_serialize_in_snake_case_and_round_trip() {
        let names: Vec<String> = DeliveryStatus::ALL
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"pending\"",
                "\"sent\"",
                "\"delivered\"",
                "\"read\"",
                "\"failed\""
            ]
        );
        for status in DeliveryStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(
                serde_json::from_str::<DeliveryStatus>(&json).unwrap(),
                status
            );
        }
    }

    fn rank(status: DeliveryStatus) -> u8 {
        match status {
            DeliveryStatus::Pending => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read | DeliveryStatus::Failed => 3,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// spec: M6
        #[test]
        fn m6_status_never_moves_backward(
            start in timestamp(),
            reports in prop::collection::vec((report(), timestamp()), 0..12),
        ) {
            let mut delivery = Delivery::pending(start);
            for (report, at) in reports {
                let before = delivery.clone();
                let change = delivery.record(report.clone(), at);
                let (old, new) = (before.status(), delivery.status());
                prop_assert!(rank(new) >= rank(old), "{:?} -> {:?}", old, new);
                if old.is_final() {
                    prop_assert_eq!(&delivery, &before);
                }
                if new == DeliveryStatus::Failed && old != DeliveryStatus::Failed {
                    prop_assert!(matches!(old, DeliveryStatus::Pending | DeliveryStatus::Sent));
                }
                // A time once recorded never changes.
                for status in DeliveryStatus::ALL {
                    if let Some(time) = before.at(status) {
                        prop_assert_eq!(delivery.at(status), Some(time));
                    }
                }
                match change {
                    DeliveryChange::Advanced { from, to } => {
                        prop_assert_eq!((from, to), (old, new));
                        prop_assert_eq!(to, report.status());
                        prop_assert_eq!(delivery.at(to), Some(at));
                    }
                    DeliveryChange::Unchanged => prop_assert_eq!(&delivery, &before),
                }
            }
        }

        /// spec: M6
        #[test]
        fn m6_delivery_survives_a_serde_round_trip(delivery in super::strategies::delivery()) {
            let json = serde_json::to_string(&delivery).unwrap();
            prop_assert_eq!(serde_json::from_str::<Delivery>(&json).unwrap(), delivery);
        }
    }
}
