//! Data-subject requests on PostgreSQL (the kernel's [`PgRecord`]). The person, the agent
//! and the scope are sealed ([`aura_shared_kernel::PersonalDataSeal`], bound to the
//! tenant and the row) before they reach the table; the subject's e-mail is kept only as
//! a keyed hash for exact lookups. References are numbered per tenant and year in the
//! insert's transaction.

use aura_records::Id;
use aura_requests::{
    ChecklistItem,
    request::{
        Agent, Answer, DataSubject, DataSubjectRequest, Extension, IdentityVerification,
        RequestFields, RequestFilter, RequestState, RequestStatus, Requests,
    },
};
use aura_shared_kernel::{StoreError, TenantId, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    json::StoredJson,
    registers::{
        fetch_limit, keyset, names_where,
        records::{PgRecord, RowContext, Select, assign_number, keep_number},
        stored_enum,
    },
    rows::{Statement, at_version},
    schema::data_subject_requests as requests,
};

/// What the seal covers: the person, the agent and the scope, as one JSON document. `v`
/// names the shape.
#[derive(Debug, Serialize, Deserialize)]
struct SealedParts {
    v: u16,
    subject: DataSubject,
    agent: Option<Agent>,
    scope: Option<String>,
}

/// The case's state that no filter reads, as jsonb (the storage shape).
#[derive(Debug, Serialize, Deserialize)]
struct RequestDetails {
    v: u16,
    /// The offset `received_at` was given with: the clock counts from the date there,
    /// and the column keeps only the instant.
    received_offset_seconds: i32,
    identity: IdentityVerification,
    #[serde(with = "aura_gdpr_registers::text::iso_date::option")]
    clock_starts_on: Option<Date>,
    extension: Option<Extension>,
    answer: Option<Answer>,
    #[serde(default)]
    checklist: Vec<ChecklistItem>,
}

const SHAPE: u16 = 1;

/// A request's row: the keys and creation facts, and what an update replaces.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = requests, check_for_backend(diesel::pg::Pg))]
struct RequestRow {
    tenant_id: Uuid,
    id: Uuid,
    reference: String,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    #[diesel(embed)]
    changes: RequestChanges,
}

/// What an update replaces: everything but the keys, the reference and creation facts.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = requests, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct RequestChanges {
    channel: String,
    received_at: OffsetDateTime,
    status: String,
    rights: Vec<String>,
    subject_category: String,
    assignee_id: Option<Uuid>,
    first_due_on: Option<Date>,
    due_on: Option<Date>,
    closed_at: Option<OffsetDateTime>,
    sealed: Vec<u8>,
    email_lookup: Option<Vec<u8>>,
    details: StoredJson,
    /// The domain's [`aura_requests::pseudonym::is_pseudonymised`], for the retention
    /// job's query (the person itself is sealed).
    pseudonymised: bool,
    version: i32,
    updated_at: OffsetDateTime,
}

/// What the seal binds a row's sealed parts to: one row's ciphertext does not open as
/// another's.
fn seal_context(id: Uuid) -> Vec<u8> {
    let mut context = b"data_subject_request:".to_vec();
    context.extend_from_slice(id.as_bytes());
    context
}

/// The purpose the e-mail lookup hash is keyed for, and the e-mail as it is compared
/// (exact, ignoring case and surrounding blanks).
const EMAIL_LOOKUP: &[u8] = b"data_subject_request.email";

pub(crate) fn email_lookup(cx: RowContext<'_>, email: &str) -> Vec<u8> {
    let normalised = email.trim().to_lowercase();
    cx.seal
        .lookup_hash(cx.tenant_id(), EMAIL_LOOKUP, normalised.as_bytes())
        .to_vec()
}

fn row_of(request: &DataSubjectRequest, cx: RowContext<'_>) -> Result<RequestRow, StoreError> {
    let (f, d) = (&request.fields, &request.derived);
    let id = request.id.as_uuid();
    let parts = SealedParts {
        v: SHAPE,
        subject: f.subject.clone(),
        agent: f.agent.clone(),
        scope: f.scope.clone(),
    };
    let plain = serde_json::to_vec(&parts)
        .map_err(|_| StoreError::unexpected("request parts not serialisable"))?;
    let sealed = (cx.seal.seal(cx.tenant_id(), &seal_context(id), &plain))
        .map_err(|_| StoreError::unexpected("request parts could not be sealed"))?;
    let details = RequestDetails {
        v: SHAPE,
        received_offset_seconds: f.received_at.offset().whole_seconds(),
        identity: d.identity.clone(),
        clock_starts_on: d.clock_starts_on,
        extension: d.extension.clone(),
        answer: d.answer.clone(),
        checklist: d.checklist.clone(),
    };
    Ok(RequestRow {
        tenant_id: request.tenant_id.as_uuid(),
        id,
        reference: d.reference.clone(),
        created_by: d.created_by.map(|u| u.as_uuid()),
        created_at: request.created_at,
        changes: RequestChanges {
            channel: f.channel.as_str().to_owned(),
            received_at: f.received_at,
            status: d.status.as_str().to_owned(),
            rights: f.rights.iter().map(|r| r.as_str().to_owned()).collect(),
            subject_category: f.subject.category.as_str().to_owned(),
            assignee_id: f.assignee_id.map(|u| u.as_uuid()),
            first_due_on: d.first_due_on,
            due_on: d.due_on,
            closed_at: d.closed_at,
            sealed,
            email_lookup: f.subject.email.as_deref().map(|e| email_lookup(cx, e)),
            details: StoredJson::of(&details)
                .map_err(|_| StoreError::unexpected("request details not serialisable"))?,
            pseudonymised: aura_requests::pseudonym::is_pseudonymised(f),
            version: request.version,
            updated_at: request.updated_at,
        },
    })
}

