//! The agent presence machine (R1, R6, R11): an agent's [`Availability`] with the time it began,
//! changed by [`PresenceCommand`]s through `decide`/`apply`. Only `available` agents get offers
//! or automatic assignments ([`accepts_new_work`]); `rona` is set only by the system when an
//! offer timed out, and the agent leaves it only by setting `available` again. Also here: the
//! pure R11 rule deciding when an offline agent's open conversations are routed again
//! ([`offline_grace`]). The transition table is in `docs/state-machines.md (presence and routing)`; each row has
//! a test below.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::entities::{Availability, InboxSettings, Timestamp};
use crate::error::{DomainError, DomainResult};
use crate::ids::{AgentId, ConversationId};

/// The machine's name in [`DomainError::InvalidTransition`].
const MACHINE: &str = "agent presence";

/// R1: whether an agent with this availability gets offers and automatic assignments.
/// Only `available` does; `busy`, `offline` and `rona` never do.
#[must_use]
pub const fn accepts_new_work(availability: Availability) -> bool {
    matches!(availability, Availability::Available)
}

/// The availability's name in error messages and docs.
const fn availability_name(availability: Availability) -> &'static str {
    match availability {
        Availability::Offline => "offline",
        Availability::Available => "available",
        Availability::Busy => "busy",
        Availability::Rona => "rona",
    }
}

/// `at + secs`, saturating at the latest representable time instead of panicking.
pub(crate) fn add_secs(at: Timestamp, secs: u32) -> Timestamp {
    at.checked_add_signed(Duration::seconds(i64::from(secs)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// One agent's presence: their availability and since when they have had it.
///
/// When the availability is `offline`, `since` is the time the agent went offline, which starts
/// the R11 grace period of their open conversations (see [`offline_grace`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPresence {
    /// The agent.
    pub agent: AgentId,
    /// Their availability (R1).
    pub availability: Availability,
    /// When this availability began.
    pub since: Timestamp,
}

/// What can be asked of an agent's presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PresenceCommand {
    /// The agent sets themselves `available`: ready for offers and assignments. The only way
    /// out of `rona`.
    SetAvailable,
    /// The agent sets themselves `busy`: signed in, keeps their work, takes nothing new.
    SetBusy,
    /// The agent sets themselves `offline` (signs out or goes away); R11 may route their open
    /// conversations again after the grace period.
    SetOffline,
    /// R6: the system marks the agent `rona` because an offer to them timed out.
    MarkRona {
        /// The conversation whose offer timed out.
        conversation: ConversationId,
    },
}

impl PresenceCommand {
    /// The command's name in error messages and docs.
    const fn name(self) -> &'static str {
        match self {
            Self::SetAvailable => "set available",
            Self::SetBusy => "set busy",
            Self::SetOffline => "set offline",
            Self::MarkRona { .. } => "mark rona",
        }
    }
}

/// What happened to an agent's presence. Every event carries when and who (C12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PresenceEvent {
    /// The agent became `available`.
    BecameAvailable {
        /// The agent.
        agent: AgentId,
        /// When.
        at: Timestamp,
        /// Who did it (the agent).
        actor: Actor,
    },
    /// The agent became `busy`.
    BecameBusy {
        /// The agent.
        agent: AgentId,
        /// When.
        at: Timestamp,
        /// Who did it (the agent).
        actor: Actor,
    },
    /// The agent went `offline`; this starts the R11 grace period of their open conversations.
    WentOffline {
        /// The agent.
        agent: AgentId,
        /// When.
        at: Timestamp,
        /// Who did it (the agent).
        actor: Actor,
    },
    /// R6: the agent was marked `rona` because an offer to them timed out.
    MarkedRona {
        /// The agent.
        agent: AgentId,
        /// The conversation whose offer timed out.
        conversation: ConversationId,
        /// When.
        at: Timestamp,
        /// Who did it (the system).
        actor: Actor,
    },
}

impl PresenceEvent {
    /// The agent whose presence changed.
    #[must_use]
    pub const fn agent(&self) -> AgentId {
        match *self {
            Self::BecameAvailable { agent, .. }
            | Self::BecameBusy { agent, .. }
            | Self::WentOffline { agent, .. }
            | Self::MarkedRona { agent, .. } => agent,
        }
    }

    /// When it happened.
    #[must_use]
    pub const fn at(&self) -> Timestamp {
        match *self {
            Self::BecameAvailable { at, .. }
            | Self::BecameBusy { at, .. }
            | Self::WentOffline { at, .. }
            | Self::MarkedRona { at, .. } => at,
        }
    }

