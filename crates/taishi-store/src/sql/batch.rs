//! Multi-row inserts: one statement per batch of rows, the way bulk imports stay fast on both backends.

use super::db::{Arg, Backend, Tx};
use crate::error::StoreResult;

/// Rows per multi-row statement, kept under SQLite's 32,766 bound parameters.
fn batch_rows(cols: usize) -> usize {
    (30_000 / cols).min(1000)
}

/// Inserts rows with `cols` columns each as multi-row `INSERT … VALUES (…), (…)` statements.
pub(crate) async fn insert_batched(
    tx: &mut Tx,
    head: &str,
    cols: usize,
    rows: Vec<Vec<Arg>>,
) -> StoreResult<()> {
    let per = batch_rows(cols);
    let backend = tx.backend();
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<Vec<Arg>> = it.by_ref().take(per).collect();
        let mut sql = String::with_capacity(head.len() + chunk.len() * cols * 6);
        sql.push_str(head);
        let mut args = Vec::with_capacity(chunk.len() * cols);
        for (i, row) in chunk.into_iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..cols {
                if j > 0 {
                    sql.push_str(", ");
                }
                // SQLite resolves each named `$n` by a linear search of the statement's parameter
                // names, which is quadratic over a thousand-row batch; anonymous `?` is not
                match backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => sql.push_str(&format!("${}", args.len() + j + 1)),
                }
            }
            sql.push(')');
            args.extend(row);
        }
        tx.exec_once(&sql, args).await?;
    }
    Ok(())
}
