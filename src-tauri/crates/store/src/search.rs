//! Full-text search over message text with SQLite FTS5 (the `messages_fts` table, kept in step
//! with `messages` by triggers), ranked by bm25.
//!
//! The user's text is never handed to FTS5 as query syntax: each word becomes a quoted phrase
//! (`"gemma" "desk"`), so quotes, `*`, `AND`, `NEAR(`, `-` or `^` in what someone types are
//! searched for as text (or ignored, being punctuation) and never cause an error. Whole words are
//! searched first; when they give too few hits, the last word is also taken as the start of a
//! longer one (`"gemma" "des"*`, search as you type). Prefix queries must read the match lists of
//! every word they could complete to, which for common words in a million messages costs tens of
//! milliseconds more than whole words, so they run only when needed.

use sqlx::Row;

use crate::error::StoreError;
use crate::store::Store;
use crate::types::{Role, SNIPPET_END, SNIPPET_START, SearchHit};

/// About how many words a snippet shows around the match.
const SNIPPET_TOKENS: u32 = 12;
/// How many of the newest matches are ranked. Ranking every match of a word found in half a
/// million messages takes about half a second; ranking the newest thousand keeps any search in
/// tens of milliseconds, and recent conversations are the likelier target anyway.
const RANKED_MATCHES: u32 = 1_000;

impl Store {
    /// Messages of live (not deleted) conversations matching every word of `query` (the last one
    /// as a word prefix), best first (bm25), at most `limit`. When more than a thousand messages
    /// match, the newest thousand are ranked. Each hit carries a snippet with the matched words
    /// between [`SNIPPET_START`] and [`SNIPPET_END`] and "…" where text was left out, and the
    /// number of images attached to its message. A query with no words gives no hits.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>, StoreError> {
        let Some(whole_words) = fts_query(query, false) else {
            return Ok(Vec::new());
        };
        // Whole words first: cheap, and what was typed in full ranks first. Only when they give
        // too few hits is the last word taken as the start of a longer one.
        let mut hits = self.search_fts(&whole_words, limit).await?;
        if hits.len() < limit as usize {
            let with_prefix = fts_query(query, true).expect("the same words");
            for hit in self.search_fts(&with_prefix, limit).await? {
                if hits.len() < limit as usize && !hits.iter().any(|known| known.message_id == hit.message_id) {
                    hits.push(hit);
                }
            }
        }
        Ok(hits)
    }

    /// Runs one FTS5 query (already escaped) and ranks the newest matches.
    async fn search_fts(&self, fts_query: &str, limit: u32) -> Result<Vec<SearchHit>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.conversation_id, c.title, m.id, m.role, hit.snippet,
                 (SELECT count(*) FROM attachments a
                  WHERE a.message_id = m.id AND a.media_type LIKE 'image/%') AS image_count
             FROM (
                 SELECT rowid AS id, bm25(messages_fts) AS score,
                     snippet(messages_fts, 0, ?3, ?4, '…', ?5) AS snippet
                 FROM messages_fts WHERE messages_fts MATCH ?1
                 ORDER BY rowid DESC LIMIT ?6
             ) AS hit
             JOIN messages m ON m.id = hit.id
             JOIN conversations c ON c.id = m.conversation_id
             WHERE c.deleted_at IS NULL
             ORDER BY hit.score, hit.id DESC
             LIMIT ?2",
        )
        .bind(fts_query)
        .bind(limit)
        .bind(SNIPPET_START.to_string())
        .bind(SNIPPET_END.to_string())
        .bind(SNIPPET_TOKENS)
        .bind(RANKED_MATCHES)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SearchHit {
                    conversation_id: row.get("conversation_id"),
                    title: row.get("title"),
                    message_id: row.get("id"),
                    role: Role::from_sql(row.get("role"))?,
                    snippet: row.get("snippet"),
                    image_count: row.get("image_count"),
                })
            })
            .collect()
    }
}

/// The FTS5 query for what the user typed: every word that has a letter or digit in it, as a
/// quoted phrase, all required, the last one matched as a prefix when `prefix_last`. `None` when
/// there is no such word.
fn fts_query(text: &str, prefix_last: bool) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().filter(|word| word.chars().any(char::is_alphanumeric)).collect();
    let last = words.len().checked_sub(1)?;
    let phrases: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(index, word)| {
            let prefix = if prefix_last && index == last { "*" } else { "" };
            format!("\"{}\"{prefix}", word.replace('"', "\"\""))
        })
        .collect();
    Some(phrases.join(" "))
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn words_become_quoted_phrases_and_the_last_one_a_prefix() {
        assert_eq!(fts_query("gemma desk", true).as_deref(), Some("\"gemma\" \"desk\"*"));
        assert_eq!(fts_query("gemma desk", false).as_deref(), Some("\"gemma\" \"desk\""));
    }

    #[test]
    fn quotes_in_words_are_doubled_so_the_phrase_stays_closed() {
        assert_eq!(fts_query("say\"hi", true).as_deref(), Some("\"say\"\"hi\"*"));
    }

    #[test]
    fn punctuation_alone_is_not_a_word() {
        assert_eq!(fts_query(" \" * - ^ ( ", true), None, "nothing to search for, so no query at all");
    }
}
