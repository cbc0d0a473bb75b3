//! Replies cut into sentences for the speech service, as they stream.
//!
//! A reply arrives as Markdown in small pieces. Speaking it well takes two things: reading only
//! what a person would read aloud, and starting with the first sentence while the rest still
//! streams. [`SentenceSplitter`] does both in two stages:
//!
//! - **Markdown to prose**, line by line: code blocks, tables, images, URLs and markup are
//!   dropped, a link is read as its text, and the end of a heading, a list item or a paragraph
//!   becomes a hard break.
//! - **Prose to sentences**: cut after `.`, `!`, `?` and `…` followed by a space (but not after
//!   "Dr.", in "3.14", after the "J." of an initial or in a mid-sentence "..."), after the
//!   Devanagari danda `।` `॥` and after the CJK full stops `。` `！` `？`, which need no space.
//!
//! Each stage reads its input only once what it is can no longer change: a `.` at the end of
//! what has arrived may be the start of "3.14", a line that starts with `|` may be a table's
//! header, a code fence holds everything until it closes. So pushing a reply in any pieces gives
//! exactly the sentences [`sentences`] gives for the whole text.
//!
//! ```
//! use gemma_desk_voice::speech_text::SentenceSplitter;
//!
//! let mut splitter = SentenceSplitter::new();
//! assert_eq!(splitter.push("**Hello** there. How a"), ["Hello there."]);
//! assert!(splitter.push("re you").is_empty());
//! assert_eq!(splitter.finish(), ["How are you"]);
//! ```

use std::cmp::Reverse;
use std::mem;

/// Sentences longer than this many characters are cut at a comma or a space, so that speech
/// does not wait for a run-on sentence to end.
const MAX_SENTENCE_CHARS: usize = 300;

/// Inline code up to this many characters is read (a command, a name); longer code is not.
const MAX_SPOKEN_CODE_CHARS: usize = 40;

/// Stands for a hard break (the end of a heading, a list item or a paragraph) in the prose the
/// Markdown stage hands to the sentence stage; prose itself never contains a newline.
const HARD_BREAK: char = '\n';

/// Cuts a streaming reply into sentences to speak, as its pieces arrive.
///
/// Push each piece of the reply as it streams and hand the sentences returned to the speech
/// service; call [`finish`](Self::finish) when the reply ends. The sentences are the same
/// whatever the pieces, so a reply spoken while it streams sounds like one played when done.
#[derive(Debug, Default)]
pub struct SentenceSplitter {
    markdown: MarkdownReader,
    sentences: SentenceCutter,
}

impl SentenceSplitter {
    /// A splitter at the start of a reply.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a piece of the reply; returns the sentences completed by it (prose, trimmed,
    /// non-empty), in order.
    pub fn push(&mut self, piece: &str) -> Vec<String> {
        self.markdown.push(piece);
        self.sentences.push(&self.markdown.take_prose())
    }

    /// The reply ended: returns what is left as the last sentence(s). The splitter is then
    /// ready for the next reply.
    pub fn finish(&mut self) -> Vec<String> {
        self.markdown.finish();
        let mut last = self.sentences.push(&self.markdown.take_prose());
        last.extend(self.sentences.finish());
        *self = Self::default();
        last
    }
}

/// The sentences to speak in a whole reply (the play button on a finished one).
#[must_use]
pub fn sentences(markdown: &str) -> Vec<String> {
    let mut splitter = SentenceSplitter::new();
    let mut all = splitter.push(markdown);
    all.extend(splitter.finish());
    all
}

/// Guesses a reply's language from the script its letters are written in, as a BCP-47 primary
/// language subtag; the caller picks the speech service's voice by it.
///
/// Devanagari is `hi` (Hindi and Marathi share it, so a caller whose user speaks Marathi may
/// prefer a Marathi voice for `hi`), Han with kana is `ja`, Han without kana `zh` (so Japanese
/// in kanji alone reads as Chinese), Hangul `ko`, Cyrillic `ru`, Arabic `ar` and Greek `el`.
/// Latin letters, or no letters at all, give `None`: the script does not tell English from
/// French, so the caller keeps the system's default voice.
#[must_use]
pub fn language_hint(text: &str) -> Option<&'static str> {
    let mut letters = [0usize; SCRIPTS.len()];
    let mut has_kana = false;
    for c in text.chars() {
        has_kana |= is_kana(c);
        if let Some(script) = script_of(c) {
            letters[script as usize] += 1;
        }
    }
    // On a tie the earlier script wins, Latin first: a few foreign words do not change the voice.
    let (most, &count) = letters.iter().enumerate().max_by_key(|&(i, &n)| (n, Reverse(i)))?;
    if count == 0 {
        return None;
    }
    match SCRIPTS[most] {
        Script::Latin => None,
        Script::Devanagari => Some("hi"),
        Script::HanOrKana => Some(if has_kana { "ja" } else { "zh" }),
        Script::Hangul => Some("ko"),
        Script::Cyrillic => Some("ru"),
        Script::Arabic => Some("ar"),
        Script::Greek => Some("el"),
    }
}

// Markdown to prose.

/// Turns Markdown into the prose a person would read aloud, as it arrives.
#[derive(Debug, Default)]
struct MarkdownReader {
    /// Markdown that arrived but is not read yet, because what it is depends on what follows.
    unread: String,
    /// Prose read and not yet taken by the sentence stage.
    prose: String,
    blocks: Blocks,
    /// The prose line being read; `None` at the start of a line, until its start tells what it is.
    line: Option<ProseLine>,
}

/// What the lines read so far left open.
#[derive(Debug, Default)]
struct Blocks {
    fence: Option<Fence>,
    in_table: bool,
    /// The previous line was paragraph or list item text, so an indented line continues it.
    in_paragraph: bool,
    /// A list item was read and no unindented line has ended the list: indented lines are
    /// nested items, not code.
    in_list: bool,
    quote_depth: usize,
}

/// A fenced code block's opening: ```` ``` ```` or `~~~`, three or more.
#[derive(Debug, Clone, Copy)]
struct Fence {
    mark: char,
    len: usize,
}

