//! DPIAs on PostgreSQL (the kernel's [`PgRecord`]): the columns lists filter and sort on,
//! the covered activities also as link rows (their foreign keys keep a covered activity),
//! the rest of the record as versioned jsonb.

use std::{collections::BTreeSet, sync::Arc};

use aura_dpias::{
    Dpia, DpiaFields, DpiaFilter, DpiaGap, DpiaState, DpiaStatus, Dpias, DpoAdvice, Measure,
    NecessityItem, PriorConsultation, ProcessingSummary, Risk,
};
use aura_records::{Id, RecordStore};
use aura_shared_kernel::{StoreError, TenantId, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    json::StoredJson,
    registers::{
        fetch_limit, keyset,
        records::{PgRecord, RowContext, Select},
        stored_enum,
    },
    rows::{Statement, at_version},
    schema::{dpia_activities as links, dpias},
    stores::PgStores,
};

impl PgStores {
    pub fn dpias(&self) -> Arc<dyn RecordStore<Dpias>> {
        Arc::new(self.clone())
    }
}

/// What no filter reads, as jsonb (the storage shape; `v` names it).
#[derive(Debug, Serialize, Deserialize)]
struct DpiaDetails {
    v: u16,
    description: Option<String>,
    necessity: Vec<NecessityItem>,
    risks: Vec<Risk>,
    measures: Vec<Measure>,
    dpo_advice: Option<DpoAdvice>,
    subject_views: Option<String>,
    subject_views_not_sought: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    submitted_at: Option<OffsetDateTime>,
    submitted_by: Option<Uuid>,
    approved_by: Option<Uuid>,
    sent_back_reason: Option<String>,
    prior_consultation: Option<PriorConsultation>,
    /// The Art. 35(7)(a) pre-fill as of the write.
    processing: ProcessingSummary,
    /// What the record lacked when written (the domain derives it on every write).
    missing: Vec<DpiaGap>,
}

const SHAPE: u16 = 1;

/// A DPIA's row: the keys and creation facts, and what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dpias, check_for_backend(diesel::pg::Pg))]
struct DpiaRow {
    tenant_id: Uuid,
    id: Uuid,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: DpiaChanges,
}

/// What an update replaces: everything but the keys and creation facts.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dpias, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct DpiaChanges {
    title: String,
    status: String,
    revision: i32,
    revision_of: Option<Uuid>,
    activity_ids: Vec<Uuid>,
    review_date: Option<Date>,
    residual_level: Option<String>,
    owner_id: Option<Uuid>,
    approved_at: Option<OffsetDateTime>,
    details: StoredJson,
    version: i32,
    updated_at: OffsetDateTime,
}

fn row_of(dpia: &Dpia) -> Result<DpiaRow, StoreError> {
    let (f, d) = (&dpia.fields, &dpia.derived);
    let details = DpiaDetails {
        v: SHAPE,
        description: f.description.clone(),
        necessity: f.necessity.clone(),
        risks: f.risks.clone(),
        measures: f.measures.clone(),
        dpo_advice: f.dpo_advice.clone(),
        subject_views: f.subject_views.clone(),
        subject_views_not_sought: f.subject_views_not_sought.clone(),
        submitted_at: d.submitted_at,
        submitted_by: d.submitted_by.map(|u| u.as_uuid()),
        approved_by: d.approved_by.map(|u| u.as_uuid()),
        sent_back_reason: d.sent_back_reason.clone(),
        prior_consultation: d.prior_consultation.clone(),
        processing: d.processing.clone(),
        missing: d.missing.clone(),
    };
    Ok(DpiaRow {
        tenant_id: dpia.tenant_id.as_uuid(),
        id: dpia.id.as_uuid(),
        created_by: d.created_by.map(|u| u.as_uuid()),
        created_at: dpia.created_at,
        changes: DpiaChanges {
            title: f.title.clone(),
            status: d.status.as_str().to_owned(),
            revision: d.revision,
            revision_of: f.revision_of.map(|r| r.as_uuid()),
            activity_ids: f.activity_ids.iter().map(|a| a.as_uuid()).collect(),
            review_date: f.review_date,
            residual_level: d.residual_level.map(|l| l.as_str().to_owned()),
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            approved_at: d.approved_at,
            details: StoredJson::of(&details)
                .map_err(|_| StoreError::unexpected("DPIA details not serialisable"))?,
            version: dpia.version,
            updated_at: dpia.updated_at,
        },
    })
}

