//! The provider contract, run against both adapters: the offline assistant, and the
//! OpenAI-compatible client against a mock server answering valid (canned) completions.
//! Every output carries its provenance (provider, model, template version, exactly the
//! context's record ids, the time) and cites only records of the context it was given.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Duration};

use aura_adapter_ai::{OfflineAssistant, OpenAiCompatible, OpenAiConfig};
use aura_ai_port::{
    ActivitySuggestionRequest, AiProvider, ContextKind, ContextRecord, PolicyDraftRequest,
    Provenance, QuestionRequest, TargetRequest,
};
use aura_gdpr_registers::{OrganisationProfile, PolicyKind};
use aura_shared_kernel::{Clock, FixedClock};
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
    matchers::{method, path},
};

fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock::at(datetime!(2026-11-24 10:00 UTC)))
}

fn context() -> Vec<ContextRecord> {
    vec![
        ContextRecord {
            kind: ContextKind::Organisation,
            id: Uuid::now_v7(),
            title: "Acme GmbH".into(),
            excerpt: "Legal name: Acme GmbH\nDPO: designated (Jana Schmidt)".into(),
        },
        ContextRecord {
            kind: ContextKind::ProcessingActivity,
            id: Uuid::now_v7(),
            title: "Payroll".into(),
            excerpt: "Status: active\nPurposes: Paying salaries (contract)\nData categories: Bank details, retention: 10 years\nMissing: 30(1)(e) transfers".into(),
        },
        ContextRecord {
            kind: ContextKind::Processor,
            id: Uuid::now_v7(),
            title: "PayCo".into(),
            excerpt: "Country: DE\nDPA: draft".into(),
        },
    ]
}

fn organisation() -> OrganisationProfile {
    OrganisationProfile {
        legal_name: "Acme GmbH".into(),
        contact_email: Some("privacy@acme.example".into()),
        ..OrganisationProfile::default()
    }
}

fn check_provenance(provenance: &Provenance, context: &[ContextRecord], what: &str) {
    assert!(!provenance.provider.is_empty(), "{what}: provider");
    assert!(!provenance.model.is_empty(), "{what}: model");
    assert!(
        provenance.template_version.contains('@'),
        "{what}: template version {}",
        provenance.template_version
    );
    assert_eq!(
        provenance.record_ids,
        context.iter().map(|r| r.id).collect::<Vec<_>>(),
        "{what}: the record ids are the context's"
    );
    assert_eq!(
        provenance.generated_at,
        datetime!(2026-11-24 10:00 UTC),
        "{what}: time"
    );
}

fn check_citations(cited: &[Uuid], context: &[ContextRecord], what: &str) {
    for id in cited {
        assert!(
            context.iter().any(|r| r.id == *id),
            "{what}: cites {id}, which is not in the context"
        );
    }
}

