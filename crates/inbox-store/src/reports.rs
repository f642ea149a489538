//! P1, D15: the report catch-up on [`SqlStore`]. One chunk of the account's event log after the
//! stored cursor is folded with the core's report folds (`conversation_core::reports`) and, in
//! the same transaction, the fold states, the daily and monthly rollups and histograms, the dialog rows and
//! the new cursor are written. The cursor row is read `FOR UPDATE` on PostgreSQL (SQLite has one
//! writer), so catch-ups of one account from any number of processes follow one another and
//! each event is counted exactly once; a failed chunk leaves nothing behind and is folded again
//! by the next catch-up. The log is gap-free and in commit order (`docs/storage.md`), so no
//! event can appear later below the cursor. Queries are in `reports_query.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use conversation_core::DomainEvent;
use conversation_core::ids::AccountId;
use conversation_core::ports::{
    ConversationReportCells, ConversationReportQuery, DialogReportCells, DialogReportQuery, Period,
    ReportStore, StoreError,
};
use conversation_core::reports::{
    ConversationFold, DialogFold, DialogRow, Fact, day_number, histogram,
};
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult, json_error};
use crate::open::SqlStore;
use crate::reports_histograms::{Counts, MonthKey, write_monthly_histograms};
use crate::rows::{self, to_json};
use crate::sql::{Arg, Tx, args};

/// Events folded per transaction.
const CHUNK: u32 = 1_000;
/// Rows per multi-row `INSERT`.
const ROWS_PER_INSERT: usize = 100;

