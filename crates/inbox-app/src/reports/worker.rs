//! P1, D15: the periodic report catch-up. Every round it folds the new events of every account
//! whose log is ahead of its report cursor (`ReportStore::report_accounts_behind`), so a report
//! request, which still catches up first to be current, usually finds only the last interval's
//! events to fold, even a plain agent's first report on a large account. Catch-ups of one
//! account from several processes follow one another (the store's cursor lock), so any number
//! of workers may run. The server spawns one ([`ReportWorker::spawn`], every
//! `INBOX_REPORTS_INTERVAL_SECS`); tests call [`ReportWorker::run_once`].

use std::time::Duration as StdDuration;

use conversation_core::ids::AccountId;

use crate::app::App;
use crate::error::AppResult;

/// Folds the event logs of the accounts that are behind into the report rollups.
#[derive(Clone, Debug)]
pub struct ReportWorker {
    app: App,
    account: Option<AccountId>,
}

impl ReportWorker {
    /// A worker for every account of the store.
    #[must_use]
    pub const fn new(app: App) -> Self {
        Self { app, account: None }
    }

    /// A worker for one account only (tests sharing one database).
    #[must_use]
    pub const fn for_account(app: App, account: AccountId) -> Self {
        Self {
            app,
            account: Some(account),
        }
    }

    /// One round: catches up every account that is behind; returns how many events it folded.
    ///
    /// # Errors
    /// Storage failures (an account that failed is folded again next round, from its cursor).
    pub async fn run_once(&self) -> AppResult<u64> {
        let accounts = match self.account {
            Some(account) => vec![account],
            None => self.app.store.report_accounts_behind().await?,
        };
        let mut folded = 0;
        for account in accounts {
            folded += self.app.store.catch_up_reports(account).await?;
        }
        Ok(folded)
    }

    /// Runs [`ReportWorker::run_once`] every `every` until the task is aborted.
    #[must_use]
    pub fn spawn(self, every: StdDuration) -> tokio::task::JoinHandle<()> {
        crate::polling::spawn_rounds("the report catch-up failed", every, move || {
            let worker = self.clone();
            async move { worker.run_once().await }
        })
    }
}
