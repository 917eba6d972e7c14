//! The AI assistant's ports (`aura_ai_port::ports`) on PostgreSQL: `ai_suggestions`
//! (content and citations as jsonb, provenance in columns) and the `ai_usage` counter.
//! Same rules as the register ports: one `in_tenant` transaction per call, writes seal
//! their audit event in it, queries filter by `tenant_id` besides row-level security.

use std::sync::Arc;

use aura_ai_port::{
    AiUsage, Citation, Provenance, Suggestion, SuggestionContent, SuggestionQuery,
    SuggestionRepository, UsageLimits,
};
use aura_audit::PendingEvent;
use aura_dpias::{NecessityItem, Risk};
use aura_gdpr_registers::{
    ActivityFields, ActivityRole, ActivityStatus, DataCategory, DpiaRequirement, PolicyKind,
    Purpose, Transfer,
};
use aura_records::Id;
use aura_shared_kernel::{Page, StoreError, TenantId, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    models::convert_all,
    pool::in_tenant,
    registers::{fetch_limit, stored_enum},
    rows::{at_version, expect_changed, in_scope, new_in_scope},
    schema::{ai_suggestions as suggestions, ai_usage as usage},
    stores::PgStores,
};

/// What rows written before a persistence struct had a version carry.
fn first_version() -> u16 {
    1
}

/// A suggestion's `content` as stored (jsonb): what was suggested under names of its
/// own, the `type` beside the fields. Read into [`SuggestionContent`], never the domain
/// or API type stored directly, so renaming either never makes a stored row unreadable.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StoredContent {
    PolicyDraft {
        #[serde(default = "first_version")]
        v: u16,
        policy_id: Option<Uuid>,
        title: String,
        policy_kind: PolicyKind,
        text: String,
    },
    ActivitySuggestion {
        #[serde(default = "first_version")]
        v: u16,
        description: String,
        fields: Box<StoredActivityFields>,
        rationale: String,
    },
    Answer {
        #[serde(default = "first_version")]
        v: u16,
        question: String,
        text: String,
    },
    BreachMeasures {
        #[serde(default = "first_version")]
        v: u16,
        breach_id: Uuid,
        breach_version: i32,
        consequences: String,
        measures: String,
        rationale: String,
    },
    /// The items are the DPIA's own stored shapes (its `details` jsonb keeps them too).
    DpiaDraft {
        #[serde(default = "first_version")]
        v: u16,
        dpia_id: Uuid,
        dpia_version: i32,
        description: String,
        necessity: Vec<NecessityItem>,
        risks: Vec<Risk>,
        rationale: String,
    },
}

/// The activity fields of a stored activity suggestion. The review date is ISO text: the
/// `type` tag makes serde buffer the content, and a buffered `null` does not read back
/// through `time`'s date format.
#[derive(Debug, Serialize, Deserialize)]
struct StoredActivityFields {
    name: String,
    description: Option<String>,
    role: ActivityRole,
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
    owner_id: Option<Uuid>,
    department: Option<String>,
    processor_ids: Vec<Uuid>,
    status: ActivityStatus,
    review_date: Option<String>,
}

