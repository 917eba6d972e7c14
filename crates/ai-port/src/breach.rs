//! The assistant's suggestion of a breach's likely consequences (Art. 33(3)(c)) and
//! measures (Art. 33(3)(d)): built from the breach's record and the processing
//! activities and processors it names, all read in the caller's tenant; stored as a
//! pending suggestion with citations; written into the breach only when a member accepts
//! it, through the breach's use cases (whose audit event names the suggestion), and only
//! if the breach has not changed since.

use aura_audit::RequestContext;
use aura_breaches::{Breach, BreachId, Breaches};
use aura_records::{RecordUseCases, Source};
use aura_shared_kernel::{Tenant, TenantScope};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::{
    context::excerpt,
    error::{AiError, AssistantError},
    model::{ContextKind, ContextRecord},
    service::AiAssistant,
    suggestion::{Applied, Suggestion, SuggestionContent, SuggestionKind},
    target::{Refusals, rewrite, wired},
};

/// The suggested texts, why, and the records they draw on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachMeasuresDraft {
    pub consequences: String,
    pub measures: String,
    pub rationale: String,
    pub citations: Vec<Uuid>,
}

/// Longest suggested text, in characters (the breach's own limit).
const MAX_TEXT: usize = 10_000;

/// A breach as context: what happened, to which data and people, what is known so far.
pub fn record_of_breach(breach: &Breach) -> ContextRecord {
    let (f, d) = (&breach.fields, &breach.derived);
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    ContextRecord {
        kind: ContextKind::Breach,
        id: breach.id.as_uuid(),
        title: f.title.clone(),
        excerpt: excerpt(vec![
            ("Reference", d.reference.clone()),
            ("Drill", if f.drill { "yes".into() } else { String::new() }),
            (
                "Kinds",
                (f.kinds.iter().map(|k| k.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Became aware at",
                f.became_aware_at.format(&Rfc3339).unwrap_or_default(),
            ),
            ("Description", f.description.clone().unwrap_or_default()),
            ("Discovery", f.discovery.clone().unwrap_or_default()),
            ("Data subjects", f.data_subject_categories.join(", ")),
            ("Approximate subjects", number(f.approximate_subjects)),
            ("Data categories", f.data_categories.join(", ")),
            ("Approximate records", number(f.approximate_records)),
            (
                "Risk",
                (d.risk.as_ref())
                    .map(|r| format!("{} ({})", r.level, r.reasoning))
                    .unwrap_or_default(),
            ),
            ("Consequences", f.consequences.clone().unwrap_or_default()),
            ("Measures", f.measures.clone().unwrap_or_default()),
        ]),
    }
}

/// The refusals of a breach a suggestion was made for.
pub(crate) const BREACH_REFUSALS: Refusals = Refusals {
    changed: "the breach changed since this suggestion was made; reject it or draft again",
    gone: "the breach this suggestion was made for no longer exists",
};

impl AiAssistant {
    pub(crate) fn breach_records(&self) -> Result<&RecordUseCases<Breaches>, AssistantError> {
        wired(self.breaches.as_ref())
    }

    /// Suggests the likely consequences and the measures of the tenant's breach `id`.
    pub async fn suggest_breach_measures(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        id: Uuid,
        ctx: &RequestContext,
    ) -> Result<Suggestion, AssistantError> {
        let breaches = self.breach_records()?;
        let read = async { Ok(breaches.get(scope, BreachId::from_uuid(id), ctx).await?) };
        let breach = self.admitted(scope, tenant, read, ctx).await?;
        let (mut context, organisation) =
            (self.target_context(scope, record_of_breach(&breach))).await?;
        let f = &breach.fields;
        self.activities(scope, &f.activity_ids, organisation.as_ref(), &mut context)
            .await?;
        self.processors(scope, &f.processor_ids, &mut context)
            .await?;
        let request = Self::target_request(breach.id.as_uuid(), tenant, organisation, context);
        let generated = self.ports.provider.suggest_breach_measures(&request).await;
        let content = |draft: BreachMeasuresDraft| {
            let text = |value: &str| value.trim().chars().take(MAX_TEXT).collect::<String>();
            let (consequences, measures) = (text(&draft.consequences), text(&draft.measures));
            if consequences.is_empty() || measures.is_empty() {
                return Err(AiError::InvalidResponse(
                    "the consequences or the measures are empty".into(),
                ));
            }
            let content = SuggestionContent::BreachMeasures {
                breach_id: breach.id.as_uuid(),
                breach_version: breach.version,
                consequences,
                measures,
                rationale: draft.rationale.trim().chars().take(5_000).collect(),
            };
            Ok((content, draft.citations))
        };
        let kind = SuggestionKind::BreachMeasures;
        self.generation(scope, kind, &request.context, generated, content, ctx)
            .await
    }

    /// Writes an accepted suggestion's texts into its breach: one update through the
    /// breach's use cases at the version the suggestion was made from.
    pub(crate) async fn apply_breach_measures(
        &self,
        scope: &TenantScope,
        target: (Uuid, i32),
        (consequences, measures): (&str, &str),
        source: &Source,
        ctx: &RequestContext,
    ) -> Result<Applied, AssistantError> {
        let breaches = self.breach_records()?;
        let written = rewrite(
            breaches,
            scope,
            target,
            &BREACH_REFUSALS,
            source,
            ctx,
            |mut f| {
                f.consequences = Some(consequences.to_owned());
                f.measures = Some(measures.to_owned());
                f
            },
        )
        .await?;
        Ok(Applied::Breach {
            breach_id: written.id.as_uuid(),
            version: written.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use aura_breaches::{BreachFields, BreachKind, BreachState};
    use aura_records::Id;
    use aura_shared_kernel::TenantId;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_breach_reads_as_lines_of_what_is_known() {
        let fields = BreachFields {
            title: "Laptop stolen".into(),
            description: Some("An unencrypted laptop\nwas stolen.".into()),
            discovery: None,
            became_aware_at: datetime!(2027-03-05 08:00 UTC),
            occurred_from: None,
            occurred_to: None,
            kinds: vec![BreachKind::Availability, BreachKind::Confidentiality],
            data_subject_categories: vec!["Customers".into()],
            approximate_subjects: Some(1_200),
            data_categories: vec!["Contact data".into()],
            approximate_records: None,
            activity_ids: vec![],
            processor_ids: vec![],
            consequences: None,
            measures: Some("Device wiped".into()),
            contact_point: None,
            drill: false,
            owner_id: None,
            assignee_id: None,
        };
        let breach = Breach::first_version(
            Id::generate(),
            TenantId::generate(),
            fields,
            BreachState {
                reference: "BR-2027-0001".into(),
                ..BreachState::default()
            },
            datetime!(2027-03-05 09:00 UTC),
        );
        let record = record_of_breach(&breach);
        assert_eq!(record.kind, ContextKind::Breach);
        assert_eq!(record.line("Reference"), Some("BR-2027-0001"));
        assert_eq!(record.line("Kinds"), Some("availability, confidentiality"));
        assert_eq!(
            record.line("Description"),
            Some("An unencrypted laptop was stolen.")
        );
        assert_eq!(record.line("Approximate subjects"), Some("1200"));
        assert_eq!(record.line("Became aware at"), Some("2027-03-05T08:00:00Z"));
        assert_eq!(record.line("Measures"), Some("Device wiped"));
        assert_eq!(record.line("Consequences"), None, "nothing known: no line");
        assert_eq!(record.line("Drill"), None);
    }
}
