use std::{borrow::Cow, fmt};

use aura_shared_kernel::{TenantId, TenantScope, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::chain::{ChainHash, ChainHasher};

/// A stable, dotted action name such as `user.login_failed`. Each domain lists the actions
/// it emits in its own `actions` module (`aura_identity::actions`, `aura_tasks::actions`, …);
/// only the refusal every domain's use cases share is the audit crate's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditAction(Cow<'static, str>);

impl AuditAction {
    pub const AUTH_PERMISSION_DENIED: Self = Self::known("auth.permission_denied");

    pub const fn known(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// An action read back from the store.
    pub fn from_stored(name: String) -> Self {
        Self(Cow::Owned(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(UserId),
    /// A member of the tenant who entered it through a partner's grant (a
    /// consultancy): the membership and the partner tenant it acts for.
    Partner {
        member: UserId,
        partner: TenantId,
    },
    System,
}

impl Actor {
    /// The acting user of a scope (naming the partner they act for, if any), else the
    /// system.
    pub fn of(scope: &TenantScope) -> Self {
        match (scope.user_id(), scope.partner()) {
            (Some(member), Some(partner)) => Actor::Partner { member, partner },
            (Some(user), None) => Actor::User(user),
            (None, _) => Actor::System,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(id) | Actor::Partner { member: id, .. } => Some(*id),
            Actor::System => None,
        }
    }

    /// The partner the user acted for.
    pub fn partner(&self) -> Option<TenantId> {
        match self {
            Actor::Partner { partner, .. } => Some(*partner),
            _ => None,
        }
    }
}

impl From<&TenantScope> for Actor {
    fn from(scope: &TenantScope) -> Self {
        Self::of(scope)
    }
}

/// Where a request came from. Filled by the HTTP edge; empty for CLI and worker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl RequestContext {
    /// Bounds what a client can make us store.
    pub const MAX_USER_AGENT: usize = 512;

    pub fn new(ip: Option<String>, user_agent: Option<String>, request_id: Option<String>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(Self::MAX_USER_AGENT).collect()),
            request_id,
        }
    }
}

/// Before/after values of the changed fields: `{"field": {"before": …, "after": …}}`.
/// Secrets never go in here; use [`Changes::redacted`] to note that one changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes(Map<String, Value>, Map<String, Value>);

/// A record's top-level fields (empty when it does not serialize to an object).
fn fields_of<T: Serialize>(record: &T) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a field if its value changed.
    pub fn field<T: Serialize + PartialEq>(mut self, name: &str, before: &T, after: &T) -> Self {
        if before != after {
            self.0.insert(
                name.to_owned(),
                serde_json::json!({ "before": to_value(before), "after": to_value(after) }),
            );
        }
        self
    }

    /// Records the initial value of a field of a created record.
    pub fn created<T: Serialize>(mut self, name: &str, value: &T) -> Self {
        self.0.insert(
            name.to_owned(),
            serde_json::json!({ "after": to_value(value) }),
        );
        self
    }

    /// Before/after of every top-level field that differs between two versions of a
    /// record (both serialize to JSON objects).
    pub fn between<T: Serialize>(before: &T, after: &T) -> Self {
        let (before, after) = (fields_of(before), fields_of(after));
        after.iter().fold(Self::new(), |changes, (key, new)| {
            changes.field(key, before.get(key).unwrap_or(&Value::Null), new)
        })
    }

    /// The initial value of every set field of a new record (null and empty lists left out).
    pub fn of_new<T: Serialize>(record: &T) -> Self {
        fields_of(record)
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            .fold(Self::new(), |changes, (key, v)| changes.created(&key, &v))
    }

    /// Notes that a secret field changed without recording any value.
    pub fn redacted(mut self, name: &str) -> Self {
        self.0
            .insert(name.to_owned(), serde_json::json!({ "changed": true }));
        self
    }

    /// Keeps that each of `fields` changed but none of their values: for personal data of
    /// people who are not users (a data subject's name and contact), which the audit trail
    /// must not copy.
    pub fn without_values_of(self, fields: &[&str]) -> Self {
        fields.iter().fold(self, |changes, field| {
            if changes.0.contains_key(*field) {
                changes.redacted(field)
            } else {
                changes
            }
        })
    }

    /// Keeps the values of `fields` (names, contacts of people) beside the chain rather
    /// than in it: the chain covers a salted digest of them, so they can be shredded on
    /// erasure or after the retention period and the chain still verifies. The event
    /// itself keeps `{"personal": true}` for each.
    pub fn personal(mut self, fields: &[&str]) -> Self {
        for field in fields {
            if let Some(value) = self.0.remove(*field) {
                self.1.insert((*field).to_owned(), value);
                self.0
                    .insert((*field).to_owned(), serde_json::json!({ "personal": true }));
            }
        }
        self
    }

    /// Both sets of changes (`other` wins where both name a field).
    pub fn merged(mut self, other: Changes) -> Self {
        self.0.extend(other.0);
        self.1.extend(other.1);
        self
    }

    /// Adds context that is not a field change (e.g. a failure reason).
    pub fn note(mut self, name: &str, value: impl Serialize) -> Self {
        self.0.insert(name.to_owned(), to_value(&value));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What the chain holds; the personal values are left out (see [`Changes::personal`]).
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    /// The event's changes and the personal values kept beside the chain.
    pub fn into_parts(self) -> (Value, Map<String, Value>) {
        (Value::Object(self.0), self.1)
    }
}

fn to_value<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// An event that has not yet been written: the write port seals it into the tenant's
/// chain in the transaction that stores the change.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub actor: Actor,
    pub action: AuditAction,
    pub entity_type: Cow<'static, str>,
    pub entity_id: Option<String>,
    pub changes: Value,
    /// Personal values of the changes, kept beside the chain (see [`Changes::personal`]).
    pub personal: Map<String, Value>,
    pub context: RequestContext,
}

impl PendingEvent {
    /// The event of `action` by `actor`: an [`Actor`], or a [`TenantScope`] for its user
    /// (see [`Actor::of`]).
    pub fn new(
        actor: impl Into<Actor>,
        action: AuditAction,
        entity_type: &'static str,
        entity_id: impl ToString,
        changes: Changes,
        context: &RequestContext,
    ) -> Self {
        let (changes, personal) = changes.into_parts();
        Self {
            actor: actor.into(),
            action,
            entity_type: Cow::Borrowed(entity_type),
            entity_id: Some(entity_id.to_string()),
            changes,
            personal,
            context: context.clone(),
        }
    }
}

/// How a link is sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainVersion {
    /// Version 1, before the chain was keyed: plain SHA-256 over a JSON form that
    /// re-serialises the stored values. Still verified, never sealed any more.
    Unkeyed,
    /// Version 2: keyed per tenant, over the exact stored texts, the personal values
    /// replaced by their salted digest.
    Keyed,
}

