//! The knowledge base's full-text index (tantivy), a folder beside the
//! store: an article's title, text and tags, stemmed and stripped of stop
//! words by its language, ranked by BM25 (titles weigh most), and found
//! despite a typo (terms within one edit, two for long words, count for
//! less than exact ones). The store is the truth: the index is rebuilt
//! from it when missing, from an older version, unreadable, or not of the
//! same articles (a crash between the two writes).

use crate::domain::article::{self, Article, LANGUAGES};
use crate::domain::{ArticleId, GroupId};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

pub mod transcripts;

/// Bumped when the schema or the analysis changes: the index is rebuilt.
const VERSION: &str = "1";
const STAMP: &str = "livedesk-index";

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
#[error("article search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError(e.to_string())
    }
}

impl From<std::io::Error> for SearchError {
    fn from(e: std::io::Error) -> Self {
        SearchError(e.to_string())
    }
}

/// Which articles a search may return.
pub enum Scope<'a> {
    /// Every article, drafts too (admins).
    All,
    /// Published ones of these groups and of no group.
    Published(&'a [GroupId]),
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    group: Field,
    published: Field,
    tags: Field,
    /// (language, title, body), in [`LANGUAGES`] order.
    text: [(Language, Field, Field); 11],
}

/// The index and the lock its writes take turns on.
pub struct ArticleIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    dir: PathBuf,
    writing: Mutex<()>,
}

fn language(code: &str) -> Language {
    match code {
        "da" => Language::Danish,
        "de" => Language::German,
        "es" => Language::Spanish,
        "fi" => Language::Finnish,
        "fr" => Language::French,
        "it" => Language::Italian,
        "nl" => Language::Dutch,
        "no" => Language::Norwegian,
        "pt" => Language::Portuguese,
        "sv" => Language::Swedish,
        _ => Language::English,
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let group = b.add_text_field("group", STRING);
    let published = b.add_text_field("published", STRING);
    let tags = b.add_text_field("tags", tantivy::schema::TEXT);
    let text = LANGUAGES.map(|code| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&format!("kb_{code}"))
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        (
            language(code),
            b.add_text_field(&format!("title_{code}"), options.clone()),
            b.add_text_field(&format!("body_{code}"), options),
        )
    });
    (
        b.build(),
        Fields {
            id,
            group,
            published,
            tags,
            text,
        },
    )
}

fn register_analyzers(index: &Index) {
    for code in LANGUAGES {
        let lang = language(code);
        let base = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser);
        let analyzer = match StopWordFilter::new(lang) {
            Some(stop) => base.filter(stop).filter(Stemmer::new(lang)).build(),
            None => base.filter(Stemmer::new(lang)).build(),
        };
        index.tokenizers().register(&format!("kb_{code}"), analyzer);
    }
}

/// What the index must hold: a digest of every article's id and change time.
fn fingerprint(articles: &[Article]) -> String {
    let mut keys: Vec<(ArticleId, u64)> = articles.iter().map(|a| (a.id, a.updated_at)).collect();
    keys.sort_unstable();
    let mut h = Sha256::new();
    for (id, at) in keys {
        h.update(id.to_bytes());
        h.update(at.to_be_bytes());
    }
    hex::encode(h.finalize())
}

fn group_key(group: Option<GroupId>) -> String {
    group.map_or_else(|| "none".to_string(), |g| g.to_string())
}

/// The index in `dir` when its stamp file says `stamp` and its schema is
/// `schema`; otherwise the folder emptied and a new index made (`true`:
/// it must be filled from the store). Analyzers are the caller's to
/// register before the first search or write.
fn open_or_create(
    dir: &Path,
    schema: Schema,
    stamp: &str,
) -> Result<(Index, IndexReader, bool), SearchError> {
    let kept = std::fs::read_to_string(dir.join(STAMP)).unwrap_or_default();
    let opened = (kept.trim() == stamp)
        .then(|| {
            tantivy::directory::MmapDirectory::open(dir)
                .ok()
                .and_then(|d| Index::open(d).ok())
        })
        .flatten()
        .filter(|i| i.schema() == schema);
    let (index, fresh) = match opened {
        Some(i) => (i, false),
        None => {
            if dir.exists() {
                std::fs::remove_dir_all(dir)?;
            }
            std::fs::create_dir_all(dir)?;
            let d = tantivy::directory::MmapDirectory::open(dir)
                .map_err(|e| SearchError(e.to_string()))?;
            (Index::create(d, schema, Default::default())?, true)
        }
    };
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    Ok((index, reader, fresh))
}

