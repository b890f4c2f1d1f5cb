//! The knowledge base: staff list, search and read articles, admins write
//! them; visitors get suggestions for their question, read an article and
//! say it solved their problem; every published article has a page.

use crate::domain::ArticleId;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{visitor_start, Json, StaffAuth};
use crate::http::middleware::foreign_origin;
use crate::service::articles::{
    self, ArticleList, ArticlePatch, ArticleQuery, ArticleView, NewArticle, PublicArticle,
    SolvedRequest, SuggestQuery, Suggestions,
};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn id_of(raw: &str) -> Result<ArticleId, AppError> {
    raw.parse().map_err(|_| AppError::BadRequest {
        code: "invalid_id",
        message: format!("not a valid article id: {raw}"),
    })
}

/// The articles the caller sees (admins: drafts too; others: the published
/// ones of their groups and of no group), by title; with `q`, the 20 that
/// best match, best first.
#[utoipa::path(get, path = "/api/articles", tag = "articles", params(ArticleQuery), responses(
    (status = 200, body = ArticleList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_articles(
    state: web::Data<AppState>,
    who: StaffAuth,
    query: web::Query<ArticleQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(articles::list(&state, &who.0, query.into_inner()).await?))
}

/// Writes an article (admins).
#[utoipa::path(post, path = "/api/articles", tag = "articles", request_body = NewArticle, responses(
    (status = 201, body = ArticleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "Not an admin"),
    (status = 404, body = ErrorBody, description = "`group_not_found`"),
    (status = 409, body = ErrorBody, description = "`too_many_articles`")))]
pub async fn post_article(
    state: web::Data<AppState>,
    who: StaffAuth,
    body: Json<NewArticle>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(articles::create(&state, &who.0, body.into_inner()).await?))
}

/// One article with its body as safe HTML.
#[utoipa::path(get, path = "/api/articles/{id}", tag = "articles",
    params(("id" = String, Path, format = "uuid", description = "Article id")),
    responses((status = 200, body = ArticleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`article_not_found`: none, or not one you may see")))]
pub async fn get_article(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    Ok(HttpResponse::Ok().json(articles::get(&state, &who.0, id).await?))
}

/// Changes an article (admins).
#[utoipa::path(patch, path = "/api/articles/{id}", tag = "articles", request_body = ArticlePatch,
    params(("id" = String, Path, format = "uuid", description = "Article id")),
    responses((status = 200, body = ArticleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 404, body = ErrorBody, description = "`article_not_found` or `group_not_found`")))]
pub async fn patch_article(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<String>,
    body: Json<ArticlePatch>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    Ok(HttpResponse::Ok().json(articles::update(&state, &who.0, id, body.into_inner()).await?))
}

/// Deletes an article (admins).
#[utoipa::path(delete, path = "/api/articles/{id}", tag = "articles",
    params(("id" = String, Path, format = "uuid", description = "Article id")),
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 404, body = ErrorBody, description = "`article_not_found`")))]
pub async fn delete_article(
    state: web::Data<AppState>,
    who: StaffAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    articles::delete(&state, &who.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Markdown to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The body as written, up to 50,000 characters.
    #[schema(max_length = 50000)]
    pub body: String,
}

/// The preview: what the article's page shows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewResponse {
    /// Safe HTML.
    pub html: String,
}

/// Renders Markdown as an article's page would (the editor's preview).
#[utoipa::path(post, path = "/api/articles/preview", tag = "articles", request_body = PreviewRequest, responses(
    (status = 200, body = PreviewResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn post_preview(
    _who: StaffAuth,
    body: Json<PreviewRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner().body;
    if body.chars().count() > crate::domain::article::MAX_BODY_CHARS {
        return Err(AppError::BadRequest {
            code: "invalid_field",
            message: "body: must have at most 50000 characters".into(),
        });
    }
    Ok(HttpResponse::Ok().json(PreviewResponse {
        html: articles::preview(&body),
    }))
}

/// Up to three published articles of the group (or of no group) that best
/// answer the visitor's question, best first; none is a fine answer.
#[utoipa::path(get, path = "/api/visitor/articles", tag = "visitor", params(SuggestQuery), responses(
    (status = 200, body = Suggestions), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
    (status = 404, body = ErrorBody, description = "`group_not_found`")))]
pub async fn get_suggestions(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SuggestQuery>,
) -> Result<HttpResponse, AppError> {
    let foreign = foreign_origin(&req);
    Ok(HttpResponse::Ok().json(articles::suggest(&state, query.into_inner(), foreign).await?))
}

/// A published article for the widget.
#[utoipa::path(get, path = "/api/visitor/articles/{id}", tag = "visitor",
    params(("id" = String, Path, format = "uuid", description = "Article id")),
    responses((status = 200, body = PublicArticle), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`article_not_found`: none, or a draft")))]
pub async fn get_public_article(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    Ok(HttpResponse::Ok().json(articles::public(&state, id).await?))
}

/// The visitor says the article solved their problem: counted for the
/// group's reports ("solved by article"); no chat starts.
#[utoipa::path(post, path = "/api/visitor/articles/{id}/solved", tag = "visitor", request_body = SolvedRequest,
    params(("id" = String, Path, format = "uuid", description = "Article id")),
    responses((status = 204, description = "Counted"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 404, body = ErrorBody, description = "`article_not_found` (or not one of that group's) or `group_not_found`"),
        (status = 429, body = ErrorBody, description = "Too many from this address; see Retry-After")))]
pub async fn post_solved(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<SolvedRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    let foreign = visitor_start(&state, &req)?;
    articles::solved(&state, id, body.into_inner(), foreign).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The CORS preflight of "this solved it" (as for `/api/visitor/chats`).
#[utoipa::path(options, path = "/api/visitor/articles/{id}/solved", tag = "visitor",
    params(("id" = String, Path, format = "uuid", description = "Article id")),
    responses((status = 204, description = "Allowed; see the Access-Control-* headers"),
        (status = 400, body = ErrorBody, description = "`invalid_id`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`")))]
pub async fn options_solved(id: web::Path<String>) -> Result<HttpResponse, AppError> {
    id_of(&id)?;
    Ok(HttpResponse::NoContent()
        .insert_header(("Allow", "POST, OPTIONS"))
        .finish())
}

/// A published article's page (`/kb/{id}`), the link an agent sends: the
/// article alone, styled, nothing of the desk's.
pub async fn article_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&id)?;
    let a = articles::public(&state, id).await?;
    let title = escape(&a.title);
    let page = format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main><article><h1>{title}</h1>{html}</article></main></body></html>",
        lang = a.language,
        html = a.html,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ))
        .body(page))
}

/// Text for HTML: `& < > " '` as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{margin:0;font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;background:#f5f6f8}\
main{max-width:44rem;margin:0 auto;padding:1.5rem 1rem}\
article{background:#fff;border:1px solid #d9dde4;border-radius:8px;padding:1.2rem 1.5rem}\
h1{font-size:1.6rem;margin:.2rem 0 1rem}a{color:#1f5fd1}img{max-width:100%}\
pre{overflow-x:auto;background:#f5f6f8;padding:.6rem}table{border-collapse:collapse}td,th{border:1px solid #d9dde4;padding:.3rem .5rem}";
