//! REST handlers, one file per resource. Handlers parse, authorize through
//! their extractor, call a service, and map the result; nothing else.
//! Every handler is listed in [`ApiDoc`], served at `/api/openapi.json`.

pub mod articles;
pub mod auth;
pub mod backup;
pub mod canned;
pub mod chats;
pub mod groups;
pub mod health;
pub mod mail;
pub mod reports;
pub mod settings;
pub mod setup;
pub mod shifts;
pub mod staff;
pub mod tickets;
pub mod visitor;
pub mod widget;

use actix_web::{web, HttpResponse, Responder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The OpenAPI document of every REST endpoint.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "livedesk",
        description = "REST API of livedesk, a live chat help desk. Errors are `{\"error\":{\"code\",\"message\"}}`. Staff sign in with POST /api/auth/login, which sets the `livedesk_session` cookie; state-changing requests must send the returned `csrf_token` in the `X-CSRF-Token` header."
    ),
    paths(
        health::healthz,
        health::readyz,
        setup::post_setup,
        setup::post_setup_check,
        auth::post_login,
        auth::post_logout,
        auth::get_me,
        auth::post_password,
        staff::list_staff,
        staff::post_staff,
        staff::get_staff,
        staff::patch_staff,
        staff::post_staff_password,
        staff::post_transfer_ownership,
        groups::list_groups,
        groups::post_group,
        groups::get_group,
        groups::patch_group,
        groups::delete_group,
        visitor::post_chat,
        visitor::options_chats,
        widget::get_widget,
        widget::post_offline_message,
        widget::options_offline_messages,
        widget::post_rating,
        widget::options_rating,
        widget::get_rating_summary,
        widget::list_offline_messages,
        chats::list_chats,
        chats::search_chats,
        chats::get_chat,
        chats::post_bulk_transfer,
        chats::post_bulk_delete,
        settings::get_wrap_up_reasons,
        settings::put_wrap_up_reasons,
        settings::get_settings,
        settings::patch_settings,
        backup::get_backup,
        shifts::list_shifts,
        shifts::post_shift,
        shifts::put_shift,
        shifts::delete_shift,
        shifts::get_hours,
        shifts::put_hours,
        tickets::list_tickets,
        tickets::post_ticket,
        tickets::get_summary,
        tickets::get_ticket,
        tickets::patch_ticket,
        tickets::post_note,
        canned::list_canned,
        canned::post_canned,
        canned::patch_canned,
        canned::delete_canned,
        mail::get_mail,
        mail::post_retry,
        mail::post_transcript,
        mail::options_transcript,
        reports::get_report,
        reports::get_report_chats,
        reports::get_report_csv,
        articles::list_articles,
        articles::post_article,
        articles::get_article,
        articles::patch_article,
        articles::delete_article,
        articles::post_preview,
        articles::get_suggestions,
        articles::get_public_article,
        articles::post_solved,
        articles::options_solved,
    ),
    components(schemas(
        crate::service::chats::Scope,
        crate::service::chats::StateFilter,
        crate::domain::chat_list::SortKey,
    )),
    modifiers(&CommonErrors),
    tags(
        (name = "health", description = "Process and store health"),
        (name = "auth", description = "Setup, sign-in, sessions"),
        (name = "staff", description = "Staff administration"),
        (name = "groups", description = "Group administration"),
        (name = "settings", description = "Desk settings"),
        (name = "chats", description = "Chat lists and transcripts for staff"),
        (name = "visitor", description = "The chat widget's endpoints"),
        (name = "backup", description = "Backups of the running desk"),
        (name = "shifts", description = "Shifts that switch agents on and off"),
        (name = "tickets", description = "Tickets made from chats and offline messages"),
        (name = "mail", description = "Mail to requesters: the outbox"),
        (name = "canned", description = "Canned responses"),
        (name = "reports", description = "Reports: figures per group and agent, their chats, CSV"),
        (name = "articles", description = "The knowledge base: articles, search, suggestions"),
    )
)]
pub struct ApiDoc;

/// The methods the OpenAPI document lists for `path` (a route pattern such
/// as `/api/staff/{id}`), as an `Allow` header value.
pub fn allowed_methods(path: &str) -> Option<String> {
    let doc = serde_json::to_value(ApiDoc::openapi()).ok()?;
    let item = doc.get("paths")?.get(path)?.as_object()?;
    let methods: Vec<String> = ["get", "put", "post", "delete", "patch", "options"]
        .iter()
        .filter(|m| item.contains_key(**m))
        .map(|m| m.to_uppercase())
        .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The error answers every operation of a kind can give, documented in one
/// place rather than on each handler: a bad path id, a body that is not
/// JSON or too large, no session, a refused CSRF token or Origin, and a
/// store that cannot write.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = !path.starts_with("/api/")
                || path.starts_with("/api/visitor/")
                || path == "/api/setup"
                || path == "/api/auth/login";
            let ops = [
                (false, item.get.as_mut()),
                (true, item.post.as_mut()),
                (true, item.put.as_mut()),
                (true, item.patch.as_mut()),
                (true, item.delete.as_mut()),
            ];
            for (writes, op) in ops {
                if let Some(op) = op {
                    add_errors(op, public, writes);
                }
            }
        }
    }
}

