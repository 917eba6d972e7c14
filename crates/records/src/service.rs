//! The one use-case path of every register: permission, validation into checked fields,
//! the register's cross-record rules, `If-Match` version, change diff and audit event,
//! handed to one store call.

use std::sync::Arc;

use aura_audit::{AuditAction, AuditLog, Changes, PendingEvent, RequestContext, require_audited};
use aura_shared_kernel::{Clock, Permission, TenantScope, ValidationErrors};
use uuid::Uuid;

use crate::{
    error::UseCaseError,
    id::Id,
    list::{Cursor, ListPage, ListQuery, Sort},
    record::{Record, RecordKind},
    store::RecordStore,
};

/// A register's rules that need other records (an owner who is a member of the tenant, a
/// parent processor in the tenant). Checked on create and update, after validation.
#[async_trait::async_trait]
pub trait RecordRules<K: RecordKind>: Send + Sync {
    /// `before` is `None` on create.
    async fn check(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        before: Option<&K::Fields>,
        fields: &K::Fields,
    ) -> Result<(), UseCaseError>;

    /// A new record's fields completed from other records before they are checked (a
    /// breach's empty categories filled from the activities it names). Never called on
    /// an update: an edit is stored as sent. Default: as given.
    async fn complete(
        &self,
        _scope: &TenantScope,
        fields: K::Fields,
    ) -> Result<K::Fields, UseCaseError> {
        Ok(fields)
    }

    /// The derived values a write leaves on the record where a domain rule computes them
    /// from the fields (a request's due date from its receipt, by the legal clock); the
    /// store keeps them with the write. `before` is the stored record on update (after the
    /// action's own rule for [`RecordUseCases::act`]), `None` on create. Default: a new record's [`RecordKind::derived_at_creation`], an updated
    /// record's values as they were.
    async fn derive(
        &self,
        scope: &TenantScope,
        _fields: &K::Fields,
        before: Option<&Record<K>>,
    ) -> Result<K::Derived, UseCaseError> {
        Ok(match before {
            Some(record) => record.derived.clone(),
            None => K::derived_at_creation(scope.user_id()),
        })
    }
}

/// For registers whose records refer to no other record.
pub struct NoRules;

#[async_trait::async_trait]
impl<K: RecordKind> RecordRules<K> for NoRules {
    async fn check(
        &self,
        _: &TenantScope,
        _: Id<K>,
        _: Option<&K::Fields>,
        _: &K::Fields,
    ) -> Result<(), UseCaseError> {
        Ok(())
    }
}

/// Where a change came from when it did not come from the user's own edit, e.g. the AI
/// suggestion a user accepted. Named in the change's audit event (`source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// What kind of thing it came from, e.g. `ai_suggestion`.
    pub kind: &'static str,
    pub id: Uuid,
}

impl Source {
    pub fn noted(source: Option<&Source>, changes: Changes) -> Changes {
        match source {
            Some(source) => changes.note(
                "source",
                serde_json::json!({ "kind": source.kind, "id": source.id }),
            ),
            None => changes,
        }
    }
}

/// The use cases of one register.
pub struct RecordUseCases<K: RecordKind> {
    store: Arc<dyn RecordStore<K>>,
    rules: Arc<dyn RecordRules<K>>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

impl<K: RecordKind> Clone for RecordUseCases<K> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            rules: self.rules.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<K: RecordKind> RecordUseCases<K> {
    pub fn new(
        store: Arc<dyn RecordStore<K>>,
        rules: Arc<dyn RecordRules<K>>,
        audit: Arc<dyn AuditLog>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            rules,
            audit,
            clock,
        }
    }

    /// The store, for a register's own reads (exports, summaries, links).
    pub fn store(&self) -> &dyn RecordStore<K> {
        self.store.as_ref()
    }

    /// The permission, with a refusal written to the audit trail.
    pub async fn require(
        &self,
        scope: &TenantScope,
        permission: Permission,
        ctx: &RequestContext,
    ) -> Result<(), UseCaseError> {
        Ok(require_audited(self.audit.as_ref(), scope, permission, ctx).await?)
    }

    pub async fn create(
        &self,
        scope: &TenantScope,
        fields: K::Fields,
        source: Option<&Source>,
        ctx: &RequestContext,
    ) -> Result<Record<K>, UseCaseError> {
        self.require(scope, K::WRITE, ctx).await?;
        let fields = K::validated(fields)?;
        let fields = K::validated(self.rules.complete(scope, fields).await?)?;
        let id = Id::generate();
        self.rules.check(scope, id, None, &fields).await?;
        let derived = self.rules.derive(scope, &fields, None).await?;
        let tenant = scope.tenant_id();
        let record = Record::first_version(id, tenant, fields, derived, self.clock.now());
        let changes = Changes::of_new(&record.fields).without_values_of(K::PERSONAL_FIELDS);
        let changes = Source::noted(source, changes);
        let event = PendingEvent::new(scope, K::ACTIONS.created, K::ENTITY, id, changes, ctx);
        Ok(self.store.insert(scope, &record, event).await?)
    }

    pub async fn get(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        ctx: &RequestContext,
    ) -> Result<Record<K>, UseCaseError> {
        self.require(scope, K::READ, ctx).await?;
        Ok(self.store.get(scope, id).await?)
    }

