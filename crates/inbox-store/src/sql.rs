//! A thin layer over sqlx that lets the store's logic be written once for both dialects: the
//! same SQL text (with `$N` placeholders, which SQLite accepts too), the same arguments
//! ([`Arg`]) and the same typed row access ([`Row`]). Only what truly differs lives in
//! [`Dialect`]. Times cross as microseconds since the Unix epoch; integers cross with
//! `try_from`, never `as`.

use chrono::DateTime;
use conversation_core::Timestamp;
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Postgres, Row as _, Sqlite, Transaction};
use uuid::Uuid;

/// The SQL dialect of a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: embedded, one writer.
    Sqlite,
    /// PostgreSQL: several processes.
    Postgres,
}

impl Dialect {
    /// The clause that locks the rows a claim selects, skipping rows other workers hold. SQLite
    /// has one writer, so its claims need none.
    #[must_use]
    pub const fn for_update_skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The clause that locks the rows a read selects until the transaction ends.
    #[must_use]
    pub const fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }
}

/// A bound value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A UUID (BLOB on SQLite, UUID on PostgreSQL), or a typed NULL.
    Uuid(Option<Uuid>),
    /// An integer (INTEGER / BIGINT), or a typed NULL.
    Int(Option<i64>),
    /// Text, or a typed NULL.
    Text(Option<String>),
    /// A boolean.
    Bool(bool),
    /// Bytes (BLOB on SQLite, BYTEA on PostgreSQL), shared rather than copied.
    Bytes(std::sync::Arc<[u8]>),
}

/// Microseconds since the Unix epoch: how every time is stored.
#[must_use]
pub fn micros(at: Timestamp) -> i64 {
    at.timestamp_micros()
}

/// The time stored as microseconds since the Unix epoch.
///
/// # Errors
/// When the number is outside chrono's range (a corrupt row).
pub fn from_micros(value: i64) -> Result<Timestamp, sqlx::Error> {
    DateTime::from_timestamp_micros(value)
        .ok_or_else(|| sqlx::Error::Decode(format!("time out of range: {value}").into()))
}

impl From<Uuid> for Arg {
    fn from(value: Uuid) -> Self {
        Self::Uuid(Some(value))
    }
}
impl From<Option<Uuid>> for Arg {
    fn from(value: Option<Uuid>) -> Self {
        Self::Uuid(value)
    }
}
impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}
impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}
impl From<u32> for Arg {
    fn from(value: u32) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}
impl From<u8> for Arg {
    fn from(value: u8) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}
impl From<std::sync::Arc<[u8]>> for Arg {
    fn from(value: std::sync::Arc<[u8]>) -> Self {
        Self::Bytes(value)
    }
}
impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<String> for Arg {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}
impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}
impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Self::Text(Some(value.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}
impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}
impl From<Timestamp> for Arg {
    fn from(value: Timestamp) -> Self {
        Self::Int(Some(micros(value)))
    }
}
impl From<Option<Timestamp>> for Arg {
    fn from(value: Option<Timestamp>) -> Self {
        Self::Int(value.map(micros))
    }
}

macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl From<$id> for Arg {
            fn from(value: $id) -> Self {
                Self::Uuid(Some(value.as_uuid()))
            }
        }
        impl From<Option<$id>> for Arg {
            fn from(value: Option<$id>) -> Self {
                Self::Uuid(value.map(|id| id.as_uuid()))
            }
        }
    )*};
}
id_args!(
    conversation_core::ids::AccountId,
    conversation_core::ids::AgentId,
    conversation_core::ids::QueueId,
    conversation_core::ids::InboxId,
    conversation_core::ids::ContactId,
    conversation_core::ids::ConversationId,
    conversation_core::ids::MessageId,
    conversation_core::ids::DialogId,
    conversation_core::ids::TaskId,
    conversation_core::ids::OrderId
);

/// Builds an argument list: `args![a, b, c]`.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        [$($crate::sql::Arg::from($value)),*]
    };
}
pub(crate) use args;

fn bind_sqlite<'q>(
    mut query: Query<'q, Sqlite, SqliteArguments<'q>>,
    args: &'q [Arg],
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Uuid(value) => query.bind(*value),
            Arg::Int(value) => query.bind(*value),
            Arg::Text(value) => query.bind(value.as_deref()),
            Arg::Bool(value) => query.bind(*value),
            Arg::Bytes(value) => query.bind(&**value),
        };
    }
    query
}

fn bind_pg<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    args: &'q [Arg],
) -> Query<'q, Postgres, PgArguments> {
    for arg in args {
        query = match arg {
            Arg::Uuid(value) => query.bind(*value),
            Arg::Int(value) => query.bind(*value),
            Arg::Text(value) => query.bind(value.as_deref()),
            Arg::Bool(value) => query.bind(*value),
            Arg::Bytes(value) => query.bind(&**value),
        };
    }
    query
}

/// A result row of either dialect, read by column name.
pub enum Row {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Postgres(PgRow),
}

