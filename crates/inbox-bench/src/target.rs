//! The database a scenario runs on: a fresh SQLite file in the work directory, or the
//! PostgreSQL database given to the tool, emptied first (every table but the migrations'; the
//! tool is given a database of its own).

use std::path::{Path, PathBuf};

use inbox_store::sql::{Arg, Db};
use inbox_store::{SqlStore, StoreOptions};

use crate::BenchResult;

/// Which store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl StoreKind {
    /// Its name in reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A database for one scenario.
#[derive(Clone, Debug)]
pub struct Target {
    /// Which store.
    pub kind: StoreKind,
    /// Its URL, as the server is given it.
    pub url: String,
    /// The SQLite directory.
    pub dir: Option<PathBuf>,
}

impl Target {
    /// An empty, migrated database named after the scenario (`b1`, ...).
    ///
    /// # Errors
    /// When the database cannot be created, opened or emptied.
    pub async fn fresh(
        kind: StoreKind,
        work_dir: &Path,
        postgres_url: Option<&str>,
        scenario: &str,
        wipe: bool,
    ) -> BenchResult<Self> {
        let target = match kind {
            StoreKind::Sqlite => {
                let dir = std::path::absolute(work_dir.join(format!("{scenario}-sqlite")))?;
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                Self {
                    kind,
                    url: format!("sqlite://{}", dir.join("inbox.sqlite3").display()),
                    dir: Some(dir),
                }
            }
            StoreKind::Postgres => Self {
                kind,
                url: postgres_url
                    .ok_or("PostgreSQL asked for but no URL given: pass --postgres-url or set INBOX_BENCH_POSTGRES_URL")?
                    .to_owned(),
                dir: None,
            },
        };
        let store = target.open(2).await?;
        if kind == StoreKind::Postgres && wipe {
            let rows = store
                .db()
                .fetch_all(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() \
                     AND tablename <> '_sqlx_migrations'",
                    &[],
                )
                .await?;
            let tables: Vec<String> = rows
                .iter()
                .map(|row| row.text("tablename"))
                .collect::<Result<_, _>>()?;
            if !tables.is_empty() {
                store
                    .db()
                    .execute(&format!("TRUNCATE {} CASCADE", tables.join(", ")), &[])
                    .await?;
            }
        }
        close(&store).await;
        Ok(target)
    }

    /// Opens the store with `connections` connections (PostgreSQL pool, or SQLite readers).
    ///
    /// # Errors
    /// When it cannot be opened.
    pub async fn open(&self, connections: u32) -> BenchResult<SqlStore> {
        Ok(SqlStore::open(
            &self.url,
            StoreOptions {
                max_connections: connections,
                acquire_timeout: std::time::Duration::from_secs(30),
            },
        )
        .await?)
    }
}

/// Closes a store's pools (so that connections are not left to the other builders' servers).
pub async fn close(store: &SqlStore) {
    match store.db() {
        Db::Sqlite { write, read } => {
            write.close().await;
            read.close().await;
        }
        Db::Postgres(pool) => pool.close().await,
    }
}

/// One integer of a one-row query.
///
/// # Errors
/// When the query fails.
pub async fn scalar(db: &Db, sql: &str, args: &[Arg]) -> BenchResult<i64> {
    let row = db.fetch_optional(sql, args).await?.ok_or("no row")?;
    Ok(row.int("n")?)
}
