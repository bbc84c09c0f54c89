//! JSON parsing whose errors name the field that failed (`detail.created_at: missing field…`),
//! so a 400 tells the sender exactly what we could not read.

use crate::request::Rejection;
use serde::Deserialize;

/// Parse `bytes` as a `T`. `within` names where the bytes came from (`""` for the whole body,
/// `"detail"` for a part read later), and prefixes the path in the reason.
pub(crate) fn parse<'de, T: Deserialize<'de>>(
    provider: &'static str,
    within: &str,
    bytes: &'de [u8],
) -> Result<T, Rejection> {
    // Fast path: tracking the path costs an allocation per key, so pay it only on failure.
    let plain = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let tracked =
        serde_path_to_error::deserialize::<_, T>(&mut deserializer).map(|_| deserializer.end());
    Err(match tracked {
        Err(error) => {
            let path = error.path().to_string();
            let field = match (within, path.as_str()) {
                (within, ".") => within.to_owned(),
                ("", path) => path.to_owned(),
                (within, path) => format!("{within}.{path}"),
            };
            reason(provider, &field, error.inner())
        }
        // The value parsed but something followed it, or the second pass disagreed.
        Ok(_) => reason(provider, within, &plain),
    })
}

fn reason(provider: &'static str, field: &str, error: &serde_json::Error) -> Rejection {
    if field.is_empty() {
        Rejection::malformed(provider, error)
    } else {
        Rejection::malformed(provider, format_args!("`{field}`: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn reason_of(result: Result<Outer, Rejection>) -> String {
        match result {
            Err(Rejection::Malformed { reason, .. }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reasons_name_the_failing_field() {
        let reason = reason_of(parse("p", "", br#"{"inner":{"count":"x"}}"#));
        assert!(
            reason.starts_with("`inner.count`: invalid type"),
            "{reason}"
        );
        let reason = reason_of(parse("p", "detail", br#"{"inner":{}}"#));
        assert!(
            reason.starts_with("`detail.inner`: missing field `count`"),
            "{reason}"
        );
    }

    #[test]
    fn trailing_data_is_refused() {
        let reason = reason_of(parse("p", "", br#"{"inner":{"count":1}} x"#));
        assert!(reason.contains("trailing"), "{reason}");
    }
}