    /// Who caused it.
    #[must_use]
    pub const fn actor(&self) -> Actor {
        match *self {
            Self::BecameAvailable { actor, .. }
            | Self::BecameBusy { actor, .. }
            | Self::WentOffline { actor, .. }
            | Self::MarkedRona { actor, .. } => actor,
        }
    }

    /// The availability the agent has after it.
    #[must_use]
    pub const fn availability(&self) -> Availability {
        match self {
            Self::BecameAvailable { .. } => Availability::Available,
            Self::BecameBusy { .. } => Availability::Busy,
            Self::WentOffline { .. } => Availability::Offline,
            Self::MarkedRona { .. } => Availability::Rona,
        }
    }
}

impl AgentPresence {
    /// A new agent's presence: `offline` since `at`, until they sign in.
    #[must_use]
    pub const fn new(agent: AgentId, at: Timestamp) -> Self {
        Self {
            agent,
            availability: Availability::Offline,
            since: at,
        }
    }

    /// R1: whether the agent gets offers and automatic assignments (only when `available`).
    #[must_use]
    pub const fn accepts_new_work(&self) -> bool {
        accepts_new_work(self.availability)
    }

    /// R11: when the agent went offline, if they are offline.
    #[must_use]
    pub fn offline_since(&self) -> Option<Timestamp> {
        (self.availability == Availability::Offline).then_some(self.since)
    }

    /// R11: whether the agent came back since going offline at `went_offline_at`: they are no
    /// longer offline, or went offline again later (a newer grace period then applies).
    #[must_use]
    pub fn came_back_since(&self, went_offline_at: Timestamp) -> bool {
        self.offline_since() != Some(went_offline_at)
    }

    /// The events `command` causes at `now`, without changing anything.
    ///
    /// Asking for the availability the agent already has causes no event (and keeps `since`).
    /// `mark rona` changes only an `available` agent: an agent who meanwhile went busy or
    /// offline keeps that state, since neither gets new work anyway.
    ///
    /// # Errors
    /// `invalid_transition` when a `rona` agent asks for `busy` or `offline`: they leave `rona`
    /// only by setting `available` (R1).
    pub fn decide(
        &self,
        command: PresenceCommand,
        now: Timestamp,
    ) -> DomainResult<Vec<PresenceEvent>> {
        use Availability::{Available, Busy, Offline, Rona};

        let agent = self.agent;
        let by_agent = Actor::Agent(agent);
        let event = match (self.availability, command) {
            (Available, PresenceCommand::SetAvailable)
            | (Busy, PresenceCommand::SetBusy)
            | (Offline, PresenceCommand::SetOffline)
            | (Offline | Busy | Rona, PresenceCommand::MarkRona { .. }) => None,
            (Rona, PresenceCommand::SetBusy | PresenceCommand::SetOffline) => {
                return Err(DomainError::InvalidTransition {
                    machine: MACHINE,
                    state: availability_name(self.availability),
                    command: command.name(),
                });
            }
            (Offline | Busy | Rona, PresenceCommand::SetAvailable) => {
                Some(PresenceEvent::BecameAvailable {
                    agent,
                    at: now,
                    actor: by_agent,
                })
            }
            (Offline | Available, PresenceCommand::SetBusy) => Some(PresenceEvent::BecameBusy {
                agent,
                at: now,
                actor: by_agent,
            }),
            (Available | Busy, PresenceCommand::SetOffline) => Some(PresenceEvent::WentOffline {
                agent,
                at: now,
                actor: by_agent,
            }),
            (Available, PresenceCommand::MarkRona { conversation }) => {
                Some(PresenceEvent::MarkedRona {
                    agent,
                    conversation,
                    at: now,
                    actor: Actor::System,
                })
            }
        };
        Ok(event.into_iter().collect())
    }

    /// Folds one event into the presence. Never fails; events of another agent are ignored.
    pub fn apply(&mut self, event: &PresenceEvent) {
        if event.agent() == self.agent {
            self.availability = event.availability();
            self.since = event.at();
        }
    }
}

/// R11: what becomes of the open conversations of an agent who went offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OfflineGrace {
    /// The agent keeps them: they came back, or the inbox keeps assignments of offline agents.
    Keep,
    /// The grace period runs until `until`: set a timer for then and ask again.
    Pending {
        /// When the grace period ends.
        until: Timestamp,
    },
    /// The grace period ended at `ended_at`: route the conversations again (R3).
    RouteAgain {
        /// When the grace period ended.
        ended_at: Timestamp,
    },
}

