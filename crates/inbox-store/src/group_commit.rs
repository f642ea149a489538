//! Group commit: the queue between [`CommitStore::commit`](conversation_core::ports::CommitStore)
//! callers and the database. Concurrently submitted commits wait in a *lane*; one committer task
//! per busy lane takes what is queued (up to a bound) and writes it as one transaction
//! ([`crate::commit_batch`]), so many changes share one WAL flush. Each caller is answered only
//! after that transaction's `COMMIT`, with exactly what its commit alone would have got.
//!
//! Lanes: SQLite has one (its one writer connection); PostgreSQL has one per account, because
//! what serializes commits there is the account's `event_seq` row lock, and a batch of one
//! account takes that lock once for all its commits. Accounts stay independent of each other.
//!
//! A lane exists in the map exactly while its committer task runs: the submitter that finds no
//! lane creates it and spawns the task; the task removes the lane when it finds it empty. So
//! nothing waits to fill a batch (an idle lane commits what was submitted at once), idle stores
//! hold no task, and on shutdown every queued commit is written before the task ends.
//!
//! Failure handling: a caller that drops its future before its batch starts is skipped (nothing
//! written, as when a transaction is dropped before its commit); once its batch started, the
//! commit completes without it. Each batch runs in a task of its own, so a panic loses only that
//! batch (its transaction is rolled back, its callers get `Internal`) and the lane goes on; a
//! committer task that is dropped (runtime shut down) removes its lane and fails what was queued
//! rather than leaving it waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use conversation_core::ids::AccountId;
use conversation_core::ports::{Commit, CommitReceipt, StoreError};
use tokio::sync::oneshot;

use crate::open::SqlStore;
use crate::sql::{Db, Dialect};

/// The most commits in one transaction on SQLite.
const SQLITE_MAX_BATCH: usize = 64;
/// The most commits in one transaction on PostgreSQL: each commit is a subtransaction, and a
/// backend caches at most 64 subtransaction ids before other sessions' snapshots must look them
/// up on disk; 32 stays well below.
const POSTGRES_MAX_BATCH: usize = 32;
/// Batches stop growing past this many bytes of files (attachments ride in commits); the first
/// commit is always taken, however large.
const BYTE_BUDGET: usize = 8 * 1024 * 1024;

/// What a caller gets back.
type Answer = Result<CommitReceipt, StoreError>;

/// A submitted commit and where its answer goes.
pub(crate) struct Pending {
    pub(crate) commit: Commit,
    pub(crate) reply: oneshot::Sender<Answer>,
}

/// Which lane a commit waits in: `None` is SQLite's single lane.
type LaneKey = Option<AccountId>;

/// The commit queue of one store (shared by its clones).
#[derive(Clone)]
pub(crate) struct Committer {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    max_batch: usize,
    /// The lanes with a running committer task, each with the commits it has yet to take.
    lanes: Mutex<HashMap<LaneKey, VecDeque<Pending>>>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer")
            .field("max_batch", &self.inner.max_batch)
            .field("busy_lanes", &self.inner.locked().len())
            .finish()
    }
}

impl Inner {
    fn locked(&self) -> MutexGuard<'_, HashMap<LaneKey, VecDeque<Pending>>> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lane_of(&self, commit: &Commit) -> LaneKey {
        match self.db.dialect() {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(commit.account),
        }
    }
}

impl Committer {
    /// The queue over the store's database.
    pub(crate) fn new(db: Db) -> Self {
        let max_batch = match db.dialect() {
            Dialect::Sqlite => SQLITE_MAX_BATCH,
            Dialect::Postgres => POSTGRES_MAX_BATCH,
        };
        Self {
            inner: Arc::new(Inner {
                db,
                max_batch,
                lanes: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Queues the commits (in this order, next to each other in their lanes) and waits for each
    /// one's answer, after the `COMMIT` of the batch that wrote it.
    pub(crate) async fn submit(&self, commits: Vec<Commit>) -> Vec<Answer> {
        let mut answers = Vec::with_capacity(commits.len());
        {
            let mut lanes = self.inner.locked();
            for commit in commits {
                let (reply, answer) = oneshot::channel();
                let key = self.inner.lane_of(&commit);
                let pending = Pending { commit, reply };
                if let Some(queue) = lanes.get_mut(&key) {
                    queue.push_back(pending);
                } else {
                    // Spawned first: should spawning fail (no runtime), no lane is left without
                    // its task. The task waits for this lock, so it finds its lane.
                    tokio::spawn(run_lane(Arc::clone(&self.inner), key));
                    lanes.insert(key, VecDeque::from([pending]));
                }
                answers.push(answer);
            }
        }
        let mut results = Vec::with_capacity(answers.len());
        for answer in answers {
            results.push(answer.await.unwrap_or_else(|_| {
                Err(StoreError::Internal(
                    "the commit was not written: its batch failed unexpectedly".into(),
                ))
            }))
        }
        results
    }
}

impl SqlStore {
    /// Submits several commits at once, each answered as [`CommitStore::commit`] would answer
    /// it alone after the ones before it: they queue next to each other, so an idle store writes
    /// them in one transaction (up to the batch bound). For importers and tests.
    ///
    /// [`CommitStore::commit`]: conversation_core::ports::CommitStore::commit
    pub async fn commit_each(
        &self,
        commits: Vec<Commit>,
    ) -> Vec<Result<CommitReceipt, StoreError>> {
        self.commits.submit(commits).await
    }
}

/// Removes the lane if its task ends without doing so (the task was dropped mid-batch): the
/// commits still queued are dropped, so their callers get an error instead of waiting forever.
struct LaneGuard {
    inner: Arc<Inner>,
    key: LaneKey,
    finished: bool,
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        if !self.finished {
            let orphans = self.inner.locked().remove(&self.key);
            drop(orphans);
        }
    }
}

/// The committer task of one lane: takes batches until the lane is empty, then removes it.
async fn run_lane(inner: Arc<Inner>, key: LaneKey) {
    let mut guard = LaneGuard {
        inner,
        key,
        finished: false,
    };
    loop {
        let batch = {
            let mut lanes = guard.inner.locked();
            let Some(queue) = lanes.get_mut(&key) else {
                // Unreachable while this task runs; end quietly rather than spin.
                guard.finished = true;
                return;
            };
            let batch = take_batch(queue, guard.inner.max_batch);
            if batch.is_empty() {
                lanes.remove(&key);
                guard.finished = true;
                return;
            }
            batch
        };
        // A task of its own, so that a panic inside loses only this batch: the transaction is
        // rolled back when dropped, and the dropped reply senders answer its callers.
        let db = guard.inner.db.clone();
        let written = tokio::spawn(crate::commit_batch::write_and_answer(db, batch)).await;
        if let Err(error) = written {
            if error.is_cancelled() {
                return;
            }
        }
    }
}

/// The commits to write next: what is queued now (never waiting for more), up to `max` commits
/// and the byte budget, skipping those whose caller has gone.
fn take_batch(queue: &mut VecDeque<Pending>, max: usize) -> Vec<Pending> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while batch.len() < max {
        let Some(next) = queue.front() else { break };
        if next.reply.is_closed() {
            queue.pop_front();
            continue;
        }
        let size: usize = next.commit.files.iter().map(|file| file.bytes.len()).sum();
        if !batch.is_empty() && bytes + size > BYTE_BUDGET {
            break;
        }
        bytes += size;
        if let Some(pending) = queue.pop_front() {
            batch.push(pending);
        }
    }
    batch
}
