//! Opening a store: the choice of dialect from the URL, connection settings, migrations.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use thiserror::Error;

use crate::group_commit::Committer;
use crate::sql::{Db, Dialect};

/// Why a store could not be opened. Each message says what to check.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The URL is neither `postgres://...` nor `sqlite:...`.
    #[error(
        "unsupported database URL {0:?}: use postgres://user:password@host/db or sqlite:path/to/file"
    )]
    UnsupportedUrl(String),
    /// The database could not be reached or created.
    #[error(
        "cannot connect to the database: {0}; check that it runs and that the URL and credentials are right"
    )]
    Connect(#[source] sqlx::Error),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Connection settings.
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    /// PostgreSQL pool size, or SQLite reader pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before failing fast (L6).
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The store: every store role trait of `conversation-core`, on SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) db: Db,
    /// The group-commit queue every commit goes through.
    pub(crate) commits: Committer,
}

impl SqlStore {
    /// Opens the database the URL names and brings its schema up to date.
    ///
    /// # Errors
    /// See [`OpenError`].
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self, OpenError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::postgres(url, options).await
        } else if url.starts_with("sqlite:") {
            Self::sqlite(
                SqliteConnectOptions::from_str(url).map_err(OpenError::Connect)?,
                options,
            )
            .await
        } else {
            Err(OpenError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Opens (creating it on first start) the SQLite database `inbox.sqlite3` in `data_dir`.
    ///
    /// # Errors
    /// See [`OpenError`].
    pub async fn open_data_dir(data_dir: &Path, options: StoreOptions) -> Result<Self, OpenError> {
        std::fs::create_dir_all(data_dir).map_err(|source| OpenError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        Self::sqlite(
            SqliteConnectOptions::new().filename(data_dir.join("inbox.sqlite3")),
            options,
        )
        .await
    }

    /// The dialect of the database.
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// The connection pools, for tools that measure the raw database (benchmarks).
    #[must_use]
    pub const fn db(&self) -> &Db {
        &self.db
    }

    async fn postgres(url: &str, options: StoreOptions) -> Result<Self, OpenError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await
            .map_err(OpenError::Connect)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(OpenError::Migrate)?;
        Ok(Self::over(Db::Postgres(pool)))
    }

    async fn sqlite(
        connect: SqliteConnectOptions,
        options: StoreOptions,
    ) -> Result<Self, OpenError> {
        let connect = connect
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(OpenError::Connect)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&write)
            .await
            .map_err(OpenError::Migrate)?;
        let read = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.read_only(true))
            .await
            .map_err(OpenError::Connect)?;
        Ok(Self::over(Db::Sqlite { write, read }))
    }

    fn over(db: Db) -> Self {
        Self {
            commits: Committer::new(db.clone()),
            db,
        }
    }
}