impl ArticleIndex {
    /// Opens the index in `dir`, rebuilt from `articles` unless it holds
    /// exactly them in this version.
    pub fn open(dir: &Path, articles: &[Article]) -> Result<ArticleIndex, SearchError> {
        let want = format!("{VERSION} {}", fingerprint(articles));
        let (schema, fields) = schema();
        let (index, reader, fresh) = open_or_create(dir, schema, &want)?;
        register_analyzers(&index);
        let me = ArticleIndex {
            index,
            reader,
            fields,
            dir: dir.to_path_buf(),
            writing: Mutex::new(()),
        };
        if fresh {
            me.write(articles, &[], articles)?;
            tracing::info!(
                articles = articles.len(),
                "article search index built from the store"
            );
        }
        Ok(me)
    }

    fn document(&self, a: &Article) -> TantivyDocument {
        let f = &self.fields;
        let mut d = doc!(
            f.id => a.id.to_string(),
            f.group => group_key(a.group),
            f.published => if a.published { "1" } else { "0" },
            f.tags => a.tags.join(" "),
        );
        let i = LANGUAGES.iter().position(|l| *l == a.language).unwrap_or(2);
        let (_, title, body) = f.text[i];
        d.add_text(title, &a.title);
        d.add_text(body, article::plain(&a.body));
        d
    }

    /// Replaces `put` and removes `gone` in one commit; `all` is every
    /// article after it (for the stamp).
    fn write(
        &self,
        put: &[Article],
        gone: &[ArticleId],
        all: &[Article],
    ) -> Result<(), SearchError> {
        let _turn = self
            .writing
            .lock()
            .map_err(|_| SearchError("a write panicked".into()))?;
        let mut w: tantivy::IndexWriter = self.index.writer_with_num_threads(1, 15_000_000)?;
        for id in gone.iter().chain(put.iter().map(|a| &a.id)) {
            w.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
        }
        for a in put {
            w.add_document(self.document(a))?;
        }
        w.commit()?;
        w.wait_merging_threads()?;
        self.reader.reload()?;
        std::fs::write(
            self.dir.join(STAMP),
            format!("{VERSION} {}", fingerprint(all)),
        )?;
        Ok(())
    }

    /// Indexes a new or changed article; `all` is every article now.
    pub fn put(&self, a: &Article, all: &[Article]) -> Result<(), SearchError> {
        self.write(std::slice::from_ref(a), &[], all)
    }

    /// Takes an article out; `all` is every article now.
    pub fn delete(&self, id: ArticleId, all: &[Article]) -> Result<(), SearchError> {
        self.write(&[], &[id], all)
    }