const ISO_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl StoredActivityFields {
    fn new(fields: ActivityFields) -> Result<Self, StoreError> {
        let review_date = fields
            .review_date
            .map(|d| d.format(ISO_DATE))
            .transpose()
            .map_err(|_| StoreError::unexpected("a review date out of ISO 8601 range"))?;
        Ok(Self {
            name: fields.name,
            description: fields.description,
            role: fields.role,
            controller_name: fields.controller_name,
            controller_contact: fields.controller_contact,
            purposes: fields.purposes,
            data_subject_categories: fields.data_subject_categories,
            data_categories: fields.data_categories,
            recipient_categories: fields.recipient_categories,
            transfers: fields.transfers,
            security_measures: fields.security_measures,
            data_source: fields.data_source,
            automated_decision_making: fields.automated_decision_making,
            automated_decision_details: fields.automated_decision_details,
            dpia_required: fields.dpia_required,
            dpia_reason: fields.dpia_reason,
            owner_id: fields.owner_id.map(|u| u.as_uuid()),
            department: fields.department,
            processor_ids: fields.processor_ids.iter().map(|p| p.as_uuid()).collect(),
            status: fields.status,
            review_date,
        })
    }

    fn into_fields(self) -> Result<ActivityFields, StoreError> {
        let review_date = self
            .review_date
            .map(|d| Date::parse(&d, ISO_DATE))
            .transpose()
            .map_err(|_| corrupt("stored suggestion review date"))?;
        Ok(ActivityFields {
            name: self.name,
            description: self.description,
            role: self.role,
            controller_name: self.controller_name,
            controller_contact: self.controller_contact,
            purposes: self.purposes,
            data_subject_categories: self.data_subject_categories,
            data_categories: self.data_categories,
            recipient_categories: self.recipient_categories,
            transfers: self.transfers,
            security_measures: self.security_measures,
            data_source: self.data_source,
            automated_decision_making: self.automated_decision_making,
            automated_decision_details: self.automated_decision_details,
            dpia_required: self.dpia_required,
            dpia_reason: self.dpia_reason,
            owner_id: self.owner_id.map(UserId::from_uuid),
            department: self.department,
            processor_ids: self.processor_ids.into_iter().map(Id::from_uuid).collect(),
            status: self.status,
            review_date,
        })
    }
}

impl StoredContent {
    fn new(content: &SuggestionContent) -> Result<Self, StoreError> {
        Ok(match content.clone() {
            SuggestionContent::PolicyDraft {
                policy_id,
                title,
                policy_kind,
                text,
            } => Self::PolicyDraft {
                v: 1,
                policy_id,
                title,
                policy_kind,
                text,
            },
            SuggestionContent::ActivitySuggestion {
                description,
                fields,
                rationale,
            } => Self::ActivitySuggestion {
                v: 1,
                description,
                fields: Box::new(StoredActivityFields::new(*fields)?),
                rationale,
            },
            SuggestionContent::Answer { question, text } => Self::Answer {
                v: 1,
                question,
                text,
            },
            SuggestionContent::BreachMeasures {
                breach_id,
                breach_version,
                consequences,
                measures,
                rationale,
            } => Self::BreachMeasures {
                v: 1,
                breach_id,
                breach_version,
                consequences,
                measures,
                rationale,
            },
            SuggestionContent::DpiaDraft {
                dpia_id,
                dpia_version,
                description,
                necessity,
                risks,
                rationale,
            } => Self::DpiaDraft {
                v: 1,
                dpia_id,
                dpia_version,
                description,
                necessity,
                risks,
                rationale,
            },
        })
    }

    fn into_content(self) -> Result<SuggestionContent, StoreError> {
        Ok(match self {
            Self::PolicyDraft {
                v: _,
                policy_id,
                title,
                policy_kind,
                text,
            } => SuggestionContent::PolicyDraft {
                policy_id,
                title,
                policy_kind,
                text,
            },
            Self::ActivitySuggestion {
                v: _,
                description,
                fields,
                rationale,
            } => SuggestionContent::ActivitySuggestion {
                description,
                fields: Box::new(fields.into_fields()?),
                rationale,
            },
            Self::Answer {
                v: _,
                question,
                text,
            } => SuggestionContent::Answer { question, text },
            Self::BreachMeasures {
                v: _,
                breach_id,
                breach_version,
                consequences,
                measures,
                rationale,
            } => SuggestionContent::BreachMeasures {
                breach_id,
                breach_version,
                consequences,
                measures,
                rationale,
            },
            Self::DpiaDraft {
                v: _,
                dpia_id,
                dpia_version,
                description,
                necessity,
                risks,
                rationale,
            } => SuggestionContent::DpiaDraft {
                dpia_id,
                dpia_version,
                description,
                necessity,
                risks,
                rationale,
            },
        })
    }
}

