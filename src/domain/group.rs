//! Groups: departments with their own queue, members, routing strategy, RONA
//! timeout, queue online/offline switch and widget look.

use super::clock::Millis;
use super::ids::GroupId;
use super::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a group's waiting chats reach agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Rotate fairly over eligible agents.
    RoundRobin,
    /// Fewest open chats first, then longest since their last chat.
    LeastBusy,
    /// Chats wait in the queue and agents pick them.
    Manual,
}

/// Which corner the widget's launcher sits in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Bottom right (default).
    #[default]
    Right,
    /// Bottom left.
    Left,
}

/// How the group's chat widget looks to visitors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetLook {
    /// Title bar text.
    pub title: String,
    /// Accent colour, `#rrggbb`.
    pub color: String,
    /// First line the visitor reads.
    pub greeting: String,
    /// Language of the widget's texts (`en`, `sv`, `nl-BE` ...), or `auto`
    /// for the visitor's browser language.
    pub language: String,
    /// The launcher's corner (default `right`).
    #[serde(default)]
    pub position: Position,
}

impl Default for WidgetLook {
    fn default() -> Self {
        Self {
            title: "Chat with us".into(),
            color: "#1f6feb".into(),
            greeting: "Hello! How can we help?".into(),
            language: "en".into(),
            position: Position::Right,
        }
    }
}

/// WCAG relative luminance of `#rrggbb` (0 black … 1 white).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = hex
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// WCAG contrast ratio of two luminances.
fn contrast(a: f64, b: f64) -> f64 {
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

impl WidgetLook {
    /// The text colour on the accent colour: white or black, whichever
    /// contrasts more (the better of the two is always above 4.5:1).
    pub fn text_color(&self) -> &'static str {
        let l = luminance(&self.color);
        if contrast(l, 1.0) >= contrast(l, 0.0) {
            "#ffffff"
        } else {
            "#000000"
        }
    }

    fn validated(&self) -> Result<Self, FieldError> {
        Ok(Self {
            title: validate::text("widget.title", &self.title, 1, 60)?,
            color: validate::colour("widget.color", &self.color)?,
            greeting: validate::text("widget.greeting", &self.greeting, 0, 300)?,
            language: validate::language(&self.language)?,
            position: self.position,
        })
    }
}

/// Shortest RONA timeout, seconds.
pub const RONA_MIN_SECS: u32 = 5;
/// Longest RONA timeout, seconds.
pub const RONA_MAX_SECS: u32 = 600;

/// A group as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    /// Stable id.
    pub id: GroupId,
    /// Unique name (case-insensitive), e.g. "Support".
    pub name: String,
    /// Routing strategy.
    pub routing: Routing,
    /// Seconds an agent has to accept an offered chat before going `rona`.
    pub rona_timeout_secs: u32,
    /// Whether the queue takes new chats; offline makes the widget offer a message form.
    pub queue_online: bool,
    /// When no member is online (connected, available or busy), a new chat
    /// is not queued for nobody: the widget offers the message form.
    /// Default true; false queues it for whoever comes online.
    #[serde(default = "yes")]
    pub offline_when_nobody_online: bool,
    /// Sneak peek: agents see the visitor's draft as they type (default
    /// true; the widget then says so). False: agents see only that the
    /// visitor is typing.
    #[serde(default = "yes")]
    pub sneak_peek: bool,
    /// Seconds a chat may wait unanswered before it ends as missed and the
    /// widget offers the message form with the question kept; 0 (default):
    /// it waits until answered.
    #[serde(default)]
    pub queue_timeout_secs: u32,
    /// Sites that may embed this group's widget besides the desk's own and
    /// those of `[widget] allowed_origins` (origins like
    /// `https://shop.example.com`).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Widget look.
    pub widget: WidgetLook,
    /// When the group was made.
    pub created_at: Millis,
}

/// What an admin sends to create a group.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Unique name.
    pub name: String,
    /// Routing strategy (default `round_robin`).
    #[serde(default = "default_routing")]
    pub routing: Routing,
    /// RONA timeout in seconds (default from `[chat] default_rona_timeout`).
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub rona_timeout_secs: Option<u32>,
    /// Queue online (default true).
    #[serde(default = "yes")]
    pub queue_online: bool,
    /// Offer the message form instead of queueing when no member is online
    /// (default true).
    #[serde(default = "yes")]
    pub offline_when_nobody_online: bool,
    /// Agents see the visitor's draft as they type (default true).
    #[serde(default = "yes")]
    pub sneak_peek: bool,
    /// Seconds a chat may wait before it ends as missed (0, the default: no limit; at most 86400).
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub queue_timeout_secs: Option<u32>,
    /// Sites that may embed this group's widget besides the desk-wide list (at most 20).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Widget look (defaults shown in the docs).
    #[serde(default)]
    pub widget: Option<WidgetLook>,
}

fn default_routing() -> Routing {
    Routing::RoundRobin
}

fn yes() -> bool {
    true
}

/// A partial edit of a group; absent fields stay.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    /// New name.
    pub name: Option<String>,
    /// New routing strategy.
    pub routing: Option<Routing>,
    /// New RONA timeout, seconds.
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub rona_timeout_secs: Option<u32>,
    /// Queue online or offline.
    pub queue_online: Option<bool>,
    /// Offer the message form instead of queueing when no member is online.
    pub offline_when_nobody_online: Option<bool>,
    /// Agents see the visitor's draft as they type.
    pub sneak_peek: Option<bool>,
    /// Seconds a chat may wait before it ends as missed (0: no limit; at most 86400).
    #[serde(default, deserialize_with = "validate::whole_number")]
    pub queue_timeout_secs: Option<u32>,
    /// Sites that may embed this group's widget besides the desk-wide list (at most 20; replaces the list).
    pub allowed_origins: Option<Vec<String>>,
    /// New widget look (title, color, greeting, language; position optional).
    pub widget: Option<WidgetLook>,
}