impl ChainVersion {
    pub fn number(self) -> i16 {
        match self {
            Self::Unkeyed => 1,
            Self::Keyed => 2,
        }
    }

    pub fn from_number(number: i16) -> Option<Self> {
        match number {
            1 => Some(Self::Unkeyed),
            2 => Some(Self::Keyed),
            _ => None,
        }
    }
}

/// An event's personal values (client address, user agent, the values of personal
/// fields), kept beside the chain until they are shredded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonalPart {
    /// The values exactly as stored, `{"ip": …, "user_agent": …, "values": {…}}`: the
    /// digest covers these bytes.
    pub json: String,
    /// The digest's random salt, shredded with the values.
    #[serde(skip)]
    pub salt: Vec<u8>,
}

#[derive(Serialize, Deserialize, Default)]
struct PersonalValues {
    ip: Option<String>,
    user_agent: Option<String>,
    values: Map<String, Value>,
}

/// A sealed, stored event: one link of its tenant's hash chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// Position in the tenant's chain, from 1 without gaps.
    pub seq: i64,
    pub actor: Actor,
    pub action: AuditAction,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// The changes as read: the stored ones with the personal values put back while
    /// they are kept (see [`AuditRecord::read_back`]).
    pub changes: Value,
    /// The changes exactly as stored: what a keyed link covers.
    #[serde(skip)]
    pub stored_changes: String,
    /// As read: stored in clear in an unkeyed link, else from the personal part.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub version: ChainVersion,
    /// The personal values beside the chain; `None` when there were none or they were
    /// shredded.
    #[serde(skip)]
    pub personal: Option<PersonalPart>,
    /// What a keyed link covers of the personal values.
    pub personal_digest: Option<ChainHash>,
    pub prev_hash: ChainHash,
    pub hash: ChainHash,
}

impl AuditRecord {
    /// Fills the read values (`changes`, and a keyed link's `ip` and `user_agent`) from
    /// the stored forms; a store calls it on every record it reads.
    pub fn read_back(mut self) -> Self {
        self.changes = serde_json::from_str(&self.stored_changes).unwrap_or(Value::Null);
        if self.version == ChainVersion::Keyed {
            let personal: PersonalValues = self
                .personal
                .as_ref()
                .and_then(|part| serde_json::from_str(&part.json).ok())
                .unwrap_or_default();
            self.ip = personal.ip;
            self.user_agent = personal.user_agent;
            if let Value::Object(changes) = &mut self.changes {
                changes.extend(personal.values);
            }
        }
        self
    }

    /// Makes the personal values unreadable: they and their salt go, their digest stays
    /// in the chain (a keyed link only; an unkeyed link covers its values in clear).
    /// Whether there was anything to shred.
    pub fn shred(&mut self) -> bool {
        let shreddable = self.version == ChainVersion::Keyed && self.personal.is_some();
        if shreddable {
            self.personal = None;
            *self = self.clone().read_back();
        }
        shreddable
    }