/// One of a suggestion's `citations` as stored (a jsonb array of these).
#[derive(Debug, Serialize, Deserialize)]
struct StoredCitation {
    #[serde(default = "first_version")]
    v: u16,
    kind: String,
    id: Uuid,
    title: String,
}

impl From<&Citation> for StoredCitation {
    fn from(c: &Citation) -> Self {
        Self {
            v: 1,
            kind: c.kind.as_str().to_owned(),
            id: c.id,
            title: c.title.clone(),
        }
    }
}

impl StoredCitation {
    fn into_citation(self) -> Result<Citation, StoreError> {
        Ok(Citation {
            kind: stored_enum(&self.kind, "stored citation kind")?,
            id: self.id,
            title: self.title,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suggestions, check_for_backend(diesel::pg::Pg))]
struct SuggestionRow {
    tenant_id: Uuid,
    id: Uuid,
    kind: String,
    status: String,
    content: serde_json::Value,
    citations: serde_json::Value,
    provider: String,
    model: String,
    template_version: String,
    record_ids: Vec<Uuid>,
    generated_at: OffsetDateTime,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    decided_by: Option<Uuid>,
    decided_at: Option<OffsetDateTime>,
    version: i32,
}

impl TryFrom<&Suggestion> for SuggestionRow {
    type Error = StoreError;
    fn try_from(s: &Suggestion) -> Result<Self, StoreError> {
        let p = &s.provenance;
        Ok(Self {
            tenant_id: s.tenant_id.as_uuid(),
            id: s.id,
            kind: s.kind.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            content: serde_json::to_value(StoredContent::new(&s.content)?)
                .map_err(|_| StoreError::unexpected("a suggestion's content is not JSON"))?,
            citations: serde_json::to_value(
                s.citations
                    .iter()
                    .map(StoredCitation::from)
                    .collect::<Vec<_>>(),
            )
            .map_err(|_| StoreError::unexpected("a suggestion's citations are not JSON"))?,
            provider: p.provider.clone(),
            model: p.model.clone(),
            template_version: p.template_version.clone(),
            record_ids: p.record_ids.clone(),
            generated_at: p.generated_at,
            created_by: s.created_by.map(|u| u.as_uuid()),
            created_at: s.created_at,
            decided_by: s.decided_by.map(|u| u.as_uuid()),
            decided_at: s.decided_at,
            version: s.version,
        })
    }
}

impl TryFrom<SuggestionRow> for Suggestion {
    type Error = StoreError;
    fn try_from(row: SuggestionRow) -> Result<Self, StoreError> {
        let content = serde_json::from_value::<StoredContent>(row.content)
            .map_err(|_| corrupt("stored suggestion content"))?
            .into_content()?;
        let citations = serde_json::from_value::<Vec<StoredCitation>>(row.citations)
            .map_err(|_| corrupt("stored suggestion citations"))?
            .into_iter()
            .map(StoredCitation::into_citation)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Suggestion {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            kind: stored_enum(&row.kind, "stored suggestion kind")?,
            status: stored_enum(&row.status, "stored suggestion status")?,
            content,
            citations,
            provenance: Provenance {
                provider: row.provider,
                model: row.model,
                template_version: row.template_version,
                record_ids: row.record_ids,
                generated_at: row.generated_at,
            },
            created_by: row.created_by.map(UserId::from_uuid),
            created_at: row.created_at,
            decided_by: row.decided_by.map(UserId::from_uuid),
            decided_at: row.decided_at,
            version: row.version,
        })
    }
}

impl PgStores {
    pub fn suggestions(&self) -> Arc<dyn SuggestionRepository> {
        Arc::new(self.clone())
    }