    /// Every record of the tenant (a register's export): read permission, a refusal
    /// audited.
    pub async fn all(
        &self,
        scope: &TenantScope,
        ctx: &RequestContext,
    ) -> Result<Vec<Record<K>>, UseCaseError> {
        self.require(scope, K::READ, ctx).await?;
        Ok(self.store.all(scope).await?)
    }

    pub async fn list(
        &self,
        scope: &TenantScope,
        query: &ListQuery<K::Filter>,
        ctx: &RequestContext,
    ) -> Result<ListPage<Record<K>>, UseCaseError> {
        self.require(scope, K::READ, ctx).await?;
        check_sort::<K>(query.sort)?;
        check_cursor(query.after.as_ref(), query.sort)?;
        Ok(self.store.list(scope, query).await?)
    }

    /// Replaces the fields of the record at `expected_version`. An update that changes
    /// nothing stores nothing and answers the record as it is.
    pub async fn update(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        fields: K::Fields,
        expected_version: i32,
        source: Option<&Source>,
        ctx: &RequestContext,
    ) -> Result<Record<K>, UseCaseError> {
        self.require(scope, K::WRITE, ctx).await?;
        let fields = K::validated(fields)?;
        let before = self.store.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        self.rules
            .check(scope, id, Some(&before.fields), &fields)
            .await?;
        let changes =
            Changes::between(&before.fields, &fields).without_values_of(K::PERSONAL_FIELDS);
        if changes.is_empty() {
            return Ok(before);
        }
        let derived = self.rules.derive(scope, &fields, Some(&before)).await?;
        let record = Record {
            fields,
            derived,
            version: before.version + 1,
            updated_at: self.clock.now(),
            ..before
        };
        let changes = Source::noted(source, changes);
        let event = PendingEvent::new(scope, K::ACTIONS.updated, K::ENTITY, id, changes, ctx);
        Ok(self
            .store
            .update(scope, &record, expected_version, event)
            .await?)
    }

    /// One of the register's actions (answer a request, close a breach): the write
    /// permission, the version check, the action's own rule `apply` on the stored record
    /// (it moves the derived state, and may set fields), the register's
    /// [`RecordRules::derive`] on the result (a confirmed identity moves a due date), then
    /// one write with the action's audit event recording what changed in the fields and the
    /// derived values.
    pub async fn act(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        action: &AuditAction,
        ctx: &RequestContext,
        apply: impl FnOnce(&mut Record<K>) -> Result<(), UseCaseError> + Send,
    ) -> Result<Record<K>, UseCaseError> {
        self.require(scope, K::WRITE, ctx).await?;
        let before = self.store.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        let mut applied = before.clone();
        apply(&mut applied)?;
        let fields = K::validated(applied.fields.clone())?;
        let derived = self.rules.derive(scope, &fields, Some(&applied)).await?;
        let changes = Changes::between(&before.fields, &fields)
            .without_values_of(K::PERSONAL_FIELDS)
            .merged(Changes::between(&before.derived, &derived));
        let record = Record {
            fields,
            derived,
            version: before.version + 1,
            updated_at: self.clock.now(),
            ..applied
        };
        let event = PendingEvent::new(scope, action.clone(), K::ENTITY, id, changes, ctx);
        Ok(self
            .store
            .update(scope, &record, expected_version, event)
            .await?)
    }

    pub async fn delete(
        &self,
        scope: &TenantScope,
        id: Id<K>,
        expected_version: i32,
        ctx: &RequestContext,
    ) -> Result<(), UseCaseError> {
        self.require(scope, K::DELETE, ctx).await?;
        let before = self.store.get(scope, id).await?;
        at_version(before.version, expected_version)?;
        let changes = Changes::new().note(K::LABEL_FIELD, K::label(&before.fields));
        let event = PendingEvent::new(scope, K::ACTIONS.deleted, K::ENTITY, id, changes, ctx);
        Ok(self
            .store
            .delete(scope, id, expected_version, event)
            .await?)
    }
}

/// Why a list of `K` cannot be ordered by `sort`, if it cannot: the due sorts need a
/// register whose records fall due ([`RecordKind::SORTS_BY_DUE`]). The edge refuses the
/// parameter with this message before it asks (400 naming `sort`).
pub fn sort_refusal<K: RecordKind>(sort: Sort) -> Option<String> {
    (sort.is_due() && !K::SORTS_BY_DUE).then(|| {
        format!(
            "the {} list has no due dates to sort by; use created_at, -created_at, name, -name or -updated_at",
            K::ENTITY
        )
    })
}

/// A list of `K` ordered by a sort it offers ([`sort_refusal`]), else a validation
/// error naming `sort`.
pub fn check_sort<K: RecordKind>(sort: Sort) -> Result<(), UseCaseError> {
    match sort_refusal::<K>(sort) {
        Some(message) => Err(ValidationErrors::single("sort", message).into()),
        None => Ok(()),
    }
}

/// A cursor continues only the sort it was issued for; one from another sort is refused
/// rather than guessed at.
pub fn check_cursor(after: Option<&Cursor>, sort: Sort) -> Result<(), UseCaseError> {
    match after {
        Some(cursor) if !cursor.fits(sort) => Err(ValidationErrors::single(
            "cursor",
            "belongs to another sort order; start again without it",
        )
        .into()),
        _ => Ok(()),
    }
}

/// The record must still be at the version the caller read; otherwise nothing changes.
pub fn at_version(read: i32, expected: i32) -> Result<(), UseCaseError> {
    if read == expected {
        Ok(())
    } else {
        Err(UseCaseError::StaleVersion)
    }
}