fn add_errors(op: &mut Operation, public: bool, writes: bool) {
    let has_path_id = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let mut add = |status: &str, description: &str| {
        let error = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert(error.into());
    };
    if has_path_id {
        add("400", "`invalid_id`: the id in the path is not a UUID");
    }
    if op.request_body.is_some() {
        add(
            "400",
            "`invalid_json` or `invalid_field`: the body does not fit",
        );
        add("413", "`body_too_large`: over `server.max_body_bytes`");
        add(
            "415",
            "`expected_json`: send Content-Type: application/json",
        );
    }
    if !public {
        add("401", "`not_signed_in` or `session_ended`: sign in");
    }
    if writes && !public {
        add("403", "`csrf_rejected` or `forbidden`");
    }
    if writes {
        add("503", "`store_unavailable`: the store could not write");
        add(
            "507",
            "`disk_full`: the disk is below `storage.min_free_mb`",
        );
    }
}

/// What a request field must be, as the server checks it.
enum Rule {
    /// Trimmed text of 1 to `max` characters, no control characters.
    Text(u64),
    /// The same, possibly empty.
    TextOrEmpty(u64),
    /// An email address.
    Email,
    /// An email address or nothing.
    EmailOrEmpty,
    /// A password of 8 to 256 characters.
    Password,
    /// A `#rrggbb` colour.
    Colour,
    /// A language tag.
    Language,
    /// A whole number in a range.
    Range(u64, u64),
    /// A list of 1 to `max` items.
    Items(u64),
    /// A list of 0 to `max` web origins.
    Origins(u64),
    /// A message body of 1 to `max` characters.
    Body(u64),
    /// `H:MM` or `HH:MM`.
    Time,
    /// An IANA time zone name.
    Zone,
    /// A list of 1 to 7 distinct days.
    Days,
    /// A list of 0 to `max` items.
    List(u64),
    /// A date `YYYY-MM-DD`.
    Date,
    /// A canned response's shortcut.
    Shortcut,
    /// An article's tags.
    Tags,
    /// An article's language.
    ArticleLanguage,
}

