//! Opening the database: where it lives, how SQLite is set up for durability, migrations, and
//! recovery of replies that were streaming when the app last stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use crate::error::StoreError;

/// The database's file name inside the data directory.
const DATABASE_FILE: &str = "gemma-desk.sqlite3";
/// The folder of attachment files inside the data directory.
pub(crate) const ATTACHMENTS_DIR: &str = "attachments";
/// Overrides the platform data directory (tests, portable installs).
pub const DATA_DIR_ENV: &str = "GEMMA_DESK_DATA_DIR";
/// How long a write waits for another connection or process holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers run side by side in WAL mode; writers take turns behind `BEGIN IMMEDIATE`.
const MAX_CONNECTIONS: u32 = 4;

/// The conversations database and the attachment files next to it. Cheap to clone: clones share
/// one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    database: PathBuf,
    attachments: PathBuf,
    recovered: u64,
}

impl Store {
    /// Opens (creating) `data_dir/gemma-desk.sqlite3` and `data_dir/attachments/`, brings the
    /// schema up to date, and marks every reply left `streaming` by a crash as `interrupted`
    /// (keeping its text); [`Store::recovered_replies`] says how many.
    ///
    /// SQLite runs with a WAL journal, `synchronous = FULL` (a committed write survives a power
    /// cut), foreign keys on and a 5 s busy timeout (the CLI and the app may share the file).
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_database(&Store::database_in(data_dir)).await
    }

    /// The database file of the data directory `data_dir`.
    pub fn database_in(data_dir: &Path) -> PathBuf {
        data_dir.join(DATABASE_FILE)
    }

    /// Opens (creating) the database file `database` itself, as [`Store::open`] does. Its
    /// attachments go in the `attachments/` folder beside it when it has the app's file name
    /// (`gemma-desk.sqlite3`), otherwise in `<file stem>.attachments/` beside it, so that two
    /// databases in one folder never share (and delete) each other's files.
    pub async fn open_database(database: &Path) -> Result<Store, StoreError> {
        Store::open_with(database, true).await
    }

    /// Opens `database` while another process holds its [`DatabaseLock`](crate::DatabaseLock)
    /// and writes it (the app, while a terminal reads its history). That process owns the
    /// schema and its replies still `streaming`: this neither migrates nor recovers.
    pub async fn open_database_in_use(database: &Path) -> Result<Store, StoreError> {
        Store::open_with(database, false).await
    }

    async fn open_with(database: &Path, as_writer: bool) -> Result<Store, StoreError> {
        let folder = database.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let attachments = if database.file_name() == Some(DATABASE_FILE.as_ref()) {
            folder.join(ATTACHMENTS_DIR)
        } else {
            let stem = database.file_stem().unwrap_or_default().to_string_lossy();
            folder.join(format!("{stem}.attachments"))
        };
        std::fs::create_dir_all(&attachments).map_err(|e| StoreError::io(&attachments, e))?;
        let options = SqliteConnectOptions::new()
            .filename(database)
            .create_if_missing(as_writer)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options).await?;
        let recovered = if as_writer {
            sqlx::migrate!().run(&pool).await?;
            recover_streaming_replies(&pool).await?
        } else {
            0
        };
        Ok(Store { pool, database: database.to_path_buf(), attachments, recovered })
    }

    /// The platform's data directory for Gemma Desk, or `$GEMMA_DESK_DATA_DIR` when set (tests,
    /// portable installs). `None` when the platform has no home directory to put it in.
    pub fn default_data_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|dir| !dir.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("app", "gemmadesk", "Gemma Desk").map(|dirs| dirs.data_dir().to_path_buf())
    }

    /// The SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.database.clone()
    }

    /// The folder of attachment files.
    pub fn attachments_dir(&self) -> &Path {
        &self.attachments
    }

    /// How many replies were still `streaming` when this store was opened (each is now
    /// `interrupted`): the app was killed or crashed mid-reply.
    pub fn recovered_replies(&self) -> u64 {
        self.recovered
    }

    /// SQLite's `PRAGMA integrity_check`: `"ok"` when the database is healthy, otherwise the
    /// problems found, one per line.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.pool).await?;
        Ok(problems.join("\n"))
    }

    /// Closes every connection (checkpointing the WAL) and waits for them to finish.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// The connection pool, for the crate's other modules.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction that holds SQLite's write lock from its first statement, so it
    /// waits (up to the busy timeout) for other writers instead of failing half-way through.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Marks every `streaming` message `interrupted`: whoever was writing it is gone.
async fn recover_streaming_replies(pool: &SqlitePool) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done =
        sqlx::query("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
