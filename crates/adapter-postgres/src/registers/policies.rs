//! [`PolicyRepository`] on PostgreSQL: `policies` and their numbered `policy_versions`,
//! at most one of which is published (a partial unique index). Version writes lock the
//! policy row first, so numbering and publication are serialised per policy.
//!
//! `policies.current_version` is kept by the adapter, not taken from the domain's
//! `Policy`: every version write sets it to the number of the published version (or
//! NULL) in the same transaction, so it always follows publication.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Policy, PolicyFields, PolicyVersion, VersionStatus,
    ports::{ListPage, PolicyQuery, PolicyRepository},
};
use aura_tenancy::{Conflict, StoreError, TenantId, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contains_pattern, cursor_after, fetch_limit, keyset, missing_or_stale, page_from_overfetch,
    stored_enum,
};
use crate::{
    audit::append_event,
    error::{DbError, corrupt},
    models::convert_all,
    pool::in_tenant,
    schema::{policies, policy_versions as versions},
    stores::PgStores,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = policies, check_for_backend(diesel::pg::Pg))]
struct PolicyRow {
    tenant_id: Uuid,
    id: Uuid,
    title: String,
    kind: String,
    status: String,
    owner_id: Option<Uuid>,
    review_interval_months: Option<i16>,
    next_review_date: Option<Date>,
    current_version: Option<i32>,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// What a policy update replaces: everything but the keys, `created_at` and
/// `current_version` (which follows the versions).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = policies, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct PolicyChanges {
    title: String,
    kind: String,
    status: String,
    owner_id: Option<Uuid>,
    review_interval_months: Option<i16>,
    next_review_date: Option<Date>,
    version: i32,
    updated_at: OffsetDateTime,
}

impl From<PolicyRow> for PolicyChanges {
    fn from(row: PolicyRow) -> Self {
        Self {
            title: row.title,
            kind: row.kind,
            status: row.status,
            owner_id: row.owner_id,
            review_interval_months: row.review_interval_months,
            next_review_date: row.next_review_date,
            version: row.version,
            updated_at: row.updated_at,
        }
    }
}

impl From<&Policy> for PolicyRow {
    fn from(policy: &Policy) -> Self {
        let f = &policy.fields;
        Self {
            tenant_id: policy.tenant_id.as_uuid(),
            id: policy.id,
            title: f.title.clone(),
            kind: f.kind.as_str().to_owned(),
            status: f.status.as_str().to_owned(),
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            review_interval_months: f.review_interval_months.map(i16::from),
            next_review_date: f.next_review_date,
            // A new policy has no versions yet; later, version writes keep it.
            current_version: None,
            version: policy.version,
            created_at: policy.created_at,
            updated_at: policy.updated_at,
        }
    }
}

impl TryFrom<PolicyRow> for Policy {
    type Error = StoreError;
    fn try_from(row: PolicyRow) -> Result<Self, StoreError> {
        Ok(Policy {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            fields: PolicyFields {
                title: row.title,
                kind: stored_enum(&row.kind, "stored policy kind")?,
                owner_id: row.owner_id.map(UserId::from_uuid),
                review_interval_months: row
                    .review_interval_months
                    .map(u8::try_from)
                    .transpose()
                    .map_err(|_| corrupt("stored review interval"))?,
                next_review_date: row.next_review_date,
                status: stored_enum(&row.status, "stored policy status")?,
            },
            current_version: row.current_version,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = versions, check_for_backend(diesel::pg::Pg))]
struct VersionRow {
    tenant_id: Uuid,
    id: Uuid,
    policy_id: Uuid,
    number: i32,
    content: String,
    status: String,
    change_note: Option<String>,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    published_by: Option<Uuid>,
    published_at: Option<OffsetDateTime>,
    retired_at: Option<OffsetDateTime>,
    version: i32,
}

/// What a version update replaces: its text and state, never its identity, number or
/// creation facts.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = versions, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct VersionChanges {
    content: String,
    status: String,
    change_note: Option<String>,
    published_by: Option<Uuid>,
    published_at: Option<OffsetDateTime>,
    retired_at: Option<OffsetDateTime>,
    version: i32,
}

impl From<VersionRow> for VersionChanges {
    fn from(row: VersionRow) -> Self {
        Self {
            content: row.content,
            status: row.status,
            change_note: row.change_note,
            published_by: row.published_by,
            published_at: row.published_at,
            retired_at: row.retired_at,
            version: row.version,
        }
    }
}

impl From<&PolicyVersion> for VersionRow {
    fn from(v: &PolicyVersion) -> Self {
        Self {
            tenant_id: v.tenant_id.as_uuid(),
            id: v.id,
            policy_id: v.policy_id,
            number: v.number,
            content: v.content.clone(),
            status: v.status.as_str().to_owned(),
            change_note: v.change_note.clone(),
            created_by: v.created_by.map(|u| u.as_uuid()),
            created_at: v.created_at,
            published_by: v.published_by.map(|u| u.as_uuid()),
            published_at: v.published_at,
            retired_at: v.retired_at,
            version: v.version,
        }
    }
}

impl TryFrom<VersionRow> for PolicyVersion {
    type Error = StoreError;
    fn try_from(row: VersionRow) -> Result<Self, StoreError> {
        Ok(PolicyVersion {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            policy_id: row.policy_id,
            number: row.number,
            content: row.content,
            status: stored_enum(&row.status, "stored policy version status")?,
            change_note: row.change_note,
            created_by: row.created_by.map(UserId::from_uuid),
            created_at: row.created_at,
            published_by: row.published_by.map(UserId::from_uuid),
            published_at: row.published_at,
            retired_at: row.retired_at,
            version: row.version,
        })
    }
}

async fn policy_exists(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        policies::table
            .filter(policies::tenant_id.eq(tenant))
            .filter(policies::id.eq(id)),
    ))
    .get_result(conn)
    .await?)
}

