//! Personal-data breaches on PostgreSQL (the kernel's [`PgRecord`]): the columns lists
//! filter and sort on, the rest of the record as versioned jsonb. References are numbered
//! per tenant and year of awareness in the insert's transaction.

use std::sync::Arc;

use aura_breaches::{
    Breach, BreachFields, BreachFilter, BreachGap, BreachState, BreachStatus, Breaches,
    ContactInEffect, FromRegister, NotNotifiedDecision, NotificationPhase, RiskAssessment,
    SubjectCommunication, breach::due_on,
};
use aura_records::{Id, RecordStore};
use aura_shared_kernel::{LocalInstant, StoreError, TenantId, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    json::StoredJson,
    registers::{
        contains_pattern, fetch_limit, keyset, names_where,
        records::{PgRecord, RowContext, Select, assign_number, keep_number},
        stored_enum,
    },
    rows::{Statement, at_version},
    schema::personal_data_breaches as breaches,
    stores::PgStores,
};

impl PgStores {
    pub fn breaches(&self) -> Arc<dyn RecordStore<Breaches>> {
        Arc::new(self.clone())
    }
}

/// What no filter reads, as jsonb (the storage shape; `v` names it).
#[derive(Debug, Serialize, Deserialize)]
struct BreachDetails {
    v: u16,
    description: Option<String>,
    discovery: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    occurred_from: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    occurred_to: Option<OffsetDateTime>,
    data_subject_categories: Vec<String>,
    approximate_subjects: Option<i64>,
    data_categories: Vec<String>,
    approximate_records: Option<i64>,
    consequences: Option<String>,
    measures: Option<String>,
    contact_point: Option<String>,
    risk: Option<RiskAssessment>,
    notifications: Vec<NotificationPhase>,
    not_notified: Option<NotNotifiedDecision>,
    communication: Option<SubjectCommunication>,
    closed_by: Option<Uuid>,
    /// What the record lacked when written (the domain derives it on every write).
    missing: Vec<BreachGap>,
    /// The deadline in the organisation's zone when written; absent in rows written
    /// before it was derived.
    #[serde(default)]
    authority_deadline_local: Option<LocalInstant>,
    /// The contact point and the register's view when written; absent in rows written
    /// before they were derived.
    #[serde(default)]
    contact_point_in_effect: Option<ContactInEffect>,
    #[serde(default)]
    from_register: FromRegister,
}

const SHAPE: u16 = 1;

/// A breach's row: the keys and creation facts, and what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = breaches, check_for_backend(diesel::pg::Pg))]
struct BreachRow {
    tenant_id: Uuid,
    id: Uuid,
    reference: String,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: BreachChanges,
}

/// What an update replaces: everything but the keys, the reference and creation facts.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = breaches, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct BreachChanges {
    title: String,
    status: String,
    became_aware_at: OffsetDateTime,
    authority_deadline: OffsetDateTime,
    due_on: Date,
    risk: Option<String>,
    notified_at: Option<OffsetDateTime>,
    drill: bool,
    kinds: Vec<String>,
    activity_ids: Vec<Uuid>,
    processor_ids: Vec<Uuid>,
    owner_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    closed_at: Option<OffsetDateTime>,
    details: StoredJson,
    version: i32,
    updated_at: OffsetDateTime,
}

fn row_of(breach: &Breach) -> Result<BreachRow, StoreError> {
    let (f, d) = (&breach.fields, &breach.derived);
    let details = BreachDetails {
        v: SHAPE,
        description: f.description.clone(),
        discovery: f.discovery.clone(),
        occurred_from: f.occurred_from,
        occurred_to: f.occurred_to,
        data_subject_categories: f.data_subject_categories.clone(),
        approximate_subjects: f.approximate_subjects,
        data_categories: f.data_categories.clone(),
        approximate_records: f.approximate_records,
        consequences: f.consequences.clone(),
        measures: f.measures.clone(),
        contact_point: f.contact_point.clone(),
        risk: d.risk.clone(),
        notifications: d.notifications.clone(),
        not_notified: d.not_notified.clone(),
        communication: d.communication.clone(),
        closed_by: d.closed_by.map(|u| u.as_uuid()),
        missing: d.missing.clone(),
        authority_deadline_local: d.authority_deadline_local.clone(),
        contact_point_in_effect: d.contact_point_in_effect.clone(),
        from_register: d.from_register.clone(),
    };
    Ok(BreachRow {
        tenant_id: breach.tenant_id.as_uuid(),
        id: breach.id.as_uuid(),
        reference: d.reference.clone(),
        created_by: d.created_by.map(|u| u.as_uuid()),
        created_at: breach.created_at,
        changes: BreachChanges {
            title: f.title.clone(),
            status: d.status.as_str().to_owned(),
            became_aware_at: f.became_aware_at,
            authority_deadline: d.authority_deadline,
            due_on: due_on(d),
            risk: d.risk_level().map(|r| r.as_str().to_owned()),
            notified_at: d.notified_at(),
            drill: f.drill,
            kinds: f.kinds.iter().map(|k| k.as_str().to_owned()).collect(),
            activity_ids: f.activity_ids.iter().map(|a| a.as_uuid()).collect(),
            processor_ids: f.processor_ids.iter().map(|p| p.as_uuid()).collect(),
            owner_id: f.owner_id.map(|u| u.as_uuid()),
            assignee_id: f.assignee_id.map(|u| u.as_uuid()),
            closed_at: d.closed_at,
            details: StoredJson::of(&details)
                .map_err(|_| StoreError::unexpected("breach details not serialisable"))?,
            version: breach.version,
            updated_at: breach.updated_at,
        },
    })
}

