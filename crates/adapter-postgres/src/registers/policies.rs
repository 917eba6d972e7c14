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
    contains_pattern, fetch_limit, keyset,
    records::{PgRecord, RowContext, Select, update_row},
    stored_enum,
};
use crate::{
    error::{DbError, corrupt},
    models::convert_all,
    pool::in_tenant,
    rows::{Statement, at_version, missing_or_stale, new_in_scope},
    schema::{policies, policy_versions as versions},
    stores::PgStores,
};

/// A policy's row: the keys, what follows the versions and the creation facts, and
/// what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = policies, check_for_backend(diesel::pg::Pg))]
struct PolicyRow {
    tenant_id: Uuid,
    id: Uuid,
    current_version: Option<i32>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: PolicyChanges,
}

/// What a policy update replaces: everything but the keys, `created_at` and
/// `current_version` (which follows the versions).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
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

impl From<&Policy> for PolicyRow {
    fn from(policy: &Policy) -> Self {
        let f = &policy.fields;
        Self {
            tenant_id: policy.tenant_id.as_uuid(),
            id: policy.id.as_uuid(),
            // A new policy has no versions yet; later, version writes keep it.
            current_version: None,
            created_at: policy.created_at,
            changes: PolicyChanges {
                title: f.title.clone(),
                kind: f.kind.as_str().to_owned(),
                status: f.status.as_str().to_owned(),
                owner_id: f.owner_id.map(|u| u.as_uuid()),
                review_interval_months: f.review_interval_months.map(i16::from),
                next_review_date: f.next_review_date,
                version: policy.version,
                updated_at: policy.updated_at,
            },
        }
    }
}

impl TryFrom<PolicyRow> for Policy {
    type Error = StoreError;
    fn try_from(row: PolicyRow) -> Result<Self, StoreError> {
        let c = row.changes;
        Ok(Policy {
            id: Id::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            fields: PolicyFields {
                title: c.title,
                kind: stored_enum(&c.kind, "stored policy kind")?,
                owner_id: c.owner_id.map(UserId::from_uuid),
                review_interval_months: c
                    .review_interval_months
                    .map(u8::try_from)
                    .transpose()
                    .map_err(|_| corrupt("stored review interval"))?,
                next_review_date: c.next_review_date,
                status: stored_enum(&c.status, "stored policy status")?,
            },
            derived: PolicyState {
                current_version: row.current_version,
            },
            version: c.version,
            created_at: row.created_at,
            updated_at: c.updated_at,
        })
    }
}

/// A policy version's row: its identity, number and creation facts, and what an update
/// replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = versions, check_for_backend(diesel::pg::Pg))]
struct VersionRow {
    tenant_id: Uuid,
    id: Uuid,
    policy_id: Uuid,
    number: i32,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: VersionChanges,
}

/// What a version update replaces: its text and state, never its identity, number or
/// creation facts.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
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

impl From<&PolicyVersion> for VersionRow {
    fn from(v: &PolicyVersion) -> Self {
        Self {
            tenant_id: v.tenant_id.as_uuid(),
            id: v.id.as_uuid(),
            policy_id: v.policy_id.as_uuid(),
            number: v.number,
            created_by: v.created_by.map(|u| u.as_uuid()),
            created_at: v.created_at,
            changes: VersionChanges {
                content: v.content.clone(),
                status: v.status.as_str().to_owned(),
                change_note: v.change_note.clone(),
                published_by: v.published_by.map(|u| u.as_uuid()),
                published_at: v.published_at,
                retired_at: v.retired_at,
                version: v.version,
            },
        }
    }
}

impl TryFrom<VersionRow> for PolicyVersion {
    type Error = StoreError;
    fn try_from(row: VersionRow) -> Result<Self, StoreError> {
        let c = row.changes;
        Ok(PolicyVersion {
            id: Id::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            policy_id: Id::from_uuid(row.policy_id),
            number: row.number,
            content: c.content,
            status: stored_enum(&c.status, "stored policy version status")?,
            change_note: c.change_note,
            created_by: row.created_by.map(UserId::from_uuid),
            created_at: row.created_at,
            published_by: c.published_by.map(UserId::from_uuid),
            published_at: c.published_at,
            retired_at: c.retired_at,
            version: c.version,
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
    /// The versions go with the policy (ON DELETE CASCADE).
    const TABLE: &'static str = "policies";

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, PolicyFilter>,
    ) -> Result<Vec<Policy>, DbError> {
        let tenant = cx.tenant;
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

    fn insert(policy: &Policy, _: RowContext<'_>) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(policies::table).values(PolicyRow::from(policy)))
    }

    fn update(
        policy: &Policy,
        expected: i32,
        _: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        let row = PolicyRow::from(policy);
        let key = (row.tenant_id, row.id);
        let target = at_version(policies::table, policies::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
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
        new_in_scope(scope, version.tenant_id)?;
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
        let query = versions_of(scope.tenant_id().as_uuid(), policy.as_uuid())
            .filter(versions::number.eq(number))
            .select(VersionRow::as_select());
        self.read_one::<VersionRow, _, _>(scope, query).await
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
        let cx = self.row_context(scope);
        let tenant = cx.tenant;
        let (id, policy_id) = (version.id.as_uuid(), version.policy_id.as_uuid());
        let publishing = version.status == VersionStatus::Published;
        let retired_at = version.published_at.unwrap_or(self.now());
        let changes = VersionRow::from(version).changes;
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
            let target = at_version(
                versions::table,
                versions::version,
                (tenant, id),
                expected_version,
            )
            .filter(versions::policy_id.eq(policy_id));
            let updated = diesel::update(target).set(changes).execute(conn).await?;
            if updated == 0 {
                let exists: bool = diesel::select(diesel::dsl::exists(
                    versions_of(tenant, policy_id).filter(versions::id.eq(id)),
                ))
                .get_result(conn)
                .await?;
                return Err(missing_or_stale(exists));
            }
            if let Some(policy) = policy
                && update_row(conn, cx, policy, policy.version.saturating_sub(1)).await? == 0
            {
                // The policy row is locked above, so it exists: it moved on.
                return Err(missing_or_stale(true));
            }
            sync_current_version(conn, tenant, policy_id).await
        })
        .await
    }
}
