//! A thin layer over the two native pools (`SqlitePool`, `PgPool`) so each store operation is written
//! once: SQL with `$n` placeholders (both dialects accept them), arguments as [`Arg`], rows read through
//! [`Row`]. This is not sqlx's `Any` driver: each backend keeps its own pool, types and options, and the
//! few dialect differences are spelled out where they occur via [`Backend`].

use crate::error::StoreResult;
use sqlx::Row as _;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Which database is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// One bound argument. Only the types the schema uses: integers, text, booleans, each maybe null.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(Option<i64>),
    Text(Option<String>),
    Bool(bool),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::I64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// Builds a `Vec<Arg>` from values of mixed types.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::sql::db::Arg::from($v)),*] };
}
pub(crate) use args;

fn sqlite_query(sql: &str, args: Vec<Arg>) -> sqlx::query::Query<'static, Sqlite, SqliteArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for a in args {
        q = match a {
            Arg::I64(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
        };
    }
    q
}

fn pg_query(sql: &str, args: Vec<Arg>) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for a in args {
        q = match a {
            Arg::I64(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
        };
    }
    q
}

/// A result row of either backend, read by column index.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

impl Row {
    pub(crate) fn i64(&self, i: usize) -> StoreResult<i64> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Pg(r) => r.try_get(i)?,
        })
    }
    pub(crate) fn opt_i64(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Pg(r) => r.try_get(i)?,
        })
    }
    pub(crate) fn text(&self, i: usize) -> StoreResult<String> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Pg(r) => r.try_get(i)?,
        })
    }
    pub(crate) fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Pg(r) => r.try_get(i)?,
        })
    }
    pub(crate) fn bool(&self, i: usize) -> StoreResult<bool> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Pg(r) => r.try_get(i)?,
        })
    }
}

/// The pools of one store. SQLite has one writer connection (SQLite allows one writer at a time; a
/// single pooled writer turns lock contention into queueing) and several readers (WAL lets them run
/// beside the writer). PostgreSQL uses one pool for both.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Pg(PgPool),
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction.
    pub(crate) async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    pub(crate) async fn all(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        Ok(match self {
            Db::Sqlite { reader, .. } => sqlite_query(sql, args)
                .fetch_all(reader)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Db::Pg(p) => pg_query(sql, args)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    /// Streams the rows of one query to `f` as the database returns them, holding one row at a time
    /// (a full scan in table order instead of a `Vec` of every row); `f`'s error stops the scan.
    pub(crate) async fn each(
        &self,
        sql: &str,
        args: Vec<Arg>,
        f: &mut (dyn FnMut(Row) -> StoreResult<()> + Send),
    ) -> StoreResult<()> {
        use futures::TryStreamExt;
        match self {
            Db::Sqlite { reader, .. } => {
                let mut rows = sqlite_query(sql, args).fetch(reader);
                while let Some(r) = rows.try_next().await? {
                    f(Row::Sqlite(r))?;
                }
            }
            Db::Pg(p) => {
                let mut rows = pg_query(sql, args).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    f(Row::Pg(r))?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn opt(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Option<Row>> {
        Ok(match self {
            Db::Sqlite { reader, .. } => sqlite_query(sql, args)
                .fetch_optional(reader)
                .await?
                .map(Row::Sqlite),
            Db::Pg(p) => pg_query(sql, args).fetch_optional(p).await?.map(Row::Pg),
        })
    }

    /// Runs a statement outside a transaction (on the writer for SQLite).
    pub(crate) async fn exec(&self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        Ok(match self {
            Db::Sqlite { writer, .. } => sqlite_query(sql, args)
                .execute(writer)
                .await?
                .rows_affected(),
            Db::Pg(p) => pg_query(sql, args).execute(p).await?.rows_affected(),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Pg(p) => p.close().await,
        }
    }
}

/// An open write transaction; dropped without [`Tx::commit`] it rolls back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Pg(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn exec(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        Ok(match self {
            Tx::Sqlite(t) => sqlite_query(sql, args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Pg(t) => pg_query(sql, args).execute(&mut **t).await?.rows_affected(),
        })
    }

    /// Like [`Tx::exec`] but without caching the prepared statement: for one-off batch statements.
    pub(crate) async fn exec_once(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        Ok(match self {
            Tx::Sqlite(t) => sqlite_query(sql, args)
                .persistent(false)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Pg(t) => pg_query(sql, args)
                .persistent(false)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }

    pub(crate) async fn all(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        Ok(match self {
            Tx::Sqlite(t) => sqlite_query(sql, args)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Tx::Pg(t) => pg_query(sql, args)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    pub(crate) async fn opt(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<Option<Row>> {
        Ok(match self {
            Tx::Sqlite(t) => sqlite_query(sql, args)
                .fetch_optional(&mut **t)
                .await?
                .map(Row::Sqlite),
            Tx::Pg(t) => pg_query(sql, args)
                .fetch_optional(&mut **t)
                .await?
                .map(Row::Pg),
        })
    }

    pub(crate) async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}