impl Fence {
    fn is_closed_by(self, line: &str) -> bool {
        let line = line.trim_start_matches([' ', '\t', '>']).trim_end();
        line.len() >= self.len && line.chars().all(|c| c == self.mark)
    }
}

#[derive(Debug, Clone, Copy)]
struct ProseLine {
    kind: ProseKind,
    /// The last character read on this line: an `_` inside a word is not emphasis, and a URL
    /// starts a word.
    prev: Option<char>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProseKind {
    Heading,
    ListItem,
    Paragraph,
}

/// What a line turned out to be, once enough of it arrived to tell.
#[derive(Debug, Clone, Copy)]
enum LineKind {
    /// Read from after its marker (`#`, `-`, `1.`) on.
    Prose(ProseKind),
    /// Empty or only spaces: ends a paragraph.
    Blank,
    /// Not read: indented code, a line inside a fence, a rule or a heading's underline.
    Unread,
    FenceOpen(Fence),
    FenceClose,
    /// A table's header and delimiter rows, or a delimiter row on its own.
    TableStart,
    TableRow,
}

/// The start of a line: what it is and how many bytes telling that took (the marker of a
/// prose line, the whole of any other line).
#[derive(Debug)]
struct LineStart {
    kind: LineKind,
    len: usize,
    quote_depth: usize,
    indented: bool,
}

/// What a piece of a prose line adds to the prose.
enum Spoken<'a> {
    Nothing,
    Text(&'a str),
    LineEnd,
}

/// A prose line's kind with no marker to skip: the line is read from its first character.
const PARAGRAPH: (LineKind, usize) = (LineKind::Prose(ProseKind::Paragraph), 0);

impl MarkdownReader {
    fn push(&mut self, markdown: &str) {
        // Without the `\r` of Windows line ends, "\r\n\r\n" is a blank line like "\n\n".
        self.unread.extend(markdown.chars().filter(|&c| c != '\r'));
        let mut unread = mem::take(&mut self.unread);
        let mut at = 0;
        while let Some(len) = self.read_step(&unread[at..]) {
            at += len;
        }
        unread.drain(..at);
        self.unread = unread;
    }

    /// The reply ended. Two newlines end its last line and give a table header candidate the
    /// next line it waits for, so nothing stays unread.
    fn finish(&mut self) {
        self.push("\n\n");
    }

    fn take_prose(&mut self) -> String {
        mem::take(&mut self.prose)
    }

    /// Reads a line's start or one piece of a prose line; `None` while more of the reply is
    /// needed to tell what comes next.
    fn read_step(&mut self, rest: &str) -> Option<usize> {
        match self.line {
            None => {
                let start = line_start(&self.blocks, rest)?;
                self.start_line(&start);
                Some(start.len)
            }
            Some(line) => {
                let (len, spoken) = next_inline(rest, line.prev)?;
                match spoken {
                    Spoken::Nothing => {}
                    Spoken::Text(text) => self.prose.push_str(text),
                    Spoken::LineEnd => self.end_line(),
                }
                if let Some(line) = &mut self.line {
                    line.prev = rest[..len].chars().next_back();
                }
                Some(len)
            }
        }
    }

    fn start_line(&mut self, start: &LineStart) {
        if start.quote_depth != self.blocks.quote_depth {
            self.prose.push(HARD_BREAK);
            self.blocks.quote_depth = start.quote_depth;
        }
        let kind = start.kind;
        self.blocks.in_table = matches!(kind, LineKind::TableStart | LineKind::TableRow);
        if !start.indented && !matches!(kind, LineKind::Prose(ProseKind::ListItem) | LineKind::Blank) {
            self.blocks.in_list = false;
        }
        match kind {
            LineKind::Prose(prose) => {
                if prose != ProseKind::Paragraph {
                    self.prose.push(HARD_BREAK);
                }
                self.blocks.in_list |= prose == ProseKind::ListItem;
                self.line = Some(ProseLine { kind: prose, prev: None });
            }
            LineKind::FenceOpen(fence) => {
                self.blocks.fence = Some(fence);
                self.end_paragraph();
            }
            LineKind::FenceClose => self.blocks.fence = None,
            LineKind::Blank | LineKind::Unread | LineKind::TableStart | LineKind::TableRow => self.end_paragraph(),
        }
    }

    fn end_line(&mut self) {
        let Some(line) = self.line.take() else { return };
        if line.kind == ProseKind::Heading {
            self.end_paragraph();
        } else {
            self.prose.push(' ');
            self.blocks.in_paragraph = true;
        }
    }