/// The contract every provider owes.
async fn provider_contract(provider: &dyn AiProvider, context: &[ContextRecord]) {
    let draft = provider
        .draft_policy(&PolicyDraftRequest {
            kind: PolicyKind::PrivacyPolicy,
            title: "Privacy policy".into(),
            language: "en".into(),
            organisation: Some(organisation()),
            context: context.to_vec(),
        })
        .await
        .expect("a draft");
    check_provenance(&draft.provenance, context, "draft");
    check_citations(&draft.output.citations, context, "draft");
    assert!(!draft.output.content.trim().is_empty(), "draft text");
    assert!(
        !draft.output.citations.is_empty(),
        "a draft cites the register"
    );

    let suggestion = provider
        .suggest_activity(&ActivitySuggestionRequest {
            description: "We pay our employees every month (payroll)".into(),
            language: "en".into(),
            organisation: Some(organisation()),
            context: context.to_vec(),
        })
        .await
        .expect("a suggestion");
    check_provenance(&suggestion.provenance, context, "suggestion");
    check_citations(&suggestion.output.citations, context, "suggestion");
    assert!(
        suggestion.output.fields.clone().validated().is_ok(),
        "valid fields"
    );
    assert!(!suggestion.output.fields.purposes.is_empty(), "a purpose");

    let answer = provider
        .answer(&QuestionRequest {
            question: "Which activities have missing Art. 30 items?".into(),
            language: "en".into(),
            organisation: Some(organisation()),
            context: context.to_vec(),
        })
        .await
        .expect("an answer");
    check_provenance(&answer.provenance, context, "answer");
    check_citations(&answer.output.citations, context, "answer");
    assert!(!answer.output.text.trim().is_empty(), "answer text");
    assert!(
        !answer.output.citations.is_empty(),
        "the answer cites a record"
    );

    let dpia = provider
        .draft_dpia(&TargetRequest {
            target_id: Uuid::now_v7(),
            language: "en".into(),
            organisation: Some(organisation()),
            context: context.to_vec(),
        })
        .await
        .expect("a DPIA draft");
    check_provenance(&dpia.provenance, context, "DPIA draft");
    check_citations(&dpia.output.citations, context, "DPIA draft");
    assert!(!dpia.output.description.trim().is_empty(), "a description");
    assert!(!dpia.output.necessity.is_empty(), "a necessity topic");
    assert!(!dpia.output.risks.is_empty(), "a candidate risk");
    assert!(
        !dpia.output.citations.is_empty(),
        "a DPIA draft cites the register"
    );

    // With no context at all, nothing is cited and nothing is invented.
    let empty = provider
        .answer(&QuestionRequest {
            question: "Who is our DPO?".into(),
            language: "en".into(),
            organisation: None,
            context: Vec::new(),
        })
        .await
        .expect("an answer");
    check_provenance(&empty.provenance, &[], "empty answer");
    assert!(empty.output.citations.is_empty(), "no context, no citation");
}

#[tokio::test]
async fn the_offline_assistant_keeps_the_contract() {
    let provider = OfflineAssistant::new(clock());
    provider_contract(&provider, &context()).await;
}

/// Answers each prompt kind with a canned valid completion citing every id of the
/// prompt's context plus one that was never given.
struct Canned;

impl Respond for Canned {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let system = body["messages"][0]["content"].as_str().unwrap().to_owned();
        let user = body["messages"][1]["content"].as_str().unwrap().to_owned();
        let mut ids: Vec<String> = user
            .split('[')
            .skip(1)
            .filter_map(|part| part.split(']').next())
            .filter_map(|head| head.split_whitespace().nth(1))
            .map(str::to_owned)
            .collect();
        ids.push(Uuid::now_v7().to_string()); // a hallucinated id
        let content = if system.contains("Draft the requested policy") {
            json!({"title": "Privacy policy", "content": "# Privacy policy\n\nAcme GmbH …", "citations": ids})
        } else if system.contains("record of processing activities entry") {
            json!({
                "name": "Payroll",
                "description": "Monthly salaries",
                "purposes": [{"description": "Paying salaries", "lawful_basis": "contract", "legitimate_interest": null}],
                "data_subject_categories": ["Employees"],
                "data_categories": [{"name": "Bank details", "retention": "10 years", "special_category": null}],
                "recipient_categories": ["Bank"],
                "security_measures": "Access control",
                "dpia_required": "no",
                "dpia_reason": null,
                "rationale": "Salaries are contract performance.",
                "citations": ids,
            })
        } else if system.contains("data protection impact assessment record") {
            json!({
                "description": "Payroll: monthly salaries of the employees …",
                "necessity": [{"topic": "retention", "assessment": "10 years (tax law)"}],
                "risks": [{"source": "An attacker", "event": "illegitimate_access",
                    "impact": "Bank details disclosed", "likelihood": "limited",
                    "severity": "significant", "residual_likelihood": "limited",
                    "residual_severity": "limited"}],
                "rationale": "From the payroll record.",
                "citations": ids,
            })
        } else {
            let cited = if user.contains("(the register holds no records yet)") {
                vec![Uuid::now_v7().to_string()]
            } else {
                ids
            };
            json!({"answer": "Payroll lacks the transfers item.", "citations": cited})
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
        }))
    }
}

#[tokio::test]
async fn the_openai_compatible_client_keeps_the_contract() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Canned)
        .mount(&server)
        .await;
    let mut config = OpenAiConfig::new(format!("{}/v1", server.uri()), "gpt-test");
    config.timeout = Duration::from_secs(5);
    let provider = OpenAiCompatible::new(config, clock()).expect("client");
    provider_contract(&provider, &context()).await;
}