    pub fn ai_usage(&self) -> Arc<dyn AiUsage> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl SuggestionRepository for PgStores {
    async fn insert(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        new_in_scope(scope, suggestion.tenant_id)?;
        let row = SuggestionRow::try_from(suggestion)?;
        let insert = diesel::insert_into(suggestions::table).values(row);
        self.execute_audited(scope, event, insert).await
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Suggestion, StoreError> {
        let key = (scope.tenant_id().as_uuid(), id);
        let query = suggestions::table
            .find(key)
            .select(SuggestionRow::as_select());
        self.read_one::<SuggestionRow, _, _>(scope, query).await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        query: &SuggestionQuery,
    ) -> Result<Page<Suggestion>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let status = query.status.map(|s| s.as_str());
        let kind = query.kind.map(|k| k.as_str());
        let after = query.after;
        let limit = fetch_limit(query.limit);
        let rows: Vec<SuggestionRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            let mut q = suggestions::table
                .filter(suggestions::tenant_id.eq(tenant))
                .select(SuggestionRow::as_select())
                .into_boxed();
            if let Some(status) = status {
                q = q.filter(suggestions::status.eq(status));
            }
            if let Some(kind) = kind {
                q = q.filter(suggestions::kind.eq(kind));
            }
            if let Some(after) = after {
                q = q.filter(suggestions::id.lt(after));
            }
            Ok(q.order(suggestions::id.desc())
                .limit(limit)
                .load(conn)
                .await?)
        })
        .await?;
        let items: Vec<Suggestion> = convert_all(rows)?;
        Ok(Page::from_overfetch(items, query.limit, |s| s.id))
    }

    async fn decide(
        &self,
        scope: &TenantScope,
        suggestion: &Suggestion,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        in_scope(scope, suggestion.tenant_id)?;
        let key = (scope.tenant_id().as_uuid(), suggestion.id);
        let changes = (
            suggestions::status.eq(suggestion.status.as_str().to_owned()),
            suggestions::decided_by.eq(suggestion.decided_by.map(|u| u.as_uuid())),
            suggestions::decided_at.eq(suggestion.decided_at),
            suggestions::version.eq(suggestion.version),
        );
        self.write_audited(scope, event, async move |conn| {
            let target = at_version(
                suggestions::table,
                suggestions::version,
                key,
                expected_version,
            );
            let updated = diesel::update(target).set(changes).execute(conn).await?;
            expect_changed(conn, updated, "ai_suggestions", key).await
        })
        .await
    }
}

#[derive(QueryableByName)]
struct Used {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    used: i32,
}

/// The counter of a tenant as a whole: the user column's value on its row.
const WHOLE_TENANT: Uuid = Uuid::nil();