    fn end_paragraph(&mut self) {
        self.prose.push(HARD_BREAK);
        self.blocks.in_paragraph = false;
    }
}

/// What the line at the start of `rest` is; `None` while the part that tells has not arrived.
fn line_start(blocks: &Blocks, rest: &str) -> Option<LineStart> {
    if let Some(fence) = blocks.fence {
        let (line, len) = full_line(rest)?;
        let kind = if fence.is_closed_by(line) { LineKind::FenceClose } else { LineKind::Unread };
        return Some(LineStart { kind, len, quote_depth: blocks.quote_depth, indented: true });
    }
    let (quote_depth, quotes_len) = quote_markers(rest)?;
    let quoted = &rest[quotes_len..];
    let content = quoted.trim_start_matches([' ', '\t']);
    let indent = &quoted[..quoted.len() - content.len()];
    let (kind, len) = content_start(blocks, content, indent_width(indent))?;
    Some(LineStart { kind, len: quotes_len + indent.len() + len, quote_depth, indented: !indent.is_empty() })
}

/// What a line is from its content (after quote markers and indentation).
fn content_start(blocks: &Blocks, content: &str, indent: usize) -> Option<(LineKind, usize)> {
    let first = content.chars().next()?;
    if blocks.in_table {
        let (line, len) = full_line(content)?;
        if line.contains('|') {
            return Some((LineKind::TableRow, len));
        }
    }
    if first == '\n' {
        return Some((LineKind::Blank, 1));
    }
    if indent >= 4 && !blocks.in_paragraph && !blocks.in_list {
        let (_, len) = full_line(content)?;
        return Some((LineKind::Unread, len));
    }
    match first {
        '`' | '~' => fence_open(content, first),
        '#' => heading(content),
        '-' | '*' | '+' => bullet(content, first),
        '_' | '=' | ':' => rule_or_delimiter_row(content),
        '|' => table_start(content),
        '0'..='9' => ordered_item(content),
        _ => Some(PARAGRAPH),
    }
}

fn fence_open(content: &str, mark: char) -> Option<(LineKind, usize)> {
    let run = content.chars().take_while(|&c| c == mark).count();
    if run == content.len() {
        return None;
    }
    if run < 3 {
        return Some(PARAGRAPH);
    }
    let (_, len) = full_line(content)?;
    Some((LineKind::FenceOpen(Fence { mark, len: run }), len))
}

fn heading(content: &str) -> Option<(LineKind, usize)> {
    let hashes = content.bytes().take_while(|&b| b == b'#').count();
    match content[hashes..].chars().next()? {
        ' ' | '\t' if hashes <= 6 => Some((LineKind::Prose(ProseKind::Heading), hashes + 1)),
        '\n' if hashes <= 6 => Some((LineKind::Prose(ProseKind::Heading), hashes)),
        _ => Some(PARAGRAPH),
    }
}

fn bullet(content: &str, mark: char) -> Option<(LineKind, usize)> {
    match content[1..].chars().next()? {
        ' ' | '\t' => Some((LineKind::Prose(ProseKind::ListItem), 2)),
        _ if mark == '+' => Some(PARAGRAPH),
        _ => rule_or_delimiter_row(content),
    }
}

fn ordered_item(content: &str) -> Option<(LineKind, usize)> {
    let digits = content.bytes().take_while(u8::is_ascii_digit).count();
    let mut after = content[digits..].chars();
    let delimiter = after.next()?;
    if digits > 9 || !matches!(delimiter, '.' | ')') {
        return Some(PARAGRAPH);
    }
    match after.next()? {
        ' ' | '\t' => Some((LineKind::Prose(ProseKind::ListItem), digits + 2)),
        '\n' => Some((LineKind::Prose(ProseKind::ListItem), digits + 1)),
        _ => Some(PARAGRAPH),
    }
}

/// A line of only one of `-`, `*`, `_`, `=` is a rule or a heading's underline; one of `-`, `:`
/// and `|` is a table's delimiter row. Any other character makes it prose, as soon as it shows.
fn rule_or_delimiter_row(content: &str) -> Option<(LineKind, usize)> {
    let mark = content.chars().next()?;
    let line_end = content.find('\n');
    let line = &content[..line_end.unwrap_or(content.len())];
    let may_be_delimiter_row = matches!(mark, '-' | ':');
    let fits = |c: char| c == mark || c == ' ' || c == '\t' || (may_be_delimiter_row && matches!(c, '-' | ':' | '|'));
    if !line.chars().all(fits) {
        return Some(PARAGRAPH);
    }
    let len = line_end? + 1;
    if is_delimiter_row(line) {
        Some((LineKind::TableStart, len))
    } else if is_rule(line, mark) {
        Some((LineKind::Unread, len))
    } else {
        Some(PARAGRAPH)
    }
}

/// A line that starts with `|` is a table's header when the next line is a delimiter row.
/// Otherwise it is prose with pipes in it.
fn table_start(content: &str) -> Option<(LineKind, usize)> {
    let (header, header_len) = full_line(content)?;
    if is_delimiter_row(header) {
        return Some((LineKind::TableStart, header_len));
    }
    let (next, next_len) = full_line(&content[header_len..])?;
    if is_delimiter_row(next.trim_start_matches([' ', '\t', '>'])) {
        Some((LineKind::TableStart, header_len + next_len))
    } else {
        Some(PARAGRAPH)
    }
}

fn is_delimiter_row(line: &str) -> bool {
    line.contains('|') && line.contains('-') && line.chars().all(|c| matches!(c, '-' | ':' | '|' | ' ' | '\t'))
}

fn is_rule(line: &str, mark: char) -> bool {
    let marks = line.chars().filter(|&c| c == mark).count();
    let least = if mark == '=' { 1 } else { 3 };
    matches!(mark, '-' | '*' | '_' | '=') && marks >= least && line.chars().all(|c| c == mark || c == ' ' || c == '\t')
}

/// How deep in blockquotes a line is and how many bytes its `>` markers take.
fn quote_markers(rest: &str) -> Option<(usize, usize)> {
    let (mut depth, mut len) = (0, 0);
    loop {
        let after = &rest[len..];
        let marker = after.trim_start_matches([' ', '\t']);
        if marker.is_empty() {
            return None;
        }
        if !marker.starts_with('>') {
            return Some((depth, len));
        }
        depth += 1;
        len += after.len() - marker.len() + 1;
        if rest[len..].starts_with(' ') {
            len += 1;
        }
    }
}

fn indent_width(indent: &str) -> usize {
    indent.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum()
}

/// The line at the start of `text` without its newline, and its length with it.
fn full_line(text: &str) -> Option<(&str, usize)> {
    text.find('\n').map(|end| (&text[..end], end + 1))
}

/// The next piece of a prose line (a character, a link's destination, an inline code span, a
/// tag, a URL) and what of it is spoken; `None` while the piece's end has not arrived.
fn next_inline(rest: &str, prev: Option<char>) -> Option<(usize, Spoken<'_>)> {
    let c = rest.chars().next()?;
    let after = &rest[c.len_utf8()..];
    let at_word_start = !prev.is_some_and(char::is_alphanumeric);
    Some(match c {
        '\n' => (1, Spoken::LineEnd),
        '\\' => match after.chars().next()? {
            '\n' => (1, Spoken::Nothing),
            escaped => (1 + escaped.len_utf8(), Spoken::Text(&after[..escaped.len_utf8()])),
        },
        '*' | '[' => (1, Spoken::Nothing),
        '_' if !at_word_start && after.chars().next()?.is_alphanumeric() => (1, Spoken::Text("_")),
        '_' => (1, Spoken::Nothing),
        '~' if after.chars().next()? == '~' => (2, Spoken::Nothing),
        '`' => inline_code(rest)?,
        ']' if after.chars().next()? == '(' => (1 + link_destination_len(after)?, Spoken::Nothing),
        ']' => (1, Spoken::Nothing),
        '!' if after.chars().next()? == '[' => image(rest)?,
        '<' => html_tag(rest)?,
        '|' | '\t' => (1, Spoken::Text(" ")),
        'h' | 'H' | 'w' | 'W' if at_word_start => bare_url(rest)?,
        _ => (c.len_utf8(), Spoken::Text(&rest[..c.len_utf8()])),
    })
}

/// Inline code is read if it is short (a command, a name). Backticks that do not close on
/// their line are dropped.
fn inline_code(rest: &str) -> Option<(usize, Spoken<'_>)> {
    let ticks = backtick_run(rest);
    let mut at = ticks;
    loop {
        let c = rest[at..].chars().next()?;
        match c {
            '\n' => return Some((ticks, Spoken::Nothing)),
            '`' => {
                let run = backtick_run(&rest[at..]);
                if at + run == rest.len() {
                    return None;
                }
                if run == ticks {
                    let code = rest[ticks..at].trim();
                    let short = code.chars().count() <= MAX_SPOKEN_CODE_CHARS;
                    return Some((at + run, if short { Spoken::Text(code) } else { Spoken::Nothing }));
                }
                at += run;
            }
            _ => at += c.len_utf8(),
        }
    }
}

fn backtick_run(text: &str) -> usize {
    text.bytes().take_while(|&b| b == b'`').count()
}

/// The length of a link's `(destination)`, or of the rest of its line if it never closes.
fn link_destination_len(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 1 => return Some(i + 1),
            ')' => depth -= 1,
            '\n' => return Some(i),
            _ => {}
        }
    }
    None
}