fn request_from(row: RequestRow, cx: RowContext<'_>) -> Result<DataSubjectRequest, StoreError> {
    let c = row.changes;
    let plain = (cx
        .seal
        .open(cx.tenant_id(), &seal_context(row.id), &c.sealed))
    .map_err(|_| corrupt("sealed request parts"))?;
    let parts: SealedParts =
        serde_json::from_slice(&plain).map_err(|_| corrupt("sealed request parts"))?;
    let details: RequestDetails = c
        .details
        .read()
        .map_err(|_| corrupt("stored request details"))?;
    let offset = UtcOffset::from_whole_seconds(details.received_offset_seconds)
        .map_err(|_| corrupt("stored receipt offset"))?;
    let rights = (c.rights.iter())
        .map(|r| stored_enum(r, "stored right"))
        .collect::<Result<_, _>>()?;
    Ok(DataSubjectRequest {
        id: Id::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        fields: RequestFields {
            received_at: c.received_at.to_offset(offset),
            channel: stored_enum(&c.channel, "stored channel")?,
            subject: parts.subject,
            agent: parts.agent,
            rights,
            scope: parts.scope,
            assignee_id: c.assignee_id.map(UserId::from_uuid),
        },
        derived: RequestState {
            reference: row.reference,
            status: stored_enum(&c.status, "stored request status")?,
            identity: details.identity,
            clock_starts_on: details.clock_starts_on,
            first_due_on: c.first_due_on,
            extension: details.extension,
            due_on: c.due_on,
            answer: details.answer,
            closed_at: c.closed_at,
            created_by: row.created_by.map(UserId::from_uuid),
            checklist: details.checklist,
        },
        version: c.version,
        created_at: row.created_at,
        updated_at: c.updated_at,
    })
}

#[async_trait::async_trait]
impl PgRecord for Requests {
    const TABLE: &'static str = "data_subject_requests";

    async fn select(
        conn: &mut AsyncPgConnection,
        cx: RowContext<'_>,
        which: Select<'_, RequestFilter>,
    ) -> Result<Vec<DataSubjectRequest>, DbError> {
        let mut q = requests::table
            .filter(requests::tenant_id.eq(cx.tenant))
            .select(RequestRow::as_select())
            .into_boxed();
        let rows: Vec<RequestRow> = match which {
            Select::One(id) => q.filter(requests::id.eq(id)).load(conn).await?,
            Select::All => q.order(requests::id.asc()).load(conn).await?,
            Select::Page(query) => {
                let filter = &query.filter;
                if let Some(status) = filter.status {
                    q = q.filter(requests::status.eq(status.as_str()));
                }
                if let Some(right) = filter.right {
                    q = q.filter(requests::rights.contains(vec![right.as_str().to_owned()]));
                }
                if let Some(assignee) = filter.assignee {
                    q = q.filter(requests::assignee_id.eq(assignee.as_uuid()));
                }
                if let Some(by) = filter.due_by {
                    q = q.filter(requests::due_on.le(by));
                }
                if let Some(on) = filter.overdue_on {
                    q = q
                        .filter(requests::due_on.lt(on))
                        .filter(requests::status.eq_any(names_where(RequestStatus::is_open)));
                }
                if let Some(email) = &filter.email {
                    q = q.filter(requests::email_lookup.eq(email_lookup(cx, email)));
                }
                // The "name" of the name sorts is the channel: the person's name is sealed.
                let q = keyset!(
                    q,
                    requests,
                    "data_subject_requests.channel",
                    query.sort,
                    query.after.as_ref(),
                    due: requests::due_on
                )?;
                q.limit(fetch_limit(query.limit)).load(conn).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| request_from(row, cx))
            .collect::<Result<_, _>>()?)
    }

    /// The next reference of the tenant and the year of receipt.
    async fn assign(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        request: &mut DataSubjectRequest,
    ) -> Result<(), DbError> {
        assign_number(conn, tenant, request).await
    }

    async fn keep_assigned(
        conn: &mut AsyncPgConnection,
        tenant: Uuid,
        request: &mut DataSubjectRequest,
    ) -> Result<(), DbError> {
        keep_number(conn, tenant, request).await
    }

    fn insert(
        request: &DataSubjectRequest,
        cx: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        Ok(diesel::insert_into(requests::table).values(row_of(request, cx)?))
    }

    fn update(
        request: &DataSubjectRequest,
        expected: i32,
        cx: RowContext<'_>,
    ) -> Result<impl Statement, StoreError> {
        let row = row_of(request, cx)?;
        let key = (row.tenant_id, row.id);
        let target = at_version(requests::table, requests::version, key, expected);
        Ok(diesel::update(target).set(row.changes))
    }
}
