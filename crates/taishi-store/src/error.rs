//! The one error type every store operation returns, so callers can map it to HTTP statuses and exit
//! codes without knowing which database is behind the trait.

use taishi_model::FieldError;

/// What went wrong in a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The entity does not exist (or lies outside what the caller may see).
    #[error("{entity} {key} not found")]
    NotFound {
        /// Entity type (`org`, `asset`, …).
        entity: &'static str,
        /// The id or key looked up.
        key: String,
    },
    /// The change collides with existing data (a duplicate code, identity or name).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is invalid; every bad field is listed.
    #[error("invalid input: {}", list(.0))]
    Invalid(Vec<FieldError>),
    /// An import document has problems; nothing was changed. Every problem names file, line and field.
    #[error("import rejected, nothing changed:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rejected(Vec<crate::transfer::ImportProblem>),
    /// The change is refused by a rule of the registry (a cycle, deleting an org that still owns things).
    #[error("refused: {0}")]
    Refused(String),
    /// The URL given to [`crate::open`] is not one this crate can open.
    #[error("bad store URL {0:?}: expected sqlite://PATH or postgres://…")]
    BadUrl(String),
    /// The database could not be reached or timed out; retrying may help.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl StoreError {
    /// A not-found error for `entity` with `key`.
    pub fn not_found(entity: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// An invalid-input error for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                if db.is_unique_violation() {
                    StoreError::Conflict(db.message().to_owned())
                } else if db.is_foreign_key_violation() {
                    StoreError::Refused(format!("still referenced: {}", db.message()))
                } else if db.is_check_violation() {
                    StoreError::invalid("value", db.message())
                } else if db.message().contains("database is locked") {
                    StoreError::Unavailable(db.message().to_owned())
                } else {
                    StoreError::Database(db.message().to_owned())
                }
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
            sqlx::Error::RowNotFound => StoreError::NotFound {
                entity: "row",
                key: String::new(),
            },
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(e.to_string())
    }
}

/// Shorthand for results of store operations.
pub type StoreResult<T> = Result<T, StoreError>;
