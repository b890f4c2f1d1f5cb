//! Property tests of the websocket frame parsers: any text, and frames of
//! every known type with any fields, parse or give a clear error frame.

use super::staff::StaffFrame;
use super::visitor::{VisitorFrame, VisitorHello};
use super::{bad_frame, oversize, MAX_FRAME_BYTES};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Parses as every frame kind (staff, visitor, visitor hello); every
/// failure must give a JSON error frame.
fn parse_all(text: &str) -> Result<(), TestCaseError> {
    let errors = [
        serde_json::from_str::<StaffFrame>(text).err(),
        serde_json::from_str::<VisitorFrame>(text).err(),
        serde_json::from_str::<VisitorHello>(text).err(),
    ];
    for e in errors.into_iter().flatten() {
        let frame: Value = serde_json::from_str(&bad_frame(&e, text))
            .map_err(|e| TestCaseError::fail(format!("the error frame is not JSON: {e}")))?;
        prop_assert_eq!(&frame["type"], "error");
        prop_assert!(frame["message"].as_str().is_some_and(|m| !m.is_empty()));
        // What it names is a known request, never arbitrary client text.
        prop_assert!(
            frame["request"].is_null()
                || frame["request"]
                    .as_str()
                    .is_some_and(|r| crate::engine::frames::REQUESTS.contains(&r))
        );
    }
    Ok(())
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::String),
        "[0-9a-f-]{36}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every request type, and two that are none.
fn types() -> Vec<&'static str> {
    let mut t = crate::engine::frames::REQUESTS.to_vec();
    t.extend(["ping", ""]);
    t
}
const FIELDS: &[&str] = &[
    "token",
    "last_seq",
    "chat_id",
    "client_id",
    "body",
    "status",
    "staff_id",
    "whisper",
    "active",
    "text",
    "wrap_up",
    "reason",
    "last_seq",
    "to_group",
    "to_staff",
    "type",
];

proptest! {
    #[test]
    fn any_text_is_a_frame_or_a_clear_error(text in "\\PC{0,200}") {
        parse_all(&text)?;
    }

    #[test]
    fn frames_of_every_type_with_any_fields_parse_or_are_refused_clearly(
        kind in proptest::sample::select(types()),
        fields in proptest::collection::vec((proptest::sample::select(FIELDS), json()), 0..6),
    ) {
        let mut frame = Map::new();
        frame.insert("type".into(), Value::from(kind));
        for (k, v) in fields {
            frame.insert(k.to_string(), v);
        }
        parse_all(&Value::Object(frame).to_string())?;
    }

    #[test]
    fn oversize_frames_are_refused_with_their_size(extra in 1usize..4096) {
        let text = "x".repeat(MAX_FRAME_BYTES + extra);
        let e = oversize(&text).ok_or_else(|| TestCaseError::fail("not refused"))?;
        prop_assert!(e.contains("frame_too_large") && e.contains(&text.len().to_string()));
    }
}

#[test]
fn deeply_nested_frames_are_refused_without_exhausting_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_all(&deep).is_ok());
    let deep = format!(
        "{{\"type\":\"message\",\"body\":{}1{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_000)
    );
    assert!(parse_all(&deep).is_ok());
    assert!(oversize("small").is_none());
}
