//! The knowledge base: admins write articles; staff read and search the
//! published ones of their groups (admins every one, drafts too); a
//! visitor's question finds the published articles of their group before a
//! chat starts, and "this solved it" is counted in the reports.

use super::auth::AuthContext;
use crate::domain::article::{self, Article};
use crate::domain::{ArticleId, GroupId};
use crate::error::AppError;
use crate::search::{ArticleIndex, Scope};
use crate::state::{blocking, AppState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Longest staff search, characters.
const MAX_QUERY_CHARS: usize = 500;
/// Longest visitor question searched, characters.
const MAX_QUESTION_CHARS: usize = 2000;
/// Suggestions a visitor sees at most.
pub const SUGGESTIONS: usize = 3;

/// A new article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    /// One line, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown, 1 to 50,000 characters.
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    /// Up to 10 tags of letters, digits, `-` or `_`.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub tags: Vec<String>,
    /// The group it serves; none: every group.
    #[serde(default)]
    pub group: Option<GroupId>,
    /// `da`, `de`, `en` (default), `es`, `fi`, `fr`, `it`, `nl`, `no`, `pt` or `sv`.
    #[serde(default)]
    pub language: Option<String>,
    /// Shown to visitors and agents (default false: a draft).
    #[serde(default)]
    pub published: bool,
}

/// A change to an article; a field left out stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    /// New title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// New body.
    #[schema(min_length = 1, max_length = 50000)]
    pub body: Option<String>,
    /// New tags.
    #[schema(max_items = 10)]
    pub tags: Option<Vec<String>>,
    /// New group (`null`: every group).
    #[serde(default, deserialize_with = "crate::domain::ticket::present")]
    #[schema(value_type = Option<String>, format = "uuid", nullable)]
    pub group: Option<Option<GroupId>>,
    /// New language.
    pub language: Option<String>,
    /// Published or draft.
    pub published: Option<bool>,
}

/// One article with its body as safe HTML.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArticleView {
    /// The article (its body Markdown).
    #[serde(flatten)]
    pub article: Article,
    /// The body rendered and cleaned.
    pub html: String,
    /// Its page, to send a visitor (published articles only).
    pub link: String,
}

/// An article in a list or a search result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArticleRow {
    /// Its id.
    pub id: ArticleId,
    /// Its title.
    pub title: String,
    /// The first words of its text.
    pub excerpt: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its group (none: every group).
    pub group: Option<GroupId>,
    /// Its language.
    pub language: String,
    /// Published (false: a draft).
    pub published: bool,
    /// Last changed (ms).
    pub updated_at: u64,
    /// Its page, to send a visitor.
    pub link: String,
}

/// A list of articles.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArticleList {
    /// By title, or best first for a search.
    pub articles: Vec<ArticleRow>,
}

/// Query of `GET /api/articles`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArticleQuery {
    /// Words to search (best first, typos forgiven); none: every article by title.
    #[param(max_length = 500)]
    pub q: Option<String>,
}

/// Query of the visitor's `GET /api/visitor/articles`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuggestQuery {
    /// The group the visitor is about to chat with.
    pub group: GroupId,
    /// Their question.
    #[param(max_length = 2000)]
    pub q: String,
}

/// A visitor's "this solved it".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SolvedRequest {
    /// The group whose widget showed the article.
    pub group: GroupId,
}

/// An article as a visitor reads it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicArticle {
    /// Its id.
    pub id: ArticleId,
    /// Its title.
    pub title: String,
    /// Its body as safe HTML.
    pub html: String,
    /// Its language.
    pub language: String,
    /// Its page.
    pub link: String,
    /// Last changed (ms).
    pub updated_at: u64,
}

/// A visitor's suggestions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Suggestions {
    /// At most three, best first: `id`, `title`, `excerpt`.
    pub articles: Vec<Suggestion>,
}

/// One suggestion.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    /// Its id.
    pub id: ArticleId,
    /// Its title.
    pub title: String,
    /// The first words of its text.
    pub excerpt: String,
}

fn not_found(id: ArticleId) -> AppError {
    AppError::NotFound {
        code: "article_not_found",
        message: format!("no article {id} that you may see"),
    }
}

