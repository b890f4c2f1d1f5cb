//! Field rules shared by staff and groups: bounded text, emails, passwords,
//! colours and language tags. Each rule returns a [`FieldError`] that names
//! the field and says what to send instead.

use std::fmt;

/// One rejected field, with a message meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name in the API (`email`, `display_name` ...).
    pub field: &'static str,
    /// What is wrong and what to send instead.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Trims `value` and checks it holds between `min` and `max` Unicode
/// characters with no control characters.
pub fn text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, FieldError> {
    // The limit counts what was sent (as the OpenAPI document's maxLength
    // does); the minimum counts what is left after trimming.
    let sent = value.chars().count();
    if sent > max {
        return Err(err(
            field,
            format!("must have at most {max} characters, got {sent}"),
        ));
    }
    let v = value.trim();
    let n = v.chars().count();
    if n < min {
        return Err(err(field, format!("must have at least {min} character(s)")));
    }
    if v.chars().any(char::is_control) {
        return Err(err(
            field,
            "must not contain control characters such as newlines or tabs",
        ));
    }
    Ok(v.to_string())
}

/// Longest email address, in characters as sent.
pub const EMAIL_MAX_CHARS: usize = 254;

/// Normalizes an email address (trimmed, lower-cased) and checks its shape:
/// one `@`, a non-empty local part and a dotted domain, at most 254
/// characters.
pub fn email(value: &str) -> Result<String, FieldError> {
    let bad = || err("email", "must be an email address like agent@example.com");
    if value.chars().count() > EMAIL_MAX_CHARS {
        return Err(bad());
    }
    let v = value.trim().to_lowercase();
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(v)
}

