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
    System,
}

impl Actor {
    /// The acting user of a scope, else the system.
    pub fn of(scope: &TenantScope) -> Self {
        scope.user_id().map_or(Actor::System, Actor::User)
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(id) => Some(*id),
            Actor::System => None,
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
pub struct Changes(Map<String, Value>);

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

    /// Both sets of changes (`other` wins where both name a field).
    pub fn merged(mut self, other: Changes) -> Self {
        self.0.extend(other.0);
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

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
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
        Self {
            actor: actor.into(),
            action,
            entity_type: Cow::Borrowed(entity_type),
            entity_id: Some(entity_id.to_string()),
            changes: changes.into_value(),
            context: context.clone(),
        }
    }
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
    pub changes: Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub prev_hash: ChainHash,
    pub hash: ChainHash,
}

impl AuditRecord {
    /// The bytes the chain hash covers: every field but the hash itself, in a fixed
    /// order (struct order; JSON object keys sorted), with time in microseconds.
    pub fn canonical_bytes(&self) -> Vec<u8> {
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
        let canonical = Canonical {
            v: 1,
            id: &self.id,
            tenant_id: &self.tenant_id,
            seq: self.seq,
            actor: &self.actor,
            action: self.action.as_str(),
            entity_type: &self.entity_type,
            entity_id: &self.entity_id,
            changes: &self.changes,
            ip: &self.ip,
            user_agent: &self.user_agent,
            request_id: &self.request_id,
            created_at_us: self.created_at.unix_timestamp_nanos() / 1_000,
            prev_hash: self.prev_hash.to_hex(),
        };
        // Serializing plain data into a Vec cannot fail.
        serde_json::to_vec(&canonical).unwrap_or_default()
    }
}

/// Seals a pending event as link `seq` of `tenant`'s chain after `prev_hash`.
pub fn seal_event(
    event: PendingEvent,
    tenant: TenantId,
    seq: i64,
    created_at: OffsetDateTime,
    prev_hash: ChainHash,
    hasher: &dyn ChainHasher,
) -> AuditRecord {
    let mut record = AuditRecord {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        seq,
        actor: event.actor,
        action: event.action,
        entity_type: event.entity_type.into_owned(),
        entity_id: event.entity_id,
        changes: event.changes,
        ip: event.context.ip,
        user_agent: event.context.user_agent,
        request_id: event.context.request_id,
        created_at,
        prev_hash,
        hash: ChainHash::GENESIS,
    };
    record.hash = hasher.link(&record.canonical_bytes());
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