fn admins_only() -> AppError {
    AppError::Forbidden("only admins write knowledge-base articles".into())
}

/// An article's page: `{public_url}/kb/{id}`.
pub fn link(state: &AppState, id: ArticleId) -> String {
    format!("{}/kb/{id}", state.config.public_url())
}

fn row(state: &AppState, a: &Article) -> ArticleRow {
    ArticleRow {
        id: a.id,
        title: a.title.clone(),
        excerpt: article::excerpt(&a.body, 200),
        tags: a.tags.clone(),
        group: a.group,
        language: a.language.clone(),
        published: a.published,
        updated_at: a.updated_at,
        link: link(state, a.id),
    }
}

fn view(state: &AppState, a: Article) -> ArticleView {
    ArticleView {
        html: article::render(&a.body),
        link: link(state, a.id),
        article: a,
    }
}

/// A search's words, at most `max` characters (400 `invalid_field` past it).
fn query_text(q: &str, max: usize) -> Result<String, AppError> {
    if q.chars().count() > max {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: format!("q: at most {max} characters; shorten the search"),
        });
    }
    Ok(q.to_string())
}

/// Runs a search off the async threads.
async fn search(
    index: &std::sync::Arc<ArticleIndex>,
    q: String,
    groups: Option<Vec<GroupId>>,
    limit: usize,
) -> Result<Vec<ArticleId>, AppError> {
    let index = index.clone();
    blocking(move || {
        let scope = match &groups {
            None => Scope::All,
            Some(g) => Scope::Published(g),
        };
        index.search(&q, scope, limit)
    })
    .await?
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The articles the caller sees, by title; with `q`, the best 20 first.
pub async fn list(
    state: &AppState,
    ctx: &AuthContext,
    q: ArticleQuery,
) -> Result<ArticleList, AppError> {
    let me = ctx.staff.clone();
    let all = state.read(|s| s.all_articles()).await?;
    // The limit counts what was sent, as the document's maxLength does.
    let sent = query_text(q.q.as_deref().unwrap_or_default(), MAX_QUERY_CHARS)?;
    let words = sent.trim();
    let mut seen: Vec<&Article> = all
        .iter()
        .filter(|a| article::visible_to_staff(&me, a))
        .collect();
    if words.is_empty() {
        seen.sort_by_key(|a| a.title.to_lowercase());
    } else {
        let groups = (!me.role.is_admin()).then(|| me.groups.clone());
        let ids = search(&state.articles, words.to_string(), groups, 20).await?;
        seen = ids
            .iter()
            .filter_map(|id| seen.iter().find(|a| a.id == *id).copied())
            .collect();
    }
    Ok(ArticleList {
        articles: seen.into_iter().map(|a| row(state, a)).collect(),
    })
}

/// One article the caller sees.
pub async fn get(
    state: &AppState,
    ctx: &AuthContext,
    id: ArticleId,
) -> Result<ArticleView, AppError> {
    let a = state
        .read(move |s| s.article(id))
        .await?
        .filter(|a| article::visible_to_staff(&ctx.staff, a))
        .ok_or_else(|| not_found(id))?;
    Ok(view(state, a))
}

async fn check_group(state: &AppState, group: Option<GroupId>) -> Result<(), AppError> {
    if let Some(g) = group {
        super::groups::existing(state, g).await?;
    }
    Ok(())
}

/// Stores `a` and indexes it.
async fn stored(state: &AppState, a: Article) -> Result<ArticleView, AppError> {
    let copy = a.clone();
    let (written, all) = state
        .write(move |s| Ok((s.put_article(&copy)?, s.all_articles()?)))
        .await?;
    if !written {
        return Err(AppError::Conflict {
            code: "too_many_articles",
            message: format!(
                "the knowledge base holds at most {} articles; delete one first",
                article::MAX_ARTICLES
            ),
        });
    }
    let (index, copy) = (state.articles.clone(), a.clone());
    blocking(move || index.put(&copy, &all))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(view(state, a))
}

/// Writes a new article (admins).
pub async fn create(
    state: &AppState,
    ctx: &AuthContext,
    n: NewArticle,
) -> Result<ArticleView, AppError> {
    if !ctx.staff.role.is_admin() {
        return Err(admins_only());
    }
    let now = state.now();
    let a = Article {
        id: ArticleId::generate(),
        title: article::title(&n.title)?,
        body: article::body(&n.body)?,
        tags: article::tags(&n.tags)?,
        group: n.group,
        language: article::language(n.language.as_deref().unwrap_or("en"))?,
        published: n.published,
        author: ctx.staff.id,
        created_at: now,
        updated_at: now,
    };
    check_group(state, a.group).await?;
    stored(state, a).await
}

/// Changes an article (admins).
pub async fn update(
    state: &AppState,
    ctx: &AuthContext,
    id: ArticleId,
    p: ArticlePatch,
) -> Result<ArticleView, AppError> {
    if !ctx.staff.role.is_admin() {
        return Err(admins_only());
    }
    let mut a = state
        .read(move |s| s.article(id))
        .await?
        .ok_or_else(|| not_found(id))?;
    if let Some(t) = &p.title {
        a.title = article::title(t)?;
    }
    if let Some(b) = &p.body {
        a.body = article::body(b)?;
    }
    if let Some(t) = &p.tags {
        a.tags = article::tags(t)?;
    }
    if let Some(g) = p.group {
        check_group(state, g).await?;
        a.group = g;
    }
    if let Some(l) = &p.language {
        a.language = article::language(l)?;
    }
    if let Some(on) = p.published {
        a.published = on;
    }
    a.author = ctx.staff.id;
    a.updated_at = state.now().max(a.updated_at + 1);
    stored(state, a).await
}

/// Deletes an article (admins).
pub async fn delete(state: &AppState, ctx: &AuthContext, id: ArticleId) -> Result<(), AppError> {
    if !ctx.staff.role.is_admin() {
        return Err(admins_only());
    }
    let (gone, all) = state
        .write(move |s| Ok((s.delete_article(id)?, s.all_articles()?)))
        .await?;
    if !gone {
        return Err(not_found(id));
    }
    let index = state.articles.clone();
    blocking(move || index.delete(id, &all))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Markdown as the article page will show it (the editor's preview).
pub fn preview(body: &str) -> String {
    article::render(body)
}

/// The published articles of `q.group` (or of no group) that best answer
/// the visitor's question, at most three.
pub async fn suggest(
    state: &AppState,
    q: SuggestQuery,
    foreign: Option<String>,
) -> Result<Suggestions, AppError> {
    let group = q.group;
    let text = query_text(&q.q, MAX_QUESTION_CHARS)?;
    let g = super::groups::existing(state, group).await?;
    super::widget::check_site(&g, foreign.as_deref())?;
    let ids = search(&state.articles, text, Some(vec![group]), SUGGESTIONS).await?;
    // Only the hits are read (a visitor's request, not every article).
    let found = state
        .read(move |s| {
            ids.into_iter()
                .map(|id| s.article(id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(Suggestions {
        articles: found
            .iter()
            .flatten()
            .filter(|a| article::visible_to_visitor(group, a))
            .map(|a| Suggestion {
                id: a.id,
                title: a.title.clone(),
                excerpt: article::excerpt(&a.body, 160),
            })
            .collect(),
    })
}

/// A published article, for a visitor or its page.
pub async fn public(state: &AppState, id: ArticleId) -> Result<PublicArticle, AppError> {
    let a = state
        .read(move |s| s.article(id))
        .await?
        .filter(|a| a.published)
        .ok_or_else(|| not_found(id))?;
    Ok(PublicArticle {
        html: article::render(&a.body),
        link: link(state, a.id),
        id: a.id,
        title: a.title,
        language: a.language,
        updated_at: a.updated_at,
    })
}

/// Counts a question the article solved for a visitor of `group` (no
/// chat starts).
pub async fn solved(
    state: &AppState,
    id: ArticleId,
    r: SolvedRequest,
    foreign: Option<String>,
) -> Result<(), AppError> {
    let group = r.group;
    let g = super::groups::existing(state, group).await?;
    let a = state.read(move |s| s.article(id)).await?;
    super::widget::check_site(&g, foreign.as_deref())?;
    if !a.is_some_and(|a| article::visible_to_visitor(group, &a)) {
        return Err(not_found(id));
    }
    let now = state.now();
    state.write(move |s| s.count_solved(group, now)).await
}