fn dpia_from(row: DpiaRow) -> Result<Dpia, StoreError> {
    let c = row.changes;
    let details: DpiaDetails = c
        .details
        .read()
        .map_err(|_| corrupt("stored DPIA details"))?;
    let fields = DpiaFields {
        title: c.title,
        activity_ids: c.activity_ids.into_iter().map(Id::from_uuid).collect(),
        description: details.description,
        necessity: details.necessity,
        risks: details.risks,
        measures: details.measures,
        dpo_advice: details.dpo_advice,
        subject_views: details.subject_views,
        subject_views_not_sought: details.subject_views_not_sought,
        review_date: c.review_date,
        owner_id: c.owner_id.map(UserId::from_uuid),
        revision_of: c.revision_of.map(Id::from_uuid),
    };
    let state = DpiaState {
        status: stored_enum::<DpiaStatus>(&c.status, "stored DPIA status")?,
        revision: c.revision,
        created_by: row.created_by.map(UserId::from_uuid),
        submitted_at: details.submitted_at,
        submitted_by: details.submitted_by.map(UserId::from_uuid),
        approved_at: c.approved_at,
        approved_by: details.approved_by.map(UserId::from_uuid),
        sent_back_reason: details.sent_back_reason,
        prior_consultation: details.prior_consultation,
        processing: details.processing,
        residual_level: (c.residual_level.as_deref())
            .map(|l| stored_enum(l, "stored DPIA residual level"))
            .transpose()?,
        missing: details.missing,
    };
    Ok(Dpia {
        id: Id::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields,
        derived: state,
        version: c.version,
        created_at: row.created_at,
        updated_at: c.updated_at,
    })
}

#[async_trait::async_trait]
impl PgRecord for Dpias {
    const TABLE: &'static str = "dpias";

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, DpiaFilter>,
    ) -> Result<Vec<Dpia>, DbError> {
        let mut q = dpias::table
            .filter(dpias::tenant_id.eq(cx.tenant))
            .select(DpiaRow::as_select())
            .into_boxed();
        let rows: Vec<DpiaRow> = match which {
            Select::One(id) => q.filter(dpias::id.eq(id)).load(conn).await?,
            Select::All => q.order(dpias::id.asc()).load(conn).await?,
            Select::Page(query) => {
                let filter = &query.filter;
                if let Some(status) = filter.status {
                    q = q.filter(dpias::status.eq(status.as_str()));
                }
                if let Some(activity) = filter.activity {
                    let covering = links::table
                        .filter(links::tenant_id.eq(cx.tenant))
                        .filter(links::activity_id.eq(activity.as_uuid()))
                        .select(links::dpia_id);
                    q = q.filter(dpias::id.eq_any(covering));
                }
                if let Some(day) = filter.review_due_on {
                    q = q.filter(dpias::review_date.le(day));
                }
                if let Some(level) = filter.residual {
                    q = q.filter(dpias::residual_level.eq(level.as_str()));
                }
                let q = keyset!(
                    q,
                    dpias,
                    "dpias.title",
                    query.sort,
                    query.after.as_ref(),
                    due: dpias::review_date
                )?;
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        Ok(rows.into_iter().map(dpia_from).collect::<Result<_, _>>()?)
    }

    fn insert(dpia: &Dpia, _: RowContext<'_>) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(dpias::table).values(row_of(dpia)?))
    }

    fn update(dpia: &Dpia, expected: i32, _: RowContext<'_>) -> Result<impl Statement, StoreError> {
        let row = row_of(dpia)?;
        let key = (row.tenant_id, row.id);
        let target = at_version(dpias::table, dpias::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
    }

    /// The covered activities as link rows (replaced on every write).
    async fn write_owned(conn: &mut AsyncPgConnection, dpia: &Dpia) -> Result<(), DbError> {
        let (tenant, id) = (dpia.tenant_id.as_uuid(), dpia.id.as_uuid());
        // Version 1 is written only by the insert: the row is new and owns no links yet.
        if dpia.version != 1 {
            diesel::delete(
                links::table
                    .filter(links::tenant_id.eq(tenant))
                    .filter(links::dpia_id.eq(id)),
            )
            .execute(conn)
            .await?;
        }
        let unique: BTreeSet<Uuid> = dpia
            .fields
            .activity_ids
            .iter()
            .map(|a| a.as_uuid())
            .collect();
        let rows: Vec<_> = unique
            .into_iter()
            .map(|activity| {
                (
                    links::tenant_id.eq(tenant),
                    links::dpia_id.eq(id),
                    links::activity_id.eq(activity),
                )
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(links::table)
                .values(rows)
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}
