//! The cross-process realtime doorbell (N1 with several server processes on one PostgreSQL).
//!
//! Each commit that appends events rings once, on commit, with the account and the range of
//! sequences it appended (the store's `pg_notify` in the commit's transaction; never one ring
//! per message). [`App::start_doorbell`] listens; on a ring for an account that has subscribers
//! in this process and events this process has not published yet, the hub reads exactly that
//! range from the event log and publishes it to its feed, once for all the account's sockets.
//! A subscription already drops what it saw and fills any gap from the log (see
//! [`crate::realtime`]), so a ring that overtakes this process's own publish, or an earlier
//! ring, costs a duplicate that is dropped, never a gap. When the listener lost its connection
//! (rings may be missed), every feed is read from the log after the last sequence it published.
//!
//! SQLite serves one process, which publishes its own commits: the store has no doorbell and
//! [`App::start_doorbell`] answers `None`.

use std::time::Duration;

use conversation_core::ids::AccountId;
use conversation_core::ports::{Ring, Rung};

use crate::app::App;
use crate::error::AppResult;

/// How many events one read of the log takes.
const PAGE: u32 = 500;

/// How long to wait before listening again after the database went away.
const RECONNECT: Duration = Duration::from_secs(1);

impl App {
    /// Starts listening to the doorbell; once this returns, every later commit of any process
    /// reaches this process's subscribers. `None` when the store has no doorbell (SQLite).
    ///
    /// # Errors
    /// When the database cannot be reached to listen.
    pub async fn start_doorbell(&self) -> AppResult<Option<tokio::task::JoinHandle<()>>> {
        let Some(mut listener) = self.store.listen().await? else {
            return Ok(None);
        };
        let app = self.clone();
        Ok(Some(tokio::spawn(async move {
            loop {
                match listener.next().await {
                    Ok(Rung::Ring(ring)) => app.rung(ring).await,
                    Ok(Rung::Missed) => app.catch_up_feeds().await,
                    Err(error) => {
                        tracing::warn!(%error, "the realtime doorbell lost the database; listening again");
                        tokio::time::sleep(RECONNECT).await;
                        app.catch_up_feeds().await;
                    }
                }
            }
        })))
    }

    /// Publishes a rung range, if this process has subscribers for it and has not published
    /// it yet.
    async fn rung(&self, ring: Ring) {
        let Some(published) = self.hub.published(ring.account) else {
            return;
        };
        if published >= ring.last {
            return;
        }
        let after = ring.first.saturating_sub(1).max(published);
        self.publish_from_log(ring.account, after, Some(ring.last))
            .await;
    }

    /// Reads every feed's account from the log after what it published (rings were missed).
    async fn catch_up_feeds(&self) {
        for (account, published) in self.hub.feeds() {
            if published > 0 {
                self.publish_from_log(account, published, None).await;
            }
        }
    }

    /// Publishes the account's logged events after `after` (up to `until`, or to the end).
    async fn publish_from_log(&self, account: AccountId, mut after: u64, until: Option<u64>) {
        loop {
            let page = match self.store.events_after(account, after, PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    // The subscriptions catch up from the log on their next gap or lag.
                    tracing::warn!(%error, "the realtime doorbell could not read the log");
                    return;
                }
            };
            let full = page.len() == PAGE as usize;
            let Some(last) = page.last().map(|event| event.sequence) else {
                return;
            };
            self.hub.publish(account, page);
            after = last;
            if !full || until.is_some_and(|until| last >= until) {
                return;
            }
        }
    }
}
