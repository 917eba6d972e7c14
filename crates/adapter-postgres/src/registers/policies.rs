//! Policies on PostgreSQL: `policies` as the kernel's [`PgRecord`], and their numbered
//! `policy_versions` ([`PolicyVersions`]), at most one of which is published (a partial
//! unique index). Version writes lock the policy row first, so numbering and publication
//! are serialised per policy; they go through `PgStores::write_audited` like every write.
//!
//! `policies.current_version` is kept by the adapter, not taken from the domain's
//! `Policy`: every version write sets it to the number of the published version (or
//! NULL) in the same transaction, so it always follows publication.

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Policies, Policy, PolicyFields, PolicyFilter, PolicyId, PolicyState, PolicyVersion,
    VersionStatus, ports::PolicyVersions,
};
use aura_records::Id;
use aura_shared_kernel::{Conflict, StoreError, TenantId, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contains_pattern, fetch_limit, keyset, missing_or_stale,
    records::{PgRecord, Select},
    stored_enum,
};
use crate::{
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
            id: policy.id.as_uuid(),
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
            id: Id::from_uuid(row.id),
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
            derived: PolicyState {
                current_version: row.current_version,
            },
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
            id: v.id.as_uuid(),
            policy_id: v.policy_id.as_uuid(),
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
            id: Id::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            policy_id: Id::from_uuid(row.policy_id),
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

#[async_trait::async_trait]
impl PgRecord for Policies {
    async fn select(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        which: Select<'_, PolicyFilter>,
    ) -> Result<Vec<Policy>, DbError> {
        let mut q = policies::table
            .filter(policies::tenant_id.eq(tenant))
            .select(PolicyRow::as_select())
            .into_boxed();
        let rows: Vec<PolicyRow> = match which {
            Select::One(id) => q.filter(policies::id.eq(id)).load(conn).await?,
            Select::All => q.order(policies::id.asc()).load(conn).await?,
            Select::Page(query) => {
                let filter = &query.filter;
                if let Some(kind) = filter.kind {
                    q = q.filter(policies::kind.eq(kind.as_str()));
                }
                if let Some(status) = filter.status {
                    q = q.filter(policies::status.eq(status.as_str()));
                }
                if let Some(owner) = filter.owner {
                    q = q.filter(policies::owner_id.eq(owner.as_uuid()));
                }
                if let Some(search) = &filter.search {
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
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        Ok(convert_all(rows)?)
    }

    async fn insert_row(conn: &mut AsyncPgConnection, policy: &Policy) -> Result<(), DbError> {
        diesel::insert_into(policies::table)
            .values(PolicyRow::from(policy))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn update_row(
        conn: &mut AsyncPgConnection,
        policy: &Policy,
        expected_version: i32,
    ) -> Result<usize, DbError> {
        let row = PolicyRow::from(policy);
        Ok(diesel::update(
            policies::table
                .filter(policies::tenant_id.eq(row.tenant_id))
                .filter(policies::id.eq(row.id))
                .filter(policies::version.eq(expected_version)),
        )
        .set(PolicyChanges::from(row))
        .execute(conn)
        .await?)
    }

    /// The versions go with the policy (ON DELETE CASCADE).
    async fn delete_row(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        id: Uuid,
        expected_version: i32,
    ) -> Result<usize, DbError> {
        Ok(diesel::delete(
            policies::table
                .filter(policies::tenant_id.eq(tenant))
                .filter(policies::id.eq(id))
                .filter(policies::version.eq(expected_version)),
        )
        .execute(conn)
        .await?)
    }
}

/// The versions of one policy of the tenant.
fn versions_of(tenant: Uuid, policy: Uuid) -> versions::BoxedQuery<'static, diesel::pg::Pg> {
    versions::table
        .filter(versions::tenant_id.eq(tenant))
        .filter(versions::policy_id.eq(policy))
        .into_boxed()
}

#[async_trait::async_trait]
impl PolicyVersions for PgStores {
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
        let tenant = scope.tenant_id().as_uuid();
        let row = VersionRow::from(version);
        self.write_audited(scope, event, async move |conn| {
            let policy = row.policy_id;
            lock_policy(conn, tenant, policy).await?;
            let last: Option<i32> = versions_of(tenant, policy)
                .select(diesel::dsl::max(versions::number))
                .first(conn)
                .await?;
            if last.unwrap_or(0).checked_add(1) != Some(row.number) {
                return Err(DbError::Store(StoreError::Conflict(
                    Conflict::VersionNumberTaken,
                )));
            }
            diesel::insert_into(versions::table)
                .values(row)
                .execute(conn)
                .await?;
            sync_current_version(conn, tenant, policy).await
        })
        .await
    }

    async fn get_version(
        &self,
        scope: &TenantScope,
        policy: PolicyId,
        number: i32,
    ) -> Result<PolicyVersion, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let row: VersionRow = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(versions_of(tenant, policy.as_uuid())
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
        policy: PolicyId,
    ) -> Result<Vec<PolicyVersion>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let rows: Vec<VersionRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(versions_of(tenant, policy.as_uuid())
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
        let tenant = scope.tenant_id().as_uuid();
        let (id, policy_id) = (version.id.as_uuid(), version.policy_id.as_uuid());
        let publishing = version.status == VersionStatus::Published;
        let retired_at = version.published_at.unwrap_or(self.now());
        let changes = VersionChanges::from(VersionRow::from(version));
        self.write_audited(scope, event, async move |conn| {
            lock_policy(conn, tenant, policy_id).await?;
            if publishing {
                diesel::update(
                    versions::table
                        .filter(versions::tenant_id.eq(tenant))
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
                    .filter(versions::tenant_id.eq(tenant))
                    .filter(versions::id.eq(id))
                    .filter(versions::policy_id.eq(policy_id))
                    .filter(versions::version.eq(expected_version)),
            )
            .set(changes)
            .execute(conn)
            .await?;
            if updated == 0 {
                let exists: bool = diesel::select(diesel::dsl::exists(
                    versions_of(tenant, policy_id).filter(versions::id.eq(id)),
                ))
                .get_result(conn)
                .await?;
                return Err(missing_or_stale(exists));
            }
            if let Some(policy) = policy
                && Policies::update_row(conn, policy, policy.version.saturating_sub(1)).await? == 0
            {
                // The policy row is locked above, so it exists: it moved on.
                return Err(missing_or_stale(true));
            }
            sync_current_version(conn, tenant, policy_id).await
        })
        .await
    }
}
