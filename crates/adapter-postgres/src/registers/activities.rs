//! Processing activities on PostgreSQL (the kernel's [`PgRecord`]). An activity is one row of
//! `processing_activities` (filtered and sorted columns, the rest as jsonb `details`)
//! plus its links in `activity_processors`, replaced with every write.

use std::collections::{BTreeMap, BTreeSet};

use aura_gdpr_registers::{
    Activities, ActivityDerived, ActivityFields, ActivityFilter, DataCategory, DpiaRequirement,
    DpiaStanding, ProcessingActivity, Purpose, Transfer, activity_missing,
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
    links::{End, linked_ids, replace_links},
    organisation::stored_profile,
    records::{PgRecord, RowContext, Select},
    stored_enum,
};
use crate::{
    error::{DbError, corrupt},
    json::StoredJson,
    prepared::fixed,
    rows::{Statement, at_version},
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

/// An activity's row: the keys and creation facts, and what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
struct ActivityRow {
    tenant_id: Uuid,
    id: Uuid,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: ActivityChanges,
}

/// What an update replaces: everything but the keys and the creation facts.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct ActivityChanges {
    name: String,
    role: String,
    status: String,
    owner_id: Option<Uuid>,
    review_date: Option<Date>,
    lawful_bases: Vec<String>,
    details: StoredJson,
    version: i32,
    updated_at: OffsetDateTime,
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
            created_by: activity.derived.created_by.map(|u| u.as_uuid()),
            created_at: activity.created_at,
            changes: ActivityChanges {
                name: f.name.clone(),
                role: f.role.as_str().to_owned(),
                status: f.status.as_str().to_owned(),
                owner_id: f.owner_id.map(|u| u.as_uuid()),
                review_date: f.review_date,
                lawful_bases: lawful_bases.into_iter().map(str::to_owned).collect(),
                details: StoredJson::of(&details)
                    .map_err(|_| StoreError::unexpected("activity details not serialisable"))?,
                version: activity.version,
                updated_at: activity.updated_at,
            },
        })
    }
}

/// An activity from its row and its linked processor ids (sorted).
fn activity_from(
    row: ActivityRow,
    processor_ids: Vec<Uuid>,
) -> Result<ProcessingActivity, StoreError> {
    let c = row.changes;
    let details: ActivityDetails = c
        .details
        .read()
        .map_err(|_| corrupt("stored activity details"))?;
    Ok(ProcessingActivity {
        id: Id::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields: ActivityFields {
            name: c.name,
            description: details.description,
            role: stored_enum(&c.role, "stored activity role")?,
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
            owner_id: c.owner_id.map(UserId::from_uuid),
            department: details.department,
            processor_ids: processor_ids.into_iter().map(Id::from_uuid).collect(),
            status: stored_enum(&c.status, "stored activity status")?,
            review_date: c.review_date,
        },
        derived: ActivityDerived {
            created_by: row.created_by.map(UserId::from_uuid),
            missing: Vec::new(),
        },
        version: c.version,
        created_at: row.created_at,
        updated_at: c.updated_at,
    })
}

/// What the approved DPIAs covering the activities among `ids` say of them (Art. 35(1),
/// 36), read in the caller's transaction: covered, and waiting for the answer to a prior
/// consultation (a residual high risk, its consultation recorded without an answer — the
/// reading of `aura_dpias::consultation_pending` on the stored row).
async fn approved_dpias(
    mut conn: &AsyncPgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, DpiaStanding>, DbError> {
    use crate::schema::dpias;
    use diesel::sql_types::Bool;
    let pending = fixed::<Bool>(
        "(dpias.residual_level IS NOT DISTINCT FROM 'high' \
          AND jsonb_typeof(dpias.details -> 'prior_consultation') = 'object' \
          AND (dpias.details #>> '{prior_consultation,answered_on}') IS NULL)",
    );
    let covered: Vec<(Vec<Uuid>, bool)> = dpias::table
        .filter(dpias::tenant_id.eq(tenant))
        .filter(dpias::status.eq("approved"))
        .filter(dpias::activity_ids.overlaps_with(ids))
        .select((dpias::activity_ids, pending))
        .load(&mut conn)
        .await?;
    let mut standing: BTreeMap<Uuid, DpiaStanding> = BTreeMap::new();
    for (activities, pending) in covered {
        for id in activities.into_iter().filter(|id| ids.contains(id)) {
            let entry = standing.entry(id).or_default();
            entry.approved = true;
            entry.consultation_pending |= pending;
        }
    }
    Ok(standing)
}

#[async_trait::async_trait]
impl PgRecord for Activities {
    const TABLE: &'static str = "processing_activities";

    /// What each record still lacks, given the organisation profile and the approved
    /// DPIAs read in the same transaction.
    async fn derive(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        records: &mut [ProcessingActivity],
    ) -> Result<(), DbError> {
        if records.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = records.iter().map(|r| r.id.as_uuid()).collect();
        // Two independent reads, pipelined: one round trip for both.
        let (organisation, approved) = tokio::try_join!(
            stored_profile(conn, tenant),
            approved_dpias(conn, tenant, &ids)
        )?;
        let profile = organisation.as_ref().map(|o| &o.profile);
        for record in records {
            let dpia = (approved.get(&record.id.as_uuid()).copied()).unwrap_or_default();
            record.derived.missing = activity_missing(&record.fields, profile, dpia);
        }
        Ok(())
    }

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, ActivityFilter>,
    ) -> Result<Vec<ProcessingActivity>, DbError> {
        let tenant = cx.tenant;
        let mut q = activities::table
            .filter(activities::tenant_id.eq(tenant))
            .select((ActivityRow::as_select(), linked_ids(End::Activity)))
            .into_boxed();
        let rows: Vec<(ActivityRow, Vec<Uuid>)> = match which {
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
        let records = rows.into_iter().map(|(row, ids)| activity_from(row, ids));
        Ok(records.collect::<Result<_, StoreError>>()?)
    }

    fn insert(
        activity: &ProcessingActivity,
        _: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(activities::table).values(ActivityRow::try_from(activity)?))
    }

    fn update(
        activity: &ProcessingActivity,
        expected: i32,
        _: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        let row = ActivityRow::try_from(activity)?;
        let key = (row.tenant_id, row.id);
        let target = at_version(activities::table, activities::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
    }

    /// The links to processors, replaced with every write.
    async fn write_owned(
        conn: &mut AsyncPgConnection,
        activity: &ProcessingActivity,
    ) -> Result<(), DbError> {
        let (tenant, id) = (activity.tenant_id.as_uuid(), activity.id.as_uuid());
        // Version 1 is written only by the insert: the row is new and owns no links yet.
        let fresh = activity.version == 1;
        replace_links(conn, tenant, id, fresh, &activity.fields.processor_ids).await
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
