//! [`ProcessorRepository`] on PostgreSQL. `activity_ids` are read from the links of
//! `activity_processors`; the links and sub-processors keep a processor from being
//! deleted (`Conflict("in_use")`).

use std::collections::HashMap;

use aura_audit::PendingEvent;
use aura_gdpr_registers::{
    Art28Clauses, CountryCode, Processor, ProcessorFields, TransferMechanism,
    ports::{ListPage, ProcessorQuery, ProcessorRepository},
};
use aura_tenancy::{StoreError, TenantId, TenantScope};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contains_pattern, cursor_after, fetch_limit, keyset, missing_or_stale, page_from_overfetch,
    stored_enum,
};
use crate::{
    audit::append_event,
    error::{DbError, corrupt},
    pool::in_tenant,
    schema::{activity_processors as links, processors},
    stores::PgStores,
};

/// The rule a delete of a processor still referred to breaks.
const IN_USE: &str = "in_use";

/// The fields of a processor that no list filters or sorts on, stored as jsonb.
#[derive(Debug, Serialize, Deserialize)]
struct ProcessorDetails {
    contact_name: Option<String>,
    contact_email: Option<String>,
    country: Option<CountryCode>,
    services: Option<String>,
    data_categories: Vec<String>,
    transfer_mechanism: Option<TransferMechanism>,
    clauses: Art28Clauses,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = processors, check_for_backend(diesel::pg::Pg))]
struct ProcessorRow {
    tenant_id: Uuid,
    id: Uuid,
    name: String,
    dpa_status: String,
    dpa_signed_on: Option<Date>,
    dpa_review_on: Option<Date>,
    parent_id: Option<Uuid>,
    details: serde_json::Value,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// What an update replaces: everything but the keys and `created_at`.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = processors, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct ProcessorChanges {
    name: String,
    dpa_status: String,
    dpa_signed_on: Option<Date>,
    dpa_review_on: Option<Date>,
    parent_id: Option<Uuid>,
    details: serde_json::Value,
    version: i32,
    updated_at: OffsetDateTime,
}

impl From<ProcessorRow> for ProcessorChanges {
    fn from(row: ProcessorRow) -> Self {
        Self {
            name: row.name,
            dpa_status: row.dpa_status,
            dpa_signed_on: row.dpa_signed_on,
            dpa_review_on: row.dpa_review_on,
            parent_id: row.parent_id,
            details: row.details,
            version: row.version,
            updated_at: row.updated_at,
        }
    }
}

impl TryFrom<&Processor> for ProcessorRow {
    type Error = StoreError;
    fn try_from(processor: &Processor) -> Result<Self, StoreError> {
        let f = &processor.fields;
        let details = ProcessorDetails {
            contact_name: f.contact_name.clone(),
            contact_email: f.contact_email.clone(),
            country: f.country,
            services: f.services.clone(),
            data_categories: f.data_categories.clone(),
            transfer_mechanism: f.transfer_mechanism,
            clauses: f.clauses,
        };
        Ok(Self {
            tenant_id: processor.tenant_id.as_uuid(),
            id: processor.id,
            name: f.name.clone(),
            dpa_status: f.dpa_status.as_str().to_owned(),
            dpa_signed_on: f.dpa_signed_on,
            dpa_review_on: f.dpa_review_on,
            parent_id: f.parent_id,
            details: serde_json::to_value(details)
                .map_err(|_| StoreError::unexpected("processor details not serialisable"))?,
            version: processor.version,
            created_at: processor.created_at,
            updated_at: processor.updated_at,
        })
    }
}

fn processor_from(row: ProcessorRow, activity_ids: Vec<Uuid>) -> Result<Processor, StoreError> {
    let details: ProcessorDetails =
        serde_json::from_value(row.details).map_err(|_| corrupt("stored processor details"))?;
    Ok(Processor {
        id: row.id,
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields: ProcessorFields {
            name: row.name,
            contact_name: details.contact_name,
            contact_email: details.contact_email,
            country: details.country,
            services: details.services,
            data_categories: details.data_categories,
            transfer_mechanism: details.transfer_mechanism,
            dpa_status: stored_enum(&row.dpa_status, "stored DPA status")?,
            dpa_signed_on: row.dpa_signed_on,
            dpa_review_on: row.dpa_review_on,
            clauses: details.clauses,
            parent_id: row.parent_id,
        },
        activity_ids,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The activity ids linked to each of `processor_ids` (all of the tenant's when `None`),
/// sorted.
async fn activities_of(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    processor_ids: Option<Vec<Uuid>>,
) -> Result<HashMap<Uuid, Vec<Uuid>>, DbError> {
    let mut query = links::table
        .filter(links::tenant_id.eq(tenant))
        .select((links::processor_id, links::activity_id))
        .into_boxed();
    if let Some(ids) = processor_ids {
        query = query.filter(links::processor_id.eq_any(ids));
    }
    let pairs: Vec<(Uuid, Uuid)> = query
        .order((links::processor_id.asc(), links::activity_id.asc()))
        .load(conn)
        .await?;
    let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (processor, activity) in pairs {
        map.entry(processor).or_default().push(activity);
    }
    Ok(map)
}

fn with_activities(
    rows: Vec<ProcessorRow>,
    mut links: HashMap<Uuid, Vec<Uuid>>,
) -> Result<Vec<Processor>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let ids = links.remove(&row.id).unwrap_or_default();
            processor_from(row, ids)
        })
        .collect()
}

async fn exists(conn: &mut AsyncPgConnection, tenant: Uuid, id: Uuid) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        processors::table
            .filter(processors::tenant_id.eq(tenant))
            .filter(processors::id.eq(id)),
    ))
    .get_result(conn)
    .await?)
}

