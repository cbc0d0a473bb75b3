//! Opening the database: where it lives, how SQLite is set up for durability, migrations, and
//! recovery of replies that were streaming when the app last stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Sqlite, Transaction};

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
    /// Opened as the database's writer (not beside a running app): it checkpoints on close.
    writer: bool,
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
        check_before_opening(database).await?;
        let attachments = attachments_dir_of(database);
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
        Ok(Store { pool, database: database.to_path_buf(), attachments, recovered, writer: as_writer })
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

    /// Closes every connection and waits for them to finish. The database's writer first
    /// checkpoints the WAL into the database file and empties it, so that after a normal quit the
    /// `.sqlite3` file alone holds every conversation (a user may copy just that file). A store
    /// opened beside a running app leaves the WAL to the app.
    pub async fn close(self) -> Result<(), StoreError> {
        let checkpointed = if self.writer {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await.map(drop)
        } else {
            Ok(())
        };
        self.pool.close().await;
        Ok(checkpointed?)
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

/// The attachments folder of the database file `database`: `attachments/` beside it when it has
/// the app's file name, otherwise `<file stem>.attachments/` beside it.
pub(crate) fn attachments_dir_of(database: &Path) -> PathBuf {
    let folder = database.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if database.file_name() == Some(DATABASE_FILE.as_ref()) {
        folder.join(ATTACHMENTS_DIR)
    } else {
        let stem = database.file_stem().unwrap_or_default().to_string_lossy();
        folder.join(format!("{stem}.attachments"))
    }
}

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// The length of SQLite's file header.
const SQLITE_HEADER_LEN: usize = 100;

/// Refuses, before anything writes to it, a file that is not a Gemma Desk database: opening it
/// for writing would switch its journal to WAL and add this app's tables to it. An empty or
/// missing file is a new database.
async fn check_before_opening(database: &Path) -> Result<(), StoreError> {
    let not_ours = |why: String| StoreError::NotOurs { database: database.to_path_buf(), why };
    let header = match read_header(database) {
        Ok(Some(header)) => header,
        Ok(None) => return Ok(()),
        Err(error) => return Err(StoreError::io(database, error)),
    };
    if header.len() < SQLITE_HEADER_LEN || header[..16] != SQLITE_MAGIC[..] {
        return Err(not_ours("it is not an SQLite database".into()));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size => u64::from(size),
    };
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    let length = std::fs::metadata(database).map_err(|e| StoreError::io(database, e))?.len();
    // The header's page count is only kept by SQLite 3.7.0 and later, which say so by storing
    // the change counter again at offset 92.
    if change_counter == valid_for && length < pages * page_size {
        return Err(not_ours(format!(
            "it is cut short: {length} bytes where its header counts {pages} pages of {page_size} bytes"
        )));
    }
    let options = SqliteConnectOptions::new().filename(database).read_only(true);
    let mut connection = options.connect().await?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&mut connection).await?;
    connection.close().await?;
    let ours = ["_sqlx_migrations", "conversations", "messages"];
    if !tables.is_empty() && !ours.iter().all(|table| tables.iter().any(|name| name == table)) {
        let mut names = tables.join(", ");
        if names.len() > 200 {
            names = format!("{}…", &names[..names.floor_char_boundary(200)]);
        }
        return Err(not_ours(format!("it holds another program's tables ({names})")));
    }
    Ok(())
}

/// The header of the file at `path`, `None` when there is no file or it is empty.
fn read_header(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let mut header = Vec::with_capacity(SQLITE_HEADER_LEN);
    file.take(SQLITE_HEADER_LEN as u64).read_to_end(&mut header)?;
    Ok((!header.is_empty()).then_some(header))
}

/// Marks every `streaming` message `interrupted`: whoever was writing it is gone.
async fn recover_streaming_replies(pool: &SqlitePool) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done =
        sqlx::query("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