    /// The terms `text` gives in `field` (its analyzer: stems, no stop words).
    fn terms(&self, field: Field, text: &str) -> Vec<Term> {
        let Ok(mut analyzer) = self.index.tokenizer_for_field(field) else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = Term::from_field_text(field, &stream.token().text);
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// The best `limit` articles for `text` in `scope`, best first.
    pub fn search(
        &self,
        text: &str,
        scope: Scope<'_>,
        limit: usize,
    ) -> Result<Vec<ArticleId>, SearchError> {
        let f = &self.fields;
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let weighted = f
            .text
            .iter()
            .flat_map(|(_, title, body)| [(*title, 3.0), (*body, 1.0)])
            .chain([(f.tags, 2.0)]);
        for (field, weight) in weighted {
            for term in self.terms(field, text).into_iter().take(32) {
                let len = term.value().as_str().map_or(0, |s| s.chars().count());
                if len >= 4 {
                    let distance = if len >= 8 { 2 } else { 1 };
                    any.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term.clone(), distance, true)),
                            weight * 0.5,
                        )),
                    ));
                }
                any.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                        weight,
                    )),
                ));
            }
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        let mut all: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(any)))];
        if let Scope::Published(groups) = scope {
            let exact = |field: Field, v: &str| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, v),
                    IndexRecordOption::Basic,
                ))
            };
            all.push((Occur::Must, exact(f.published, "1")));
            let mut of: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, exact(f.group, "none"))];
            of.extend(
                groups
                    .iter()
                    .map(|g| (Occur::Should, exact(f.group, &g.to_string()))),
            );
            all.push((Occur::Must, Box::new(BooleanQuery::new(of))));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(all),
            &TopDocs::with_limit(limit.max(1)).order_by_score(),
        )?;
        let mut ids = Vec::with_capacity(top.len());
        for (_, at) in top {
            let d: TantivyDocument = searcher.doc(at)?;
            if let Some(id) = d
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
            {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StaffId;

    fn art(
        title: &str,
        body: &str,
        lang: &str,
        published: bool,
        group: Option<GroupId>,
    ) -> Article {
        Article {
            id: ArticleId::generate(),
            title: title.into(),
            body: body.into(),
            tags: vec![],
            group,
            language: lang.into(),
            published,
            author: StaffId::generate(),
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn stems_typos_scopes_and_rebuilds() {
        let dir = tempfile::tempdir().expect("dir");
        let g = GroupId::generate();
        let returns = art(
            "Returning a kettle",
            "Send the kettle back within 30 days for a refund.",
            "en",
            true,
            None,
        );
        let shipping = art(
            "Shipping times",
            "Parcels arrive in 2 to 4 days.",
            "en",
            true,
            Some(g),
        );
        let draft = art(
            "Refund policy (draft)",
            "Refunds for returned kettles.",
            "en",
            false,
            None,
        );
        let swedish = art(
            "Returnera en vattenkokare",
            "Skicka tillbaka vattenkokaren inom 30 dagar.",
            "sv",
            true,
            None,
        );
        let all = vec![
            returns.clone(),
            shipping.clone(),
            draft.clone(),
            swedish.clone(),
        ];
        let index = ArticleIndex::open(dir.path(), &all).expect("open");
        let visitor = |q: &str| index.search(q, Scope::Published(&[g]), 5).expect("search");
        // Stemming: "returned kettles" finds "Returning a kettle".
        assert_eq!(
            visitor("How do I get my returned kettles refunded?").first(),
            Some(&returns.id)
        );
        // A typo.
        assert_eq!(visitor("retrun my ketle").first(), Some(&returns.id));
        assert_eq!(visitor("vattenkokaren").first(), Some(&swedish.id));
        assert!(
            !visitor("refund policy draft").contains(&draft.id),
            "no drafts for visitors"
        );
        assert!(
            index
                .search("parcels", Scope::Published(&[]), 5)
                .expect("s")
                .is_empty(),
            "another group's"
        );
        assert!(index
            .search("refund policy", Scope::All, 5)
            .expect("s")
            .contains(&draft.id));
        assert!(visitor("   ").is_empty() && visitor("the and of").is_empty());
        drop(index);
        // Reopened with the same articles: kept; with a changed one: rebuilt.
        let index = ArticleIndex::open(dir.path(), &all).expect("reopen");
        assert_eq!(
            index.search("shipping", Scope::All, 5).expect("s"),
            vec![shipping.id]
        );
        drop(index);
        let mut changed = shipping.clone();
        changed.title = "Delivery times".into();
        changed.updated_at = 2;
        let index = ArticleIndex::open(dir.path(), &[changed.clone()]).expect("rebuilt");
        assert_eq!(
            index.search("delivery", Scope::All, 5).expect("s"),
            vec![changed.id]
        );
        assert!(index.search("kettle", Scope::All, 5).expect("s").is_empty());
        index.delete(changed.id, &[]).expect("delete");
        assert!(index
            .search("delivery", Scope::All, 5)
            .expect("s")
            .is_empty());
    }
}