macro_rules! get {
    ($self:ident, $column:ident, $ty:ty) => {
        match $self {
            Row::Sqlite(row) => row.try_get::<$ty, _>($column),
            Row::Postgres(row) => row.try_get::<$ty, _>($column),
        }
    };
}

impl Row {
    /// A UUID column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn uuid(&self, column: &str) -> Result<Uuid, sqlx::Error> {
        get!(self, column, Uuid)
    }

    /// A nullable UUID column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, sqlx::Error> {
        get!(self, column, Option<Uuid>)
    }

    /// An integer column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
        get!(self, column, i64)
    }

    /// A nullable integer column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        get!(self, column, Option<i64>)
    }

    /// An integer column that holds a count or sequence (never negative).
    ///
    /// # Errors
    /// A missing column, another type, or a negative value.
    pub fn count(&self, column: &str) -> Result<u64, sqlx::Error> {
        let value = self.int(column)?;
        u64::try_from(value)
            .map_err(|_| sqlx::Error::Decode(format!("negative {column}: {value}").into()))
    }

    /// A text column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn text(&self, column: &str) -> Result<String, sqlx::Error> {
        get!(self, column, String)
    }

    /// A nullable text column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
        get!(self, column, Option<String>)
    }

    /// A boolean column.
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn bool(&self, column: &str) -> Result<bool, sqlx::Error> {
        get!(self, column, bool)
    }

    /// A bytes column (BLOB / BYTEA).
    ///
    /// # Errors
    /// A missing column or another type.
    pub fn bytes(&self, column: &str) -> Result<Vec<u8>, sqlx::Error> {
        get!(self, column, Vec<u8>)
    }

    /// A time column (microseconds).
    ///
    /// # Errors
    /// A missing column, another type, or a value out of range.
    pub fn time(&self, column: &str) -> Result<Timestamp, sqlx::Error> {
        from_micros(self.int(column)?)
    }

    /// A nullable time column (microseconds).
    ///
    /// # Errors
    /// A missing column, another type, or a value out of range.
    pub fn opt_time(&self, column: &str) -> Result<Option<Timestamp>, sqlx::Error> {
        self.opt_int(column)?.map(from_micros).transpose()
    }

    /// A JSON text column, deserialized.
    ///
    /// # Errors
    /// A missing column, another type, or JSON that does not fit `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, sqlx::Error> {
        let text = self.text(column)?;
        serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
}

/// The connection pools of a store.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: one writer connection (its one writer, without busy retries between our own
    /// connections) and a pool of readers (WAL lets them read while it writes).
    Sqlite {
        /// The writer.
        write: SqlitePool,
        /// The readers.
        read: SqlitePool,
    },
    /// PostgreSQL: one pool.
    Postgres(PgPool),
}

/// An open transaction of either dialect.
pub enum Tx {
    /// On SQLite's writer.
    Sqlite(Transaction<'static, Sqlite>),
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Its dialect.
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite { .. } => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Begins a write transaction.
    ///
    /// # Errors
    /// When no connection can be had.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Runs a read query and returns every row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch_all(&self, sql: &str, args: &[Arg]) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Self::Sqlite { read, .. } => bind_sqlite(sqlx::query(sql), args)
                .fetch_all(read)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Self::Postgres(pool) => bind_pg(sqlx::query(sql), args)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    /// Runs a read query and returns its first row, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch_optional(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Self::Sqlite { read, .. } => bind_sqlite(sqlx::query(sql), args)
                .fetch_optional(read)
                .await?
                .map(Row::Sqlite),
            Self::Postgres(pool) => bind_pg(sqlx::query(sql), args)
                .fetch_optional(pool)
                .await?
                .map(Row::Postgres),
        })
    }

    /// Runs one writing statement on its own (auto-commit); returns the rows affected.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute(&self, sql: &str, args: &[Arg]) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Self::Sqlite { write, .. } => bind_sqlite(sqlx::query(sql), args)
                .execute(write)
                .await?
                .rows_affected(),
            Self::Postgres(pool) => bind_pg(sqlx::query(sql), args)
                .execute(pool)
                .await?
                .rows_affected(),
        })
    }

    /// Runs one writing statement that returns rows (`... RETURNING`), on its own.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute_returning(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Self::Sqlite { write, .. } => bind_sqlite(sqlx::query(sql), args)
                .fetch_all(write)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Self::Postgres(pool) => bind_pg(sqlx::query(sql), args)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }
}

impl Tx {
    /// Its dialect.
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns the rows affected.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(tx) => bind_sqlite(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Self::Postgres(tx) => bind_pg(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query; returns every row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch_all(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(tx) => bind_sqlite(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Self::Postgres(tx) => bind_pg(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    /// Runs a query; returns its first row, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(tx) => bind_sqlite(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Sqlite),
            Self::Postgres(tx) => bind_pg(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Postgres),
        })
    }

    /// Commits.
    ///
    /// # Errors
    /// Database errors (the transaction is then rolled back).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
    }
}
