//! JSON values inside the compiled model (fixed and pattern values, value
//! limits, contained value sets) are stored as their JSON text, so that
//! the model can use non-self-describing formats such as postcard.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

fn to_text<S: Serializer>(value: &serde_json::Value) -> Result<String, S::Error> {
    serde_json::to_string(value).map_err(serde::ser::Error::custom)
}

fn from_text<'de, D: Deserializer<'de>>(text: &str) -> Result<serde_json::Value, D::Error> {
    serde_json::from_str(text).map_err(serde::de::Error::custom)
}

/// `Option<serde_json::Value>` as optional JSON text.
pub(super) mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &Option<serde_json::Value>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(value) => Some(to_text::<S>(value)?).serialize(s),
            None => None::<String>.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<serde_json::Value>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => Ok(Some(from_text::<D>(&text)?)),
            None => Ok(None),
        }
    }
}

/// `Option<Arc<serde_json::Value>>` as optional JSON text.
pub(super) mod arc_option {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &Option<Arc<serde_json::Value>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(value) => Some(to_text::<S>(value)?).serialize(s),
            None => None::<String>.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<serde_json::Value>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => Ok(Some(Arc::new(from_text::<D>(&text)?))),
            None => Ok(None),
        }
    }
}
