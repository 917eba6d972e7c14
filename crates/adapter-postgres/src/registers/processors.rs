//! Processors on PostgreSQL (the kernel's [`PgRecord`]). `activity_ids` are read from the links of
//! `activity_processors`; the links and sub-processors keep a processor from being
//! deleted (`Conflict::InUse`).

use aura_gdpr_registers::{
    Art28Clauses, CountryCode, DpaStatus, ParentChain, Processor, ProcessorFields, ProcessorFilter,
    ProcessorLinks, Processors, TransferMechanism,
};
use aura_records::Id;
use aura_shared_kernel::{StoreError, TenantId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contains_pattern, fetch_limit, keyset,
    links::{End, linked_ids},
    records::{PgRecord, RowContext, Select},
    stored_enum,
};
use crate::{
    error::{DbError, corrupt},
    json::StoredJson,
    rows::{Statement, at_version},
    schema::processors,
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

/// A processor's row: the keys and creation facts, and what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = processors, check_for_backend(diesel::pg::Pg))]
struct ProcessorRow {
    tenant_id: Uuid,
    id: Uuid,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: ProcessorChanges,
}

/// What an update replaces: everything but the keys and `created_at`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = processors, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct ProcessorChanges {
    name: String,
    dpa_status: String,
    dpa_signed_on: Option<Date>,
    dpa_review_on: Option<Date>,
    parent_id: Option<Uuid>,
    details: StoredJson,
    version: i32,
    updated_at: OffsetDateTime,
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
            created_at: processor.created_at,
            changes: ProcessorChanges {
                name: f.name.clone(),
                dpa_status: f.dpa_status.as_str().to_owned(),
                dpa_signed_on: f.dpa_signed_on,
                dpa_review_on: f.dpa_review_on,
                parent_id: f.parent_id.map(|p| p.as_uuid()),
                details: StoredJson::of(&details)
                    .map_err(|_| StoreError::unexpected("processor details not serialisable"))?,
                version: processor.version,
                updated_at: processor.updated_at,
            },
        })
    }
}

fn processor_from(row: ProcessorRow, activity_ids: Vec<Uuid>) -> Result<Processor, StoreError> {
    let c = row.changes;
    let details: ProcessorDetails = c
        .details
        .read()
        .map_err(|_| corrupt("stored processor details"))?;
    Ok(Processor {
        id: Id::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields: ProcessorFields {
            name: c.name,
            contact_name: details.contact_name,
            contact_email: details.contact_email,
            country: details.country,
            services: details.services,
            data_categories: details.data_categories,
            transfer_mechanism: details.transfer_mechanism,
            dpa_status: stored_enum(&c.dpa_status, "stored DPA status")?,
            dpa_signed_on: c.dpa_signed_on,
            dpa_review_on: c.dpa_review_on,
            clauses: details.clauses,
            parent_id: c.parent_id.map(Id::from_uuid),
        },
        derived: ProcessorLinks {
            activity_ids: activity_ids.into_iter().map(Id::from_uuid).collect(),
        },
        version: c.version,
        created_at: row.created_at,
        updated_at: c.updated_at,
    })
}

#[async_trait::async_trait]
impl PgRecord for Processors {
    const TABLE: &'static str = "processors";

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, ProcessorFilter>,
    ) -> Result<Vec<Processor>, DbError> {
        let tenant = cx.tenant;
        let mut q = processors::table
            .filter(processors::tenant_id.eq(tenant))
            .select((ProcessorRow::as_select(), linked_ids(End::Processor)))
            .into_boxed();
        let rows: Vec<(ProcessorRow, Vec<Uuid>)> = match which {
            Select::One(id) => q.filter(processors::id.eq(id)).load(conn).await?,
            Select::All => q.order(processors::id.asc()).load(conn).await?,
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
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        let records = rows.into_iter().map(|(row, ids)| processor_from(row, ids));
        Ok(records.collect::<Result<_, StoreError>>()?)
    }

    /// A parent outside the tenant (or missing) fails the composite foreign key: `NotFound`.
    fn insert(processor: &Processor, _: RowContext<'_>) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(processors::table).values(ProcessorRow::try_from(processor)?))
    }

    fn update(
        processor: &Processor,
        expected: i32,
        _: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        let row = ProcessorRow::try_from(processor)?;
        let key = (row.tenant_id, row.id);
        let target = at_version(processors::table, processors::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
    }

    /// The new parent's chain, walked again inside the update's transaction before the
    /// row is written: updates of a tenant's processors with a parent take turns (a
    /// transaction-scoped advisory lock, taken before any row is locked, so two of them
    /// never wait on each other's rows), and each ancestor is read `FOR SHARE`. Of two
    /// concurrent changes that would close a loop (P1 under P2, P2 under P1) the second
    /// sees the first committed and is refused.
    async fn check_locked(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        processor: &Processor,
    ) -> Result<(), DbError> {
        let Some(parent) = processor.fields.parent_id else {
            return Ok(());
        };
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended('aura:processor-parents:' || $1, 0))",
        )
        .bind::<diesel::sql_types::Text, _>(tenant.to_string())
        .execute(conn)
        .await?;
        let mut chain = ParentChain::new(processor.id);
        let mut next = Some(parent.as_uuid());
        while let Some(current) = next {
            chain
                .visit(Id::from_uuid(current))
                .map_err(StoreError::Invalid)?;
            next = processors::table
                .filter(processors::tenant_id.eq(tenant))
                .filter(processors::id.eq(current))
                .select(processors::parent_id)
                .for_share()
                .first::<Option<Uuid>>(conn)
                .await
                .optional()?
                .flatten();
        }
        Ok(())
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