    /// The bytes the chain hash covers: every field but the hash itself, in a fixed
    /// order (struct order), with time in microseconds.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        match self.version {
            ChainVersion::Unkeyed => self.unkeyed_canonical(),
            ChainVersion::Keyed => self.keyed_canonical(),
        }
    }

    /// Version 2: the stored texts as strings, so the bytes hashed are the bytes stored
    /// whatever the store does to JSON (`-0.0`, big numbers, key order, escapes).
    fn keyed_canonical(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: u8,
            id: &'a Uuid,
            tenant_id: &'a TenantId,
            seq: i64,
            actor: &'a Actor,
            action: &'a str,
            entity_type: &'a str,
            entity_id: &'a Option<String>,
            changes: &'a str,
            personal: Option<String>,
            request_id: &'a Option<String>,
            created_at_us: i128,
            prev_hash: String,
        }
        let canonical = Canonical {
            v: 2,
            id: &self.id,
            tenant_id: &self.tenant_id,
            seq: self.seq,
            actor: &self.actor,
            action: self.action.as_str(),
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            changes: &self.stored_changes,
            personal: self.personal_digest.map(|d| d.to_hex()),
            request_id: &self.request_id,
            created_at_us: self.created_at.unix_timestamp_nanos() / 1_000,
            prev_hash: self.prev_hash.to_hex(),
        };
        // Serializing plain data into a Vec cannot fail.
        serde_json::to_vec(&canonical).unwrap_or_default()
    }

    /// Version 1, as it was sealed: the JSON changes re-serialised (keys sorted).
    fn unkeyed_canonical(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: u8,
            id: &'a Uuid,
            tenant_id: &'a TenantId,
            seq: i64,
            actor: &'a Actor,
            action: &'a str,
            entity_type: &'a str,
            entity_id: &'a Option<String>,
            changes: &'a Value,
            ip: &'a Option<String>,
            user_agent: &'a Option<String>,
            request_id: &'a Option<String>,
            created_at_us: i128,
            prev_hash: String,
        }
        let changes = serde_json::from_str(&self.stored_changes).unwrap_or(Value::Null);
        let canonical = Canonical {
            v: 1,
            id: &self.id,
            tenant_id: &self.tenant_id,
            seq: self.seq,
            actor: &self.actor,
            action: self.action.as_str(),
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            changes: &changes,
            ip: &self.ip,
            user_agent: &self.user_agent,
            request_id: &self.request_id,
            created_at_us: self.created_at.unix_timestamp_nanos() / 1_000,
            prev_hash: self.prev_hash.to_hex(),
        };
        serde_json::to_vec(&canonical).unwrap_or_default()
    }
}

/// Seals a pending event as link `seq` of `tenant`'s chain after `prev_hash`: a keyed
/// link, its personal values (client address, user agent, personal fields) kept beside
/// it under a salted digest.
pub fn seal_event(
    event: PendingEvent,
    tenant: TenantId,
    seq: i64,
    created_at: OffsetDateTime,
    prev_hash: ChainHash,
    hasher: &dyn ChainHasher,
) -> AuditRecord {
    let personal = PersonalValues {
        ip: event.context.ip,
        user_agent: event.context.user_agent,
        values: event.personal,
    };
    let (personal, personal_digest) =
        if personal.ip.is_none() && personal.user_agent.is_none() && personal.values.is_empty() {
            (None, None)
        } else {
            let json = serde_json::to_string(&personal).unwrap_or_default();
            let (salt, digest) = hasher.commit(json.as_bytes());
            (Some(PersonalPart { json, salt }), Some(digest))
        };
    let mut record = AuditRecord {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        seq,
        actor: event.actor,
        action: event.action,
        entity_type: event.entity_type.into_owned(),
        entity_id: event.entity_id,
        changes: Value::Null,
        stored_changes: serde_json::to_string(&event.changes).unwrap_or_default(),
        ip: None,
        user_agent: None,
        request_id: event.context.request_id,
        created_at,
        version: ChainVersion::Keyed,
        personal,
        personal_digest,
        prev_hash,
        hash: ChainHash::GENESIS,
    }
    .read_back();
    record.hash = hasher.link(tenant, &record.canonical_bytes());
    record
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn record_changes_name_only_what_differs_or_is_set() {
        let before = json!({"name": "A", "tags": [], "note": null, "kept": 1});
        let after = json!({"name": "B", "tags": ["x"], "note": null, "kept": 1});
        assert_eq!(
            Changes::between(&before, &after).into_value(),
            json!({
                "name": {"before": "A", "after": "B"},
                "tags": {"before": [], "after": ["x"]},
            })
        );
        assert_eq!(
            Changes::of_new(&before).into_value(),
            json!({"name": {"after": "A"}, "kept": {"after": 1}})
        );
        assert!(Changes::between(&"not an object", &"other").is_empty());
    }

    #[test]
    fn personal_fields_are_noted_as_changed_without_their_values() {
        let before = json!({"subject": {"name": "Erika Mustermann"}, "status": "received"});
        let after = json!({"subject": {"name": "Erika Musterfrau"}, "status": "answered"});
        let changes = Changes::between(&before, &after).without_values_of(&["subject", "agent"]);
        assert_eq!(
            changes.into_value(),
            json!({
                "subject": {"changed": true},
                "status": {"before": "received", "after": "answered"},
            })
        );
        let created = Changes::of_new(&after).without_values_of(&["subject"]);
        assert!(!created.into_value().to_string().contains("Erika"));
    }
}
