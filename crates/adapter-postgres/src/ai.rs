//! The AI assistant's ports (`aura_ai_port::ports`) on PostgreSQL: `ai_suggestions`
//! (content and citations as jsonb, provenance in columns) and the `ai_usage` counter.
//! Same rules as the register ports: one `in_tenant` transaction per call, writes seal
//! their audit event in it, queries filter by `tenant_id` besides row-level security.

use std::sync::Arc;

use aura_ai_port::{
    AiUsage, Citation, Provenance, Suggestion, SuggestionContent, SuggestionQuery,
    SuggestionRepository,
};
use aura_audit::PendingEvent;
use aura_tenancy::{Page, StoreError, TenantId, TenantScope, UserId};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::append_event,
    error::{DbError, corrupt},
    models::convert_all,
    pool::in_tenant,
    registers::{fetch_limit, missing_or_stale, stored_enum},
    schema::{ai_suggestions as suggestions, ai_usage as usage},
    stores::PgStores,
};

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
            content: serde_json::to_value(&s.content)
                .map_err(|_| StoreError::unexpected("a suggestion's content is not JSON"))?,
            citations: serde_json::to_value(&s.citations)
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
        let content: SuggestionContent = serde_json::from_value(row.content)
            .map_err(|_| corrupt("stored suggestion content"))?;
        let citations: Vec<Citation> = serde_json::from_value(row.citations)
            .map_err(|_| corrupt("stored suggestion citations"))?;
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
        if suggestion.tenant_id != scope.tenant_id() {
            return Err(StoreError::unexpected(
                "a new suggestion must belong to the scope's tenant",
            ));
        }
        let row = SuggestionRow::try_from(suggestion)?;
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            diesel::insert_into(suggestions::table)
                .values(row)
                .execute(conn)
                .await?;
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, id: Uuid) -> Result<Suggestion, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let row: SuggestionRow = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(suggestions::table
                .filter(suggestions::tenant_id.eq(tenant))
                .filter(suggestions::id.eq(id))
                .select(SuggestionRow::as_select())
                .first(conn)
                .await?)
        })
        .await?;
        Suggestion::try_from(row)
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
        if suggestion.tenant_id != scope.tenant_id() {
            return Err(StoreError::NotFound);
        }
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        let tenant_uuid = tenant.as_uuid();
        let id = suggestion.id;
        let changes = (
            suggestions::status.eq(suggestion.status.as_str().to_owned()),
            suggestions::decided_by.eq(suggestion.decided_by.map(|u| u.as_uuid())),
            suggestions::decided_at.eq(suggestion.decided_at),
            suggestions::version.eq(suggestion.version),
        );
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let updated = diesel::update(
                suggestions::table
                    .filter(suggestions::tenant_id.eq(tenant_uuid))
                    .filter(suggestions::id.eq(id))
                    .filter(suggestions::version.eq(expected_version)),
            )
            .set(changes)
            .execute(conn)
            .await?;
            if updated == 0 {
                let exists: bool = diesel::select(diesel::dsl::exists(
                    suggestions::table
                        .filter(suggestions::tenant_id.eq(tenant_uuid))
                        .filter(suggestions::id.eq(id)),
                ))
                .get_result(conn)
                .await?;
                return Err(missing_or_stale(exists));
            }
            append_event(conn, hasher, tenant, event, now).await?;
            Ok(())
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

#[async_trait::async_trait]
impl AiUsage for PgStores {
    async fn try_acquire(
        &self,
        scope: &TenantScope,
        window_start: OffsetDateTime,
        limit: u32,
    ) -> Result<bool, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        if limit <= 0 {
            return Ok(false);
        }
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // Past windows are done with.
            diesel::delete(
                usage::table
                    .filter(usage::tenant_id.eq(tenant))
                    .filter(usage::window_start.ne(window_start)),
            )
            .execute(conn)
            .await?;
            // One statement, so concurrent requests never count past the limit: the
            // conflicting row is locked and re-checked before it is incremented.
            let counted: Option<Used> = diesel::sql_query(
                "INSERT INTO ai_usage (tenant_id, window_start, used) VALUES ($1, $2, 1)
                 ON CONFLICT (tenant_id, window_start)
                 DO UPDATE SET used = ai_usage.used + 1 WHERE ai_usage.used < $3
                 RETURNING used",
            )
            .bind::<diesel::sql_types::Uuid, _>(tenant)
            .bind::<diesel::sql_types::Timestamptz, _>(window_start)
            .bind::<diesel::sql_types::Integer, _>(limit)
            .get_result(conn)
            .await
            .optional()?;
            Ok::<bool, DbError>(counted.is_some())
        })
        .await
    }
}
