//! Ids that arrive as strings in one payload and as numbers in another (Zendesk `detail` ids
//! are strings, its assignment events carry numbers; Intercom conversation ids are strings,
//! assignee ids integers). Both become the same text, so `"5158"` and `5158` name one ticket.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A string-or-integer id, kept as its decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id(pub(crate) String);

impl Id {
    /// `None` for the empty string and for `0`, which both providers use for "nobody".
    pub(crate) fn into_some(self) -> Option<String> {
        let text = self.0.trim();
        (!text.is_empty() && text != "0").then(|| text.to_owned())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = Id;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id as a string or an integer")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Id, E> {
                Ok(Id(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Id, E> {
                Ok(Id(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Id, E> {
                Ok(Id(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Id, E> {
                Ok(Id(value.to_string()))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`: tells an
/// explicit `null` (`Some(None)`: "set to nothing") from a missing key (`None`: "not said").
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn strings_and_numbers_give_the_same_id() {
        let from_string: Id = serde_json::from_str("\"5158\"").unwrap();
        let from_number: Id = serde_json::from_str("5158").unwrap();
        assert_eq!(from_string, from_number);
    }

    #[test]
    fn floats_booleans_and_objects_are_not_ids() {
        for text in ["1.5", "true", "{}", "[]"] {
            assert!(serde_json::from_str::<Id>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn zero_and_blank_mean_nobody() {
        assert_eq!(Id("0".into()).into_some(), None);
        assert_eq!(Id(" ".into()).into_some(), None);
        assert_eq!(Id("42".into()).into_some(), Some("42".into()));
    }
}
