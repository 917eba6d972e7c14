//! What suggestions about one existing record share (a breach's consequences and
//! measures, a DPIA's Art. 35(7) content): the record is read in the caller's tenant and
//! must still be at the version the suggestion was made from; accepting it writes one
//! update through the register's use cases, at that version, whose audit event names
//! the suggestion.

use aura_audit::RequestContext;
use aura_records::{Id, Record, RecordKind, RecordUseCases, Source, UseCaseError};
use aura_shared_kernel::TenantScope;
use uuid::Uuid;

use crate::{
    breach::BREACH_REFUSALS, dpia::DPIA_REFUSALS, error::AssistantError, service::AiAssistant,
    suggestion::SuggestionContent,
};

/// The refusals of a record a suggestion was made for: gone (409 `target_gone`) or
/// changed since (409 `target_changed`; the suggestion was made from what it said then).
pub(crate) struct Refusals {
    pub changed: &'static str,
    pub gone: &'static str,
}

/// The register's use cases, where wired (a test of other kinds wires none: no record of
/// that register can then be found).
pub(crate) fn wired<K: RecordKind>(
    records: Option<&RecordUseCases<K>>,
) -> Result<&RecordUseCases<K>, AssistantError> {
    records.ok_or_else(|| UseCaseError::NotFound.into())
}

/// The record `id`, still at `version`.
pub(crate) async fn at_version<K: RecordKind>(
    records: &RecordUseCases<K>,
    scope: &TenantScope,
    (id, version): (Uuid, i32),
    refusals: &Refusals,
    ctx: &RequestContext,
) -> Result<Record<K>, AssistantError> {
    match records.get(scope, Id::from_uuid(id), ctx).await {
        Ok(record) if record.version == version => Ok(record),
        Ok(_) => Err(UseCaseError::Conflict {
            code: "target_changed",
            message: refusals.changed,
        }
        .into()),
        Err(UseCaseError::NotFound) => Err(UseCaseError::Conflict {
            code: "target_gone",
            message: refusals.gone,
        }
        .into()),
        Err(other) => Err(other.into()),
    }
}

/// Writes an accepted suggestion into its record: `edit` of the fields of the record
/// `id` at `version`, one update naming the suggestion (`source`).
pub(crate) async fn rewrite<K: RecordKind>(
    records: &RecordUseCases<K>,
    scope: &TenantScope,
    target: (Uuid, i32),
    refusals: &Refusals,
    source: &Source,
    ctx: &RequestContext,
    edit: impl FnOnce(K::Fields) -> K::Fields,
) -> Result<Record<K>, AssistantError> {
    let record = at_version(records, scope, target, refusals, ctx).await?;
    let fields = edit(record.fields);
    Ok(records
        .update(scope, record.id, fields, record.version, Some(source), ctx)
        .await?)
}

impl AiAssistant {
    /// Before an accept changes anything: the record a suggestion was made for is still
    /// there at that version (suggestions of other kinds have none).
    pub(crate) async fn check_target(
        &self,
        scope: &TenantScope,
        content: &SuggestionContent,
        ctx: &RequestContext,
    ) -> Result<(), AssistantError> {
        match content {
            SuggestionContent::BreachMeasures {
                breach_id,
                breach_version,
                ..
            } => {
                let target = (*breach_id, *breach_version);
                at_version(self.breach_records()?, scope, target, &BREACH_REFUSALS, ctx).await?;
            }
            SuggestionContent::DpiaDraft {
                dpia_id,
                dpia_version,
                ..
            } => {
                let target = (*dpia_id, *dpia_version);
                at_version(self.dpia_records()?, scope, target, &DPIA_REFUSALS, ctx).await?;
            }
            SuggestionContent::PolicyDraft { .. }
            | SuggestionContent::ActivitySuggestion { .. }
            | SuggestionContent::Answer { .. } => {}
        }
        Ok(())
    }
}
