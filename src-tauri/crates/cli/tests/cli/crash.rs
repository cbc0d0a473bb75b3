//! Crash safety, for real: a chat storing its reply is killed with SIGKILL at random moments; the
//! database must always open cleanly with the question and the reply up to its last flush.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gemma_desk_store::{MessageStatus, Role, Store};

use crate::{cli, model_arg};

/// 50 runs in the suite; `GEMMA_DESK_CRASH_RUNS` raises it (tests/soak/crash-soak.sh).
fn runs() -> u64 {
    std::env::var("GEMMA_DESK_CRASH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(50)
}

#[test]
fn a_chat_killed_at_random_moments_keeps_the_question_and_the_reply_up_to_its_last_flush() {
    let seed = std::env::var("GEMMA_DESK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64);
    println!("seed {seed} (set GEMMA_DESK_CRASH_SEED to replay)");
    let mut random = seed;
    let mut next = move || {
        random = random.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        random >> 33
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("conversations.sqlite3");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let model = model_arg();
    let (mut cut_mid_reply, mut before_reply) = (0, 0);

    for run in 0..runs() {
        let prompt = format!("Story {run}: tell me a long tale about a lighthouse keeper and the sea.");
        let mut child = cli()
            .args(["chat", "--db", &db.to_string_lossy(), "--model", &model, "--greedy", "--max-tokens", "300"])
            .args(["--ctx", "1024", &prompt])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        // Loading takes a second or more on 2 busy cores, and the first piece is saved up to
        // 250 ms later: kills up to 6 s land mostly in the reply (300 tokens take longer).
        let delay = Duration::from_millis(100 + next() % 5900);
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let printed = reader.join().unwrap();

        let store = runtime.block_on(Store::open_database(&db)).expect("the database opens after a kill");
        let context = format!("run {run} (seed {seed}, killed after {delay:?})");
        assert_eq!(runtime.block_on(store.integrity_check()).unwrap(), "ok", "{context}");
        let newest = runtime.block_on(store.list_conversations(1, 0)).unwrap();
        let Some(conversation) = newest.into_iter().find(|c| c.title.starts_with(&format!("Story {run}:"))) else {
            assert!(printed.is_empty(), "{context}: text was shown but no conversation was stored");
            before_reply += 1;
            runtime.block_on(store.close()).unwrap();
            continue;
        };
        let branch = runtime.block_on(store.current_branch(conversation.id)).unwrap();
        assert_eq!(branch[0].message.role, Role::User, "{context}");
        assert_eq!(branch[0].message.content, prompt, "{context}: the question is kept whole");
        match branch.get(1) {
            None => {
                assert!(printed.is_empty(), "{context}: text was shown but no reply row exists");
                before_reply += 1;
            }
            Some(reply) => {
                let reply = &reply.message;
                assert!(
                    printed.starts_with(&reply.content),
                    "{context}: the stored reply must be what was shown, up to its last flush\nstored: {:?}\nshown:  {printed:?}",
                    reply.content
                );
                match reply.status {
                    MessageStatus::Interrupted => {
                        if !reply.content.is_empty() {
                            cut_mid_reply += 1;
                        }
                    }
                    MessageStatus::Done => assert_eq!(printed.trim_end(), reply.content.trim_end(), "{context}"),
                    other => panic!("{context}: a killed reply is interrupted (or done), not {other:?}"),
                }
            }
        }
        runtime.block_on(store.close()).unwrap();
    }
    println!("{cut_mid_reply} replies cut mid-stream, {before_reply} runs killed before the reply");
    assert!(cut_mid_reply * 2 >= runs(), "most kills must land mid-reply to test anything ({cut_mid_reply} did)");
}

#[test]
fn a_chat_killed_right_after_storing_its_question_is_continued_and_answers() {
    // Issue 9's regression: kill a storing chat as soon as its question is committed, then
    // `--continue` the conversation and ask again.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("killed.sqlite3");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let model = model_arg();
    let mut child = cli()
        .args(["chat", "--db", &db.to_string_lossy(), "--model", &model, "--greedy", "--max-tokens", "300"])
        .args(["--ctx", "1024", "Tell me a long tale about a lighthouse keeper."])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let conversation = loop {
        assert!(std::time::Instant::now() < deadline, "the chat stored no question within a minute");
        // The chat holds the database's lock, as the app does: read beside it (which fails until
        // the chat has created the schema).
        if db.exists()
            && let Ok(store) = runtime.block_on(Store::open_database_in_use(&db))
        {
            let newest = runtime.block_on(store.list_conversations(1, 0)).unwrap_or_default();
            let asked = newest.first().filter(|c| c.current_leaf_id.is_some()).map(|c| c.id);
            runtime.block_on(store.close()).unwrap();
            if let Some(id) = asked {
                break id;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    child.kill().unwrap();
    child.wait().unwrap();

    let id = conversation.to_string();
    let output = cli()
        .args(["chat", "--db", &db.to_string_lossy(), "--model", &model, "--greedy", "--max-tokens", "6"])
        .args(["--ctx", "1024", "--continue", &id, "Are you still there?"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the conversation continues after the kill: {stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).trim().is_empty(), "and the question is answered: {stderr}");
    let store = runtime.block_on(Store::open_database(&db)).unwrap();
    let branch = runtime.block_on(store.current_branch(conversation)).unwrap();
    let last = &branch.last().unwrap().message;
    assert_eq!((last.role, last.status), (Role::Assistant, MessageStatus::Done), "{branch:?}");
    assert_eq!(branch[0].message.content, "Tell me a long tale about a lighthouse keeper.");
}