/// Minimum password length, in characters (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Maximum password length: bounds the work one sign-in can ask for.
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Checks a new password's length; any characters are allowed.
pub fn password(value: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(err(
            "password",
            format!("must have at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(err(
            "password",
            format!("must have at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Checks a `#rrggbb` colour and returns it lower-cased.
pub fn colour(field: &'static str, value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_lowercase();
    let ok = v.len() == 7 && v.starts_with('#') && v[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(v)
    } else {
        Err(err(field, "must be a colour like #1f6feb"))
    }
}

/// Checks a short language tag such as `en`, `sv` or `nl-BE`, or `auto`
/// (the visitor's browser language).
pub fn language(value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("auto") && value.chars().count() <= 35 {
        return Ok("auto".into());
    }
    let mut parts = v.split('-');
    let short = value.chars().count() <= 35;
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok && short {
        Ok(v.to_string())
    } else {
        Err(err(
            "widget.language",
            "must be a language tag like en, sv or nl-BE, or auto",
        ))
    }
}

/// Checks a web origin (`https://shop.example.com`, `http://localhost:3000`):
/// scheme, host and optional port; lower-cased.
pub fn origin(field: &'static str, value: &str) -> Result<String, FieldError> {
    let lower = value.trim().to_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or("");
    let ok = !host.is_empty()
        && value.chars().count() <= 200
        && !host.contains(['/', '?', '#', '@', '*', '\\', '"', '\''])
        && !host.contains(|c: char| c.is_whitespace() || c.is_control())
        && host
            .split(':')
            .nth(1)
            .is_none_or(|p| p.len() <= 5 && p.parse::<u16>().is_ok())
        && host.split(':').count() <= 2
        && !host.starts_with(':');
    if ok {
        Ok(lower)
    } else {
        Err(err(
            field,
            format!("\"{value}\" is not a web origin: write scheme, host and port only, like \"https://shop.example.com\" or \"http://localhost:3000\" (no path, no trailing slash, no wildcard)"),
        ))
    }
}

/// Reads an optional whole number that JSON may write as `5` or `5.0`
/// (both are integers to JSON Schema and to the OpenAPI document); a
/// fraction or a negative number is refused.
pub fn whole_number<'de, D>(d: D) -> Result<Option<u32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let Some(n) = <Option<f64> as serde::Deserialize>::deserialize(d)? else {
        return Ok(None);
    };
    if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
        return Err(D::Error::custom(format!(
            "expected a whole number from 0 to {}, found {n}",
            u32::MAX
        )));
    }
    Ok(Some(n as u32))
}

/// Checks that a number lies in `min..=max`.
pub fn range(field: &'static str, value: u32, min: u32, max: u32) -> Result<u32, FieldError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(err(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ))
    }
}

/// The rules above as the OpenAPI document states them (ECMA-262 regular
/// expressions over the string as sent), so generated clients and
/// schemathesis agree with the server on what is valid.
pub mod patterns {
    /// The characters `text` refuses (Unicode Cc), as a class body.
    const CC: &str = r"\u0000-\u001f\u007f-\u009f";

    /// [`super::text`] with `min` 1: something that is not a space.
    pub fn text() -> String {
        format!(r"^\s*[^\s{CC}](?:[^{CC}]*[^\s{CC}])?\s*$")
    }

    /// [`super::origin`]: http(s), a host without `/?#@*\\"'`, spaces,
    /// control characters or `:`, and an optional port up to 65535.
    pub fn origin() -> String {
        let port = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|0[0-9]{4}|[0-9]{1,4})";
        format!(r#"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#@*\\"'\s:{CC}]+(?::{port})?\s*$"#)
    }

    /// [`super::text`] with `min` 0.
    pub fn text_or_empty() -> String {
        format!(r"^\s*(?:[^\s{CC}](?:[^{CC}]*[^\s{CC}])?)?\s*$")
    }

    /// A message body: like [`text`], with newlines and tabs inside.
    pub fn body() -> String {
        let inside = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f";
        format!(r"^\s*[^\s{CC}](?:[^{inside}]*[^\s{CC}])?\s*$")
    }

    fn email_core() -> String {
        format!(r"[^\s@{CC}]+@[^\s@.{CC}][^\s@{CC}]*\.[^\s@{CC}]*[^\s@.{CC}]")
    }

    /// [`super::email`].
    pub fn email() -> String {
        format!(r"^\s*{}\s*$", email_core())
    }

    /// An email that may also be left empty.
    pub fn email_or_empty() -> String {
        format!(r"^\s*(?:{})?\s*$", email_core())
    }

    /// [`super::colour`].
    pub const COLOUR: &str = r"^\s*#[0-9a-fA-F]{6}\s*$";

    /// [`super::language`].
    pub const LANGUAGE: &str = r"^\s*(?:[Aa][Uu][Tt][Oo]|[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\s*$";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_unicode_characters_and_refuses_control_characters() {
        assert_eq!(text("n", "Åsa", 1, 3).as_deref(), Ok("Åsa"));
        assert_eq!(text("n", "  Åsa  ", 1, 7).as_deref(), Ok("Åsa"), "trimmed");
        assert!(
            text("n", " Åsa ", 1, 3).is_err(),
            "the limit counts what was sent, as the OpenAPI maxLength does"
        );
        assert!(text("n", "Åsaa", 1, 3).is_err());
        assert!(text("n", "   ", 1, 3).is_err());
        assert!(text("n", "a\nb", 1, 9).is_err());
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            email(" Melissa@Gmail.com ").as_deref(),
            Ok("melissa@gmail.com")
        );
        for bad in ["", "a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@.c", "a@c."] {
            assert!(email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_colours_languages_and_ranges() {
        assert!(password("short").is_err());
        assert!(password("long enough").is_ok());
        assert!(password(&"x".repeat(257)).is_err());
        assert_eq!(colour("c", "#1F6FEB").as_deref(), Ok("#1f6feb"));
        assert!(colour("c", "red").is_err());
        assert!(language("nl-BE").is_ok());
        assert_eq!(language(" Auto ").as_deref(), Ok("auto"));
        assert!(language("english please").is_err());
        assert!(range("r", 0, 1, 5).is_err());
        assert_eq!(
            origin("o", " HTTPS://Shop.Example.com:8443 ").as_deref(),
            Ok("https://shop.example.com:8443")
        );
        for bad in [
            "shop.example.com",
            "https://shop.example.com/",
            "https://*.example.com",
            "http://a:70000",
            "http://a:000080",
            "http://:80",
            "https://a b",
        ] {
            assert!(origin("o", bad).is_err(), "{bad}");
        }
        assert_eq!(range("r", 5, 1, 5), Ok(5));
    }
}
