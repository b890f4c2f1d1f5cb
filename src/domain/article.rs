//! Knowledge-base articles: what admins write (a title, a Markdown body,
//! tags, a group or every group, a language, draft or published), how a
//! body becomes safe HTML, and who sees which article. Drafts are for
//! admins only; published articles of a group serve that group's visitors
//! and staff, and articles of no group serve everyone.

use super::clock::Millis;
use super::ids::{ArticleId, GroupId, StaffId};
use super::staff::Staff;
use super::validate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest title, characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, characters.
pub const MAX_BODY_CHARS: usize = 50_000;
/// Most tags per article.
pub const MAX_TAGS: usize = 10;
/// Longest tag, characters.
pub const MAX_TAG_CHARS: usize = 32;
/// Most articles in a desk.
pub const MAX_ARTICLES: usize = 5_000;

/// The languages an article may be in: those the search stems (ISO 639-1).
pub const LANGUAGES: [&str; 11] = [
    "da", "de", "en", "es", "fi", "fr", "it", "nl", "no", "pt", "sv",
];

/// One article as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Article {
    /// Its id.
    pub id: ArticleId,
    /// Its title.
    pub title: String,
    /// Its body, Markdown.
    pub body: String,
    /// Tags (lower case), searched with the text.
    pub tags: Vec<String>,
    /// The group whose visitors and staff it serves; none: every group.
    pub group: Option<GroupId>,
    /// Its language (ISO 639-1, one of [`LANGUAGES`]): how it is stemmed.
    pub language: String,
    /// Shown to visitors and agents; a draft only to admins.
    pub published: bool,
    /// Who last changed it.
    pub author: StaffId,
    /// Created (ms).
    pub created_at: Millis,
    /// Last changed (ms).
    pub updated_at: Millis,
}

/// A title: 1 to 200 characters, no control characters (one line).
pub fn title(value: &str) -> Result<String, FieldError> {
    super::validate::text("title", value, 1, MAX_TITLE_CHARS)
}

/// A body: 1 to 50,000 characters of Markdown.
pub fn body(value: &str) -> Result<String, FieldError> {
    super::chat::sent_body("body", value, MAX_BODY_CHARS)
}

/// What a tag may be as sent (the API document says the same).
pub const TAG_PATTERN: &str = "^[A-Za-z0-9_-]{1,32}$";

/// Tags: up to 10, each 1 to 32 of `A-Z a-z 0-9 - _` (lowered),
/// duplicates dropped.
pub fn tags(values: &[String]) -> Result<Vec<String>, FieldError> {
    let err = |message: String| FieldError {
        field: "tags",
        message,
    };
    if values.len() > MAX_TAGS {
        return Err(err(format!("at most {MAX_TAGS} tags")));
    }
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let ok = !v.is_empty()
            && v.len() <= MAX_TAG_CHARS
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(err(format!(
                "{v:?}: a tag is 1 to {MAX_TAG_CHARS} letters a-z, digits, '-' or '_' (like \"refund\")"
            )));
        }
        let t = v.to_lowercase();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// A language code, one of [`LANGUAGES`].
pub fn language(value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_lowercase();
    if LANGUAGES.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(FieldError {
            field: "language",
            message: format!("{value:?} is not one of {}", LANGUAGES.join(", ")),
        })
    }
}

/// The body as HTML safe to put in any page: CommonMark (tables, strike
/// through) rendered, then only harmless tags and attributes kept (no
/// script, style, event handler or `javascript:` link); links open in a
/// new tab without the opener.
pub fn render(markdown: &str) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let mut raw = String::new();
    html::push_html(
        &mut raw,
        Parser::new_ext(
            markdown,
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
        ),
    );
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .clean(&raw)
        .to_string()
}

/// The body as plain text, for search and for excerpts.
pub fn plain(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::new();
    for e in Parser::new(markdown) {
        match e {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first words of the body, at most `max` characters, cut at a word.
pub fn excerpt(markdown: &str, max: usize) -> String {
    let text = plain(markdown);
    if text.chars().count() <= max {
        return text;
    }
    // One more character: a cut just before a space keeps the whole word.
    let cut: String = text.chars().take(max + 1).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches([',', '.', ';', ':']))
}

/// Whether `staff` sees `a`: admins every article; others the published
/// ones of their groups and of no group.
pub fn visible_to_staff(staff: &Staff, a: &Article) -> bool {
    staff.role.is_admin() || (a.published && a.group.is_none_or(|g| staff.in_group(g)))
}

/// Whether a visitor of `group` sees `a`: published, of that group or none.
pub fn visible_to_visitor(group: GroupId, a: &Article) -> bool {
    a.published && a.group.is_none_or(|g| g == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_safe_html() {
        let html = render(
            "# Returns\n\nSend it **back** within [30 days](https://shop.example/returns).\n\n\
             <script>alert(1)</script><img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))",
        );
        assert!(html.contains("<h1>Returns</h1>"), "{html}");
        assert!(html.contains("<strong>back</strong>"));
        assert!(html.contains("href=\"https://shop.example/returns\""));
        assert!(html.contains("target=\"_blank\"") && html.contains("noopener"));
        for bad in ["<script", "onerror", "href=\"javascript:"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    }

    #[test]
    fn fields_are_checked_and_excerpts_cut_at_a_word() {
        assert!(title("Returns\nand refunds").is_err());
        assert_eq!(title("  Returns "), Ok("Returns".into()));
        assert!(title(&"x".repeat(201)).is_err());
        assert_eq!(
            tags(&["Refund".into(), "refund".into(), "kettle-2".into()]),
            Ok(vec!["refund".into(), "kettle-2".into()])
        );
        assert!(tags(&["two words".into()]).is_err());
        assert!(tags(&(0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()).is_err());
        assert_eq!(language("SV"), Ok("sv".into()));
        assert!(language("xx").is_err());
        assert_eq!(
            excerpt("# Title\n\nOne two three, four five.", 20),
            "Title One two three…"
        );
        assert_eq!(plain("*a* `b`\n\n- c"), "a b c");
    }
}