/// Locks the policy row (`FOR UPDATE`) for the rest of the transaction; `NotFound` when
/// it is not in the tenant.
async fn lock_policy(conn: &mut AsyncPgConnection, tenant: Uuid, id: Uuid) -> Result<(), DbError> {
    let _: Uuid = policies::table
        .filter(policies::tenant_id.eq(tenant))
        .filter(policies::id.eq(id))
        .select(policies::id)
        .for_update()
        .first(conn)
        .await?;
    Ok(())
}

/// Sets the policy's `current_version` to the number of its published version (NULL
/// when none is), in the caller's transaction.
async fn sync_current_version(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    policy: Uuid,
) -> Result<(), DbError> {
    let published = versions::table
        .filter(versions::tenant_id.eq(tenant))
        .filter(versions::policy_id.eq(policy))
        .filter(versions::status.eq(VersionStatus::Published.as_str()))
        .select(versions::number)
        .single_value();
    diesel::update(
        policies::table
            .filter(policies::tenant_id.eq(tenant))
            .filter(policies::id.eq(policy)),
    )
    .set(policies::current_version.eq(published))
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores `changes` on the policy row if it is at `expected_version`.
async fn write_policy(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
    expected_version: i32,
    changes: PolicyChanges,
) -> Result<(), DbError> {
    let updated = diesel::update(
        policies::table
            .filter(policies::tenant_id.eq(tenant))
            .filter(policies::id.eq(id))
            .filter(policies::version.eq(expected_version)),
    )
    .set(changes)
    .execute(conn)
    .await?;
    if updated == 0 {
        return Err(missing_or_stale(policy_exists(conn, tenant, id).await?));
    }
    Ok(())
}

#[async_trait::async_trait]
impl PolicyRepository for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        policy: &Policy,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if policy.tenant_id != scope.tenant_id() {
            return Err(StoreError::unexpected(
                "a new policy must belong to the scope's tenant",
            ));
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let row = PolicyRow::from(policy);
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(policies::table)
                .values(row)
                .execute(conn)
                .await?;
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Policy, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let row: PolicyRow = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(policies::table
                .filter(policies::tenant_id.eq(tenant))
                .filter(policies::id.eq(id))
                .select(PolicyRow::as_select())
                .first(conn)
                .await?)
        })
        .await?;
        Policy::try_from(row)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &PolicyQuery,
    ) -> Result<ListPage<Policy>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<PolicyRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            let mut q = policies::table
                .filter(policies::tenant_id.eq(tenant))
                .select(PolicyRow::as_select())
                .into_boxed();
            if let Some(kind) = query.kind {
                q = q.filter(policies::kind.eq(kind.as_str()));
            }
            if let Some(status) = query.status {
                q = q.filter(policies::status.eq(status.as_str()));
            }
            if let Some(owner) = query.owner {
                q = q.filter(policies::owner_id.eq(owner.as_uuid()));
            }
            if let Some(search) = &query.search {
                q = q.filter(policies::title.ilike(contains_pattern(search)));
            }
            // For policies the "name" of the name sorts is the title.
            let q = keyset!(
                q,
                policies,
                "policies.title",
                query.sort,
                query.after.as_ref()
            )?;
            Ok(q.limit(fetch_limit(query.limit)).load(conn).await?)
        })
        .await?;
        let items: Vec<Policy> = convert_all(rows)?;
        let sort = query.sort;
        page_from_overfetch(items, query.limit, |p| {
            cursor_after(sort, p.id, &p.fields.title, p.updated_at)
        })
    }

    async fn update(
        &self,
        scope: &TenantScope,
        policy: &Policy,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if policy.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let (tenant_uuid, id) = (tenant.as_uuid(), policy.id);
        let changes = PolicyChanges::from(PolicyRow::from(policy));
        in_tenant(&self.inner.pool, scope, async move |conn| {
            write_policy(conn, tenant_uuid, id, expected_version, changes).await?;
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: Uuid,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // The versions go with the policy (ON DELETE CASCADE).
            let deleted = diesel::delete(
                policies::table
                    .filter(policies::tenant_id.eq(tenant_uuid))
                    .filter(policies::id.eq(id))
                    .filter(policies::version.eq(expected_version)),
            )
            .execute(conn)
            .await?;
            if deleted == 0 {
                return Err(missing_or_stale(
                    policy_exists(conn, tenant_uuid, id).await?,
                ));
            }
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }

    async fn insert_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if version.tenant_id != scope.tenant_id() {
            return Err(StoreError::unexpected(
                "a new policy version must belong to the scope's tenant",
            ));
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        let row = VersionRow::from(version);
        in_tenant(&self.inner.pool, scope, async move |conn| {
            lock_policy(conn, tenant_uuid, row.policy_id).await?;
            let last: Option<i32> = versions::table
                .filter(versions::tenant_id.eq(tenant_uuid))
                .filter(versions::policy_id.eq(row.policy_id))
                .select(diesel::dsl::max(versions::number))
                .first(conn)
                .await?;
            if last.unwrap_or(0).checked_add(1) != Some(row.number) {
                return Err(DbError::Store(StoreError::Conflict(
                    Conflict::VersionNumberTaken,
                )));
            }
            let policy_id = row.policy_id;
            diesel::insert_into(versions::table)
                .values(row)
                .execute(conn)
                .await?;
            sync_current_version(conn, tenant_uuid, policy_id).await?;
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }

    async fn get_version(
        &self,
        scope: &TenantScope,
        policy: Uuid,
        number: i32,
    ) -> Result<PolicyVersion, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let row: VersionRow = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(versions::table
                .filter(versions::tenant_id.eq(tenant))
                .filter(versions::policy_id.eq(policy))
                .filter(versions::number.eq(number))
                .select(VersionRow::as_select())
                .first(conn)
                .await?)
        })
        .await?;
        PolicyVersion::try_from(row)
    }

    async fn list_versions(
        &self,
        scope: &TenantScope,
        policy: Uuid,
    ) -> Result<Vec<PolicyVersion>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<VersionRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(versions::table
                .filter(versions::tenant_id.eq(tenant))
                .filter(versions::policy_id.eq(policy))
                .select(VersionRow::as_select())
                .order(versions::number.desc())
                .load(conn)
                .await?)
        })
        .await?;
        convert_all(rows)
    }

    /// In one transaction: lock the policy; when `version` is published, retire the
    /// policy's other published version (status retired, `retired_at` = this version's
    /// `published_at`); store `version` if at `expected_version`; store `policy` if given
    /// (at `policy.version - 1`); set `current_version` to the published number; seal
    /// the event.
    async fn update_version(
        &self,
        scope: &TenantScope,
        version: &PolicyVersion,
        expected_version: i32,
        policy: Option<&Policy>,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if version.tenant_id != scope.tenant_id()
            || policy.is_some_and(|p| p.tenant_id != scope.tenant_id())
        {
            return Err(StoreError::NotFound);
        }
        if policy.is_some_and(|p| p.id != version.policy_id) {
            return Err(StoreError::unexpected(
                "a version is stored with its own policy only",
            ));
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        let (id, policy_id) = (version.id, version.policy_id);
        let publishing = version.status == VersionStatus::Published;
        let retired_at = version.published_at.unwrap_or(now);
        let changes = VersionChanges::from(VersionRow::from(version));
        let policy_write = policy.map(|p| {
            (
                p.version.saturating_sub(1),
                PolicyChanges::from(PolicyRow::from(p)),
            )
        });
        in_tenant(&self.inner.pool, scope, async move |conn| {
            lock_policy(conn, tenant_uuid, policy_id).await?;
            if publishing {
                diesel::update(
                    versions::table
                        .filter(versions::tenant_id.eq(tenant_uuid))
                        .filter(versions::policy_id.eq(policy_id))
                        .filter(versions::status.eq(VersionStatus::Published.as_str()))
                        .filter(versions::id.ne(id)),
                )
                .set((
                    versions::status.eq(VersionStatus::Retired.as_str()),
                    versions::retired_at.eq(retired_at),
                    versions::version.eq(versions::version + 1),
                ))
                .execute(conn)
                .await?;
            }
            let updated = diesel::update(
                versions::table
                    .filter(versions::tenant_id.eq(tenant_uuid))
                    .filter(versions::policy_id.eq(policy_id))
                    .filter(versions::id.eq(id))
                    .filter(versions::version.eq(expected_version)),
            )
            .set(changes)
            .execute(conn)
            .await?;
            if updated == 0 {
                let exists: bool = diesel::select(diesel::dsl::exists(
                    versions::table
                        .filter(versions::tenant_id.eq(tenant_uuid))
                        .filter(versions::policy_id.eq(policy_id))
                        .filter(versions::id.eq(id)),
                ))
                .get_result(conn)
                .await?;
                return Err(missing_or_stale(exists));
            }
            if let Some((expected, changes)) = policy_write {
                write_policy(conn, tenant_uuid, policy_id, expected, changes).await?;
            }
            sync_current_version(conn, tenant_uuid, policy_id).await?;
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }
}
