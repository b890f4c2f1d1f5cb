//! Knowledge-base articles, in `articleid_article` (a few thousand at
//! most: read whole). The search index (`crate::search`) is rebuilt from
//! this tree, which stays the truth.

use super::records::{decode, encode};
use super::{Store, StoreError};
use crate::domain::article::{Article, MAX_ARTICLES};
use crate::domain::ArticleId;
use serde::{Deserialize, Serialize};

/// Versions of the article record.
#[derive(Serialize, Deserialize)]
#[serde(tag = "v")]
enum ArticleRecord {
    #[serde(rename = "1")]
    V1(Article),
}

impl From<ArticleRecord> for Article {
    fn from(r: ArticleRecord) -> Self {
        match r {
            ArticleRecord::V1(a) => a,
        }
    }
}

impl Store {
    /// Every article.
    pub fn all_articles(&self) -> Result<Vec<Article>, StoreError> {
        self.trees
            .articleid_article
            .iter()
            .map(|kv| decode::<ArticleRecord, Article>("article", &kv?.1))
            .collect()
    }

    /// One article.
    pub fn article(&self, id: ArticleId) -> Result<Option<Article>, StoreError> {
        self.trees
            .articleid_article
            .get(id.to_bytes())?
            .map(|b| decode::<ArticleRecord, Article>("article", &b))
            .transpose()
    }

    /// Adds or replaces an article; false (nothing written) when a new one
    /// would pass [`MAX_ARTICLES`].
    pub fn put_article(&self, a: &Article) -> Result<bool, StoreError> {
        let _a = self.admin_guard();
        let _w = self.gate.writing();
        self.room()?;
        let tree = &self.trees.articleid_article;
        if !tree.contains_key(a.id.to_bytes())? && tree.len() >= MAX_ARTICLES {
            return Ok(false);
        }
        tree.insert(a.id.to_bytes(), encode(&ArticleRecord::V1(a.clone())))?;
        Ok(true)
    }

    /// Removes an article; false when there was none.
    pub fn delete_article(&self, id: ArticleId) -> Result<bool, StoreError> {
        let _w = self.gate.writing();
        Ok(self
            .trees
            .articleid_article
            .remove(id.to_bytes())?
            .is_some())
    }
}