fn breach_from(row: BreachRow) -> Result<Breach, StoreError> {
    let c = row.changes;
    let details: BreachDetails = c
        .details
        .read()
        .map_err(|_| corrupt("stored breach details"))?;
    let kinds = (c.kinds.iter())
        .map(|k| stored_enum(k, "stored breach kind"))
        .collect::<Result<_, _>>()?;
    let fields = BreachFields {
        title: c.title,
        description: details.description,
        discovery: details.discovery,
        became_aware_at: c.became_aware_at,
        occurred_from: details.occurred_from,
        occurred_to: details.occurred_to,
        kinds,
        data_subject_categories: details.data_subject_categories,
        approximate_subjects: details.approximate_subjects,
        data_categories: details.data_categories,
        approximate_records: details.approximate_records,
        activity_ids: c.activity_ids.into_iter().map(Id::from_uuid).collect(),
        processor_ids: c.processor_ids.into_iter().map(Id::from_uuid).collect(),
        consequences: details.consequences,
        measures: details.measures,
        contact_point: details.contact_point,
        drill: c.drill,
        owner_id: c.owner_id.map(UserId::from_uuid),
        assignee_id: c.assignee_id.map(UserId::from_uuid),
    };
    let state = BreachState {
        reference: row.reference,
        status: stored_enum::<BreachStatus>(&c.status, "stored breach status")?,
        authority_deadline: c.authority_deadline,
        authority_deadline_local: details.authority_deadline_local,
        risk: details.risk,
        notifications: details.notifications,
        not_notified: details.not_notified,
        communication: details.communication,
        closed_at: c.closed_at,
        closed_by: details.closed_by.map(UserId::from_uuid),
        created_by: row.created_by.map(UserId::from_uuid),
        contact_point_in_effect: details.contact_point_in_effect,
        from_register: details.from_register,
        missing: details.missing,
    };
    Ok(Breach {
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
impl PgRecord for Breaches {
    const TABLE: &'static str = "personal_data_breaches";

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, BreachFilter>,
    ) -> Result<Vec<Breach>, DbError> {
        let mut q = breaches::table
            .filter(breaches::tenant_id.eq(cx.tenant))
            .select(BreachRow::as_select())
            .into_boxed();
        let rows: Vec<BreachRow> = match which {
            Select::One(id) => q.filter(breaches::id.eq(id)).load(conn).await?,
            Select::All => q.order(breaches::id.asc()).load(conn).await?,
            Select::Page(query) => {
                let filter = &query.filter;
                q = q.filter(breaches::drill.eq(filter.drill));
                if let Some(status) = filter.status {
                    q = q.filter(breaches::status.eq(status.as_str()));
                }
                if let Some(risk) = filter.risk {
                    q = q.filter(breaches::risk.eq(risk.as_str()));
                }
                match filter.notified {
                    Some(true) => q = q.filter(breaches::notified_at.is_not_null()),
                    Some(false) => q = q.filter(breaches::notified_at.is_null()),
                    None => {}
                }
                if let Some(search) = &filter.search {
                    let pattern = contains_pattern(search);
                    q = q.filter(
                        breaches::title
                            .ilike(pattern.clone())
                            .or(breaches::reference.ilike(pattern)),
                    );
                }
                if let Some(now) = filter.overdue_at {
                    q = q.filter(breaches::authority_deadline.lt(now)).filter(
                        breaches::status.eq_any(names_where(BreachStatus::awaits_decision)),
                    );
                }
                let q = keyset!(
                    q,
                    breaches,
                    "personal_data_breaches.title",
                    query.sort,
                    query.after.as_ref(),
                    due: breaches::due_on
                )?;
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(breach_from)
            .collect::<Result<_, _>>()?)
    }

    /// The next reference of the tenant and the year of awareness.
    async fn assign(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        breach: &mut Breach,
    ) -> Result<(), DbError> {
        assign_number(conn, tenant, breach).await
    }

    async fn keep_assigned(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        breach: &mut Breach,
    ) -> Result<(), DbError> {
        keep_number(conn, tenant, breach).await
    }

    fn insert(breach: &Breach, _: RowContext<'_>) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(breaches::table).values(row_of(breach)?))
    }

    fn update(
        breach: &Breach,
        expected: i32,
        _: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        let row = row_of(breach)?;
        let key = (row.tenant_id, row.id);
        let target = at_version(breaches::table, breaches::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
    }
}
