//! The loop every background worker runs in a server process: one round, then a pause, for
//! as long as the task lives. A round that fails (the store is briefly unreachable, say) is
//! logged and the next round tries again: workers never stop on their own.

use std::future::Future;
use std::time::Duration;

/// Spawns `round` every `every` (the pause starts when a round ends, so rounds never overlap)
/// until the task is dropped or aborted; a failed round is logged as `what` could not be done.
pub(crate) fn spawn_rounds<F, Fut, T, E>(
    what: &'static str,
    every: Duration,
    mut round: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        loop {
            if let Err(error) = round().await {
                tracing::warn!(%error, "{what}");
            }
            tokio::time::sleep(every).await;
        }
    })
}
