//! Ordered JSON output.
//!
//! serde_json's `Map` sorts keys (the crate is built without `preserve_order`), but Graph writes
//! properties in its own schema order and annotations such as `@odata.context` first. `Node`
//! keeps key order as built and borrows stored values, so a page of objects is serialised
//! straight from the store without copying it.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

pub(crate) enum Node<'a> {
    Borrowed(&'a Value),
    Owned(Value),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
    Array(Vec<Node<'a>>),
}

impl<'a> Node<'a> {
    pub(crate) fn null() -> Node<'a> {
        Node::Owned(Value::Null)
    }

    pub(crate) fn string(s: impl Into<String>) -> Node<'a> {
        Node::Owned(Value::String(s.into()))
    }

    pub(crate) fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// Builds a `Node::Object` field by field, in the order the fields are pushed.
#[derive(Default)]
pub(crate) struct ObjectBuilder<'a> {
    fields: Vec<(Cow<'a, str>, Node<'a>)>,
}

impl<'a> ObjectBuilder<'a> {
    pub(crate) fn new() -> Self {
        ObjectBuilder { fields: Vec::new() }
    }

    pub(crate) fn field(mut self, key: impl Into<Cow<'a, str>>, value: Node<'a>) -> Self {
        self.fields.push((key.into(), value));
        self
    }

    pub(crate) fn push(&mut self, key: impl Into<Cow<'a, str>>, value: Node<'a>) {
        self.fields.push((key.into(), value));
    }

    pub(crate) fn build(self) -> Node<'a> {
        Node::Object(self.fields)
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Borrowed(v) => v.serialize(serializer),
            Node::Owned(v) => v.serialize(serializer),
            Node::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order() {
        let v = serde_json::json!({"b": 1});
        let node = ObjectBuilder::new()
            .field("z", Node::null())
            .field("a", Node::Borrowed(&v))
            .build();
        let text = String::from_utf8(node.to_vec().expect("serialises")).expect("utf8");
        assert_eq!(text, r#"{"z":null,"a":{"b":1}}"#);
    }
}