#[async_trait::async_trait]
impl ProcessorRepository for PgStores {
    /// A parent outside the tenant (or missing) fails the composite foreign key: `NotFound`.
    async fn insert(
        &self,
        scope: &TenantScope,
        processor: &Processor,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if processor.tenant_id != scope.tenant_id() {
            return Err(StoreError::unexpected(
                "a new processor must belong to the scope's tenant",
            ));
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let row = ProcessorRow::try_from(processor)?;
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(processors::table)
                .values(row)
                .execute(conn)
                .await?;
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Processor, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let (row, mut links): (ProcessorRow, _) =
            in_tenant(&self.inner.pool, scope, async move |conn| {
                let row: ProcessorRow = processors::table
                    .filter(processors::tenant_id.eq(tenant))
                    .filter(processors::id.eq(id))
                    .select(ProcessorRow::as_select())
                    .first(conn)
                    .await?;
                let links = activities_of(conn, tenant, Some(vec![id])).await?;
                Ok((row, links))
            })
            .await?;
        let ids = links.remove(&id).unwrap_or_default();
        processor_from(row, ids)
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &ProcessorQuery,
    ) -> Result<ListPage<Processor>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let (rows, links): (Vec<ProcessorRow>, _) =
            in_tenant(&self.inner.pool, scope, async move |conn| {
                let mut q = processors::table
                    .filter(processors::tenant_id.eq(tenant))
                    .select(ProcessorRow::as_select())
                    .into_boxed();
                if let Some(status) = query.dpa_status {
                    q = q.filter(processors::dpa_status.eq(status.as_str()));
                }
                if let Some(by) = query.dpa_attention_by {
                    // As `ProcessorFields::dpa_needs_attention`: not signed, or due by `by`.
                    q = q.filter(
                        processors::dpa_status
                            .ne(aura_gdpr_registers::DpaStatus::Signed.as_str())
                            .nullable()
                            .or(processors::dpa_review_on.le(by)),
                    );
                }
                if let Some(parent) = query.parent {
                    q = q.filter(processors::parent_id.eq(parent));
                }
                if let Some(search) = &query.search {
                    q = q.filter(processors::name.ilike(contains_pattern(search)));
                }
                let q = keyset!(
                    q,
                    processors,
                    "processors.name",
                    query.sort,
                    query.after.as_ref()
                )?;
                let rows: Vec<ProcessorRow> = q.limit(fetch_limit(query.limit)).load(conn).await?;
                let ids = rows.iter().map(|r| r.id).collect();
                let links = activities_of(conn, tenant, Some(ids)).await?;
                Ok((rows, links))
            })
            .await?;
        let items = with_activities(rows, links)?;
        let sort = query.sort;
        page_from_overfetch(items, query.limit, |p| {
            cursor_after(sort, p.id, &p.fields.name, p.updated_at)
        })
    }

    async fn all(&self, scope: &TenantScope) -> Result<Vec<Processor>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let (rows, links): (Vec<ProcessorRow>, _) =
            in_tenant(&self.inner.pool, scope, async move |conn| {
                let rows = processors::table
                    .filter(processors::tenant_id.eq(tenant))
                    .select(ProcessorRow::as_select())
                    .order(processors::id.asc())
                    .load(conn)
                    .await?;
                let links = activities_of(conn, tenant, None).await?;
                Ok((rows, links))
            })
            .await?;
        with_activities(rows, links)
    }

    async fn update(
        &self,
        scope: &TenantScope,
        processor: &Processor,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        if processor.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let (tenant_uuid, id) = (tenant.as_uuid(), processor.id);
        let changes = ProcessorChanges::from(ProcessorRow::try_from(processor)?);
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let updated = diesel::update(
                processors::table
                    .filter(processors::tenant_id.eq(tenant_uuid))
                    .filter(processors::id.eq(id))
                    .filter(processors::version.eq(expected_version)),
            )
            .set(changes)
            .execute(conn)
            .await?;
            if updated == 0 {
                return Err(missing_or_stale(exists(conn, tenant_uuid, id).await?));
            }
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
            let deleted = diesel::delete(
                processors::table
                    .filter(processors::tenant_id.eq(tenant_uuid))
                    .filter(processors::id.eq(id))
                    .filter(processors::version.eq(expected_version)),
            )
            .execute(conn)
            .await;
            let deleted = match deleted {
                // Links from activities or sub-processors refer to it (RESTRICT).
                Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                    return Err(DbError::Store(StoreError::Conflict(IN_USE.to_owned())));
                }
                other => other?,
            };
            if deleted == 0 {
                return Err(missing_or_stale(exists(conn, tenant_uuid, id).await?));
            }
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }
}