impl NewGroup {
    /// Validates and builds the group.
    pub fn build(
        &self,
        id: GroupId,
        default_rona_secs: u32,
        now: Millis,
    ) -> Result<Group, FieldError> {
        Ok(Group {
            id,
            name: validate::text("name", &self.name, 1, 60)?,
            routing: self.routing,
            rona_timeout_secs: validate::range(
                "rona_timeout_secs",
                self.rona_timeout_secs.unwrap_or(default_rona_secs),
                RONA_MIN_SECS,
                RONA_MAX_SECS,
            )?,
            queue_online: self.queue_online,
            offline_when_nobody_online: self.offline_when_nobody_online,
            sneak_peek: self.sneak_peek,
            queue_timeout_secs: queue_timeout(self.queue_timeout_secs.unwrap_or(0))?,
            allowed_origins: origins(&self.allowed_origins)?,
            widget: self.widget.clone().unwrap_or_default().validated()?,
            created_at: now,
        })
    }
}

impl GroupPatch {
    /// Applies the patch, validating each field.
    pub fn apply(&self, group: &mut Group) -> Result<(), FieldError> {
        if let Some(n) = &self.name {
            group.name = validate::text("name", n, 1, 60)?;
        }
        if let Some(r) = self.routing {
            group.routing = r;
        }
        if let Some(t) = self.rona_timeout_secs {
            group.rona_timeout_secs =
                validate::range("rona_timeout_secs", t, RONA_MIN_SECS, RONA_MAX_SECS)?;
        }
        if let Some(q) = self.queue_online {
            group.queue_online = q;
        }
        if let Some(o) = self.offline_when_nobody_online {
            group.offline_when_nobody_online = o;
        }
        if let Some(p) = self.sneak_peek {
            group.sneak_peek = p;
        }
        if let Some(t) = self.queue_timeout_secs {
            group.queue_timeout_secs = queue_timeout(t)?;
        }
        if let Some(o) = &self.allowed_origins {
            group.allowed_origins = origins(o)?;
        }
        if let Some(w) = &self.widget {
            group.widget = w.validated()?;
        }
        Ok(())
    }
}

/// Longest queue timeout, seconds (a day).
pub const QUEUE_TIMEOUT_MAX_SECS: u32 = 86_400;

/// Most origins one group may list.
pub const MAX_GROUP_ORIGINS: usize = 20;

fn origins(list: &[String]) -> Result<Vec<String>, FieldError> {
    if list.len() > MAX_GROUP_ORIGINS {
        return Err(FieldError {
            field: "allowed_origins",
            message: format!("list at most {MAX_GROUP_ORIGINS} sites, got {}", list.len()),
        });
    }
    let mut out: Vec<String> = Vec::new();
    for o in list {
        let o = validate::origin("allowed_origins", o)?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

impl Group {
    /// Whether a page of `origin` may embed this group's widget by the
    /// group's own list (the desk's own origin and `[widget]
    /// allowed_origins` are checked by the caller).
    pub fn lists_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin.trim()))
    }
}

fn queue_timeout(secs: u32) -> Result<u32, FieldError> {
    validate::range("queue_timeout_secs", secs, 0, QUEUE_TIMEOUT_MAX_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_group_gets_defaults_and_checks_fields() {
        let n: NewGroup = serde_json::from_str(r#"{"name":" Support "}"#).expect("json");
        let g = n.build(GroupId::generate(), 30, 0).expect("valid");
        assert_eq!(g.name, "Support");
        assert_eq!(g.routing, Routing::RoundRobin);
        assert_eq!(g.rona_timeout_secs, 30);
        assert_eq!(g.widget, WidgetLook::default());
        let bad: NewGroup =
            serde_json::from_str(r#"{"name":"S","rona_timeout_secs":1}"#).expect("json");
        assert_eq!(
            bad.build(GroupId::generate(), 30, 0).unwrap_err().field,
            "rona_timeout_secs"
        );
    }

    #[test]
    fn text_on_the_accent_is_always_readable() {
        let on = |c: &str| {
            WidgetLook {
                color: c.into(),
                ..WidgetLook::default()
            }
            .text_color()
        };
        assert_eq!(on("#1f6feb"), "#ffffff");
        assert_eq!(on("#ffd33d"), "#000000");
        assert_eq!(on("#000000"), "#ffffff");
        for v in (0..=255u32).step_by(5) {
            let c = format!("#{v:02x}{v:02x}{v:02x}");
            let l = luminance(&c);
            let best = contrast(l, 1.0).max(contrast(l, 0.0));
            assert!(best >= 4.5, "{c}: {best}");
        }
    }

    #[test]
    fn patch_validates_the_widget() {
        let mut g = serde_json::from_str::<NewGroup>(r#"{"name":"S"}"#)
            .expect("json")
            .build(GroupId::generate(), 30, 0)
            .expect("valid");
        let p = GroupPatch {
            widget: Some(WidgetLook {
                color: "blue".into(),
                ..WidgetLook::default()
            }),
            ..Default::default()
        };
        assert_eq!(p.apply(&mut g).unwrap_err().field, "widget.color");
        let p = GroupPatch {
            routing: Some(Routing::Manual),
            queue_online: Some(false),
            ..Default::default()
        };
        p.apply(&mut g).expect("valid");
        assert_eq!((g.routing, g.queue_online), (Routing::Manual, false));
    }
}
