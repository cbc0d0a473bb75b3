//! Fills a store with 10,000 conversations and 1,000,000 messages, then times what the app does
//! most: list the newest 50 conversations, open a 500-message conversation, run a full-text
//! search. Prints JSON. Usage: store-bench [--conversations N] [--messages N] [--dir DIR]
//!
//! The fill writes rows directly in large transactions (the app writes one message at a time);
//! the timed operations go through the public `Store` API.

use std::path::PathBuf;
use std::time::Instant;

use gemma_desk_store::Store;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

const WORDS: [&str; 48] = [
    "the", "model", "answer", "river", "bridge", "question", "light", "window", "garden", "memory", "token",
    "sentence", "image", "voice", "engine", "context", "summary", "travel", "recipe", "kitchen", "history", "music",
    "planet", "ocean", "mountain", "library", "language", "story", "letter", "number", "program", "function", "error",
    "market", "weather", "winter", "summer", "coffee", "museum", "train", "station", "city", "village", "forest",
    "harbour", "clock", "paper", "pencil",
];
/// A word that appears in one message in 10,000: what a user searches for.
const RARE_WORD: &str = "lighthouse";
const BIG_CONVERSATION: i64 = 500;

struct Args {
    conversations: i64,
    messages: i64,
    dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { conversations: 10_000, messages: 1_000_000, dir: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--conversations" => args.conversations = value.parse().map_err(|_| "--conversations: a number")?,
            "--messages" => args.messages = value.parse().map_err(|_| "--messages: a number")?,
            "--dir" => args.dir = Some(value.into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.conversations < 2 || args.messages < args.conversations + BIG_CONVERSATION {
        return Err("need at least 2 conversations and 500 more messages than conversations".into());
    }
    Ok(args)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let temp = tempfile_dir();
    let dir = args.dir.clone().unwrap_or_else(|| temp.clone());
    let store = Store::open(&dir).await.expect("the store opens");
    let fill_started = Instant::now();
    fill(&store, &args).await;
    let fill_secs = fill_started.elapsed().as_secs_f64();

    let list = time(20, || async { store.list_conversations(50, 0).await.unwrap().len() }).await;
    let open = time(20, || async { store.current_branch(1).await.unwrap().len() }).await;
    let search = time(20, || async { store.search(RARE_WORD, 20).await.unwrap().len() }).await;
    let common_search = time(20, || async { store.search("river garden", 20).await.unwrap().len() }).await;
    let report = serde_json::json!({
        "conversations": args.conversations,
        "messages": args.messages,
        "fill_seconds": (fill_secs * 10.0).round() / 10.0,
        "database_bytes": std::fs::metadata(store.database_path()).map(|m| m.len()).unwrap_or(0),
        "list_newest_50_ms": list.0, "list_results": list.1,
        "open_500_message_conversation_ms": open.0, "open_messages": open.1,
        "search_rare_word_ms": search.0, "search_rare_results": search.1,
        "search_common_words_ms": common_search.0, "search_common_results": common_search.1,
        "targets_ms": { "list": 30, "open": 30, "search": 50 },
        "note": "median of 20 runs each, warm cache",
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    store.close().await.unwrap();
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gemma-desk-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Median milliseconds of `runs` calls, and the last call's result.
async fn time<F, Fut>(runs: usize, mut call: F) -> (f64, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut samples = Vec::with_capacity(runs);
    let mut result = 0;
    for _ in 0..runs {
        let started = Instant::now();
        result = call().await;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    ((samples[runs / 2] * 100.0).round() / 100.0, result)
}

/// Conversation 1 has exactly 500 messages; the others share the rest. Messages alternate user
/// and assistant, each the child of the previous, and each conversation's leaf is its last one.
async fn fill(store: &Store, args: &Args) {
    let mut connection = SqliteConnection::connect(&format!("sqlite://{}", store.database_path().display()))
        .await
        .expect("a second connection for the fill");
    sqlx::query("PRAGMA synchronous = OFF").execute(&mut connection).await.unwrap();
    let per_other = (args.messages - BIG_CONVERSATION) / (args.conversations - 1);
    let mut extra = (args.messages - BIG_CONVERSATION) % (args.conversations - 1);
    let mut seed = 7u64;
    let mut next_id = 1i64;
    let base_time = 1_700_000_000_000i64;
    let mut transaction = connection.begin().await.unwrap();
    for conversation in 1..=args.conversations {
        let count =
            if conversation == 1 { BIG_CONVERSATION } else { per_other + i64::from(std::mem::take(&mut extra) > 0) };
        let time = base_time + conversation * 60_000;
        sqlx::query("INSERT INTO conversations (id, title, created_at, updated_at, pinned) VALUES (?, ?, ?, ?, ?)")
            .bind(conversation)
            .bind(format!("Conversation {conversation} about {}", WORDS[conversation as usize % WORDS.len()]))
            .bind(time)
            .bind(time + count)
            .bind(conversation % 500 == 0)
            .execute(&mut *transaction)
            .await
            .unwrap();
        for index in 0..count {
            let role = if index % 2 == 0 { "user" } else { "assistant" };
            let parent = (index > 0).then_some(next_id - 1);
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, 'done', ?, ?)",
            )
            .bind(next_id)
            .bind(conversation)
            .bind(parent)
            .bind(role)
            .bind(sentence(&mut seed, next_id))
            .bind(time + index)
            .bind(time + index)
            .execute(&mut *transaction)
            .await
            .unwrap();
            next_id += 1;
        }
        sqlx::query("UPDATE conversations SET current_leaf_id = ? WHERE id = ?")
            .bind(next_id - 1)
            .bind(conversation)
            .execute(&mut *transaction)
            .await
            .unwrap();
        if conversation % 500 == 0 {
            transaction.commit().await.unwrap();
            transaction = connection.begin().await.unwrap();
        }
    }
    transaction.commit().await.unwrap();
    sqlx::query("PRAGMA optimize").execute(&mut connection).await.unwrap();
    connection.close().await.unwrap();
}

/// 12 to 60 words; one message in 10,000 mentions the rare word.
fn sentence(seed: &mut u64, id: i64) -> String {
    let mut next = || {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 33) as usize
    };
    let length = 12 + next() % 49;
    let mut words: Vec<&str> = (0..length).map(|_| WORDS[next() % WORDS.len()]).collect();
    if id % 10_000 == 0 {
        words.push(RARE_WORD);
    }
    words.join(" ")
}