/// An image `![alt](destination)` is not read at all, its alt text included.
fn image(rest: &str) -> Option<(usize, Spoken<'_>)> {
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let Some(close) = line.find(']') else {
        return (line.len() < rest.len()).then_some((1, Spoken::Text("!")));
    };
    let after = &rest[close + 1..];
    if after.chars().next()? == '(' {
        Some((close + 1 + link_destination_len(after)?, Spoken::Nothing))
    } else {
        Some((close + 1, Spoken::Nothing))
    }
}

/// An HTML tag (or an autolink `<https://...>`) is a space; a `<` that opens no tag is read.
fn html_tag(rest: &str) -> Option<(usize, Spoken<'_>)> {
    let next = rest[1..].chars().next()?;
    if !(next.is_ascii_alphabetic() || next == '/' || next == '!') {
        return Some((1, Spoken::Text("<")));
    }
    for (i, c) in rest.char_indices() {
        match c {
            '>' => return Some((i + 1, Spoken::Text(" "))),
            '\n' => return Some((1, Spoken::Text("<"))),
            _ => {}
        }
    }
    None
}

const URL_STARTS: [&str; 3] = ["https://", "http://", "www."];

/// Punctuation after a URL belongs to the sentence: "see `https://example.com`." ends there.
const AFTER_URL: &[char] = &['.', ',', ';', ':', '!', '?', '\'', '"', ')', ']', '*', '_'];

/// A bare URL is not read; any other word starting with `h` or `w` is, once it is clear that
/// it does not start a URL.
fn bare_url(rest: &str) -> Option<(usize, Spoken<'_>)> {
    let starts_with = |start: &str| rest.get(..start.len()).is_some_and(|s| s.eq_ignore_ascii_case(start));
    if !URL_STARTS.iter().any(|start| starts_with(start)) {
        let may_become_url =
            URL_STARTS.iter().any(|start| start.len() > rest.len() && start[..rest.len()].eq_ignore_ascii_case(rest));
        return if may_become_url { None } else { Some((1, Spoken::Text(&rest[..1]))) };
    }
    let end = rest.find(|c: char| c.is_whitespace() || c == '<')?;
    Some((rest[..end].trim_end_matches(AFTER_URL).len(), Spoken::Nothing))
}

// Prose to sentences.

/// Stops that end a sentence when a space (or a break) follows them.
const SPACED_STOPS: &[char] = &['.', '!', '?', '…', '؟'];

/// Stops that end a sentence by themselves: the Devanagari danda and double danda, and the CJK
/// full stops, which are not followed by spaces.
const UNSPACED_STOPS: &[char] = &['।', '॥', '。', '！', '？', '．', '｡'];

/// Closing quotes and brackets after a stop belong to the sentence it ends.
const CLOSERS: &[char] = &['"', '\'', '”', '’', '»', ')', ']', '}', '」', '』', '）', '】', '》', '〉'];

/// Opening quotes and brackets before the word after a stop.
const OPENERS: &[char] = &['"', '\'', '“', '‘', '«', '(', '[', '「', '『', '（'];

