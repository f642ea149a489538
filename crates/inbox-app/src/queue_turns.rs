//! R2, R5, B4: one routing decision at a time per queue in this process. Routers of one queue
//! that run at once would all read the same loads and choose the same best agent; all but the
//! few that fit lose the slot at the commit and choose again, and under a burst some give up
//! after their retries and wait while slots are free. Taking turns costs nothing the store does
//! not already impose (commits of one account are written one after another) and leaves every
//! decision made on fresh loads. Across processes the store's conditional capacity update still
//! decides, and the loser chooses again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use conversation_core::ids::QueueId;
use tokio::sync::OwnedMutexGuard;

/// The turns of each queue.
#[derive(Debug, Default)]
pub(crate) struct QueueTurns {
    queues: Mutex<HashMap<QueueId, Arc<tokio::sync::Mutex<()>>>>,
}

impl QueueTurns {
    /// Waits for the queue's turn; it lasts as long as the guard.
    pub(crate) async fn take(&self, queue: QueueId) -> OwnedMutexGuard<()> {
        let turn = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(queues.entry(queue).or_default())
        };
        turn.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn b4_one_turn_per_queue_at_a_time_and_queues_do_not_wait_for_each_other() {
        let turns = QueueTurns::default();
        let (a, b) = (QueueId::from_u128(1), QueueId::from_u128(2));
        let held = turns.take(a).await;
        // Another queue is not held up.
        let other = tokio::time::timeout(std::time::Duration::from_secs(5), turns.take(b)).await;
        assert!(other.is_ok());
        // The same queue waits until the turn is given back.
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), turns.take(a)).await;
        assert!(waiting.is_err());
        drop(held);
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), turns.take(a)).await;
        assert!(next.is_ok());
    }
}
