//! The database as rows: a read-only look at a test server's SQLite file, for the tests that
//! check what a request (or a crash) did or did not change, and a writable one that fills the
//! event log faster than requests could.

use std::{collections::BTreeMap, path::Path};

/// Every row of every table, each value as SQLite's `quote()` writes it, rows sorted.
pub type Snapshot = BTreeMap<String, Vec<Vec<String>>>;

/// A read-only connection to a test server's SQLite file, beside the server's own.
pub struct Database {
    connection: sqlx::SqliteConnection,
}

impl Database {
    /// Opens `path` read-only (the server keeps writing it; WAL lets both work).
    pub async fn open_read_only(path: &Path) -> Self {
        use sqlx::{ConnectOptions, sqlite::SqliteConnectOptions};
        let connection = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .connect()
            .await
            .expect("open the database read-only");
        Self { connection }
    }

    /// Opens `path` for writing, beside the server's own connections (WAL; waits up to 5 s
    /// for the write lock, as the server does).
    pub async fn open_writable(path: &Path) -> Self {
        use sqlx::{ConnectOptions, sqlite::SqliteConnectOptions};
        let connection = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5))
            .connect()
            .await
            .expect("open the database for writing");
        Self { connection }
    }

    /// Appends `events` events of `room` created at `created_at` (unix milliseconds), each for
    /// `recipients` sessions named `<sessions>-<n>`, in one transaction.
    pub async fn fill_event_log(
        &mut self,
        room: &str,
        events: u32,
        recipients: u32,
        sessions: &str,
        created_at: i64,
    ) {
        use sqlx::Acquire;
        let mut tx = self.connection.begin().await.expect("begin a write");
        let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM events")
            .fetch_one(&mut *tx)
            .await
            .expect("next event id");
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
             INSERT INTO events (room, name, payload, created_at)
             SELECT ?, 'participant-updated', '{}', ? FROM n",
        )
        .bind(events)
        .bind(room)
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .expect("insert events");
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
             INSERT INTO event_recipients (session_id, event_id)
             SELECT ? || '-' || n.i, e.id FROM events e CROSS JOIN n WHERE e.id >= ?",
        )
        .bind(recipients)
        .bind(sessions)
        .bind(first)
        .execute(&mut *tx)
        .await
        .expect("insert recipients");
        tx.commit().await.expect("commit the event log");
    }

    /// The single integer `query` answers (e.g. a `COUNT(*)`).
    pub async fn count(&mut self, query: &str) -> i64 {
        sqlx::query_scalar(query)
            .fetch_one(&mut self.connection)
            .await
            .unwrap_or_else(|error| panic!("{query}: {error}"))
    }

    /// All rows of all tables, read in one transaction (one consistent state).
    pub async fn snapshot(&mut self) -> Snapshot {
        use sqlx::{Acquire, Row};
        let mut tx = self.connection.begin().await.expect("begin a read");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut *tx)
                .await
                .expect("list tables");
        let mut snapshot = Snapshot::new();
        for table in tables {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                    .bind(&table)
                    .fetch_all(&mut *tx)
                    .await
                    .expect("list columns");
            let quoted: Vec<String> = columns
                .iter()
                .map(|column| format!("quote(\"{}\")", column.replace('"', "\"\"")))
                .collect();
            let query = format!(
                "SELECT {} FROM \"{}\"",
                quoted.join(", "),
                table.replace('"', "\"\"")
            );
            let mut rows: Vec<Vec<String>> = sqlx::query(&query)
                .fetch_all(&mut *tx)
                .await
                .unwrap_or_else(|error| panic!("read {table}: {error}"))
                .iter()
                .map(|row| {
                    (0..columns.len())
                        .map(|at| row.get::<String, _>(at))
                        .collect()
                })
                .collect();
            rows.sort();
            snapshot.insert(table, rows);
        }
        tx.commit().await.expect("end the read");
        snapshot
    }
}

/// What differs between two snapshots, table by table (rows only in `before` with `-`, only in
/// `after` with `+`); empty when they are equal.
pub fn snapshot_diff(before: &Snapshot, after: &Snapshot) -> String {
    let mut diff = String::new();
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for table in tables {
        let (old, new) = (
            before.get(table).cloned().unwrap_or_default(),
            after.get(table).cloned().unwrap_or_default(),
        );
        if old == new {
            continue;
        }
        diff.push_str(&format!("table {table}:\n"));
        for row in old.iter().filter(|row| !new.contains(row)) {
            diff.push_str(&format!("  - {}\n", row.join(" | ")));
        }
        for row in new.iter().filter(|row| !old.contains(row)) {
            diff.push_str(&format!("  + {}\n", row.join(" | ")));
        }
    }
    diff
}
