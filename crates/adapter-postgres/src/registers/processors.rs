//! Processors on PostgreSQL (the kernel's [`PgRecord`]). `activity_ids` are read from the links of
//! `activity_processors`; the links and sub-processors keep a processor from being
//! deleted (`Conflict::InUse`).

use std::collections::HashMap;

use aura_gdpr_registers::{
    Art28Clauses, CountryCode, DpaStatus, Processor, ProcessorFields, ProcessorFilter,
    ProcessorLinks, Processors, TransferMechanism,
};
use aura_records::Id;
use aura_shared_kernel::{Conflict, StoreError, TenantId};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contains_pattern, fetch_limit, keyset,
    records::{PgRecord, Select},
    stored_enum,
};
use crate::{
    error::{DbError, corrupt},
    schema::{activity_processors as links, processors},
};

/// The fields of a processor that no list filters or sorts on, stored as jsonb: the
/// storage shape, not the API's. `v` names the shape (rows without it are shape 1); the
/// test below pins shape 1.
#[derive(Debug, Serialize, Deserialize)]
struct ProcessorDetails {
    #[serde(default = "super::first_shape")]
    v: u16,
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
            v: super::first_shape(),
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
            id: processor.id.as_uuid(),
            name: f.name.clone(),
            dpa_status: f.dpa_status.as_str().to_owned(),
            dpa_signed_on: f.dpa_signed_on,
            dpa_review_on: f.dpa_review_on,
            parent_id: f.parent_id.map(|p| p.as_uuid()),
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
        id: Id::from_uuid(row.id),
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
            parent_id: row.parent_id.map(Id::from_uuid),
        },
        derived: ProcessorLinks {
            activity_ids: activity_ids.into_iter().map(Id::from_uuid).collect(),
        },
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

#[async_trait::async_trait]
impl PgRecord for Processors {
    async fn select(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        which: Select<'_, ProcessorFilter>,
    ) -> Result<Vec<Processor>, DbError> {
        let mut q = processors::table
            .filter(processors::tenant_id.eq(tenant))
            .select(ProcessorRow::as_select())
            .into_boxed();
        let (rows, only): (Vec<ProcessorRow>, bool) = match which {
            Select::One(id) => (q.filter(processors::id.eq(id)).load(conn).await?, true),
            Select::All => (q.order(processors::id.asc()).load(conn).await?, false),
            Select::Page(query) => {
                let filter = &query.filter;
                if let Some(status) = filter.dpa_status {
                    q = q.filter(processors::dpa_status.eq(status.as_str()));
                }
                if let Some(by) = filter.dpa_attention_by {
                    // As `ProcessorFields::dpa_needs_attention`: not signed, or due by `by`.
                    q = q.filter(
                        processors::dpa_status
                            .ne(DpaStatus::Signed.as_str())
                            .nullable()
                            .or(processors::dpa_review_on.le(by)),
                    );
                }
                if let Some(parent) = filter.parent {
                    q = q.filter(processors::parent_id.eq(parent.as_uuid()));
                }
                if let Some(search) = &filter.search {
                    q = q.filter(processors::name.ilike(contains_pattern(search)));
                }
                let q = keyset!(
                    q,
                    processors,
                    "processors.name",
                    query.sort,
                    query.after.as_ref()
                )?;
                (q.limit(fetch_limit(query.limit)).load(conn).await?, true)
            }
        };
        // All of the tenant's links at once for `All`; otherwise only the rows'.
        let ids = only.then(|| rows.iter().map(|r| r.id).collect());
        let links = activities_of(conn, tenant, ids).await?;
        Ok(with_activities(rows, links)?)
    }

    /// A parent outside the tenant (or missing) fails the composite foreign key: `NotFound`.
    async fn insert_row(
        conn: &mut AsyncPgConnection,
        processor: &Processor,
    ) -> Result<(), DbError> {
        diesel::insert_into(processors::table)
            .values(ProcessorRow::try_from(processor)?)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn update_row(
        conn: &mut AsyncPgConnection,
        processor: &Processor,
        expected_version: i32,
    ) -> Result<usize, DbError> {
        let row = ProcessorRow::try_from(processor)?;
        Ok(diesel::update(
            processors::table
                .filter(processors::tenant_id.eq(row.tenant_id))
                .filter(processors::id.eq(row.id))
                .filter(processors::version.eq(expected_version)),
        )
        .set(ProcessorChanges::from(row))
        .execute(conn)
        .await?)
    }

    async fn delete_row(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        id: Uuid,
        expected_version: i32,
    ) -> Result<usize, DbError> {
        let deleted = diesel::delete(
            processors::table
                .filter(processors::tenant_id.eq(tenant))
                .filter(processors::id.eq(id))
                .filter(processors::version.eq(expected_version)),
        )
        .execute(conn)
        .await;
        match deleted {
            // Links from activities or sub-processors refer to it (RESTRICT).
            Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                Err(DbError::Store(StoreError::Conflict(Conflict::InUse)))
            }
            other => Ok(other?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProcessorDetails;

    /// A row as shape 1 stored it (before rows carried `v`) reads back in full.
    #[test]
    fn stored_shape_1_stays_readable() {
        let stored = serde_json::json!({
            "contact_name": "Ops", "contact_email": "ops@cloud.example", "country": "US",
            "services": "hosting", "data_categories": ["logs"],
            "transfer_mechanism": "standard_contractual_clauses",
            "clauses": {"documented_instructions": true, "confidentiality": true,
                        "security": true, "sub_processors": true, "data_subject_rights": true,
                        "assistance": true, "deletion_or_return": true, "audits": true}
        });
        let details: ProcessorDetails = serde_json::from_value(stored).expect("shape 1 reads");
        assert_eq!(details.v, 1);
        assert_eq!(details.contact_email.as_deref(), Some("ops@cloud.example"));
        assert!(details.clauses.audits && details.clauses.documented_instructions);
    }
}
