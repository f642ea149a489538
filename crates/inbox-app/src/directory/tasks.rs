//! N2: the signed-in agent's personal task list: the tasks routing (R4) and dialogs (D11) put
//! there, and the ones the agent writes down themselves; each can be ticked off and un-ticked.

use conversation_core::DomainError;
use conversation_core::Timestamp;
use conversation_core::entities::Task;
use conversation_core::ids::TaskId;
use conversation_core::ports::Commit;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;

impl App {
    /// N2: the caller's personal tasks, by due time.
    ///
    /// # Errors
    /// `forbidden` for callers that are not agents.
    pub async fn my_tasks(&self, caller: &Caller) -> AppResult<Vec<Task>> {
        let (account, principal) = agent_of(caller)?;
        Ok(self.store.tasks(account, principal.agent).await?)
    }

    /// N2: the caller writes a task on their own list.
    ///
    /// # Errors
    /// `missing_field` (`title`), `message_too_long`; `forbidden` for callers that are not
    /// agents.
    pub async fn create_my_task(
        &self,
        caller: &Caller,
        title: &str,
        due_at: Timestamp,
    ) -> AppResult<Task> {
        let (account, principal) = agent_of(caller)?;
        let now = self.now();
        let task = Task::personal(
            TaskId::from_uuid(self.new_id()),
            account,
            principal.agent,
            title,
            due_at,
            now,
        )?;
        let mut commit = Commit::new(account);
        commit.tasks.push(task.clone());
        self.store.commit(commit).await?;
        Ok(task)
    }

    /// N2: ticks one of the caller's tasks off (`done`), or on again.
    ///
    /// # Errors
    /// `not_found` for a task that is not on the caller's list (S1).
    pub async fn set_my_task_done(
        &self,
        caller: &Caller,
        id: TaskId,
        done: bool,
    ) -> AppResult<Task> {
        let (account, principal) = agent_of(caller)?;
        let mut task = self
            .store
            .task(account, id)
            .await?
            .filter(|task| task.agent == principal.agent)
            .ok_or(DomainError::NotFound)?;
        task.set_done(done, self.now());
        self.store.update_task(&task).await?;
        Ok(task)
    }
}