/// R11: decides, for the open conversations an agent holds in an inbox, whether they are to be
/// routed again. The agent went offline at `went_offline_at`; `came_back` says whether they
/// have come back since (see [`AgentPresence::came_back_since`]). The grace period is the
/// inbox's `offline_grace_secs` (default 120 s) and ends exactly at
/// `went_offline_at + offline_grace_secs`: from that instant on, the answer is
/// [`OfflineGrace::RouteAgain`]. An inbox with `keep_assignments_when_offline` always keeps.
#[must_use]
pub fn offline_grace(
    went_offline_at: Timestamp,
    came_back: bool,
    settings: &InboxSettings,
    now: Timestamp,
) -> OfflineGrace {
    if came_back || settings.keep_assignments_when_offline {
        return OfflineGrace::Keep;
    }
    let until = add_secs(went_offline_at, settings.offline_grace_secs);
    if now < until {
        OfflineGrace::Pending { until }
    } else {
        OfflineGrace::RouteAgain { ended_at: until }
    }
}

/// Proptest generators shared by the tests of this crate's presence and routing modules.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;

    use super::*;

    /// A fixed time plus `secs` seconds.
    pub(crate) fn t(secs: i64) -> Timestamp {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap() + Duration::seconds(secs)
    }

    /// A time within a few years of 2027, to the nanosecond.
    pub(crate) fn arb_timestamp() -> impl Strategy<Value = Timestamp> {
        (1_700_000_000_i64..1_900_000_000, 0_u32..1_000_000_000).prop_map(|(secs, nanos)| {
            DateTime::from_timestamp(secs, nanos).unwrap_or(DateTime::<Utc>::MIN_UTC)
        })
    }

    /// Any availability.
    pub(crate) fn arb_availability() -> impl Strategy<Value = Availability> {
        prop_oneof![
            Just(Availability::Offline),
            Just(Availability::Available),
            Just(Availability::Busy),
            Just(Availability::Rona),
        ]
    }

    /// One of a few agents, so that collisions happen.
    pub(crate) fn arb_agent() -> impl Strategy<Value = AgentId> {
        (1_u128..8).prop_map(AgentId::from_u128)
    }

    /// One of a few conversations.
    pub(crate) fn arb_conversation() -> impl Strategy<Value = ConversationId> {
        (1_u128..64).prop_map(ConversationId::from_u128)
    }

    /// Fails the case unless `value` comes back equal from JSON.
    pub(crate) fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: T =
            serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, value, "{}", json);
        Ok(())
    }

    /// Any presence command.
    pub(crate) fn arb_command() -> impl Strategy<Value = PresenceCommand> {
        prop_oneof![
            Just(PresenceCommand::SetAvailable),
            Just(PresenceCommand::SetBusy),
            Just(PresenceCommand::SetOffline),
            arb_conversation().prop_map(|conversation| PresenceCommand::MarkRona { conversation }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::strategies::*;
    use super::*;

    const AGENT: AgentId = AgentId::from_u128(7);
    const CONVERSATION: ConversationId = ConversationId::from_u128(9);

    fn presence(availability: Availability) -> AgentPresence {
        AgentPresence {
            agent: AGENT,
            availability,
            since: t(0),
        }
    }

    fn rona_cmd() -> PresenceCommand {
        PresenceCommand::MarkRona {
            conversation: CONVERSATION,
        }
    }

    /// Decides and applies; returns the new presence and the events.
    fn run(from: Availability, command: PresenceCommand) -> (AgentPresence, Vec<PresenceEvent>) {
        let mut state = presence(from);
        let events = state.decide(command, t(10)).unwrap();
        for event in &events {
            state.apply(event);
        }
        (state, events)
    }

    fn assert_moves(from: Availability, command: PresenceCommand, to: Availability) {
        let (state, events) = run(from, command);
        assert_eq!(events.len(), 1, "{from:?} x {command:?}");
        assert_eq!(events[0].at(), t(10));
        assert_eq!(events[0].agent(), AGENT);
        assert_eq!(state.availability, to);
        assert_eq!(state.since, t(10));
    }

    fn assert_no_event(from: Availability, command: PresenceCommand) {
        let (state, events) = run(from, command);
        assert!(events.is_empty(), "{from:?} x {command:?}: {events:?}");
        assert_eq!(state, presence(from));
    }

    fn assert_refused(from: Availability, command: PresenceCommand) {
        let error = presence(from).decide(command, t(10)).unwrap_err();
        assert_eq!(error.code(), "invalid_transition");
        assert!(error.to_string().contains("rona"), "{error}");
    }

    // Transition table rows (docs/state-machines.md (presence and routing)), one test per row.

    #[test]
    fn r1_offline_row() {
        use Availability::*;
        assert_moves(Offline, PresenceCommand::SetAvailable, Available);
        assert_moves(Offline, PresenceCommand::SetBusy, Busy);
        assert_no_event(Offline, PresenceCommand::SetOffline);
        assert_no_event(Offline, rona_cmd());
    }

    #[test]
    fn r1_available_row() {
        use Availability::*;
        assert_no_event(Available, PresenceCommand::SetAvailable);
        assert_moves(Available, PresenceCommand::SetBusy, Busy);
        assert_moves(Available, PresenceCommand::SetOffline, Offline);
        assert_moves(Available, rona_cmd(), Rona);
    }

    #[test]
    fn r1_busy_row() {
        use Availability::*;
        assert_moves(Busy, PresenceCommand::SetAvailable, Available);
        assert_no_event(Busy, PresenceCommand::SetBusy);
        assert_moves(Busy, PresenceCommand::SetOffline, Offline);
        assert_no_event(Busy, rona_cmd());
    }

    #[test]
    fn r1_rona_row_leaves_only_by_setting_available() {
        use Availability::*;
        assert_moves(Rona, PresenceCommand::SetAvailable, Available);
        assert_refused(Rona, PresenceCommand::SetBusy);
        assert_refused(Rona, PresenceCommand::SetOffline);
        assert_no_event(Rona, rona_cmd());
    }

    #[test]
    fn r1_only_available_accepts_new_work() {
        for availability in [
            Availability::Offline,
            Availability::Busy,
            Availability::Rona,
        ] {
            assert!(!accepts_new_work(availability));
            assert!(!presence(availability).accepts_new_work());
        }
        assert!(presence(Availability::Available).accepts_new_work());
    }

    #[test]
    fn r6_rona_is_set_by_the_system_with_the_timed_out_conversation() {
        let (_, events) = run(Availability::Available, rona_cmd());
        assert_eq!(
            events,
            vec![PresenceEvent::MarkedRona {
                agent: AGENT,
                conversation: CONVERSATION,
                at: t(10),
                actor: Actor::System,
            }]
        );
        let (_, events) = run(Availability::Busy, PresenceCommand::SetAvailable);
        assert_eq!(events[0].actor(), Actor::Agent(AGENT));
    }

    #[test]
    fn r1_a_new_agent_starts_offline() {
        let new = AgentPresence::new(AGENT, t(0));
        assert_eq!(new.availability, Availability::Offline);
        assert_eq!(new.offline_since(), Some(t(0)));
    }

    #[test]
    fn r1_apply_ignores_events_of_another_agent() {
        let mut state = presence(Availability::Busy);
        state.apply(&PresenceEvent::BecameAvailable {
            agent: AgentId::from_u128(8),
            at: t(5),
            actor: Actor::System,
        });
        assert_eq!(state, presence(Availability::Busy));
    }

    fn settings(keep: bool) -> InboxSettings {
        InboxSettings {
            keep_assignments_when_offline: keep,
            ..InboxSettings::default()
        }
    }

    #[test]
    fn r11_grace_period_is_two_minutes_by_default() {
        let went = t(0);
        assert_eq!(
            offline_grace(went, false, &settings(false), t(0)),
            OfflineGrace::Pending { until: t(120) }
        );
        assert_eq!(
            offline_grace(went, false, &settings(false), t(119)),
            OfflineGrace::Pending { until: t(120) }
        );
        assert_eq!(
            offline_grace(went, false, &settings(false), t(120)),
            OfflineGrace::RouteAgain { ended_at: t(120) }
        );
        assert_eq!(
            offline_grace(went, false, &settings(false), t(4000)),
            OfflineGrace::RouteAgain { ended_at: t(120) }
        );
    }

    #[test]
    fn r11_grace_period_follows_the_inbox_setting() {
        let custom = InboxSettings {
            offline_grace_secs: 30,
            ..InboxSettings::default()
        };
        assert_eq!(
            offline_grace(t(0), false, &custom, t(30)),
            OfflineGrace::RouteAgain { ended_at: t(30) }
        );
    }

    #[test]
    fn r11_agent_who_came_back_keeps_their_conversations() {
        assert_eq!(
            offline_grace(t(0), true, &settings(false), t(500)),
            OfflineGrace::Keep
        );
    }

    #[test]
    fn r11_inbox_set_to_keep_never_routes_again() {
        assert_eq!(
            offline_grace(t(0), false, &settings(true), t(500)),
            OfflineGrace::Keep
        );
    }

    #[test]
    fn r11_came_back_since_tracks_the_offline_episode() {
        let mut state = presence(Availability::Available);
        let offline = state.decide(PresenceCommand::SetOffline, t(1)).unwrap();
        state.apply(&offline[0]);
        assert!(!state.came_back_since(t(1)));
        let back = state.decide(PresenceCommand::SetBusy, t(2)).unwrap();
        state.apply(&back[0]);
        assert!(state.came_back_since(t(1)));
        // Offline again: the first episode's timer must not route; the new one will.
        let again = state.decide(PresenceCommand::SetOffline, t(3)).unwrap();
        state.apply(&again[0]);
        assert!(state.came_back_since(t(1)));
        assert!(!state.came_back_since(t(3)));
    }

    proptest! {
        /// R1: replaying the events of `decide` with `apply` rebuilds the same state, and a
        /// refused command is exactly a `rona` agent asking for busy or offline.
        #[test]
        fn r1_replay_of_decided_events_rebuilds_the_state(
            start in arb_timestamp(),
            steps in prop::collection::vec((arb_command(), 0_i64..600), 0..40),
        ) {
            let initial = AgentPresence::new(AGENT, start);
            let mut state = initial;
            let mut log = Vec::new();
            let mut now = start;
            for (command, gap) in steps {
                now += Duration::seconds(gap);
                let before = state;
                match state.decide(command, now) {
                    Ok(events) => {
                        prop_assert!(events.len() <= 1);
                        for event in &events {
                            prop_assert_eq!(event.at(), now);
                            state.apply(event);
                        }
                        if let PresenceCommand::MarkRona { .. } = command {
                            let expected = if before.availability == Availability::Available {
                                Availability::Rona
                            } else {
                                before.availability
                            };
                            prop_assert_eq!(state.availability, expected);
                        } else {
                            let expected = match command {
                                PresenceCommand::SetAvailable => Availability::Available,
                                PresenceCommand::SetBusy => Availability::Busy,
                                _ => Availability::Offline,
                            };
                            prop_assert_eq!(state.availability, expected);
                        }
                        log.extend(events);
                    }
                    Err(error) => {
                        prop_assert_eq!(error.code(), "invalid_transition");
                        prop_assert_eq!(before.availability, Availability::Rona);
                        prop_assert!(matches!(
                            command,
                            PresenceCommand::SetBusy | PresenceCommand::SetOffline
                        ));
                    }
                }
            }
            let mut replayed = initial;
            for event in &log {
                replayed.apply(event);
            }
            prop_assert_eq!(replayed, state);
        }

        /// R1, R11: presence types survive a JSON round trip.
        #[test]
        fn r1_presence_types_survive_serde(
            agent in arb_agent(),
            conversation in arb_conversation(),
            at in arb_timestamp(),
            availability in arb_availability(),
            command in arb_command(),
            which in 0_u8..4,
        ) {
            let actor = if which % 2 == 0 { Actor::System } else { Actor::Agent(agent) };
            let event = match which {
                0 => PresenceEvent::BecameAvailable { agent, at, actor },
                1 => PresenceEvent::BecameBusy { agent, at, actor },
                2 => PresenceEvent::WentOffline { agent, at, actor },
                _ => PresenceEvent::MarkedRona { agent, conversation, at, actor },
            };
            round_trip(&event)?;
            round_trip(&availability)?;
            round_trip(&command)?;
            round_trip(&AgentPresence { agent, availability, since: at })?;
            round_trip(&OfflineGrace::Keep)?;
            round_trip(&OfflineGrace::Pending { until: at })?;
            round_trip(&OfflineGrace::RouteAgain { ended_at: at })?;
        }
    }

    #[test]
    fn r1_event_json_is_tagged_snake_case() {
        let event = PresenceEvent::MarkedRona {
            agent: AGENT,
            conversation: CONVERSATION,
            at: t(0),
            actor: Actor::System,
        };
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["type"], "marked_rona");
        assert_eq!(json["actor"]["type"], "system");
    }
}