/// The field rules of `domain::validate` per request schema and field: the
/// document states exactly what the server accepts.
fn rules(config: &crate::config::Config) -> Vec<(&'static str, &'static str, Rule)> {
    use crate::domain::group::{
        MAX_GROUP_ORIGINS as MAX_ORIGINS, QUEUE_TIMEOUT_MAX_SECS, RONA_MAX_SECS, RONA_MIN_SECS,
    };
    use crate::domain::staff::MAX_CONCURRENT_CHATS_LIMIT as MAX_CHATS;
    use Rule::*;
    let rona = || Range(RONA_MIN_SECS.into(), RONA_MAX_SECS.into());
    let queue_timeout = || Range(0, QUEUE_TIMEOUT_MAX_SECS.into());
    vec![
        ("NewStaff", "email", Email),
        ("NewStaff", "display_name", Text(80)),
        ("NewStaff", "password", Password),
        (
            "NewStaff",
            "max_concurrent_chats",
            Range(1, MAX_CHATS.into()),
        ),
        ("StaffPatch", "email", Email),
        ("StaffPatch", "display_name", Text(80)),
        (
            "StaffPatch",
            "max_concurrent_chats",
            Range(1, MAX_CHATS.into()),
        ),
        ("NewGroup", "name", Text(60)),
        ("NewGroup", "rona_timeout_secs", rona()),
        ("NewGroup", "queue_timeout_secs", queue_timeout()),
        ("GroupPatch", "queue_timeout_secs", queue_timeout()),
        ("NewGroup", "allowed_origins", Origins(MAX_ORIGINS as u64)),
        ("GroupPatch", "allowed_origins", Origins(MAX_ORIGINS as u64)),
        ("GroupPatch", "name", Text(60)),
        ("GroupPatch", "rona_timeout_secs", rona()),
        ("WidgetLook", "title", Text(60)),
        ("WidgetLook", "color", Colour),
        ("WidgetLook", "greeting", TextOrEmpty(300)),
        ("WidgetLook", "language", Language),
        ("StartChatRequest", "name", Text(80)),
        ("StartChatRequest", "email", EmailOrEmpty),
        (
            "StartChatRequest",
            "question",
            Body(config.chat.max_message_chars as u64),
        ),
        ("StartChatRequest", "page_url", TextOrEmpty(2000)),
        ("NewOfflineMessage", "name", Text(80)),
        ("NewOfflineMessage", "email", Email),
        (
            "NewOfflineMessage",
            "message",
            Body(crate::domain::offline::MAX_OFFLINE_CHARS as u64),
        ),
        ("NewOfflineMessage", "page_url", TextOrEmpty(2000)),
        ("ShiftRule", "name", Text(60)),
        ("ShiftRule", "start", Time),
        ("ShiftRule", "end", Time),
        ("ShiftRule", "zone", Zone),
        ("ShiftRule", "days", Days),
        ("SetupRequest", "email", Email),
        ("SetupRequest", "display_name", Text(80)),
        ("SetupRequest", "password", Password),
        ("SetPasswordRequest", "password", Password),
        ("ChangePasswordRequest", "new_password", Password),
        ("WrapUpReasons", "reasons", Items(50)),
        ("BulkTransfer", "chat_ids", Items(200)),
        ("BulkDelete", "chat_ids", Items(200)),
        ("GroupHours", "zone", Zone),
        ("NewTicket", "subject", Text(200)),
        ("NewTicket", "requester_name", Text(80)),
        ("NewTicket", "requester_email", EmailOrEmpty),
        ("NewTicket", "note", Body(8000)),
        ("TicketPatch", "subject", Text(200)),
        ("NewNote", "body", Body(8000)),
        ("WrapUpReasons", "creates_ticket", List(50)),
        (
            "GroupHours",
            "hours",
            List(crate::domain::hours::MAX_RULES as u64),
        ),
        (
            "GroupHours",
            "closed",
            List(crate::domain::hours::MAX_CLOSED as u64),
        ),
        ("HoursRule", "days", Days),
        ("HoursRule", "start", Time),
        ("HoursRule", "end", Time),
        ("ClosedDate", "date", Date),
        ("ClosedDate", "note", TextOrEmpty(200)),
        ("NewCanned", "shortcut", Shortcut),
        (
            "NewCanned",
            "body",
            Body(crate::domain::canned::MAX_BODY_CHARS as u64),
        ),
        ("CannedPatch", "shortcut", Shortcut),
        (
            "CannedPatch",
            "body",
            Body(crate::domain::canned::MAX_BODY_CHARS as u64),
        ),
        ("TranscriptRequest", "email", Email),
        (
            "NewArticle",
            "title",
            Text(crate::domain::article::MAX_TITLE_CHARS as u64),
        ),
        (
            "ArticlePatch",
            "title",
            Text(crate::domain::article::MAX_TITLE_CHARS as u64),
        ),
        (
            "NewArticle",
            "body",
            Body(crate::domain::article::MAX_BODY_CHARS as u64),
        ),
        (
            "ArticlePatch",
            "body",
            Body(crate::domain::article::MAX_BODY_CHARS as u64),
        ),
        ("NewArticle", "tags", Tags),
        ("ArticlePatch", "tags", Tags),
        ("NewArticle", "language", ArticleLanguage),
        ("ArticlePatch", "language", ArticleLanguage),
    ]
}

fn apply(field: &mut serde_json::Value, rule: &Rule) {
    use crate::domain::validate::{
        patterns, EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS,
    };
    use serde_json::json;
    let set = |field: &mut serde_json::Value, pairs: serde_json::Value| {
        if let (Some(f), Some(p)) = (field.as_object_mut(), pairs.as_object()) {
            f.extend(p.clone());
        }
    };
    match rule {
        Rule::Text(max) => set(
            field,
            json!({"maxLength": max, "pattern": patterns::text()}),
        ),
        Rule::TextOrEmpty(max) => set(
            field,
            json!({"maxLength": max, "pattern": patterns::text_or_empty()}),
        ),
        Rule::Email => set(
            field,
            json!({"maxLength": EMAIL_MAX_CHARS, "pattern": patterns::email()}),
        ),
        Rule::EmailOrEmpty => set(
            field,
            json!({"maxLength": EMAIL_MAX_CHARS, "pattern": patterns::email_or_empty()}),
        ),
        Rule::Password => set(
            field,
            json!({"minLength": PASSWORD_MIN_CHARS, "maxLength": PASSWORD_MAX_CHARS}),
        ),
        Rule::Colour => set(field, json!({"pattern": patterns::COLOUR})),
        Rule::Language => set(
            field,
            json!({"maxLength": 35, "pattern": patterns::LANGUAGE}),
        ),
        Rule::Range(min, max) => set(field, json!({"minimum": min, "maximum": max})),
        Rule::Time => set(
            field,
            json!({"maxLength": 7, "pattern": crate::domain::shift::TIME_PATTERN}),
        ),
        Rule::Zone => {
            let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
            set(field, json!({"enum": names}));
        }
        Rule::Days => set(field, json!({"minItems": 1, "maxItems": 7})),
        Rule::List(max) => set(field, json!({"maxItems": max})),
        Rule::Date => set(
            field,
            json!({"format": "date", "pattern": crate::domain::hours::DATE_PATTERN}),
        ),
        Rule::Origins(max) => {
            set(field, json!({"maxItems": max}));
            if let Some(items) = field.get_mut("items") {
                set(
                    items,
                    json!({"maxLength": 200, "pattern": patterns::origin()}),
                );
            }
        }
        Rule::Items(max) => {
            set(field, json!({"minItems": 1, "maxItems": max}));
            if let Some(items) = field.get_mut("items") {
                // Reasons are texts; chat ids are UUIDs (a $ref, left alone).
                if items.get("type").is_some() {
                    set(items, json!({"maxLength": 80, "pattern": patterns::text()}));
                }
            }
        }
        Rule::Tags => {
            set(field, json!({"maxItems": crate::domain::article::MAX_TAGS}));
            if let Some(items) = field.get_mut("items") {
                set(
                    items,
                    json!({"pattern": crate::domain::article::TAG_PATTERN}),
                );
            }
        }
        Rule::ArticleLanguage => set(field, json!({"enum": crate::domain::article::LANGUAGES})),
        Rule::Body(max) => set(
            field,
            json!({"maxLength": max, "pattern": patterns::body()}),
        ),
        Rule::Shortcut => set(
            field,
            json!({"maxLength": 33, "pattern": crate::domain::canned::SHORTCUT_PATTERN}),
        ),
    }
}

