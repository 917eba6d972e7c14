//! What suggestions about one existing record share (a breach's consequences and
//! measures, a DPIA's Art. 35(7) content): the record is read in the caller's tenant and
//! must still be at the version the suggestion was made from; accepting it writes one
//! update through the register's use cases, at that version, whose audit event names
//! the suggestion.

use aura_audit::RequestContext;
use aura_gdpr_registers::OrganisationProfile;
use aura_records::{Id, Record, RecordKind, RecordUseCases, Source, UseCaseError};
use aura_shared_kernel::{Tenant, TenantScope};
use uuid::Uuid;

use crate::{
    breach::BREACH_REFUSALS,
    dpia::DPIA_REFUSALS,
    error::AssistantError,
    model::ContextRecord,
    service::{AiAssistant, Collected},
    suggestion::SuggestionContent,
};

/// A suggestion about the record `target_id` (the breach whose consequences and measures
/// are suggested, the DPIA whose content is drafted), whose own record is in `context`
/// with the organisation and the records it names.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRequest {
    pub target_id: Uuid,
    pub language: String,
    pub organisation: Option<OrganisationProfile>,
    pub context: Vec<ContextRecord>,
}

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
    /// The context of a suggestion about `target`: its record first, then the
    /// organisation's (returned too, for the request).
    pub(crate) async fn target_context(
        &self,
        scope: &TenantScope,
        target: ContextRecord,
    ) -> Result<(Collected, Option<OrganisationProfile>), AssistantError> {
        let mut context = Collected::new(self.config.max_context_records);
        context.push(target);
        let organisation = self.organisation(scope, &mut context).await?;
        Ok((context, organisation))
    }

    /// The request about `target_id` in the tenant's language.
    pub(crate) fn target_request(
        target_id: Uuid,
        tenant: &Tenant,
        organisation: Option<OrganisationProfile>,
        context: Collected,
    ) -> TargetRequest {
        TargetRequest {
            target_id,
            language: tenant.settings.language().to_owned(),
            organisation,
            context: context.records,
        }
    }

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
