//! The assistant's draft of a DPIA's Art. 35(7) content: (a) the systematic description
//! of the processing, (b) an assessment of each necessity and proportionality topic and
//! (c) candidate risks, built from the DPIA's record, the processing activities it covers,
//! their processors and the organisation profile, all read in the caller's tenant; stored
//! as a pending suggestion with citations; written into the DPIA only when a member
//! accepts it, through the DPIA's use cases (whose audit event names the suggestion), and
//! only if the DPIA has not changed since (the machinery of [`crate::target`], shared
//! with the breach's suggestion).

use aura_audit::RequestContext;
use aura_dpias::{
    Dpia, DpiaFields, DpiaId, DpiaStatus, Dpias, NecessityItem, Risk,
    rules::{APPROVED_IS_IMMUTABLE, IN_REVIEW_IS_FROZEN},
};
use aura_gdpr_registers::ProcessorId;
use aura_records::{RecordUseCases, Source};
use aura_shared_kernel::{Tenant, TenantScope};
use uuid::Uuid;

use crate::{
    context::{excerpt, join},
    error::{AiError, AssistantError},
    model::{ContextKind, ContextRecord},
    service::AiAssistant,
    suggestion::{Applied, Suggestion, SuggestionContent, SuggestionKind},
    target::{Refusals, rewrite, wired},
};

/// The drafted content, why, and the records it draws on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpiaContentDraft {
    /// Art. 35(7)(a).
    pub description: String,
    /// Art. 35(7)(b): one assessment per topic.
    pub necessity: Vec<NecessityItem>,
    /// Art. 35(7)(c): candidate risks (their residual values are the initial ones until
    /// measures are decided).
    pub risks: Vec<Risk>,
    pub rationale: String,
    pub citations: Vec<Uuid>,
}

/// What a draft writes into a DPIA's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DpiaContent<'a> {
    pub description: &'a str,
    pub necessity: &'a [NecessityItem],
    pub risks: &'a [Risk],
}

/// Most candidate risks a draft may add.
const MAX_RISKS: usize = 20;

/// The refusals of a DPIA a suggestion was made for.
pub(crate) const DPIA_REFUSALS: Refusals = Refusals {
    changed: "the DPIA changed since this suggestion was made; reject it or draft again",
    gone: "the DPIA this suggestion was made for no longer exists",
};

/// `fields` with a draft written in: the description replaced, each drafted topic's
/// assessment replaced (the other topics kept), the candidate risks added after the
/// DPIA's own (so the measures' risk positions stay right), each once.
pub(crate) fn with_content(mut fields: DpiaFields, content: DpiaContent<'_>) -> DpiaFields {
    fields.description = Some(content.description.to_owned());
    for item in content.necessity {
        match fields.necessity.iter_mut().find(|n| n.topic == item.topic) {
            Some(known) => known.assessment.clone_from(&item.assessment),
            None => fields.necessity.push(item.clone()),
        }
    }
    for risk in content.risks {
        if !fields.risks.contains(risk) {
            fields.risks.push(risk.clone());
        }
    }
    fields
}

/// A DPIA as context: where it stands and what its Art. 35(7) parts already say.
pub fn record_of_dpia(dpia: &Dpia) -> ContextRecord {
    let (f, d) = (&dpia.fields, &dpia.derived);
    ContextRecord {
        kind: ContextKind::Dpia,
        id: dpia.id.as_uuid(),
        title: f.title.clone(),
        excerpt: excerpt(vec![
            ("Status", d.status.as_str().to_owned()),
            ("Revision", d.revision.to_string()),
            ("Covered activities", f.activity_ids.len().to_string()),
            ("Description", f.description.clone().unwrap_or_default()),
            (
                "Necessity assessed",
                join(&f.necessity, |n| n.topic.as_str().to_owned()),
            ),
            (
                "Risks",
                join(&f.risks, |r| {
                    format!("{} ({}, {})", r.source, r.event, r.level())
                }),
            ),
            ("Measures", join(&f.measures, |m| m.title.clone())),
            ("Missing", join(&d.missing, |g| g.as_str().to_owned())),
        ]),
    }
}

/// Only a draft is written: an approved DPIA never changes, one in review changes only
/// once sent back (the DPIA rules' own refusals).
fn drafting(dpia: Dpia) -> Result<Dpia, AssistantError> {
    match dpia.derived.status {
        DpiaStatus::Draft => Ok(dpia),
        DpiaStatus::InReview => Err(IN_REVIEW_IS_FROZEN.into()),
        DpiaStatus::Approved => Err(APPROVED_IS_IMMUTABLE.into()),
    }
}

impl AiAssistant {
    pub(crate) fn dpia_records(&self) -> Result<&RecordUseCases<Dpias>, AssistantError> {
        wired(self.dpias.as_ref())
    }

