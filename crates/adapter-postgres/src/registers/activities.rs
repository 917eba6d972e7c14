//! Processing activities on PostgreSQL (the kernel's [`PgRecord`]). An activity is one row of
//! `processing_activities` (filtered and sorted columns, the rest as jsonb `details`)
//! plus its links in `activity_processors`, replaced with every write.

use std::collections::{BTreeSet, HashMap};

use aura_gdpr_registers::{
    Activities, ActivityDerived, ActivityFields, ActivityFilter, DataCategory, DpiaRequirement,
    ProcessingActivity, ProcessorId, Purpose, Transfer, activity_gaps,
};
use aura_records::Id;
use aura_shared_kernel::{StoreError, TenantId, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    contains_pattern, fetch_limit, keyset,
    organisation::stored_profile,
    records::{PgRecord, Select},
    stored_enum,
};
use crate::{
    error::{DbError, corrupt},
    schema::{activity_processors as links, processing_activities as activities},
};

/// The fields of an activity that no list filters or sorts on, stored as jsonb: the
/// storage shape, not the API's (the wire has its own DTOs). `v` names the shape; rows
/// written before it carried one are shape 1. The test below pins shape 1: a change that
/// would make stored rows unreadable fails it, and needs a new shape instead.
#[derive(Debug, Serialize, Deserialize)]
struct ActivityDetails {
    #[serde(default = "super::first_shape")]
    v: u16,
    description: Option<String>,
    controller_name: Option<String>,
    controller_contact: Option<String>,
    purposes: Vec<Purpose>,
    data_subject_categories: Vec<String>,
    data_categories: Vec<DataCategory>,
    recipient_categories: Vec<String>,
    transfers: Vec<Transfer>,
    security_measures: Option<String>,
    data_source: Option<String>,
    automated_decision_making: bool,
    automated_decision_details: Option<String>,
    dpia_required: DpiaRequirement,
    dpia_reason: Option<String>,
    department: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
struct ActivityRow {
    tenant_id: Uuid,
    id: Uuid,
    name: String,
    role: String,
    status: String,
    owner_id: Option<Uuid>,
    review_date: Option<Date>,
    lawful_bases: Vec<String>,
    details: serde_json::Value,
    created_by: Option<Uuid>,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// What an update replaces: everything but the keys and the creation facts.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct ActivityChanges {
    name: String,
    role: String,
    status: String,
    owner_id: Option<Uuid>,
    review_date: Option<Date>,
    lawful_bases: Vec<String>,
    details: serde_json::Value,
    version: i32,
    updated_at: OffsetDateTime,
}

impl From<ActivityRow> for ActivityChanges {
    fn from(row: ActivityRow) -> Self {
        Self {
            name: row.name,
            role: row.role,
            status: row.status,
            owner_id: row.owner_id,
            review_date: row.review_date,
            lawful_bases: row.lawful_bases,
            details: row.details,
            version: row.version,
            updated_at: row.updated_at,
        }
    }
}

impl TryFrom<&ProcessingActivity> for ActivityRow {
    type Error = StoreError;
    fn try_from(activity: &ProcessingActivity) -> Result<Self, StoreError> {
        let f = &activity.fields;
        let details = ActivityDetails {
            v: super::first_shape(),
            description: f.description.clone(),
            controller_name: f.controller_name.clone(),
            controller_contact: f.controller_contact.clone(),
            purposes: f.purposes.clone(),
            data_subject_categories: f.data_subject_categories.clone(),
            data_categories: f.data_categories.clone(),
            recipient_categories: f.recipient_categories.clone(),
            transfers: f.transfers.clone(),
            security_measures: f.security_measures.clone(),
            data_source: f.data_source.clone(),
            automated_decision_making: f.automated_decision_making,
            automated_decision_details: f.automated_decision_details.clone(),
            dpia_required: f.dpia_required,
            dpia_reason: f.dpia_reason.clone(),
            department: f.department.clone(),
        };
        let lawful_bases: BTreeSet<&str> =
            f.purposes.iter().map(|p| p.lawful_basis.as_str()).collect();
        Ok(Self {
            tenant_id: activity.tenant_id.as_uuid(),
            id: activity.id.as_uuid(),
            name: f.name.clone(),
            role: f.role.as_str().to_owned(),
            status: f.status.as_str().to_owned(),
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            review_date: f.review_date,
            lawful_bases: lawful_bases.into_iter().map(str::to_owned).collect(),
            details: serde_json::to_value(details)
                .map_err(|_| StoreError::unexpected("activity details not serialisable"))?,
            created_by: activity.derived.created_by.map(|u| u.as_uuid()),
            version: activity.version,
            created_at: activity.created_at,
            updated_at: activity.updated_at,
        })
    }
}

/// An activity from its row and its linked processor ids (sorted).
fn activity_from(
    row: ActivityRow,
    processor_ids: Vec<ProcessorId>,
) -> Result<ProcessingActivity, StoreError> {
    let details: ActivityDetails =
        serde_json::from_value(row.details).map_err(|_| corrupt("stored activity details"))?;
    Ok(ProcessingActivity {
        id: Id::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields: ActivityFields {
            name: row.name,
            description: details.description,
            role: stored_enum(&row.role, "stored activity role")?,
            controller_name: details.controller_name,
            controller_contact: details.controller_contact,
            purposes: details.purposes,
            data_subject_categories: details.data_subject_categories,
            data_categories: details.data_categories,
            recipient_categories: details.recipient_categories,
            transfers: details.transfers,
            security_measures: details.security_measures,
            data_source: details.data_source,
            automated_decision_making: details.automated_decision_making,
            automated_decision_details: details.automated_decision_details,
            dpia_required: details.dpia_required,
            dpia_reason: details.dpia_reason,
            owner_id: row.owner_id.map(UserId::from_uuid),
            department: details.department,
            processor_ids,
            status: stored_enum(&row.status, "stored activity status")?,
            review_date: row.review_date,
        },
        derived: ActivityDerived {
            created_by: row.created_by.map(UserId::from_uuid),
            missing: Vec::new(),
        },
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The processor ids linked to each of `activity_ids` (all of the tenant's when `None`),
/// sorted.
async fn links_of(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    activity_ids: Option<Vec<Uuid>>,
) -> Result<HashMap<Uuid, Vec<Uuid>>, DbError> {
    let mut query = links::table
        .filter(links::tenant_id.eq(tenant))
        .select((links::activity_id, links::processor_id))
        .into_boxed();
    if let Some(ids) = activity_ids {
        query = query.filter(links::activity_id.eq_any(ids));
    }
    let pairs: Vec<(Uuid, Uuid)> = query
        .order((links::activity_id.asc(), links::processor_id.asc()))
        .load(conn)
        .await?;
    let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (activity, processor) in pairs {
        map.entry(activity).or_default().push(processor);
    }
    Ok(map)
}

fn with_links(
    rows: Vec<ActivityRow>,
    mut links: HashMap<Uuid, Vec<Uuid>>,
) -> Result<Vec<ProcessingActivity>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let ids = links.remove(&row.id).unwrap_or_default();
            activity_from(row, ids.into_iter().map(Id::from_uuid).collect())
        })
        .collect()
}

/// Replaces the activity's links with `processor_ids`. A processor outside the tenant
/// (or missing) fails the composite foreign key: `NotFound`, and the caller's
/// transaction rolls back.
async fn replace_links(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    activity: Uuid,
    processor_ids: &[ProcessorId],
) -> Result<(), DbError> {
    diesel::delete(
        links::table
            .filter(links::tenant_id.eq(tenant))
            .filter(links::activity_id.eq(activity)),
    )
    .execute(conn)
    .await?;
    let unique: BTreeSet<Uuid> = processor_ids.iter().map(|p| p.as_uuid()).collect();
    if unique.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = unique
        .into_iter()
        .map(|processor| {
            (
                links::tenant_id.eq(tenant),
                links::activity_id.eq(activity),
                links::processor_id.eq(processor),
            )
        })
        .collect();
    diesel::insert_into(links::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl PgRecord for Activities {
    /// What each record still lacks, given the organisation profile read in the same
    /// transaction.
    async fn derive(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        records: &mut [ProcessingActivity],
    ) -> Result<(), DbError> {
        if records.is_empty() {
            return Ok(());
        }
        let organisation = stored_profile(conn, tenant).await?;
        let profile = organisation.as_ref().map(|o| &o.profile);
        for record in records {
            record.derived.missing = activity_gaps(&record.fields, profile);
        }
        Ok(())
    }

    async fn select(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        which: Select<'_, ActivityFilter>,
    ) -> Result<Vec<ProcessingActivity>, DbError> {
        let mut q = activities::table
            .filter(activities::tenant_id.eq(tenant))
            .select(ActivityRow::as_select())
            .into_boxed();
        let rows: Vec<ActivityRow> = match which {
            Select::One(id) => q.filter(activities::id.eq(id)).load(conn).await?,
            Select::All => q.order(activities::id.asc()).load(conn).await?,
            Select::Page(query) => {
                let filter = &query.filter;
                if let Some(status) = filter.status {
                    q = q.filter(activities::status.eq(status.as_str()));
                }
                if let Some(role) = filter.role {
                    q = q.filter(activities::role.eq(role.as_str()));
                }
                if let Some(owner) = filter.owner {
                    q = q.filter(activities::owner_id.eq(owner.as_uuid()));
                }
                if let Some(basis) = filter.lawful_basis {
                    q = q
                        .filter(activities::lawful_bases.contains(vec![basis.as_str().to_owned()]));
                }
                if let Some(processor) = filter.processor {
                    q = q.filter(
                        activities::id.eq_any(
                            links::table
                                .filter(links::tenant_id.eq(tenant))
                                .filter(links::processor_id.eq(processor.as_uuid()))
                                .select(links::activity_id),
                        ),
                    );
                }
                if let Some(search) = &filter.search {
                    q = q.filter(activities::name.ilike(contains_pattern(search)));
                }
                let q = keyset!(
                    q,
                    activities,
                    "processing_activities.name",
                    query.sort,
                    query.after.as_ref()
                )?;
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        let ids = rows.iter().map(|r| r.id).collect();
        let links = links_of(conn, tenant, Some(ids)).await?;
        Ok(with_links(rows, links)?)
    }

    async fn insert_row(
        conn: &mut AsyncPgConnection,
        activity: &ProcessingActivity,
    ) -> Result<(), DbError> {
        let row = ActivityRow::try_from(activity)?;
        let (tenant, id) = (row.tenant_id, row.id);
        diesel::insert_into(activities::table)
            .values(row)
            .execute(conn)
            .await?;
        replace_links(conn, tenant, id, &activity.fields.processor_ids).await
    }

    async fn update_row(
        conn: &mut AsyncPgConnection,
        activity: &ProcessingActivity,
        expected_version: i32,
    ) -> Result<usize, DbError> {
        let row = ActivityRow::try_from(activity)?;
        let (tenant, id) = (row.tenant_id, row.id);
        let updated = diesel::update(
            activities::table
                .filter(activities::tenant_id.eq(tenant))
                .filter(activities::id.eq(id))
                .filter(activities::version.eq(expected_version)),
        )
        .set(ActivityChanges::from(row))
        .execute(conn)
        .await?;
        if updated > 0 {
            replace_links(conn, tenant, id, &activity.fields.processor_ids).await?;
        }
        Ok(updated)
    }

    /// The links go with the activity (ON DELETE CASCADE).
    async fn delete_row(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        id: Uuid,
        expected_version: i32,
    ) -> Result<usize, DbError> {
        Ok(diesel::delete(
            activities::table
                .filter(activities::tenant_id.eq(tenant))
                .filter(activities::id.eq(id))
                .filter(activities::version.eq(expected_version)),
        )
        .execute(conn)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::ActivityDetails;

    /// A row as shape 1 stored it (before rows carried `v`) reads back in full.
    #[test]
    fn stored_shape_1_stays_readable() {
        let stored = serde_json::json!({
            "description": "Monthly payroll", "controller_name": null,
            "controller_contact": null,
            "purposes": [{"description": "Paying salaries", "lawful_basis": "contract",
                          "legitimate_interest": null}],
            "data_subject_categories": ["employees"],
            "data_categories": [{"name": "health data", "special_category": "employment_social_security",
                                 "criminal_offence_data": false, "retention": "6 years"}],
            "recipient_categories": ["tax office"],
            "transfers": [{"country": "US", "recipient": "Payroll Inc.",
                           "mechanism": "standard_contractual_clauses", "safeguards": null}],
            "security_measures": "encryption", "data_source": null,
            "automated_decision_making": false, "automated_decision_details": null,
            "dpia_required": "to_assess", "dpia_reason": null, "department": "HR"
        });
        let details: ActivityDetails = serde_json::from_value(stored).expect("shape 1 reads");
        assert_eq!(details.v, 1);
        assert_eq!(details.purposes[0].description, "Paying salaries");
        assert_eq!(
            details.data_categories[0].retention.as_deref(),
            Some("6 years")
        );
        assert_eq!(
            details.transfers[0].recipient.as_deref(),
            Some("Payroll Inc.")
        );
        assert_eq!(details.department.as_deref(), Some("HR"));
    }
}
