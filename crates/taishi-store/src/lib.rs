//! Persistence: one storage trait, SQLite and PostgreSQL backends, migrations, import and export.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