/// The key of a rollup row: day, metric, inbox, queue, agent, reason (nil for none).
type RollupKey = (i64, &'static str, Uuid, Uuid, Uuid, Uuid);
/// The key of a histogram row: day, metric, inbox, queue, agent, bucket.
type BucketKey = (i64, &'static str, Uuid, Uuid, Uuid, i64);

fn key(id: Option<Uuid>) -> Uuid {
    id.unwrap_or(Uuid::nil())
}

/// The day, its week's Monday and its month's first, as stored.
fn days(day: i64) -> [Arg; 3] {
    [
        Arg::from(day),
        Arg::from(Period::Week.start_of(day)),
        Arg::from(Period::Month.start_of(day)),
    ]
}

fn bigint(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// What one chunk adds: rollups and histogram rows, summed per key.
#[derive(Default)]
struct Additions {
    rollups: BTreeMap<RollupKey, (i64, i64)>,
    buckets: BTreeMap<BucketKey, i64>,
}

impl Additions {
    fn add(&mut self, fact: &Fact) {
        let day = day_number(fact.at);
        let metric = fact.metric.as_str();
        let inbox = key(fact.inbox.map(|id| id.as_uuid()));
        let queue = key(fact.queue.map(|id| id.as_uuid()));
        let agent = key(fact.agent.map(|id| id.as_uuid()));
        let reason = key(fact.reason.map(|id| id.as_uuid()));
        let value = fact.value.map_or(0, bigint);
        let cell = self
            .rollups
            .entry((day, metric, inbox, queue, agent, reason))
            .or_default();
        cell.0 += 1;
        cell.1 = cell.1.saturating_add(value);
        if let Some(value) = fact.value {
            let bucket = bigint(histogram::bucket(value));
            *self
                .buckets
                .entry((day, metric, inbox, queue, agent, bucket))
                .or_default() += 1;
        }
    }
}

/// `($1, $2, ...), (...)` for `rows` rows of `width` values, numbered from `$1`.
fn values(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = (1..=width)
                .map(|c| format!("${}", row * width + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `INSERT INTO {head} VALUES ... {tail}` over `rows`, a few rows per statement.
pub(crate) async fn insert_many(
    tx: &mut Tx,
    head: &str,
    tail: &str,
    width: usize,
    rows: Vec<Vec<Arg>>,
) -> StoreResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO {head} VALUES {} {tail}",
            values(chunk.len(), width)
        );
        let flat: Vec<Arg> = chunk.iter().flatten().cloned().collect();
        tx.execute(&sql, &flat).await.store()?;
    }
    Ok(())
}

/// The fold states of the subjects, as stored (absent: never folded yet).
async fn load_states(
    tx: &mut Tx,
    account: AccountId,
    subjects: &BTreeSet<Uuid>,
) -> StoreResult<HashMap<Uuid, String>> {
    let mut states = HashMap::new();
    let subjects: Vec<Uuid> = subjects.iter().copied().collect();
    for chunk in subjects.chunks(500) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT subject_id, state FROM report_folds WHERE account_id = $1 \
             AND subject_id IN ({})",
            marks.join(", ")
        );
        let mut bound = vec![Arg::from(account)];
        bound.extend(chunk.iter().map(|id| Arg::from(*id)));
        for row in tx.fetch_all(&sql, &bound).await.store()? {
            states.insert(row.uuid("subject_id").store()?, row.text("state").store()?);
        }
    }
    Ok(states)
}

fn parse<T: serde::de::DeserializeOwned + Default>(state: Option<&String>) -> StoreResult<T> {
    state.map_or_else(
        || Ok(T::default()),
        |text| serde_json::from_str(text).map_err(json_error),
    )
}

/// Writes the rows of the dialogs a chunk touched, and their many-valued dimensions.
async fn write_dialogs(
    tx: &mut Tx,
    account: AccountId,
    dialogs: &BTreeMap<Uuid, DialogFold>,
) -> StoreResult<()> {
    let rows: Vec<&DialogRow> = dialogs
        .values()
        .filter_map(|fold| fold.row.as_ref())
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = Vec::new();
    let mut dims = Vec::new();
    for row in &rows {
        let dialog = row.dialog.as_uuid();
        let mut cells = vec![Arg::from(account), Arg::from(dialog)];
        cells.extend(days(day_number(row.created_at)));
        cells.extend([
            Arg::from(row.status.as_str()),
            Arg::from(row.request_type.as_uuid()),
            Arg::from(row.duration_secs().map(bigint)),
            Arg::from(row.completed_active_secs().map(bigint)),
            Arg::from(row.contact_rating.map(i64::from)),
            Arg::from(row.satisfaction.map(i64::from)),
        ]);
        columns.push(cells);
        let many = row
            .reasons
            .iter()
            .map(|id| ("reason", id.as_uuid()))
            .chain(row.components.iter().map(|id| ("component", id.as_uuid())))
            .chain(row.participants.iter().map(|id| ("agent", id.as_uuid())));
        for (dim, value) in many {
            dims.push(vec![
                Arg::from(account),
                Arg::from(dialog),
                Arg::from(dim),
                Arg::from(value),
            ]);
        }
        tx.execute(
            "DELETE FROM report_dialog_dims WHERE account_id = $1 AND dialog_id = $2",
            &args![account, dialog],
        )
        .await
        .store()?;
    }
    insert_many(
        tx,
        "report_dialogs (account_id, dialog_id, day, week, month, status, request_type_id, \
         duration_secs, active_secs, contact_rating, satisfaction)",
        "ON CONFLICT (account_id, dialog_id) DO UPDATE SET status = excluded.status, \
         request_type_id = excluded.request_type_id, duration_secs = excluded.duration_secs, \
         active_secs = excluded.active_secs, contact_rating = excluded.contact_rating, \
         satisfaction = excluded.satisfaction",
        11,
        columns,
    )
    .await?;
    insert_many(
        tx,
        "report_dialog_dims (account_id, dialog_id, dim, value_id)",
        "",
        4,
        dims,
    )
    .await
}

/// Writes the chunk's rollups and histogram rows, adding to what is there.
async fn write_additions(tx: &mut Tx, account: AccountId, add: Additions) -> StoreResult<()> {
    let rollups = add
        .rollups
        .into_iter()
        .map(|((day, metric, inbox, queue, agent, reason), (n, total))| {
            let mut cells = vec![Arg::from(account)];
            cells.extend(days(day));
            cells.extend(args![metric, inbox, queue, agent, reason, n, total]);
            cells
        })
        .collect();
    insert_many(
        tx,
        "report_rollups (account_id, day, week, month, metric, inbox_id, queue_id, agent_id, \
         reason_id, n, total)",
        "ON CONFLICT (account_id, day, metric, inbox_id, queue_id, agent_id, reason_id) \
         DO UPDATE SET n = report_rollups.n + excluded.n, \
         total = report_rollups.total + excluded.total",
        11,
        rollups,
    )
    .await?;
    let buckets = add
        .buckets
        .into_iter()
        .map(|((day, metric, inbox, queue, agent, bucket), n)| {
            let mut cells = vec![Arg::from(account)];
            cells.extend(days(day));
            cells.extend(args![metric, inbox, queue, agent, bucket, n]);
            cells
        })
        .collect();
    insert_many(
        tx,
        "report_buckets (account_id, day, week, month, metric, inbox_id, queue_id, agent_id, \
         bucket, n)",
        "ON CONFLICT (account_id, day, metric, inbox_id, queue_id, agent_id, bucket) \
         DO UPDATE SET n = report_buckets.n + excluded.n",
        10,
        buckets,
    )
    .await
}

/// Writes the same additions summed per month (migration 0013), in the same transaction as the
/// daily rows, so a month's rows always equal the sum of its days'.
async fn write_monthly(tx: &mut Tx, account: AccountId, add: &Additions) -> StoreResult<()> {
    let mut rollups: BTreeMap<RollupKey, (i64, i64)> = BTreeMap::new();
    for ((day, metric, inbox, queue, agent, reason), (n, total)) in &add.rollups {
        let month = Period::Month.start_of(*day);
        let cell = rollups
            .entry((month, *metric, *inbox, *queue, *agent, *reason))
            .or_default();
        cell.0 += n;
        cell.1 = cell.1.saturating_add(*total);
    }
    let mut histograms: BTreeMap<MonthKey, Counts> = BTreeMap::new();
    for ((day, metric, inbox, queue, agent, bucket), n) in &add.buckets {
        let month = Period::Month.start_of(*day);
        *histograms
            .entry((month, *metric, *inbox, *queue, *agent))
            .or_default()
            .entry(u64::try_from(*bucket).unwrap_or(0))
            .or_default() += u64::try_from(*n).unwrap_or(0);
    }
    let rollups = rollups
        .into_iter()
        .map(
            |((month, metric, inbox, queue, agent, reason), (n, total))| {
                args![
                    account, month, metric, inbox, queue, agent, reason, n, total
                ]
                .to_vec()
            },
        )
        .collect();
    insert_many(
        tx,
        "report_rollups_monthly (account_id, month, metric, inbox_id, queue_id, agent_id, \
         reason_id, n, total)",
        "ON CONFLICT (account_id, month, metric, inbox_id, queue_id, agent_id, reason_id) \
         DO UPDATE SET n = report_rollups_monthly.n + excluded.n, \
         total = report_rollups_monthly.total + excluded.total",
        9,
        rollups,
    )
    .await?;
    write_monthly_histograms(tx, account, histograms).await
}

/// Folds one chunk of events after the cursor in one transaction; returns how many.
async fn catch_up_chunk(store: &SqlStore, account: AccountId) -> StoreResult<u64> {
    let mut tx = store.db.begin().await.store()?;
    tx.execute(
        "INSERT INTO report_cursors (account_id, last_seq) VALUES ($1, 0) \
         ON CONFLICT (account_id) DO NOTHING",
        &args![account],
    )
    .await
    .store()?;
    let lock = tx.dialect().for_update();
    let cursor = tx
        .fetch_optional(
            &format!("SELECT last_seq FROM report_cursors WHERE account_id = $1{lock}"),
            &args![account],
        )
        .await
        .store()?
        .map(|row| row.count("last_seq"))
        .transpose()
        .store()?
        .unwrap_or(0);
    let events = tx
        .fetch_all(
            "SELECT seq, aggregate_type, aggregate_id, payload FROM events \
             WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &args![account, bigint(cursor), CHUNK],
        )
        .await
        .store()?
        .iter()
        .map(rows::stored_event)
        .collect::<StoreResult<Vec<_>>>()?;
    let Some(last) = events.last().map(|event| event.sequence) else {
        tx.commit().await.store()?;
        return Ok(0);
    };

    let mut conversation_ids = BTreeSet::new();
    let mut dialog_ids = BTreeSet::new();
    for stored in &events {
        match &stored.event {
            DomainEvent::Conversation(event) => {
                conversation_ids.insert(event.conversation.as_uuid());
            }
            DomainEvent::Dialog {
                dialog,
                conversation,
                ..
            } => {
                conversation_ids.insert(conversation.as_uuid());
                dialog_ids.insert(dialog.as_uuid());
            }
            _ => {}
        }
    }
    let subjects = conversation_ids.union(&dialog_ids).copied().collect();
    let stored = load_states(&mut tx, account, &subjects).await?;
    let mut conversations: BTreeMap<Uuid, ConversationFold> = BTreeMap::new();
    for subject in conversation_ids {
        conversations.insert(subject, parse(stored.get(&subject))?);
    }
    let mut dialogs: BTreeMap<Uuid, DialogFold> = BTreeMap::new();
    for subject in dialog_ids {
        dialogs.insert(subject, parse(stored.get(&subject))?);
    }
    let mut facts = Vec::new();
    for event in events.iter().map(|stored| &stored.event) {
        match event {
            DomainEvent::Conversation(change) => {
                if let Some(fold) = conversations.get_mut(&change.conversation.as_uuid()) {
                    fold.fold(event, &mut facts);
                }
            }
            DomainEvent::Dialog {
                dialog,
                conversation,
                event: change,
            } => {
                if let Some(fold) = conversations.get_mut(&conversation.as_uuid()) {
                    fold.fold(event, &mut facts);
                }
                if let Some(fold) = dialogs.get_mut(&dialog.as_uuid()) {
                    fold.fold(change);
                }
            }
            _ => {}
        }
    }

    let mut states = Vec::new();
    for (subject, state) in &conversations {
        states.push(args![account, *subject, to_json(state)?].to_vec());
    }
    for (subject, state) in &dialogs {
        states.push(args![account, *subject, to_json(state)?].to_vec());
    }
    insert_many(
        &mut tx,
        "report_folds (account_id, subject_id, state)",
        "ON CONFLICT (account_id, subject_id) DO UPDATE SET state = excluded.state",
        3,
        states,
    )
    .await?;
    let mut additions = Additions::default();
    for fact in &facts {
        additions.add(fact);
    }
    write_monthly(&mut tx, account, &additions).await?;
    write_additions(&mut tx, account, additions).await?;
    write_dialogs(&mut tx, account, &dialogs).await?;
    tx.execute(
        "UPDATE report_cursors SET last_seq = $2 WHERE account_id = $1",
        &args![account, bigint(last)],
    )
    .await
    .store()?;
    tx.commit().await.store()?;
    Ok(u64::try_from(events.len()).unwrap_or(u64::MAX))
}

#[async_trait]
impl ReportStore for SqlStore {
    async fn catch_up_reports(&self, account: AccountId) -> Result<u64, StoreError> {
        let mut folded = 0;
        loop {
            let chunk = catch_up_chunk(self, account).await?;
            folded += chunk;
            if chunk < u64::from(CHUNK) {
                return Ok(folded);
            }
        }
    }

    async fn report_accounts_behind(&self) -> Result<Vec<AccountId>, StoreError> {
        self.db
            .fetch_all(
                "SELECT a.id FROM accounts a LEFT JOIN report_cursors c ON c.account_id = a.id \
                 WHERE a.event_seq > COALESCE(c.last_seq, 0) ORDER BY a.id",
                &[],
            )
            .await
            .store()?
            .iter()
            .map(|row| Ok(AccountId::from_uuid(row.uuid("id").store()?)))
            .collect()
    }

    async fn conversation_report(
        &self,
        query: &ConversationReportQuery,
    ) -> Result<ConversationReportCells, StoreError> {
        crate::reports_query::conversation_report(&self.db, query).await
    }

    async fn dialog_report(
        &self,
        query: &DialogReportQuery,
    ) -> Result<DialogReportCells, StoreError> {
        crate::reports_dialogs::dialog_report(&self.db, query).await
    }
}