/// The OpenAPI document of this desk, its field rules stated exactly
/// (some follow the config, such as the longest question).
pub fn document(config: &crate::config::Config) -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    for (schema, field, rule) in rules(config) {
        if let Some(f) =
            doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}"))
        {
            apply(f, &rule);
        }
    }
    use crate::domain::validate::patterns;
    use serde_json::json;
    let set = |field: &mut serde_json::Value, pairs: serde_json::Value| {
        if let (Some(f), Some(p)) = (field.as_object_mut(), pairs.as_object()) {
            f.extend(p.clone());
        }
    };
    // What the rules above cannot say: a ticket names a chat, or a subject,
    // group and requester; the summary's zone is an IANA name; the reasons
    // that make tickets are texts.
    if let Some(t) = doc.pointer_mut("/components/schemas/NewTicket") {
        set(
            t,
            json!({"anyOf": [
                {"required": ["chat"], "properties": {"chat": {"type": "string", "format": "uuid"}}},
                {"required": ["subject", "group", "requester_name"], "properties": {
                    "subject": {"type": "string"}, "group": {"type": "string", "format": "uuid"},
                    "requester_name": {"type": "string"}}}
            ]}),
        );
    }
    if let Some(items) =
        doc.pointer_mut("/components/schemas/WrapUpReasons/properties/creates_ticket/items")
    {
        set(items, json!({"maxLength": 80, "pattern": patterns::text()}));
    }
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    for path in [
        "/paths/~1api~1tickets~1summary/get/parameters",
        "/paths/~1api~1reports/get/parameters",
        "/paths/~1api~1reports~1chats/get/parameters",
        "/paths/~1api~1reports~1csv/get/parameters",
    ] {
        let params = doc.pointer_mut(path).and_then(|p| p.as_array_mut());
        for p in params.into_iter().flatten() {
            if p["name"] == "zone" {
                if let Some(schema) = p.get_mut("schema") {
                    set(schema, json!({"enum": names}));
                }
            }
        }
    }
    doc
}

/// `GET /api/openapi.json`.
pub async fn openapi_json(state: web::Data<crate::state::AppState>) -> impl Responder {
    HttpResponse::Ok().json(document(&state.config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_rule_lands_on_a_field_of_the_document() {
        let config = crate::config::Config::default();
        let doc = document(&config);
        for (schema, field, _) in rules(&config) {
            let f = doc
                .pointer(&format!("/components/schemas/{schema}/properties/{field}"))
                .unwrap_or_else(|| panic!("{schema}.{field} is not in the document"));
            let stated = [
                "pattern",
                "minLength",
                "minimum",
                "minItems",
                "maxItems",
                "enum",
            ]
            .iter()
            .any(|k| f.get(*k).is_some());
            assert!(stated, "{schema}.{field}: {f}");
        }
        for schema in ["NewGroup", "GroupPatch"] {
            let items =
                format!("/components/schemas/{schema}/properties/allowed_origins/items/pattern");
            assert!(
                doc.pointer(&items).is_some(),
                "{schema}: origins have a pattern"
            );
        }
        let question = "/components/schemas/StartChatRequest/properties/question/maxLength";
        assert_eq!(doc.pointer(question), Some(&serde_json::json!(1000)));
    }
}
