//! Register records as context: a title and an excerpt of `Key: value` lines, the same
//! for every provider. Built from records already read with the caller's scope.

use aura_gdpr_registers::{Gap, OrganisationProfile, Policy, ProcessingActivity, Processor};
use aura_shared_kernel::TenantId;

use crate::model::{ContextKind, ContextRecord};

/// Longest excerpt handed to a provider, in characters.
pub const MAX_EXCERPT_CHARS: usize = 800;

pub(crate) fn join<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    items.iter().map(show).collect::<Vec<_>>().join("; ")
}

pub(crate) fn excerpt(lines: Vec<(&str, String)>) -> String {
    let text = lines
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}: {}", value.replace('\n', " ")))
        .collect::<Vec<_>>()
        .join("\n");
    if text.chars().count() <= MAX_EXCERPT_CHARS {
        text
    } else {
        let mut cut: String = text.chars().take(MAX_EXCERPT_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// The organisation profile (its id is the tenant's).
pub fn record_of_organisation(tenant: TenantId, profile: &OrganisationProfile) -> ContextRecord {
    let dpo = match (&profile.dpo, &profile.dpo_not_required_reason) {
        (Some(dpo), _) => format!("designated ({})", dpo.name),
        (None, Some(reason)) => format!("not required: {reason}"),
        (None, None) => "none recorded".to_owned(),
    };
    let contact = [&profile.contact_email, &profile.address]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    ContextRecord {
        kind: ContextKind::Organisation,
        id: tenant.as_uuid(),
        title: profile.legal_name.clone(),
        excerpt: excerpt(vec![
            ("Legal name", profile.legal_name.clone()),
            ("Contact", contact),
            ("DPO", dpo),
            (
                "EU representative",
                profile
                    .eu_representative
                    .as_ref()
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
            ),
            (
                "Joint controllers",
                join(&profile.joint_controllers, |j| j.contact.name.clone()),
            ),
        ]),
    }
}

/// A processing activity with what its record still lacks.
pub fn record_of_activity(activity: &ProcessingActivity, gaps: &[Gap]) -> ContextRecord {
    let f = &activity.fields;
    ContextRecord {
        kind: ContextKind::ProcessingActivity,
        id: activity.id.as_uuid(),
        title: f.name.clone(),
        excerpt: excerpt(vec![
            ("Status", f.status.as_str().to_owned()),
            ("Role", f.role.as_str().to_owned()),
            ("Description", f.description.clone().unwrap_or_default()),
            (
                "Purposes",
                join(&f.purposes, |p| {
                    format!("{} ({})", p.description, p.lawful_basis)
                }),
            ),
            ("Data subjects", f.data_subject_categories.join(", ")),
            (
                "Data categories",
                join(&f.data_categories, |c| {
                    let mut text = c.name.clone();
                    if let Some(condition) = c.special_category {
                        text.push_str(&format!(", special category: {condition}"));
                    }
                    if let Some(retention) = &c.retention {
                        text.push_str(&format!(", retention: {retention}"));
                    }
                    text
                }),
            ),
            ("Recipients", f.recipient_categories.join(", ")),
            (
                "Transfers",
                join(&f.transfers, |t| format!("{} ({})", t.country, t.mechanism)),
            ),
            ("DPIA", f.dpia_required.as_str().to_owned()),
            (
                "Missing",
                join(gaps, |g| format!("{} {}", g.article, g.message)),
            ),
        ]),
    }
}

/// A processor with its agreement's state.
pub fn record_of_processor(processor: &Processor) -> ContextRecord {
    let f = &processor.fields;
    let dpa = match (f.dpa_status.as_str(), f.dpa_review_on) {
        (status, Some(review)) => format!("{status} (review on {review})"),
        (status, None) => status.to_owned(),
    };
    ContextRecord {
        kind: ContextKind::Processor,
        id: processor.id.as_uuid(),
        title: f.name.clone(),
        excerpt: excerpt(vec![
            ("Services", f.services.clone().unwrap_or_default()),
            (
                "Country",
                f.country.map(|c| c.to_string()).unwrap_or_default(),
            ),
            (
                "Transfer mechanism",
                f.transfer_mechanism
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("DPA", dpa),
            ("Art. 28(3) clauses missing", f.clauses.missing().join(" ")),
            (
                "Linked activities",
                processor.derived.activity_ids.len().to_string(),
            ),
        ]),
    }
}

/// A policy with its review state.
pub fn record_of_policy(policy: &Policy) -> ContextRecord {
    let f = &policy.fields;
    ContextRecord {
        kind: ContextKind::Policy,
        id: policy.id.as_uuid(),
        title: f.title.clone(),
        excerpt: excerpt(vec![
            ("Kind", f.kind.as_str().to_owned()),
            ("Status", f.status.as_str().to_owned()),
            (
                "Published version",
                policy
                    .derived
                    .current_version
                    .map_or_else(|| "none".to_owned(), |n| n.to_string()),
            ),
            (
                "Next review",
                f.next_review_date
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
        ]),
    }
}

const STOP_WORDS: &[&str] = &[
    "about",
    "after",
    "also",
    "and",
    "are",
    "but",
    "can",
    "could",
    "does",
    "for",
    "from",
    "have",
    "how",
    "into",
    "is",
    "its",
    "our",
    "ours",
    "should",
    "that",
    "the",
    "their",
    "them",
    "there",
    "these",
    "they",
    "this",
    "those",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "any",
    "all",
    "was",
    "were",
    "has",
    "had",
    "not",
    "use",
    "used",
    "using",
    "data",
    "personal",
    "process",
    "processing",
    "need",
    "needs",
    "want",
    "list",
    "show",
    "tell",
    "give",
    "please",
];

/// Search words of a question or description: lower-case words of three or more letters
/// or digits, no common words, each once, at most `max`.
pub fn keywords(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
    {
        if out.len() >= max {
            break;
        }
        if word.chars().count() >= 3 && !STOP_WORDS.contains(&word.as_str()) && !out.contains(&word)
        {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_skip_common_words_and_repeats() {
        assert_eq!(
            keywords(
                "Which activities use the Newsletter? newsletter, payroll!",
                5
            ),
            vec!["activities", "newsletter", "payroll"]
        );
        assert_eq!(keywords("a b cd", 5), Vec::<String>::new());
        assert_eq!(keywords("one two three four", 2), vec!["one", "two"]);
    }

    #[test]
    fn excerpts_are_bounded_lines() {
        let long = excerpt(vec![("A", "x".repeat(2_000)), ("B", String::new())]);
        assert_eq!(long.chars().count(), MAX_EXCERPT_CHARS);
        assert!(!long.contains("B:"));
        let record = ContextRecord {
            kind: ContextKind::Policy,
            id: uuid::Uuid::nil(),
            title: "t".into(),
            excerpt: excerpt(vec![("Kind", "other".into()), ("Status", "draft".into())]),
        };
        assert_eq!(record.line("Status"), Some("draft"));
        assert_eq!(record.line("Missing"), None);
    }
}