    /// Drafts the Art. 35(7)(a)–(c) content of the tenant's DPIA `id` (a draft).
    pub async fn draft_dpia(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        id: Uuid,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let dpias = self.dpia_records()?;
        let read = async { drafting(dpias.get(scope, DpiaId::from_uuid(id), ctx).await?) };
        let dpia = self.admitted(scope, tenant, read, ctx).await?;
        let (mut context, organisation) =
            (self.target_context(scope, record_of_dpia(&dpia))).await?;
        let activities = self
            .activities(
                scope,
                &dpia.fields.activity_ids,
                organisation.as_ref(),
                &mut context,
            )
            .await?;
        let mut processors: Vec<ProcessorId> = Vec::new();
        for id in activities.iter().flat_map(|a| &a.fields.processor_ids) {
            if !processors.contains(id) {
                processors.push(*id);
            }
        }
        self.processors(scope, &processors, &mut context).await?;
        let request = Self::target_request(dpia.id.as_uuid(), tenant, organisation, context);
        let generated = self.ports.provider.draft_dpia(&request).await;
        let content = |draft: DpiaContentDraft| {
            let (dpia_id, dpia_version) = (dpia.id.as_uuid(), dpia.version);
            let known = dpia.fields.risks.len();
            let risks: Vec<Risk> = draft.risks.into_iter().take(MAX_RISKS).collect();
            let drafted = DpiaContent {
                description: draft.description.trim(),
                necessity: &draft.necessity,
                risks: &risks,
            };
            if drafted.description.is_empty() {
                return Err(AiError::InvalidResponse("the description is empty".into()));
            }
            // Checked as the DPIA would take it (sizes, trimming), and stored as checked.
            let checked = with_content(dpia.fields, drafted)
                .validated()
                .map_err(|e| AiError::InvalidResponse(format!("the draft is invalid: {e}")))?;
            let topics: Vec<_> = draft.necessity.iter().map(|n| n.topic).collect();
            let content = SuggestionContent::DpiaDraft {
                dpia_id,
                dpia_version,
                description: checked.description.unwrap_or_default(),
                necessity: (checked.necessity.into_iter())
                    .filter(|n| topics.contains(&n.topic))
                    .collect(),
                risks: checked.risks.into_iter().skip(known).collect(),
                rationale: draft.rationale.trim().chars().take(5_000).collect(),
            };
            Ok((content, draft.citations))
        };
        let kind = SuggestionKind::DpiaDraft;
        self.generation(scope, kind, &request.context, generated, content, ctx)
            .await
    }

    /// Writes an accepted draft into its DPIA: one update through the DPIA's use cases at
    /// the version the suggestion was made from (its rules refuse a DPIA that is no
    /// longer a draft).
    pub(crate) async fn apply_dpia_draft(
        &self,
        scope: &TenantScope,
        target: (Uuid, i32),
        content: DpiaContent<'_>,
        source: &Source,
        ctx: &RequestContext,
    ) -> Result<Applied, AssistantError> {
        let dpias = self.dpia_records()?;
        let written = rewrite(
            dpias,
            scope,
            target,
            &DPIA_REFUSALS,
            source,
            ctx,
            |fields| with_content(fields, content),
        )
        .await?;
        Ok(Applied::Dpia {
            dpia_id: written.id.as_uuid(),
            version: written.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use aura_dpias::{NecessityTopic, RiskEvent, Scale};
    use aura_records::Id;

    use super::*;

    fn risk(source: &str) -> Risk {
        Risk {
            source: source.into(),
            event: RiskEvent::IllegitimateAccess,
            impact: "identity theft".into(),
            likelihood: Scale::Limited,
            severity: Scale::Significant,
            residual_likelihood: Scale::Limited,
            residual_severity: Scale::Significant,
        }
    }

    fn item(topic: NecessityTopic, assessment: &str) -> NecessityItem {
        NecessityItem {
            topic,
            assessment: assessment.into(),
        }
    }

    #[test]
    fn a_draft_replaces_the_description_and_its_topics_and_adds_its_risks() {
        let fields = DpiaFields {
            title: "CCTV".into(),
            activity_ids: vec![Id::generate()],
            description: Some("old".into()),
            necessity: vec![
                item(NecessityTopic::LawfulBasis, "mine"),
                item(NecessityTopic::Rights, "kept"),
            ],
            risks: vec![risk("an employee")],
            measures: vec![],
            dpo_advice: None,
            subject_views: None,
            subject_views_not_sought: None,
            review_date: None,
            owner_id: None,
            revision_of: None,
        };
        let necessity = [
            item(NecessityTopic::LawfulBasis, "drafted"),
            item(NecessityTopic::Retention, "30 days"),
        ];
        let risks = [risk("an employee"), risk("an attacker")];
        let written = with_content(
            fields,
            DpiaContent {
                description: "new",
                necessity: &necessity,
                risks: &risks,
            },
        );
        assert_eq!(written.description.as_deref(), Some("new"));
        assert_eq!(
            written.necessity,
            vec![
                item(NecessityTopic::LawfulBasis, "drafted"),
                item(NecessityTopic::Rights, "kept"),
                item(NecessityTopic::Retention, "30 days"),
            ]
        );
        assert_eq!(
            written.risks,
            vec![risk("an employee"), risk("an attacker")],
            "the DPIA's own risks first, a known one once"
        );
    }
}
