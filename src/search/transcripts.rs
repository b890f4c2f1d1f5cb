//! Transcript search: one document per ended chat (the visitor's name and
//! email, every message and whisper as staff see them, masked when masking
//! is on), with the chat's group and the staff who handled it for scoping
//! by role. A job keeps it in step with the store (`jobs::transcripts`);
//! the store stays the truth, and the index is rebuilt when missing, of an
//! older version, written under the other masking setting, or not holding
//! as many chats as have ended.

use super::SearchError;
use super::STAMP;
use crate::domain::chat::Chat;
use crate::domain::chat::Message;
use crate::domain::masking::StaffView;
use crate::domain::staff::{Role, Staff};
use crate::domain::ChatId;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

const VERSION: &str = "1";
const ANALYZER: &str = "transcript";

/// A hit: the chat and the words around the match.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The chat.
    pub chat: ChatId,
    /// A fragment of its text around the best match.
    pub snippet: String,
    /// The matched words in `snippet`, as byte ranges.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    group: Field,
    staff: Field,
    text: Field,
}

/// The transcript index.
pub struct TranscriptIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    dir: PathBuf,
    /// Masked when written (the stamp's).
    masked: std::sync::atomic::AtomicBool,
    writing: Mutex<()>,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let group = b.add_text_field("group", STRING);
    let staff = b.add_text_field("staff", STRING);
    let text = b.add_text_field(
        "text",
        TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored(),
    );
    (
        b.build(),
        Fields {
            id,
            group,
            staff,
            text,
        },
    )
}

fn stamp(masked: bool) -> String {
    format!("{VERSION} masked={masked}")
}

impl TranscriptIndex {
    /// Opens the index in `dir`; the flag says it must be (re)built from
    /// the store: new, older, of the other masking, or `ended` chats have
    /// ended but it holds another number.
    pub fn open(
        dir: &Path,
        masked: bool,
        ended: usize,
    ) -> Result<(TranscriptIndex, bool), SearchError> {
        let (schema, fields) = schema();
        let (index, reader, fresh) = super::open_or_create(dir, schema, &stamp(masked))?;
        index.tokenizers().register(
            ANALYZER,
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        );
        let me = TranscriptIndex {
            index,
            reader,
            fields,
            dir: dir.to_path_buf(),
            masked: std::sync::atomic::AtomicBool::new(masked),
            writing: Mutex::new(()),
        };
        let stale = fresh || me.count() != ended as u64;
        Ok((me, stale))
    }

    /// Chats in the index.
    pub fn count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether it was written masked.
    pub fn masked(&self) -> bool {
        self.masked.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn document(&self, chat: &Chat, messages: &[Message], view: StaffView) -> TantivyDocument {
        let f = &self.fields;
        let shown = view.chat(chat.clone());
        let mut d = TantivyDocument::default();
        d.add_text(f.id, chat.id.to_string());
        d.add_text(f.group, chat.group.to_string());
        for g in &chat.past_groups {
            d.add_text(f.group, g.to_string());
        }
        let staff = chat
            .owner
            .iter()
            .chain(chat.conference.iter())
            .chain(chat.handoffs.iter().map(|h| &h.from));
        for s in staff {
            d.add_text(f.staff, s.to_string());
        }
        let mut text = shown.visitor.name.clone();
        if let Some(e) = &shown.visitor.email {
            text.push_str(" · ");
            text.push_str(e);
        }
        for m in messages {
            text.push('\n');
            text.push_str(&view.message(m.clone()).body);
        }
        d.add_text(f.text, text);
        d
    }

    /// Replaces the documents of `put` (chat and messages) and removes
    /// `gone`; `clear` first empties the index (a rebuild).
    pub fn write(
        &self,
        put: &[(Chat, Vec<Message>)],
        gone: &[ChatId],
        view: StaffView,
        masked: bool,
        clear: bool,
    ) -> Result<(), SearchError> {
        let _turn = self
            .writing
            .lock()
            .map_err(|_| SearchError("a write panicked".into()))?;
        let mut w: tantivy::IndexWriter = self.index.writer_with_num_threads(1, 30_000_000)?;
        if clear {
            w.delete_all_documents()?;
        }
        for id in gone.iter().chain(put.iter().map(|(c, _)| &c.id)) {
            w.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
        }
        for (chat, messages) in put {
            w.add_document(self.document(chat, messages, view))?;
        }
        w.commit()?;
        w.wait_merging_threads()?;
        self.reader.reload()?;
        if clear || masked != self.masked() {
            std::fs::write(self.dir.join(STAMP), stamp(masked))?;
            self.masked
                .store(masked, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// The chats `staff` may see whose text has all of `text`'s words (one
    /// edit forgiven in words of five letters or more), best first, from
    /// `offset`; and how many match.
    pub fn search(
        &self,
        text: &str,
        staff: &Staff,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Hit>), SearchError> {
        let f = &self.fields;
        let mut analyzer = self.index.tokenizer_for_field(f.text)?;
        let mut stream = analyzer.token_stream(text);
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while stream.advance() {
            if words.len() >= 16 {
                break;
            }
            let word = stream.token().text.clone();
            let term = Term::from_field_text(f.text, &word);
            let exact: Box<dyn Query> =
                Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
            let one: Box<dyn Query> = if word.chars().count() >= 5 {
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, exact),
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term, 1, true)),
                            0.5,
                        )),
                    ),
                ]))
            } else {
                exact
            };
            words.push((Occur::Must, one));
        }
        if words.is_empty() {
            return Ok((0, Vec::new()));
        }
        let text_query = BooleanQuery::new(words);
        let mut all: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(text_query.clone()))];
        if !staff.role.is_admin() {
            let exact = |field: Field, v: String| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &v),
                    IndexRecordOption::Basic,
                ))
            };
            let mut mine: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, exact(f.staff, staff.id.to_string()))];
            if staff.role == Role::Manager {
                mine.extend(
                    staff
                        .groups
                        .iter()
                        .map(|g| (Occur::Should, exact(f.group, g.to_string()))),
                );
            }
            all.push((Occur::Must, Box::new(BooleanQuery::new(mine))));
        }
        let query = BooleanQuery::new(all);
        let searcher = self.reader.searcher();
        let (top, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(limit.max(1))
                    .and_offset(offset)
                    .order_by_score(),
                Count,
            ),
        )?;
        let snippets = SnippetGenerator::create(&searcher, &text_query, f.text)?;
        let mut hits = Vec::with_capacity(top.len());
        for (_, at) in top {
            let d: TantivyDocument = searcher.doc(at)?;
            let Some(chat) = d
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
            else {
                continue;
            };
            let s = snippets.snippet_from_doc(&d);
            let hit = if s.fragment().is_empty() {
                // Matched only by a word one letter off, which the snippet
                // cannot mark: the start of the chat instead.
                let text = d
                    .get_first(f.text)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                Hit {
                    chat,
                    snippet: text.chars().take(160).collect(),
                    highlights: Vec::new(),
                }
            } else {
                Hit {
                    chat,
                    snippet: s.fragment().to_string(),
                    highlights: s.highlighted().iter().map(|r| (r.start, r.end)).collect(),
                }
            };
            hits.push(hit);
        }
        Ok((total, hits))
    }
}
