//! The database as rows: a look at a test server's database beside the server's own
//! connections (its SQLite file, or its PostgreSQL database), for the tests that check what a
//! request (or a crash) did or did not change, and a way to fill the event log faster than
//! requests could.

use std::collections::BTreeMap;

use sqlx::{Acquire, ConnectOptions, Row};

/// Every row of every table, each value as the database quotes it, rows sorted.
pub type Snapshot = BTreeMap<String, Vec<Vec<String>>>;

/// A connection to a test server's database.
pub enum Database {
    /// The SQLite file.
    Sqlite(sqlx::SqliteConnection),
    /// The PostgreSQL database.
    Postgres(sqlx::PgConnection),
}

impl Database {
    /// Opens the database at `url` to read it (SQLite read-only: the server keeps writing it;
    /// WAL lets both work).
    pub async fn open_read_only(url: &str) -> Self {
        Self::open(url, true).await
    }

    /// Opens the database at `url` for writing, beside the server's own connections (SQLite
    /// waits up to 5 s for the write lock, as the server does).
    pub async fn open_writable(url: &str) -> Self {
        Self::open(url, false).await
    }

    async fn open(url: &str, read_only: bool) -> Self {
        if url.starts_with("postgres") {
            let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a PostgreSQL URL");
            return Self::Postgres(options.connect().await.expect("open the database"));
        }
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("a SQLite URL");
        let options = options
            .read_only(read_only)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        Self::Sqlite(options.connect().await.expect("open the database"))
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
        match self {
            Self::Sqlite(connection) => {
                let mut tx = connection.begin().await.expect("begin a write");
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
            Self::Postgres(connection) => {
                let mut tx = connection.begin().await.expect("begin a write");
                let ids: Vec<i64> = sqlx::query_scalar(
                    "INSERT INTO events (room, name, payload, created_at)
                     SELECT $1, 'participant-updated', '{}', $2 FROM generate_series(1, $3)
                     RETURNING id",
                )
                .bind(room)
                .bind(created_at)
                .bind(i64::from(events))
                .fetch_all(&mut *tx)
                .await
                .expect("insert events");
                sqlx::query(
                    "INSERT INTO event_recipients (session_id, event_id)
                     SELECT $1 || '-' || n, e FROM unnest($2::bigint[]) AS e
                     CROSS JOIN generate_series(0, $3 - 1) AS n",
                )
                .bind(sessions)
                .bind(&ids)
                .bind(i64::from(recipients))
                .execute(&mut *tx)
                .await
                .expect("insert recipients");
                tx.commit().await.expect("commit the event log");
            }
        }
    }

    /// The single integer `query` answers (e.g. a `COUNT(*)`).
    pub async fn count(&mut self, query: &str) -> i64 {
        match self {
            Self::Sqlite(connection) => sqlx::query_scalar(query).fetch_one(connection).await,
            Self::Postgres(connection) => sqlx::query_scalar(query).fetch_one(connection).await,
        }
        .unwrap_or_else(|error| panic!("{query}: {error}"))
    }

    /// Runs one statement that changes rows (the test's own setup, such as ageing a session).
    pub async fn execute(&mut self, statement: &str) {
        match self {
            Self::Sqlite(connection) => {
                sqlx::query(statement).execute(connection).await.map(|_| ())
            }
            Self::Postgres(connection) => {
                sqlx::query(statement).execute(connection).await.map(|_| ())
            }
        }
        .unwrap_or_else(|error| panic!("{statement}: {error}"))
    }

    /// All rows of all tables, read in one transaction (one consistent state).
    pub async fn snapshot(&mut self) -> Snapshot {
        match self {
            Self::Sqlite(connection) => sqlite_snapshot(connection).await,
            Self::Postgres(connection) => postgres_snapshot(connection).await,
        }
    }
}

async fn sqlite_snapshot(connection: &mut sqlx::SqliteConnection) -> Snapshot {
    let mut tx = connection.begin().await.expect("begin a read");
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
        let query = select_quoted(&table, &columns, "quote");
        let rows = sqlx::query(&query)
            .fetch_all(&mut *tx)
            .await
            .unwrap_or_else(|error| panic!("read {table}: {error}"));
        snapshot.insert(
            table,
            sorted(rows.iter().map(|row| strings(row, columns.len()))),
        );
    }
    tx.commit().await.expect("end the read");
    snapshot
}

async fn postgres_snapshot(connection: &mut sqlx::PgConnection) -> Snapshot {
    let mut tx = connection.begin().await.expect("begin a read");
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *tx)
        .await
        .expect("one consistent state");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' ORDER BY table_name",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("list tables");
    let mut snapshot = Snapshot::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&table)
        .fetch_all(&mut *tx)
        .await
        .expect("list columns");
        let query = select_quoted(&table, &columns, "quote_nullable");
        let rows = sqlx::query(&query)
            .fetch_all(&mut *tx)
            .await
            .unwrap_or_else(|error| panic!("read {table}: {error}"));
        snapshot.insert(
            table,
            sorted(rows.iter().map(|row| strings(row, columns.len()))),
        );
    }
    tx.commit().await.expect("end the read");
    snapshot
}

/// `SELECT quote(a), quote(b) FROM t`, with `quote` the database's quoting function.
fn select_quoted(table: &str, columns: &[String], quote: &str) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|column| format!("{quote}(\"{}\")", column.replace('"', "\"\"")))
        .collect();
    format!(
        "SELECT {} FROM \"{}\"",
        quoted.join(", "),
        table.replace('"', "\"\"")
    )
}

fn strings<R: Row>(row: &R, columns: usize) -> Vec<String>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..columns).map(|at| row.get::<String, _>(at)).collect()
}

fn sorted(rows: impl Iterator<Item = Vec<String>>) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = rows.collect();
    rows.sort();
    rows
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