/// Words whose `.` never ends a sentence: titles before a name, and abbreviations that are
/// always followed by more of the sentence.
const NEVER_LAST: &[&str] =
    &["mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "mt", "vs", "approx", "e.g", "i.e", "cf"];

/// Words whose `.` ends a sentence unless a lowercase word follows ("etc. and more").
const LAST_UNLESS_LOWERCASE_FOLLOWS: &[&str] = &["etc", "a.m", "p.m"];

/// Words whose `.` ends a sentence unless a number follows ("No. 5"); matched with their case.
const LAST_UNLESS_NUMBER_FOLLOWS: &[&str] = &["No", "Nos", "Fig", "Vol", "pp"];

/// Cuts prose into sentences, each as soon as its end is certain.
#[derive(Debug, Default)]
struct SentenceCutter {
    /// Prose after the last sentence given out.
    text: String,
}

impl SentenceCutter {
    fn push(&mut self, prose: &str) -> Vec<String> {
        self.text.push_str(prose);
        let mut sentences = Vec::new();
        let mut start = 0;
        while let Some(len) = sentence_len(&self.text[start..]) {
            sentences.extend(spoken(&self.text[start..start + len]));
            start += len;
        }
        self.text.drain(..start);
        sentences
    }

    fn finish(&mut self) -> Vec<String> {
        spoken(&mem::take(&mut self.text)).into_iter().collect()
    }
}

/// The length of the sentence at the start of `text`; `None` while its end is not certain.
fn sentence_len(text: &str) -> Option<usize> {
    let lead = text.len() - text.trim_start().len();
    let mut at = lead;
    let mut chars = 0;
    while let Some(c) = text[at..].chars().next() {
        if c == HARD_BREAK {
            return Some(at + 1);
        }
        if chars >= MAX_SENTENCE_CHARS {
            return Some(lead + cut_point(&text[lead..at]));
        }
        let next = if SPACED_STOPS.contains(&c) || UNSPACED_STOPS.contains(&c) {
            match stop_at(text, at)? {
                Stop::Ends(end) => return Some(end),
                Stop::Continues(end) => end,
            }
        } else {
            at + c.len_utf8()
        };
        chars += text[at..next].chars().count();
        at = next;
    }
    None
}

/// Where to cut a sentence that ran too long: after its last comma or semicolon if that is
/// past its middle, else at its last space, else where it is.
fn cut_point(run: &str) -> usize {
    let last_pause = run.rfind([',', ';', '，', '；', '、']);
    match last_pause.map(|i| i + run[i..].chars().next().map_or(0, char::len_utf8)) {
        Some(end) if end > run.len() / 2 => end,
        _ => run.rfind(char::is_whitespace).filter(|&i| i > 0).unwrap_or(run.len()),
    }
}

/// Whether a run of stops ends its sentence, and where what comes after it starts.
enum Stop {
    /// The sentence ends here, closing quotes and brackets included.
    Ends(usize),
    /// The sentence goes on after the stops.
    Continues(usize),
}

/// Whether the stops at `at` end the sentence; `None` while what follows them has not arrived.
fn stop_at(text: &str, at: usize) -> Option<Stop> {
    let stops_end = at + text[at..].find(|c| !SPACED_STOPS.contains(&c) && !UNSPACED_STOPS.contains(&c))?;
    let closed = stops_end + text[stops_end..].find(|c| !CLOSERS.contains(&c))?;
    let stops = &text[at..stops_end];
    let following = &text[closed..];
    let ends = if stops.contains(UNSPACED_STOPS) {
        true
    } else if !following.starts_with(char::is_whitespace) {
        false // "3.14", "v1.2.3", "example.com"
    } else if stops.contains(['!', '?', '؟']) {
        true
    } else if stops.contains('…') || stops.len() > 1 {
        !next_word_start(following)?.is_lowercase()
    } else {
        !period_continues(word_before(&text[..at]), following)?
    };
    Some(if ends { Stop::Ends(closed) } else { Stop::Continues(stops_end) })
}

/// Whether a single `.` after `word` stays inside its sentence; `None` while that depends on
/// the next word, which has not arrived.
fn period_continues(word: &str, following: &str) -> Option<bool> {
    let is = |list: &[&str]| list.iter().any(|w| w.eq_ignore_ascii_case(word));
    if is(NEVER_LAST) || is_initials(word) {
        Some(true)
    } else if is(LAST_UNLESS_LOWERCASE_FOLLOWS) {
        Some(next_word_start(following)?.is_lowercase())
    } else if LAST_UNLESS_NUMBER_FOLLOWS.contains(&word) {
        Some(next_word_start(following)?.is_ascii_digit())
    } else {
        Some(false)
    }
}

/// "J", "J.R.R", "U.S": single capitals between dots. Not "I", which ends many sentences.
fn is_initials(word: &str) -> bool {
    word != "I"
        && word.split('.').all(|part| {
            let mut chars = part.chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase())
        })
}

fn word_before(text: &str) -> &str {
    text.rsplit(char::is_whitespace).next().unwrap_or_default().trim_start_matches(OPENERS)
}

/// The first character of the next word, or the hard break before it.
fn next_word_start(text: &str) -> Option<char> {
    text.chars().find(|&c| c == HARD_BREAK || !(c.is_whitespace() || OPENERS.contains(&c)))
}

/// A sentence as it is spoken: spaces collapsed, none before punctuation (where a dropped URL
/// or code span left one); `None` if nothing in it can be spoken.
fn spoken(raw: &str) -> Option<String> {
    let mut sentence = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        let glued = word.starts_with(['.', ',', ';', ':', '!', '?', '…', ')', ']']);
        if !sentence.is_empty() && !glued {
            sentence.push(' ');
        }
        sentence.push_str(word);
    }
    sentence.chars().any(char::is_alphanumeric).then_some(sentence)
}

// The script of the letters.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Devanagari,
    HanOrKana,
    Hangul,
    Cyrillic,
    Arabic,
    Greek,
}

/// In the order of the discriminants, so that `script as usize` indexes it.
const SCRIPTS: [Script; 7] = [
    Script::Latin,
    Script::Devanagari,
    Script::HanOrKana,
    Script::Hangul,
    Script::Cyrillic,
    Script::Arabic,
    Script::Greek,
];

fn script_of(c: char) -> Option<Script> {
    Some(match c as u32 {
        0x0900..=0x097F | 0xA8E0..=0xA8FF => Script::Devanagari,
        // Kana, then Han: counted together, so that Japanese mixing both is one script.
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => Script::HanOrKana,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => Script::HanOrKana,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        0x0400..=0x052F => Script::Cyrillic,
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF => Script::Arabic,
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
        0x00C0..=0x024F | 0x1E00..=0x1EFF if c.is_alphabetic() => Script::Latin,
        _ if c.is_ascii_alphabetic() => Script::Latin,
        _ => return None,
    })
}