/// Counts one use on the row of `(tenant, window_start, user)` unless it holds `limit`
/// already: one statement, so concurrent requests never count past the limit (the
/// conflicting row is locked and re-checked before it is incremented).
async fn count_use(
    conn: &mut diesel_async::AsyncPgConnection,
    (tenant, window_start, user): (Uuid, OffsetDateTime, Uuid),
    limit: i32,
) -> Result<bool, DbError> {
    let counted: Option<Used> = diesel::sql_query(
        "INSERT INTO ai_usage (tenant_id, window_start, user_id, used) VALUES ($1, $2, $3, 1)
         ON CONFLICT (tenant_id, window_start, user_id)
         DO UPDATE SET used = ai_usage.used + 1 WHERE ai_usage.used < $4
         RETURNING used",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .bind::<diesel::sql_types::Timestamptz, _>(window_start)
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<diesel::sql_types::Integer, _>(limit)
    .get_result(conn)
    .await
    .optional()?;
    Ok(counted.is_some())
}

#[async_trait::async_trait]
impl AiUsage for PgStores {
    async fn try_acquire(
        &self,
        scope: &TenantScope,
        window_start: OffsetDateTime,
        limits: UsageLimits,
    ) -> Result<bool, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let limit = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        let (tenant_limit, user_limit) = (limit(limits.tenant), limit(limits.user));
        if tenant_limit <= 0 {
            return Ok(false);
        }
        let user = (scope.user_id())
            .filter(|_| user_limit < tenant_limit)
            .map(|user| user.as_uuid());
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // Past windows are done with.
            diesel::delete(
                usage::table
                    .filter(usage::tenant_id.eq(tenant))
                    .filter(usage::window_start.ne(window_start)),
            )
            .execute(conn)
            .await?;
            // The user's share first; a use the tenant then refuses is taken back, in
            // the same transaction.
            if let Some(user) = user
                && !count_use(conn, (tenant, window_start, user), user_limit).await?
            {
                return Ok(false);
            }
            if count_use(conn, (tenant, window_start, WHOLE_TENANT), tenant_limit).await? {
                return Ok(true);
            }
            if let Some(user) = user {
                diesel::update(
                    usage::table
                        .filter(usage::tenant_id.eq(tenant))
                        .filter(usage::window_start.eq(window_start))
                        .filter(usage::user_id.eq(user)),
                )
                .set(usage::used.eq(usage::used - 1))
                .execute(conn)
                .await?;
            }
            Ok::<bool, DbError>(false)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    /// Rows written before the persistence structs had a version (`v`) read back.
    #[test]
    fn rows_written_before_versions_read_back() {
        let owner = Uuid::now_v7();
        let activity = json!({
            "type": "activity_suggestion",
            "description": "We pay our staff",
            "fields": {
                "name": "Payroll", "description": null, "role": "controller",
                "controller_name": null, "controller_contact": null,
                "purposes": [{"description": "Pay", "lawful_basis": "contract", "legitimate_interest": null}],
                "data_subject_categories": ["Staff"], "data_categories": [],
                "recipient_categories": [], "transfers": [], "security_measures": null,
                "data_source": null, "automated_decision_making": false,
                "automated_decision_details": null, "dpia_required": "no", "dpia_reason": null,
                "owner_id": owner, "department": null, "processor_ids": [],
                "status": "draft", "review_date": null
            },
            "rationale": "Salaries"
        });
        let content = serde_json::from_value::<StoredContent>(activity)
            .unwrap()
            .into_content()
            .unwrap();
        let SuggestionContent::ActivitySuggestion { fields, .. } = &content else {
            panic!("{content:?}")
        };
        assert_eq!(fields.name, "Payroll");
        assert_eq!(fields.owner_id, Some(UserId::from_uuid(owner)));
        assert_eq!(fields.review_date, None);
        // And what is written now reads back the same, a review date included.
        let dated = SuggestionContent::ActivitySuggestion {
            description: "d".into(),
            fields: Box::new(ActivityFields {
                review_date: Some(time::macros::date!(2027 - 01 - 31)),
                ..fields.as_ref().clone()
            }),
            rationale: "r".into(),
        };
        let stored = serde_json::to_value(StoredContent::new(&dated).unwrap()).unwrap();
        assert_eq!(stored["v"], 1);
        assert_eq!(stored["fields"]["review_date"], "2027-01-31");
        let back = serde_json::from_value::<StoredContent>(stored).unwrap();
        assert_eq!(back.into_content().unwrap(), dated);

        let answer = json!({"type": "answer", "question": "Who?", "text": "Jana."});
        assert_eq!(
            serde_json::from_value::<StoredContent>(answer)
                .unwrap()
                .into_content()
                .unwrap(),
            SuggestionContent::Answer {
                question: "Who?".into(),
                text: "Jana.".into()
            }
        );
        let cited = json!([{"kind": "processor", "id": owner, "title": "Cloud"}]);
        let citations: Vec<StoredCitation> = serde_json::from_value(cited).unwrap();
        let citation = citations
            .into_iter()
            .next()
            .unwrap()
            .into_citation()
            .unwrap();
        assert_eq!(citation.kind, aura_ai_port::ContextKind::Processor);
        assert_eq!(citation.title, "Cloud");
    }
}
