//! One transaction for a batch of commits taken from a [`crate::group_commit`] lane:
//!
//! 1. `BEGIN`; on PostgreSQL, lock the `accounts` rows of the batch (in id order), so batches of
//!    one account from several server processes follow one another instead of deadlocking on
//!    the rows they write in different orders;
//! 2. each commit in submission order inside a `SAVEPOINT`: its rows ([`commit::write`]); on a
//!    refusal (version conflict, a unique index of C1, D3 or M8, capacity R2, a domain error)
//!    `ROLLBACK TO SAVEPOINT` undoes that commit alone and [`commit::explain`] reads, in the same
//!    transaction, what its caller is told; the others go on;
//! 3. per account, the events of the commits that were written, numbered in submission order
//!    by one `UPDATE accounts SET event_seq = event_seq + n` ([`commit::append_events`]);
//! 4. one `COMMIT`, one WAL flush; only then is anyone answered. If anything outside a
//!    commit's savepoint fails (the connection, a savepoint statement, the events, the `COMMIT`
//!    itself), nothing was written and every commit of the batch gets that error.
//!
//! Each commit thus sees exactly the state the commits before it in the batch left, as it would
//! alone after them: same versions, message sequences, event sequences and refusals.

use conversation_core::ids::AccountId;
use conversation_core::ports::{AggregateChange, Commit, CommitReceipt, StoreError};

use crate::commit::{self, Written};
use crate::error::{StoreResult, store_error};
use crate::group_commit::Pending;
use crate::sql::{Db, Dialect, Tx, args};

type Answer = Result<CommitReceipt, StoreError>;

/// Writes the batch and answers each caller (one that has gone is simply not told).
pub(crate) async fn write_and_answer(db: Db, batch: Vec<Pending>) {
    let answers = {
        let commits: Vec<&Commit> = batch.iter().map(|pending| &pending.commit).collect();
        write_batch(&db, &commits).await
    };
    for (pending, answer) in batch.into_iter().zip(answers) {
        // An error here only means the caller dropped its future.
        let _gone = pending.reply.send(answer);
    }
}

/// Writes the commits in one transaction; one answer per commit, in order.
async fn write_batch(db: &Db, commits: &[&Commit]) -> Vec<Answer> {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(error) => return every(commits.len(), store_error(error)),
    };
    let outcomes = match write_all(&mut tx, commits).await {
        Ok(outcomes) => outcomes,
        // Dropping the transaction rolls it back.
        Err(error) => return every(commits.len(), error),
    };
    match tx.commit().await {
        Ok(()) => outcomes,
        Err(error) => every(commits.len(), store_error(error)),
    }
}

/// Steps 1 to 3; `Err` when the transaction as a whole failed.
async fn write_all(tx: &mut Tx, commits: &[&Commit]) -> StoreResult<Vec<Answer>> {
    let mut accounts: Vec<AccountId> = commits.iter().map(|commit| commit.account).collect();
    accounts.sort_unstable();
    accounts.dedup();
    if tx.dialect() == Dialect::Postgres {
        for account in &accounts {
            tx.execute(
                "SELECT event_seq FROM accounts WHERE id = $1 FOR UPDATE",
                &args![*account],
            )
            .await
            .map_err(store_error)?;
        }
    }
    let mut written: Vec<Result<Written, StoreError>> = Vec::with_capacity(commits.len());
    for commit in commits {
        // Released after each commit, so savepoints never nest (leaving them open saves a round
        // trip per commit on PostgreSQL but measured no faster in B1, and deepens every check
        // SQLite makes per written page).
        savepoint(tx, "SAVEPOINT group_commit").await?;
        match commit::write(tx, commit).await {
            Ok(rows) => {
                savepoint(tx, "RELEASE SAVEPOINT group_commit").await?;
                written.push(Ok(rows));
            }
            Err(stop) => {
                savepoint(tx, "ROLLBACK TO SAVEPOINT group_commit").await?;
                written.push(Err(commit::explain(tx, commit.account, stop).await));
                savepoint(tx, "RELEASE SAVEPOINT group_commit").await?;
            }
        }
    }
    let mut last_events = vec![0; commits.len()];
    for account in accounts {
        let (indexes, changes): (Vec<usize>, Vec<&[AggregateChange]>) = commits
            .iter()
            .zip(&written)
            .enumerate()
            .filter(|(_, (commit, rows))| commit.account == account && rows.is_ok())
            .map(|(index, (commit, _))| (index, commit.changes.as_slice()))
            .unzip();
        let lasts = commit::append_events(tx, account, &changes).await?;
        for (index, last) in indexes.into_iter().zip(lasts) {
            last_events[index] = last;
        }
    }
    Ok(written
        .into_iter()
        .zip(last_events)
        .map(|(rows, last_event_sequence)| {
            rows.map(|rows| CommitReceipt {
                versions: rows.versions,
                message_sequences: rows.message_sequences,
                last_event_sequence,
            })
        })
        .collect())
}

/// A savepoint statement; its failure fails the whole transaction.
async fn savepoint(tx: &mut Tx, sql: &str) -> StoreResult<()> {
    tx.execute(sql, &[]).await.map(drop).map_err(store_error)
}

/// The same error for each of `n` commits.
fn every(n: usize, error: StoreError) -> Vec<Answer> {
    let mut answers: Vec<Answer> = (1..n).map(|_| Err(copy(&error))).collect();
    answers.push(Err(error));
    answers
}

/// A copy of a store error for another caller (driver errors are not `Clone`: the copy keeps
/// the variant, so callers still tell 503 from 500, and the message).
fn copy(error: &StoreError) -> StoreError {
    match error {
        StoreError::Domain(domain) => StoreError::Domain(domain.clone()),
        StoreError::Duplicate { existing } => StoreError::Duplicate {
            existing: *existing,
        },
        StoreError::Unavailable(source) => StoreError::Unavailable(source.to_string().into()),
        StoreError::Internal(source) => StoreError::Internal(source.to_string().into()),
    }
}
