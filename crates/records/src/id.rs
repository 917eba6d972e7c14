//! Typed ids: an `Id<Activities>` cannot be passed where an `Id<Processors>` is expected.

use std::{cmp::Ordering, fmt, hash::Hash, marker::PhantomData, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The id of a record of kind `K`. On the wire and in the database it is a plain UUID.
pub struct Id<K: ?Sized> {
    uuid: Uuid,
    kind: PhantomData<fn() -> K>,
}

impl<K: ?Sized> Id<K> {
    /// A new, time-ordered (v7) id: index-friendly and sortable by creation.
    pub fn generate() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self {
            uuid,
            kind: PhantomData,
        }
    }

    pub const fn as_uuid(&self) -> Uuid {
        self.uuid
    }
}

// Written out rather than derived: a derive would demand the bounds of `K`, a marker type.
impl<K: ?Sized> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: ?Sized> Copy for Id<K> {}
impl<K: ?Sized> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<K: ?Sized> Eq for Id<K> {}
impl<K: ?Sized> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: ?Sized> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.uuid.cmp(&other.uuid)
    }
}
impl<K: ?Sized> Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}
impl<K: ?Sized> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.uuid, f)
    }
}
impl<K: ?Sized> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.uuid, f)
    }
}
impl<K: ?Sized> FromStr for Id<K> {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self::from_uuid)
    }
}
impl<K: ?Sized> From<Id<K>> for Uuid {
    fn from(id: Id<K>) -> Uuid {
        id.uuid
    }
}
impl<K: ?Sized> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.uuid.serialize(serializer)
    }
}
impl<'de, K: ?Sized> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Uuid::deserialize(deserializer).map(Self::from_uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Apples {}

    #[test]
    fn an_id_is_a_plain_uuid_on_the_wire() {
        let uuid = Uuid::now_v7();
        let id = Id::<Apples>::from_uuid(uuid);
        assert_eq!(
            serde_json::to_value(id).expect("serialises"),
            serde_json::json!(uuid.to_string())
        );
        let back: Id<Apples> = serde_json::from_value(serde_json::json!(uuid)).expect("parses");
        assert_eq!(back, id);
        assert_eq!(id.to_string().parse::<Id<Apples>>().expect("parses"), id);
    }
}