/// Hiragana, katakana (with the long vowel mark) and halfwidth katakana: only Japanese uses them.
fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3041..=0x3096 | 0x30A1..=0x30FA | 0x30FC | 0x31F0..=0x31FF | 0xFF66..=0xFF9D)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_sentences(markdown: &str, expected: &[&str]) {
        assert_eq!(sentences(markdown), expected, "sentences of {markdown:?}");
    }

    #[test]
    fn english_paragraphs_are_cut_after_each_stop_and_at_each_paragraph_end() {
        assert_sentences(
            "Hello there. How are you today? I am fine!\n\nA paragraph without a stop\n\nThird one.",
            &["Hello there.", "How are you today?", "I am fine!", "A paragraph without a stop", "Third one."],
        );
    }

    #[test]
    fn lines_of_one_paragraph_are_read_as_one_text() {
        assert_sentences("This sentence\nwraps over lines. Next one", &["This sentence wraps over lines.", "Next one"]);
    }

    #[test]
    fn windows_line_ends_end_lines_and_paragraphs_too() {
        assert_sentences("First line\r\n\r\nSecond line\r\n- item\r\n", &["First line", "Second line", "item"]);
    }

    #[test]
    fn closing_quotes_and_brackets_stay_with_their_sentence() {
        assert_sentences(
            "She said \"Go!\" Then she left. (It was late.) Really?!",
            &["She said \"Go!\"", "Then she left.", "(It was late.)", "Really?!"],
        );
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        assert_sentences(
            "Mr. Smith met Dr. Jones at St. Mary's. They spoke of art, e.g. Prof. Lee's work, etc. and more. \
             It was fun, etc. Then they left. See No. 5 and vote No. Apples vs. pears cost approx. 3 dollars.",
            &[
                "Mr. Smith met Dr. Jones at St. Mary's.",
                "They spoke of art, e.g. Prof. Lee's work, etc. and more.",
                "It was fun, etc.",
                "Then they left.",
                "See No. 5 and vote No.",
                "Apples vs. pears cost approx. 3 dollars.",
            ],
        );
    }

    #[test]
    fn decimals_and_versions_do_not_end_sentences() {
        assert_sentences(
            "Pi is 3.14 roughly. Update to v1.2.3 now. It costs $4.50. Open example.com today.",
            &["Pi is 3.14 roughly.", "Update to v1.2.3 now.", "It costs $4.50.", "Open example.com today."],
        );
    }

    #[test]
    fn initials_do_not_end_sentences_but_i_does() {
        assert_sentences(
            "J. R. R. Tolkien wrote it. So did I. J.R.R. Tolkien again.",
            &["J. R. R. Tolkien wrote it.", "So did I.", "J.R.R. Tolkien again."],
        );
    }

    #[test]
    fn an_ellipsis_ends_a_sentence_only_before_a_new_one() {
        assert_sentences(
            "Well... maybe not. I waited… Then it came. It ended...",
            &["Well... maybe not.", "I waited…", "Then it came.", "It ended..."],
        );
    }

    #[test]
    fn each_list_item_is_a_sentence() {
        assert_sentences(
            "Steps:\n- Open the app\n- Pick a model\n* Start chatting.\n1. First\n2) Second\n10. Tenth",
            &["Steps:", "Open the app", "Pick a model", "Start chatting.", "First", "Second", "Tenth"],
        );
    }

    #[test]
    fn nested_list_items_indented_by_four_are_read_not_taken_for_code() {
        assert_sentences(
            "*   **Speed:** fast\n    *   a nested item\n    *   another one\n\nAfter the list.",
            &["Speed: fast", "a nested item", "another one", "After the list."],
        );
    }

    #[test]
    fn a_list_item_goes_on_over_its_continuation_lines() {
        assert_sentences("- An item that\n  wraps here\n- Next", &["An item that wraps here", "Next"]);
    }

    #[test]
    fn numbers_that_start_a_line_are_not_list_markers() {
        assert_sentences(
            "1990 was a year. 3.5 million people came.",
            &["1990 was a year.", "3.5 million people came."],
        );
    }

    #[test]
    fn headings_are_sentences_without_their_marks() {
        assert_sentences(
            "# Title\nSome text\n\n### Details\nMore.\n\nUnderlined\n==========\nBody.\n#hashtag stays.",
            &["Title", "Some text", "Details", "More.", "Underlined", "Body.", "#hashtag stays."],
        );
    }

    #[test]
    fn rules_separate_sentences_and_are_not_read() {
        assert_sentences("Above\n\n---\nBelow\n***\nEnd", &["Above", "Below", "End"]);
    }

    #[test]
    fn fenced_code_is_not_read() {
        assert_sentences(
            "Run this:\n```bash\ncargo build. Now run it.\n```\nThen test.\n~~~\nx = 1.\n~~~\nDone.",
            &["Run this:", "Then test.", "Done."],
        );
    }

    #[test]
    fn a_fence_never_closed_hides_the_rest() {
        assert_sentences("Look:\n```\nnever closed. Still code.", &["Look:"]);
    }

    #[test]
    fn a_longer_fence_is_not_closed_by_a_shorter_one() {
        assert_sentences("````md\n```\nInside.\n````\nOutside.", &["Outside."]);
    }

    #[test]
    fn indented_code_is_not_read() {
        assert_sentences(
            "Example:\n\n    let x = 1;\n    print(x). Yes.\n\nThat is all.",
            &["Example:", "That is all."],
        );
    }

    #[test]
    fn tables_are_not_read() {
        assert_sentences(
            "Here is a table:\n\n| Name | Age |\n|------|----:|\n| Ann. Lee | 30 |\n| Bob | 41 |\n\nThat's it.",
            &["Here is a table:", "That's it."],
        );
    }

    #[test]
    fn a_table_ends_at_a_line_without_pipes() {
        assert_sentences("| a | b |\n| - | - |\n| 1 | 2 |\nNot a row.", &["Not a row."]);
    }

    #[test]
    fn pipes_without_a_delimiter_row_are_read_as_prose() {
        assert_sentences("| not a table\nJust text. A | B", &["not a table Just text.", "A B"]);
    }

    #[test]
    fn links_are_read_as_their_text() {
        assert_sentences(
            "Read [the guide](https://example.com/guide_(v2)) first. See [1].",
            &["Read the guide first.", "See 1."],
        );
    }

    #[test]
    fn bare_urls_are_not_read() {
        assert_sentences(
            "Details are at https://example.com/docs?a=1. Or see www.example.org for more. \
             Autolinks <https://x.org> too. Words like what and http stay.",
            &["Details are at.", "Or see for more.", "Autolinks too.", "Words like what and http stay."],
        );
    }

    #[test]
    fn images_are_not_read() {
        assert_sentences("![A cat. Asleep](cat.png)\nCats sleep a lot! ![x](y) Yes.", &["Cats sleep a lot!", "Yes."]);
    }

    #[test]
    fn emphasis_and_html_tags_are_stripped_but_snake_case_is_kept() {
        assert_sentences(
            "This is **bold**, *italic*, __strong__, _under_ and ~~gone~~ with snake_case.<br>Next <b>line</b>. 2 < 3.",
            &["This is bold, italic, strong, under and gone with snake_case.", "Next line.", "2 < 3."],
        );
    }

    #[test]
    fn short_inline_code_is_read_and_long_inline_code_is_not() {
        assert_sentences(
            "Run `cargo build` then `a_very_long_identifier_that_goes_on_and_on_forever()` now. Use `` a`b ``.",
            &["Run cargo build then now.", "Use a`b."],
        );
    }

    #[test]
    fn escaped_markup_is_read_as_the_character() {
        assert_sentences(r"Two \* three is \#six\. Really.", &["Two * three is #six.", "Really."]);
    }

    #[test]
    fn blockquotes_are_read_without_their_marks() {
        assert_sentences(
            "> Quoted line\n> still quoted.\n>> Deeper\nAfter",
            &["Quoted line still quoted.", "Deeper", "After"],
        );
    }

    #[test]
    fn marathi_is_cut_at_the_danda() {
        assert_sentences("मी घरी जातो। तू कुठे आहेस?", &["मी घरी जातो।", "तू कुठे आहेस?"]);
        assert_sentences("एक।दोन॥ तीन", &["एक।", "दोन॥", "तीन"]);
    }

    #[test]
    fn chinese_is_cut_at_full_stops_without_spaces() {
        assert_sentences("今天天气很好。我们去公园吧！", &["今天天气很好。", "我们去公园吧！"]);
        assert_sentences("他说：「好。」然后走了？", &["他说：「好。」", "然后走了？"]);
    }

    #[test]
    fn japanese_is_cut_at_full_stops_without_spaces() {
        assert_sentences("こんにちは。元気ですか？", &["こんにちは。", "元気ですか？"]);
    }

    #[test]
    fn mixed_scripts_are_cut_by_each_one_s_rules() {
        assert_sentences(
            "Hello! 你好。नमस्ते। Done. ΟΚ; Привет.",
            &["Hello!", "你好。", "नमस्ते।", "Done.", "ΟΚ; Привет."],
        );
    }

    #[test]
    fn a_run_on_sentence_is_cut_at_a_comma_past_its_middle() {
        let clause = "one two three four five six seven eight nine ten, ";
        // A clause is 50 characters: the last comma within 300 closes the sixth.
        let (first, rest) = (clause.repeat(6), clause.repeat(4));
        assert_sentences(&clause.repeat(10), &[first.trim_end(), rest.trim_end()]);
    }

    #[test]
    fn a_run_on_sentence_without_commas_is_cut_at_a_space() {
        let text = "word ".repeat(70);
        let first = "word ".repeat(60);
        let rest = "word ".repeat(10);
        assert_sentences(&text, &[first.trim_end(), rest.trim_end()]);
    }

    #[test]
    fn nothing_to_speak_gives_no_sentences() {
        assert_sentences("", &[]);
        assert_sentences("```\ncode\n```\n\n---\n\n| a |\n|---|\n", &[]);
        assert_sentences("* * *\n- \n...", &[]);
    }

    #[test]
    fn a_sentence_is_given_out_as_soon_as_it_is_complete() {
        let mut splitter = SentenceSplitter::new();
        assert_eq!(splitter.push("Hello there. How"), ["Hello there."]);
        assert_eq!(splitter.push(" are you?"), Vec::<String>::new(), "\"?\" may be followed by a closing quote");
        assert_eq!(splitter.push(" Fine"), ["How are you?"]);
        assert_eq!(splitter.finish(), ["Fine"]);
    }

    #[test]
    fn an_ending_that_may_still_change_waits_for_what_follows() {
        let mut splitter = SentenceSplitter::new();
        assert!(splitter.push("Pi is 3.").is_empty(), "the \".\" may be a decimal point");
        assert!(splitter.push("14 and I saw Dr.").is_empty(), "\"Dr.\" comes before a name");
        assert!(splitter.push(" Who, etc.").is_empty(), "\"etc.\" depends on the next word");
        assert!(splitter.push(" ").is_empty(), "the next word has not arrived");
        assert_eq!(splitter.push("Then"), ["Pi is 3.14 and I saw Dr. Who, etc."]);
    }

    #[test]
    fn a_code_fence_holds_what_follows_until_it_closes() {
        let mut splitter = SentenceSplitter::new();
        assert_eq!(splitter.push("Look:\n```\ncode. more. "), ["Look:"]);
        assert!(splitter.push("\nstill code. ").is_empty());
        assert_eq!(splitter.push("\n```\nAfter. Bye"), ["After."]);
        assert_eq!(splitter.finish(), ["Bye"]);
    }

    #[test]
    fn a_splitter_is_ready_for_the_next_reply_after_finishing() {
        let mut splitter = SentenceSplitter::new();
        splitter.push("```\nunclosed. ");
        assert!(splitter.finish().is_empty());
        assert_eq!(splitter.push("New reply. "), ["New reply."], "the last reply's open fence must not hide this one");
    }

    /// Every text the tests above speak, and a few more, for the streaming check.
    const TEXTS: &[&str] = &[
        "Hello there. How are you today? I am fine!\n\nA paragraph without a stop\n\nThird one.",
        "She said \"Go!\" Then she left. (It was late.) Really?!",
        "Mr. Smith met Dr. Jones at St. Mary's. They spoke of art, e.g. Prof. Lee's work, etc. and more. \
         It was fun, etc. Then they left. See No. 5 and vote No. Apples vs. pears cost approx. 3 dollars.",
        "Pi is 3.14 roughly. Update to v1.2.3 now. It costs $4.50. Open example.com today.",
        "J. R. R. Tolkien wrote it. So did I. J.R.R. Tolkien again.",
        "Well... maybe not. I waited… Then it came. It ended...",
        "Steps:\n- Open the app\n- Pick a model\n* Start chatting.\n1. First\n2) Second\n10. Tenth",
        "*   **Speed:** fast\n    *   a nested item\n    *   another one\n\nAfter the list.",
        "1990 was a year. 3.5 million people came.",
        "# Title\nSome text\n\n### Details\nMore.\n\nUnderlined\n==========\nBody.\n#hashtag stays.",
        "Above\n\n---\nBelow\n***\nEnd",
        "Run this:\n```bash\ncargo build. Now run it.\n```\nThen test.\n~~~\nx = 1.\n~~~\nDone.",
        "Look:\n```\nnever closed. Still code.",
        "````md\n```\nInside.\n````\nOutside.",
        "Example:\n\n    let x = 1;\n    print(x). Yes.\n\nThat is all.",
        "Here is a table:\n\n| Name | Age |\n|------|----:|\n| Ann. Lee | 30 |\n| Bob | 41 |\n\nThat's it.",
        "| a | b |\n| - | - |\n| 1 | 2 |\nNot a row.",
        "| not a table\nJust text. A | B",
        "Read [the guide](https://example.com/guide_(v2)) first. See [1].",
        "Details are at https://example.com/docs?a=1. Or see www.example.org for more. \
         Autolinks <https://x.org> too. Words like what and http stay.",
        "![A cat. Asleep](cat.png)\nCats sleep a lot! ![x](y) Yes.",
        "This is **bold**, *italic*, __strong__, _under_ and ~~gone~~ with snake_case.<br>Next <b>line</b>. 2 < 3.",
        "Run `cargo build` then `a_very_long_identifier_that_goes_on_and_on_forever()` now. Use `` a`b ``.",
        r"Two \* three is \#six\. Really.",
        "> Quoted line\n> still quoted.\n>> Deeper\nAfter",
        "मी घरी जातो। तू कुठे आहेस?",
        "एक।दोन॥ तीन",
        "今天天气很好。我们去公园吧！",
        "他说：「好。」然后走了？",
        "こんにちは。元気ですか？",
        "Hello! 你好。नमस्ते। Done. ΟΚ; Привет.",
        "* * *\n- \n...",
        "Trailing spaces end   \nhere.\r\nWindows lines too.\r\n\r\nDone",
    ];

    /// xorshift64: deterministic piece sizes without a dependency.
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn streamed(pieces: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut splitter = SentenceSplitter::new();
        let mut spoken: Vec<String> = pieces.into_iter().flat_map(|piece| splitter.push(&piece)).collect();
        spoken.extend(splitter.finish());
        spoken
    }

    fn random_pieces(text: &str, seed: u64) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut state = seed;
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let len = 1 + (next_random(&mut state) % 9) as usize;
            let end = (at + len).min(chars.len());
            pieces.push(chars[at..end].iter().collect());
            at = end;
        }
        pieces
    }

    #[test]
    fn streaming_gives_the_same_sentences_as_the_whole_text() {
        let long = "one two three four five six seven eight nine ten, ".repeat(10) + &"word ".repeat(70);
        for text in TEXTS.iter().copied().chain([long.as_str()]) {
            let whole = sentences(text);
            assert!(!whole.is_empty() || text.starts_with('*'), "{text:?} should have something to speak");
            let by_char = streamed(text.chars().map(String::from));
            assert_eq!(by_char, whole, "{text:?} pushed a character at a time");
            for seed in 1..=20_u64 {
                let pieces = random_pieces(text, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                assert_eq!(streamed(pieces.clone()), whole, "{text:?} pushed as {pieces:?}");
            }
        }
    }

    /// Pieces of Markdown where a decision depends on what follows, to be strung together at random.
    const TRICKY: &[&str] = &[
        "Dr.", "etc.", "No.", "J.", "I.", "3.", "14", "v1.2", "...", "…", "?", "!", "\"", ")", "。", "」", "।", "॥",
        " ", " ", " ", "\n", "\n", "\n\n", "    ", "\t", "word", "Word", "the", "你好", "मी", ",", "```", "~~~", "`",
        "|", "|---|", "-", "- ", "* ", "**", "_", "1.", "2)", "#", "## ", "> ", "===", "***", "[", "](", "![", "<b>",
        "<", ">", "http", "https://", "x.org", "www.", "\\",
    ];

    #[test]
    fn streaming_gives_the_same_sentences_as_the_whole_text_for_generated_markdown() {
        let mut state = 0x2545_F491_4F6C_DD1D;
        for _ in 0..400 {
            let tokens = 1 + next_random(&mut state) % 60;
            let text: String =
                (0..tokens).map(|_| TRICKY[(next_random(&mut state) % TRICKY.len() as u64) as usize]).collect();
            let whole = sentences(&text);
            assert_eq!(streamed(text.chars().map(String::from)), whole, "{text:?} pushed a character at a time");
            let pieces = random_pieces(&text, next_random(&mut state));
            assert_eq!(streamed(pieces.clone()), whole, "{text:?} pushed as {pieces:?}");
        }
    }

    #[test]
    fn the_language_hint_follows_the_script_of_most_letters() {
        assert_eq!(language_hint("मी घरी जातो। तू कुठे आहेस?"), Some("hi"));
        assert_eq!(language_hint("今天天气很好。"), Some("zh"));
        assert_eq!(language_hint("東京に行きます。"), Some("ja"), "kana among the Han make it Japanese");
        assert_eq!(language_hint("안녕하세요"), Some("ko"));
        assert_eq!(language_hint("Привет, как дела?"), Some("ru"));
        assert_eq!(language_hint("مرحبا بك"), Some("ar"));
        assert_eq!(language_hint("Καλημέρα"), Some("el"));
    }

    #[test]
    fn latin_letters_or_none_give_no_language_hint() {
        assert_eq!(language_hint("Hello, how are you?"), None);
        assert_eq!(language_hint("Ça va très bien, merci."), None);
        assert_eq!(language_hint("In Chinese, hello is 你好."), None, "two Han letters do not outweigh the English");
        assert_eq!(language_hint("123 !?"), None);
        assert_eq!(language_hint(""), None);
    }
}
