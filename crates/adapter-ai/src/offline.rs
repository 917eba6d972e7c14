//! The offline assistant: deterministic drafts, suggestions and answers made from the
//! request's context alone, with no network. Useful on its own (a filled-in first draft,
//! a sensible starting record, a summary of what the register says) and the reference
//! behaviour the contract tests hold every provider to.

use std::sync::Arc;

use aura_ai_port::{
    ActivityDraft, ActivitySuggestionRequest, AiError, AiProvider, Answer, BreachMeasuresDraft,
    ContextKind, ContextRecord, DpiaContentDraft, Generated, PolicyDraft, PolicyDraftRequest,
    Provenance, QuestionRequest, TargetRequest, keywords,
};
use aura_dpias::{NecessityItem, NecessityTopic, Risk, RiskEvent, Scale};
use aura_gdpr_registers::{
    ActivityFields, ActivityRole, ActivityStatus, Art9Condition, DataCategory, DpiaRequirement,
    LawfulBasis, OrganisationProfile, PolicyKind, Purpose,
};
use aura_shared_kernel::Clock;
use uuid::Uuid;

pub const PROVIDER: &str = "offline";
pub const MODEL: &str = "aura-offline-rules-1";
const POLICY_TEMPLATE: &str = "offline/policy_draft@1";
const ACTIVITY_TEMPLATE: &str = "offline/activity_suggestion@1";
const QUESTION_TEMPLATE: &str = "offline/question@1";
const BREACH_TEMPLATE: &str = "offline/breach_measures@1";
const DPIA_TEMPLATE: &str = "offline/dpia_draft@1";
const TBC: &str = "[to be completed]";

/// The offline provider. Cheap to clone.
#[derive(Clone)]
pub struct OfflineAssistant {
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OfflineAssistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineAssistant").finish_non_exhaustive()
    }
}

impl OfflineAssistant {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }

    fn provenance(&self, template: &str, context: &[ContextRecord]) -> Provenance {
        Provenance {
            provider: PROVIDER.to_owned(),
            model: MODEL.to_owned(),
            template_version: template.to_owned(),
            record_ids: context.iter().map(|r| r.id).collect(),
            generated_at: self.clock.now(),
        }
    }
}

fn of_kind(context: &[ContextRecord], kind: ContextKind) -> Vec<&ContextRecord> {
    context.iter().filter(|r| r.kind == kind).collect()
}

fn or_tbc(value: Option<&str>) -> String {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map_or_else(|| TBC.to_owned(), str::to_owned)
}

// ---------------------------------------------------------------- policy drafts

/// The sections every policy starts with: who the controller is.
fn controller_section(org: Option<&OrganisationProfile>) -> String {
    let Some(org) = org else {
        return format!(
            "## Who we are\n\n{TBC} (record the organisation profile: legal name, address, contact, DPO).\n"
        );
    };
    let dpo = match (&org.dpo, &org.dpo_not_required_reason) {
        (Some(dpo), _) => format!(
            "Our data protection officer is {}{}.",
            dpo.name,
            dpo.email
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
        (None, Some(reason)) => {
            format!("We have not designated a data protection officer: {reason}.")
        }
        (None, None) => format!("Data protection officer: {TBC}."),
    };
    let mut text = format!(
        "## Who we are\n\n{} is the controller of your personal data.\n\n- Address: {}\n- Contact: {}\n\n{dpo}\n",
        org.legal_name,
        or_tbc(org.address.as_deref()),
        or_tbc(
            org.contact_email
                .as_deref()
                .or(org.contact_phone.as_deref())
        ),
    );
    if let Some(rep) = &org.eu_representative {
        text.push_str(&format!(
            "\nOur representative in the EU is {}.\n",
            rep.name
        ));
    }
    text
}

fn activity_sections(activities: &[&ContextRecord]) -> String {
    let live: Vec<&&ContextRecord> = activities
        .iter()
        .filter(|r| r.line("Status") != Some("retired"))
        .collect();
    if live.is_empty() {
        return format!("{TBC} — no processing activities are recorded yet.\n");
    }
    let mut text = String::new();
    for record in live {
        text.push_str(&format!("### {}\n\n", record.title));
        for (key, label) in [
            ("Purposes", "Purposes (lawful basis)"),
            ("Data subjects", "Whose data"),
            ("Data categories", "Categories of data"),
            ("Recipients", "Recipients"),
            ("Transfers", "Transfers outside the EEA"),
        ] {
            text.push_str(&format!("- {label}: {}\n", or_tbc(record.line(key))));
        }
        text.push('\n');
    }
    text
}

fn processor_list(processors: &[&ContextRecord]) -> String {
    if processors.is_empty() {
        return format!("{TBC} — no processors are recorded yet.\n");
    }
    processors
        .iter()
        .map(|p| {
            let country = p
                .line("Country")
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            let services = p
                .line("Services")
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!("- {}{country}{services}\n", p.title)
        })
        .collect()
}

fn retention_list(activities: &[&ContextRecord]) -> String {
    let mut text = String::new();
    for record in activities {
        let categories = record.line("Data categories").unwrap_or("");
        for category in categories.split("; ").filter(|c| !c.is_empty()) {
            let (name, rest) = category.split_once(", ").unwrap_or((category, ""));
            let retention = rest
                .split(", ")
                .find_map(|part| part.strip_prefix("retention: "))
                .map_or_else(|| TBC.to_owned(), str::to_owned);
            text.push_str(&format!("| {} | {name} | {retention} |\n", record.title));
        }
    }
    if text.is_empty() {
        format!("{TBC} — record the data categories and their retention on each activity.\n")
    } else {
        format!("| Activity | Data | Kept for |\n|---|---|---|\n{text}")
    }
}

const RIGHTS: &str = "## Your rights\n\nYou have the right to access your data (Art. 15 GDPR), to have it corrected (Art. 16) or erased (Art. 17), to restrict its processing (Art. 18), to data portability (Art. 20) and to object to processing based on legitimate interests or for direct marketing (Art. 21). Where we rely on your consent, you may withdraw it at any time without affecting what was done before. You may also lodge a complaint with a supervisory authority (Art. 77).\n";

fn draft_text(request: &PolicyDraftRequest, today: time::Date) -> String {
    let org = request.organisation.as_ref();
    let activities = of_kind(&request.context, ContextKind::ProcessingActivity);
    let processors = of_kind(&request.context, ContextKind::Processor);
    let name = org.map_or("The organisation", |o| o.legal_name.as_str());
    let mut text = format!(
        "# {}\n\n*Draft of {today}, prepared by the offline assistant from your register. Review every section; replace each {TBC} before you submit it for approval.*\n\n",
        request.title
    );
    match request.kind {
        PolicyKind::PrivacyPolicy => {
            text.push_str(&controller_section(org));
            text.push_str("\n## What we process and why\n\n");
            text.push_str(&activity_sections(&activities));
            text.push_str("## Who receives your data\n\nWe use these service providers, bound by data processing agreements (Art. 28 GDPR):\n\n");
            text.push_str(&processor_list(&processors));
            text.push_str("\n## How long we keep your data\n\n");
            text.push_str(&retention_list(&activities));
            text.push('\n');
            text.push_str(RIGHTS);
            text.push_str(&format!(
                "\n## Changes\n\n{name} updates this notice when its processing changes. The current version is always available on request.\n"
            ));
        }
        PolicyKind::DataProtectionPolicy => {
            text.push_str(&format!(
                "## Purpose and scope\n\nThis policy sets out how {name} protects personal data. It applies to every employee, contractor and system that processes personal data on its behalf.\n\n"
            ));
            text.push_str(&controller_section(org));
            text.push_str("\n## Principles (Art. 5 GDPR)\n\nWe process personal data lawfully, fairly and transparently; for specified purposes only; limited to what is necessary; accurately; no longer than needed; and securely. We can demonstrate compliance through our record of processing activities.\n\n## Our processing activities\n\n");
            text.push_str(&activity_sections(&activities));
            text.push_str("## Processors\n\n");
            text.push_str(&processor_list(&processors));
            text.push_str("\n## Responsibilities\n\n- The owner of each processing activity keeps its record current.\n- New processing, or a change of purpose, is recorded before it starts; a DPIA is assessed where the risk is high (Art. 35).\n- Processors are engaged only with a signed agreement covering Art. 28(3).\n- Personal data breaches are reported internally at once (see the breach response plan).\n\n## Review\n\nThis policy is reviewed at least once a year.\n");
        }
        PolicyKind::RetentionPolicy => {
            text.push_str(&format!(
                "## Purpose\n\n{name} keeps personal data only as long as it needs it for the purposes it was collected for, or as the law requires (Art. 5(1)(e) GDPR).\n\n## Retention periods\n\n"
            ));
            text.push_str(&retention_list(&activities));
            text.push_str("\n## Erasure\n\nAt the end of its period, data is erased or anonymised, including in the systems of our processors:\n\n");
            text.push_str(&processor_list(&processors));
            text.push_str("\nLegal holds suspend erasure for the data they concern.\n\n## Review\n\nThe periods are reviewed yearly and whenever the law or a processing activity changes.\n");
        }
        PolicyKind::BreachResponsePlan => {
            text.push_str(&controller_section(org));
            text.push_str(&format!(
                "\n## 1. Detect and report internally\n\nAnyone at {name} who suspects a personal data breach reports it at once to {}.\n\n## 2. Contain and assess\n\nStop the breach, secure evidence, and assess the risk to the people affected: which data, how many people, how likely and severe the harm is.\n\n## 3. Notify\n\n- The supervisory authority within 72 hours of becoming aware, unless the breach is unlikely to result in a risk (Art. 33).\n- The people affected without undue delay where the risk is high (Art. 34).\n- Processors notify us without undue delay (Art. 33(2)); ours are:\n\n",
                org.and_then(|o| o.dpo.as_ref().map(|d| d.name.clone()))
                    .unwrap_or_else(|| TBC.to_owned())
            ));
            text.push_str(&processor_list(&processors));
            text.push_str("\n## 4. Document\n\nEvery breach is documented with its facts, effects and remedial action (Art. 33(5)), whether or not it was notified.\n\n## Processing activities at risk\n\n");
            for record in &activities {
                text.push_str(&format!(
                    "- {}: {}\n",
                    record.title,
                    or_tbc(record.line("Data categories"))
                ));
            }
        }
        PolicyKind::Other => {
            text.push_str(&controller_section(org));
            text.push_str(&format!(
                "\n## Purpose\n\n{TBC}\n\n## Scope\n\nThis policy applies to the processing activities of {name}:\n\n"
            ));
            for record in &activities {
                text.push_str(&format!("- {}\n", record.title));
            }
            text.push_str(&format!("\n## Rules\n\n{TBC}\n\n## Review\n\nThis policy is reviewed at least once a year.\n"));
        }
    }
    text
}

// ---------------------------------------------------------------- activity rules

struct Rule {
    words: &'static [&'static str],
    name: &'static str,
    purposes: &'static [(&'static str, LawfulBasis)],
    subjects: &'static [&'static str],
    /// Name, retention, special category.
    data: &'static [(&'static str, &'static str, Option<Art9Condition>)],
    recipients: &'static [&'static str],
    dpia: DpiaRequirement,
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        words: &["newsletter", "mailing", "marketing", "campaign"],
        name: "Newsletter",
        purposes: &[("Sending newsletters and product news", LawfulBasis::Consent)],
        subjects: &["Newsletter subscribers"],
        data: &[
            ("E-mail address", "until consent is withdrawn", None),
            ("Name", "until consent is withdrawn", None),
            (
                "Proof of consent (time, source)",
                "3 years after consent is withdrawn",
                None,
            ),
        ],
        recipients: &["E-mail service provider"],
        dpia: DpiaRequirement::No,
        why: "e-mail marketing needs consent (Art. 6(1)(a) GDPR, and the ePrivacy rules); keep proof of each consent",
    },
    Rule {
        words: &["payroll", "salary", "salaries", "wage", "wages", "pay"],
        name: "Payroll",
        purposes: &[
            (
                "Paying salaries under the employment contract",
                LawfulBasis::Contract,
            ),
            (
                "Reporting to tax and social-security authorities",
                LawfulBasis::LegalObligation,
            ),
        ],
        subjects: &["Employees", "Former employees"],
        data: &[
            (
                "Contact details",
                "6 years after the end of employment",
                None,
            ),
            (
                "Bank details",
                "as long as tax law requires (often 6–10 years)",
                None,
            ),
            (
                "Tax and social-security numbers",
                "as long as tax law requires (often 6–10 years)",
                None,
            ),
            (
                "Salary and deductions",
                "as long as tax law requires (often 6–10 years)",
                None,
            ),
        ],
        recipients: &[
            "Tax authority",
            "Social-security institutions",
            "Payroll provider",
            "Bank",
        ],
        dpia: DpiaRequirement::No,
        why: "paying staff is part of the employment contract (Art. 6(1)(b)) and the reporting is a legal obligation (Art. 6(1)(c)); retention follows tax law",
    },
    Rule {
        words: &[
            "recruit",
            "recruiting",
            "recruitment",
            "applicant",
            "applicants",
            "application",
            "hiring",
            "candidate",
            "candidates",
            "job",
        ],
        name: "Recruitment",
        purposes: &[("Assessing applications and hiring", LawfulBasis::Contract)],
        subjects: &["Applicants"],
        data: &[
            ("Contact details", "6 months after the decision", None),
            (
                "CV and application documents",
                "6 months after the decision",
                None,
            ),
            ("Interview notes", "6 months after the decision", None),
        ],
        recipients: &["Hiring managers"],
        dpia: DpiaRequirement::No,
        why: "handling an application is a step before a contract at the applicant's request (Art. 6(1)(b)); keeping a talent pool longer needs consent",
    },
    Rule {
        words: &[
            "customer",
            "customers",
            "client",
            "clients",
            "order",
            "orders",
            "sales",
            "invoice",
            "invoices",
            "crm",
            "shop",
        ],
        name: "Customer management",
        purposes: &[
            ("Performing orders and contracts", LawfulBasis::Contract),
            (
                "Keeping invoices and accounting records",
                LawfulBasis::LegalObligation,
            ),
        ],
        subjects: &["Customers", "Contact persons of customers"],
        data: &[
            ("Contact details", "3 years after the last contract", None),
            ("Order history", "3 years after the last contract", None),
            (
                "Invoices and payment data",
                "as long as commercial and tax law require (often 10 years)",
                None,
            ),
        ],
        recipients: &["Accounting", "Payment provider"],
        dpia: DpiaRequirement::No,
        why: "serving customers is contract performance (Art. 6(1)(b)); invoices must be kept by law (Art. 6(1)(c))",
    },
    Rule {
        words: &[
            "support",
            "helpdesk",
            "ticket",
            "tickets",
            "complaint",
            "complaints",
        ],
        name: "Customer support",
        purposes: &[("Answering support requests", LawfulBasis::Contract)],
        subjects: &["Customers", "Users"],
        data: &[
            (
                "Contact details",
                "2 years after the request is closed",
                None,
            ),
            (
                "Content of requests",
                "2 years after the request is closed",
                None,
            ),
        ],
        recipients: &["Helpdesk software provider"],
        dpia: DpiaRequirement::No,
        why: "support is part of the contract with the customer (Art. 6(1)(b))",
    },
    Rule {
        words: &["cctv", "camera", "cameras", "video", "surveillance"],
        name: "Video surveillance",
        purposes: &[(
            "Protecting premises and property",
            LawfulBasis::LegitimateInterests,
        )],
        subjects: &["Visitors", "Employees"],
        data: &[(
            "Video images",
            "72 hours unless an incident is being investigated",
            None,
        )],
        recipients: &["Security service", "Police (on request)"],
        dpia: DpiaRequirement::Yes,
        why: "video surveillance relies on legitimate interests (Art. 6(1)(f)) — document the balancing test — and systematic monitoring usually needs a DPIA (Art. 35)",
    },
    Rule {
        words: &[
            "website",
            "analytics",
            "cookie",
            "cookies",
            "tracking",
            "visitors",
        ],
        name: "Website analytics",
        purposes: &[(
            "Measuring and improving the use of the website",
            LawfulBasis::Consent,
        )],
        subjects: &["Website visitors"],
        data: &[
            ("IP address (shortened)", "13 months", None),
            ("Device and browser information", "13 months", None),
            ("Usage data", "13 months", None),
        ],
        recipients: &["Analytics provider"],
        dpia: DpiaRequirement::ToAssess,
        why: "non-essential cookies and tracking need consent (ePrivacy rules, Art. 6(1)(a) GDPR)",
    },
    Rule {
        words: &["sick", "sickness", "illness", "health", "medical"],
        name: "Sickness absence",
        purposes: &[(
            "Recording sickness absence and continued pay",
            LawfulBasis::LegalObligation,
        )],
        subjects: &["Employees"],
        data: &[(
            "Sick notes and absence periods",
            "as employment and social-security law require",
            Some(Art9Condition::EmploymentSocialSecurity),
        )],
        recipients: &["Health insurer", "Payroll"],
        dpia: DpiaRequirement::ToAssess,
        why: "health data is special-category data: it needs an Art. 9(2) condition, here employment and social-security law (Art. 9(2)(b))",
    },
    Rule {
        words: &["employee", "employees", "staff", "personnel", "hr"],
        name: "Personnel administration",
        purposes: &[(
            "Managing the employment relationship",
            LawfulBasis::Contract,
        )],
        subjects: &["Employees"],
        data: &[
            (
                "Contact details",
                "6 years after the end of employment",
                None,
            ),
            (
                "Contract and position",
                "6 years after the end of employment",
                None,
            ),
        ],
        recipients: &["HR software provider"],
        dpia: DpiaRequirement::No,
        why: "managing staff is part of the employment contract (Art. 6(1)(b))",
    },
];

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn suggest(request: &ActivitySuggestionRequest) -> ActivityDraft {
    let words = words_of(&request.description);
    let matched: Vec<&Rule> = RULES
        .iter()
        .filter(|rule| rule.words.iter().any(|w| words.iter().any(|x| x == w)))
        .collect();
    let mut fields = ActivityFields {
        name: String::new(),
        description: Some(request.description.clone()),
        role: ActivityRole::Controller,
        controller_name: None,
        controller_contact: None,
        purposes: Vec::new(),
        data_subject_categories: Vec::new(),
        data_categories: Vec::new(),
        recipient_categories: Vec::new(),
        transfers: Vec::new(),
        security_measures: Some(
            "Access limited to the staff who need it; encrypted transport (TLS); backups; [to be completed]"
                .to_owned(),
        ),
        data_source: Some("The data subjects themselves".to_owned()),
        automated_decision_making: false,
        automated_decision_details: None,
        dpia_required: DpiaRequirement::ToAssess,
        dpia_reason: None,
        owner_id: None,
        department: None,
        processor_ids: Vec::new(),
        status: ActivityStatus::Draft,
        review_date: None,
    };
    let mut reasons = Vec::new();
    for rule in &matched {
        if fields.name.is_empty() {
            fields.name = rule.name.to_owned();
        }
        for (description, basis) in rule.purposes {
            fields.purposes.push(Purpose {
                description: (*description).to_owned(),
                lawful_basis: *basis,
                legitimate_interest: (*basis == LawfulBasis::LegitimateInterests)
                    .then(|| "[to be completed: the interest and the balancing test]".to_owned()),
            });
        }
        fields
            .data_subject_categories
            .extend(rule.subjects.iter().map(|s| (*s).to_owned()));
        for (name, retention, special) in rule.data {
            fields.data_categories.push(DataCategory {
                name: (*name).to_owned(),
                special_category: *special,
                criminal_offence_data: false,
                retention: Some((*retention).to_owned()),
            });
        }
        fields
            .recipient_categories
            .extend(rule.recipients.iter().map(|s| (*s).to_owned()));
        fields.dpia_required = match (fields.dpia_required, rule.dpia) {
            (_, DpiaRequirement::Yes) | (DpiaRequirement::Yes, _) => DpiaRequirement::Yes,
            (_, DpiaRequirement::ToAssess) => DpiaRequirement::ToAssess,
            (_, DpiaRequirement::No) if matched.len() == 1 => DpiaRequirement::No,
            (current, _) => current,
        };
        reasons.push(format!("{}: {}", rule.name, rule.why));
    }
    if matched.is_empty() {
        let name: String = request
            .description
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        fields.name = name.chars().take(200).collect();
        fields.purposes.push(Purpose {
            description: request.description.chars().take(500).collect(),
            lawful_basis: LawfulBasis::LegitimateInterests,
            legitimate_interest: Some(
                "[to be completed: choose the lawful basis; if legitimate interests, the interest and the balancing test]"
                    .to_owned(),
            ),
        });
        reasons.push("no rule matched the description: the purpose is taken from it; choose the lawful basis and fill in the data categories, recipients and retention".to_owned());
    }
    // Similar records of the register are the ones retrieved for the description.
    let similar: Vec<&ContextRecord> = request
        .context
        .iter()
        .filter(|r| r.kind != ContextKind::Organisation)
        .collect();
    if !similar.is_empty() {
        reasons.push(format!(
            "compare with what you already record: {}",
            similar
                .iter()
                .map(|r| format!("{} \"{}\"", r.kind.label(), r.title))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    ActivityDraft {
        fields,
        rationale: format!("{}.", reasons.join(". ")),
        citations: similar.iter().map(|r| r.id).collect(),
    }
}

// ---------------------------------------------------------------- answers

fn mentions(question: &[String], any: &[&str]) -> bool {
    question
        .iter()
        .any(|w| any.iter().any(|a| w.starts_with(a)))
}

fn bullet(record: &ContextRecord, detail: &str) -> String {
    format!(
        "- **{}** ({}): {detail}\n",
        record.title,
        record.kind.label()
    )
}

fn answer(request: &QuestionRequest) -> Answer {
    let q = words_of(&request.question);
    let records = &request.context;
    let activities = of_kind(records, ContextKind::ProcessingActivity);
    let processors = of_kind(records, ContextKind::Processor);
    let policies = of_kind(records, ContextKind::Policy);
    let organisation = of_kind(records, ContextKind::Organisation);
    let mut text = String::new();
    let mut cited: Vec<Uuid> = Vec::new();
    let mut cite = |record: &ContextRecord, text: &mut String, detail: &str| {
        text.push_str(&bullet(record, detail));
        if !cited.contains(&record.id) {
            cited.push(record.id);
        }
    };

    if mentions(&q, &["dpo", "officer"]) {
        match organisation.first() {
            Some(org) => cite(org, &mut text, &format!("DPO {}", or_tbc(org.line("DPO")))),
            None => text
                .push_str("- The organisation profile is not recorded yet, so neither is a DPO.\n"),
        }
    }
    if mentions(
        &q,
        &["missing", "incomplete", "complete", "gap", "art", "article"],
    ) {
        let mut any = false;
        for record in &activities {
            if let Some(missing) = record.line("Missing") {
                any = true;
                cite(record, &mut text, &format!("missing {missing}"));
            }
        }
        if !any {
            text.push_str(&format!(
                "- All {} recorded activities list every item Art. 30 asks for.\n",
                activities.len()
            ));
        }
    }
    if mentions(
        &q,
        &[
            "dpa",
            "processor",
            "agreement",
            "vendor",
            "supplier",
            "art28",
        ],
    ) {
        for record in &processors {
            let dpa = record.line("DPA").unwrap_or("none");
            let clauses = record.line("Art. 28(3) clauses missing");
            if !dpa.starts_with("signed") || clauses.is_some() {
                let detail = match clauses {
                    Some(c) => format!("agreement {dpa}; Art. 28(3) clauses missing: {c}"),
                    None => format!("agreement {dpa}"),
                };
                cite(record, &mut text, &detail);
            }
        }
    }
    if mentions(
        &q,
        &[
            "transfer",
            "third",
            "abroad",
            "outside",
            "country",
            "countries",
        ],
    ) {
        for record in &activities {
            if let Some(transfers) = record.line("Transfers") {
                cite(record, &mut text, &format!("transfers to {transfers}"));
            }
        }
    }
    if mentions(
        &q,
        &["retention", "retain", "keep", "delete", "erase", "long"],
    ) {
        for record in &activities {
            let categories = record.line("Data categories").unwrap_or("");
            let without: Vec<&str> = categories
                .split("; ")
                .filter(|c| !c.is_empty() && !c.contains("retention:"))
                .map(|c| c.split(", ").next().unwrap_or(c))
                .collect();
            if !without.is_empty() {
                cite(
                    record,
                    &mut text,
                    &format!("no retention recorded for {}", without.join(", ")),
                );
            } else if !categories.is_empty() {
                cite(record, &mut text, categories);
            }
        }
    }
    if mentions(&q, &["policy", "policies", "review"]) {
        for record in &policies {
            let detail = format!(
                "{}, published version {}{}",
                record.line("Status").unwrap_or("draft"),
                record.line("Published version").unwrap_or("none"),
                record
                    .line("Next review")
                    .map(|d| format!(", next review {d}"))
                    .unwrap_or_default()
            );
            cite(record, &mut text, &detail);
        }
    }
    if mentions(&q, &["consent"]) {
        for record in &activities {
            if record
                .line("Purposes")
                .is_some_and(|p| p.contains("(consent)"))
            {
                cite(
                    record,
                    &mut text,
                    "relies on consent: keep proof of each consent and make withdrawal as easy as giving it",
                );
            }
        }
    }
    if text.is_empty() {
        // No known topic: the records that mention the question's words.
        let words = keywords(&request.question, 8);
        for record in records {
            let haystack = format!("{} {}", record.title, record.excerpt).to_lowercase();
            if words.iter().any(|w| haystack.contains(w.as_str())) {
                let first = record.excerpt.lines().next().unwrap_or("");
                cite(record, &mut text, first);
            }
        }
    }
    let text = if text.is_empty() {
        "I found nothing in your register about that. Record the processing it concerns (purposes, data, recipients, retention) and ask again, or ask about: missing Art. 30 items, processors and their agreements, transfers, retention, policies, consent, or your DPO.".to_owned()
    } else {
        let consulted = match records.len() {
            1 => "1 record".to_owned(),
            n => format!("{n} records"),
        };
        format!(
            "From your register ({consulted} consulted):\n\n{text}\nThis summary is generated from your own records by the offline assistant; check it before relying on it."
        )
    };
    Answer {
        text,
        citations: cited,
    }
}

/// What a breach of each kind may do to the people concerned (EDPB Guidelines 9/2022).
const KIND_CONSEQUENCES: &[(&str, &str)] = &[
    (
        "confidentiality",
        "The data may be misused by whoever obtained it: phishing and social engineering aimed at the people concerned, identity theft or fraud, and loss of control over their data.",
    ),
    (
        "integrity",
        "Decisions or services may rest on altered data: wrong records, wrong payments or communications to the people concerned.",
    ),
    (
        "availability",
        "The people concerned may be unable to use services or to exercise their rights while the data is unavailable or lost.",
    ),
];

/// Data categories whose loss adds a consequence of its own (keyword, consequence).
const DATA_CONSEQUENCES: &[(&[&str], &str)] = &[
    (
        &["bank", "iban", "payment", "card", "financial", "salary"],
        "Financial loss: the account or payment data can be used for fraudulent payments.",
    ),
    (
        &["health", "medical", "sick", "diagnos"],
        "Health data (Art. 9) can lead to discrimination, stigma or distress: a high risk is likely.",
    ),
    (
        &["password", "credential", "login", "token"],
        "Accounts may be taken over, here and wherever the people concerned reuse the password.",
    ),
    (
        &["identity", "passport", "id card", "social security", "tax"],
        "Identity documents and numbers make identity theft much easier.",
    ),
];

/// The measures of each kind of breach: contain, recover, prevent.
const KIND_MEASURES: &[(&str, &str)] = &[
    (
        "confidentiality",
        "Contain the disclosure: revoke access, reset the credentials concerned, wipe lost devices remotely, ask unintended recipients to delete the data.",
    ),
    (
        "integrity",
        "Restore the correct data from a verified backup and find which records were altered.",
    ),
    (
        "availability",
        "Restore the data or the service from backups and check that nothing is missing.",
    ),
];

fn breach_measures(request: &TargetRequest) -> BreachMeasuresDraft {
    let breach = (request.context.iter()).find(|r| r.id == request.target_id);
    let line = |key: &str| breach.and_then(|b| b.line(key)).unwrap_or_default();
    let kinds = line("Kinds");
    let data = line("Data categories").to_lowercase();
    let activities = of_kind(&request.context, ContextKind::ProcessingActivity);
    let processors = of_kind(&request.context, ContextKind::Processor);
    let subjects = match line("Data subjects") {
        "" => "the people concerned".to_owned(),
        s => s.to_owned(),
    };

    let mut consequences: Vec<String> = Vec::new();
    for (kind, text) in KIND_CONSEQUENCES {
        if kinds.contains(kind) {
            consequences.push(format!("- {text}"));
        }
    }
    for (words, text) in DATA_CONSEQUENCES {
        if words.iter().any(|w| data.contains(w)) {
            consequences.push(format!("- {text}"));
        }
    }
    if consequences.is_empty() {
        consequences.push(format!(
            "- {TBC}: what the breach may do to the people concerned."
        ));
    }
    let mut measures: Vec<String> = (KIND_MEASURES.iter())
        .filter(|(kind, _)| kinds.contains(kind))
        .map(|(_, text)| format!("- {text}"))
        .collect();
    if !processors.is_empty() {
        let names: Vec<&str> = processors.iter().map(|p| p.title.as_str()).collect();
        measures.push(format!(
            "- Ask the processors involved ({}) what they know and what they did (Art. 28(3)(f), 33(2)).",
            names.join(", ")
        ));
    }
    measures.push(
        "- Notify the supervisory authority within 72 hours of becoming aware unless the breach is unlikely to result in a risk (Art. 33(1)); record the decision either way (Art. 33(5)).".to_owned(),
    );
    measures.push(format!(
        "- If the risk to {subjects} is high, tell them without undue delay, in clear language, what happened and what they can do (Art. 34)."
    ));
    measures.push(
        "- Prevent a recurrence: find the cause and fix it (encryption of devices and backups, access rights, staff awareness).".to_owned(),
    );
    let mut rationale = format!(
        "From the breach's kinds ({}) and data categories",
        if kinds.is_empty() {
            "none recorded"
        } else {
            kinds
        }
    );
    if !activities.is_empty() {
        let names: Vec<&str> = activities.iter().map(|a| a.title.as_str()).collect();
        rationale.push_str(&format!(
            " and the processing activities it concerns ({})",
            names.join(", ")
        ));
    }
    rationale.push_str(". Generated by the offline assistant from your own records; check it before relying on it.");
    let citations = (request.context.iter())
        .filter(|r| {
            r.id == request.target_id
                || matches!(
                    r.kind,
                    ContextKind::ProcessingActivity | ContextKind::Processor
                )
        })
        .map(|r| r.id)
        .collect();
    BreachMeasuresDraft {
        consequences: consequences.join("\n"),
        measures: measures.join("\n"),
        rationale,
        citations,
    }
}

// ---------------------------------------------------------------- DPIA drafts

/// The value of `key` in each record, with the record's title: `- **title**: value`
/// lines (`or` where a record has none).
fn per_record(records: &[&ContextRecord], key: &str, or: &str) -> String {
    (records.iter())
        .map(|r| format!("- **{}**: {}", r.title, r.line(key).unwrap_or(or)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A candidate risk; its residual values are the initial ones until measures are decided.
fn candidate(source: &str, event: RiskEvent, impact: String, severity: Scale) -> Risk {
    Risk {
        source: source.to_owned(),
        event,
        impact,
        likelihood: Scale::Limited,
        severity,
        residual_likelihood: Scale::Limited,
        residual_severity: severity,
    }
}

fn dpia_draft(request: &TargetRequest) -> DpiaContentDraft {
    let activities = of_kind(&request.context, ContextKind::ProcessingActivity);
    let processors = of_kind(&request.context, ContextKind::Processor);
    let all = |key: &str| -> Vec<&str> {
        (activities.iter())
            .filter_map(|a| a.line(key))
            .filter(|v| !v.is_empty())
            .collect()
    };
    let (data, subjects, transfers) = (
        all("Data categories"),
        all("Data subjects"),
        all("Transfers"),
    );
    let special = data.iter().any(|d| d.contains("special category"));
    let subjects = match subjects.join(", ") {
        s if s.is_empty() => "the people concerned".to_owned(),
        s => s,
    };
    let data_text = match data.join("; ") {
        d if d.is_empty() => TBC.to_owned(),
        d => d,
    };

    let mut description = format!(
        "The assessment covers {} processing activit{} of the register.\n",
        activities.len(),
        if activities.len() == 1 { "y" } else { "ies" }
    );
    for a in &activities {
        let line = |key: &str| or_tbc(a.line(key));
        description.push_str(&format!(
            "\n### {}\n\n{}\n\n- Purposes (lawful basis): {}\n- Data subjects: {}\n- Data categories (retention): {}\n- Recipients: {}\n- Transfers outside the EEA: {}\n",
            a.title,
            line("Description"),
            line("Purposes"),
            line("Data subjects"),
            line("Data categories"),
            line("Recipients"),
            a.line("Transfers").unwrap_or("none recorded"),
        ));
    }
    if !processors.is_empty() {
        description.push_str("\n### Processors\n\n");
        description.push_str(&per_record(&processors, "Services", TBC));
        description.push('\n');
    }

    let topic = |topic: NecessityTopic, assessment: String| NecessityItem { topic, assessment };
    let mut lawful = format!(
        "The purposes and their lawful basis as recorded:\n{}\nCheck that each basis fits its purpose (Art. 6(1)).",
        per_record(&activities, "Purposes", TBC)
    );
    if special {
        lawful.push_str(" Special-category data is processed: the Art. 9(2) condition recorded for it must hold as well.");
    }
    let processor_text = if processors.is_empty() {
        "No processor is recorded for the covered activities.".to_owned()
    } else {
        format!(
            "Processors and their agreements (Art. 28(3)):\n{}",
            per_record(&processors, "DPA", "no agreement recorded")
        )
    };
    let transfer_text = if transfers.is_empty() {
        "No transfer outside the EEA is recorded.".to_owned()
    } else {
        format!(
            "Transfers: {}; each needs its Chapter V safeguard, documented.",
            transfers.join("; ")
        )
    };
    let necessity = vec![
        topic(NecessityTopic::LawfulBasis, lawful),
        topic(
            NecessityTopic::Minimisation,
            format!(
                "The data processed: {data_text}. {TBC}: why each category is needed for the purposes and what is left out (Art. 5(1)(c))."
            ),
        ),
        topic(
            NecessityTopic::Retention,
            format!(
                "Retention as recorded: {data_text}. Data is deleted or anonymised when the period ends (Art. 5(1)(e)); {TBC}: how deletion is done."
            ),
        ),
        topic(
            NecessityTopic::Information,
            format!(
                "{subjects} are informed before the processing (Art. 13, 14); {TBC}: where (privacy notice, signage, intranet) and when."
            ),
        ),
        topic(
            NecessityTopic::Rights,
            format!(
                "Requests of {subjects} (access, rectification, erasure, objection, Art. 15–21) go through the data-subject request process on the one-month clock of Art. 12(3); {TBC}: what is specific to this processing."
            ),
        ),
        topic(
            NecessityTopic::ProcessorsAndTransfers,
            format!("{processor_text} {transfer_text}"),
        ),
    ];

    let heavy = if special {
        Scale::Maximum
    } else {
        Scale::Significant
    };
    let mut risks = vec![
        candidate(
            "An attacker or an unauthorised employee",
            RiskEvent::IllegitimateAccess,
            format!(
                "The data of {subjects} ({data_text}) is disclosed: loss of control over it, discrimination, fraud or distress."
            ),
            heavy,
        ),
        candidate(
            "An employee's error or a faulty system",
            RiskEvent::UnwantedChange,
            format!("Decisions about {subjects} rest on wrong data."),
            Scale::Limited,
        ),
        candidate(
            "A technical failure, ransomware or a processor's outage",
            RiskEvent::Disappearance,
            format!(
                "The data of {subjects} is lost or unavailable: services stop, rights cannot be exercised."
            ),
            Scale::Limited,
        ),
    ];
    if !processors.is_empty() {
        let names: Vec<&str> = processors.iter().map(|p| p.title.as_str()).collect();
        risks.push(candidate(
            &format!("A processor ({})", names.join(", ")),
            RiskEvent::IllegitimateAccess,
            format!(
                "The processor uses or discloses the data of {subjects} beyond the instructions."
            ),
            heavy,
        ));
    }
    if !transfers.is_empty() {
        risks.push(candidate(
            "Public authorities of a third country",
            RiskEvent::IllegitimateAccess,
            format!("The data of {subjects} is accessed abroad without the protection of the GDPR ({}).", transfers.join("; ")),
            Scale::Significant,
        ));
    }

    let mut rationale = if activities.is_empty() {
        "No covered activity could be read: the content is a skeleton to complete".to_owned()
    } else {
        let names: Vec<&str> = activities.iter().map(|a| a.title.as_str()).collect();
        format!("From the covered activities ({})", names.join(", "))
    };
    if !processors.is_empty() {
        rationale.push_str(" and their processors");
    }
    if special {
        rationale
            .push_str("; special-category data raises the severity of a disclosure to maximum");
    }
    rationale.push_str(". The likelihoods and severities are starting values: assess them, and the residual values once the measures are decided. Generated by the offline assistant from your own records; check it before relying on it.");
    let citations = (request.context.iter())
        .filter(|r| {
            r.id == request.target_id
                || matches!(
                    r.kind,
                    ContextKind::ProcessingActivity | ContextKind::Processor
                )
        })
        .map(|r| r.id)
        .collect();
    DpiaContentDraft {
        description,
        necessity,
        risks,
        rationale,
        citations,
    }
}

#[async_trait::async_trait]
impl AiProvider for OfflineAssistant {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn model(&self) -> &str {
        MODEL
    }

    async fn draft_policy(
        &self,
        request: &PolicyDraftRequest,
    ) -> Result<Generated<PolicyDraft>, AiError> {
        let content = draft_text(request, self.clock.now().date());
        // The draft draws on the profile, the activities and the processors.
        let citations = request
            .context
            .iter()
            .filter(|r| r.kind != ContextKind::Policy)
            .map(|r| r.id)
            .collect();
        Ok(Generated {
            output: PolicyDraft {
                title: request.title.clone(),
                content,
                citations,
            },
            provenance: self.provenance(POLICY_TEMPLATE, &request.context),
        })
    }

    async fn suggest_activity(
        &self,
        request: &ActivitySuggestionRequest,
    ) -> Result<Generated<ActivityDraft>, AiError> {
        Ok(Generated {
            output: suggest(request),
            provenance: self.provenance(ACTIVITY_TEMPLATE, &request.context),
        })
    }

    async fn answer(&self, request: &QuestionRequest) -> Result<Generated<Answer>, AiError> {
        Ok(Generated {
            output: answer(request),
            provenance: self.provenance(QUESTION_TEMPLATE, &request.context),
        })
    }

    async fn suggest_breach_measures(
        &self,
        request: &TargetRequest,
    ) -> Result<Generated<BreachMeasuresDraft>, AiError> {
        Ok(Generated {
            output: breach_measures(request),
            provenance: self.provenance(BREACH_TEMPLATE, &request.context),
        })
    }

    async fn draft_dpia(
        &self,
        request: &TargetRequest,
    ) -> Result<Generated<DpiaContentDraft>, AiError> {
        Ok(Generated {
            output: dpia_draft(request),
            provenance: self.provenance(DPIA_TEMPLATE, &request.context),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: ContextKind, title: &str, excerpt: &str) -> ContextRecord {
        ContextRecord {
            kind,
            id: Uuid::now_v7(),
            title: title.to_owned(),
            excerpt: excerpt.to_owned(),
        }
    }

    #[test]
    fn rules_fill_a_newsletter_and_payroll() {
        let request = ActivitySuggestionRequest {
            description: "We send a monthly newsletter to customers who subscribed".into(),
            language: "en".into(),
            organisation: None,
            context: Vec::new(),
        };
        let draft = suggest(&request);
        assert_eq!(draft.fields.name, "Newsletter");
        assert_eq!(draft.fields.purposes[0].lawful_basis, LawfulBasis::Consent);
        assert!(
            draft
                .fields
                .data_categories
                .iter()
                .all(|c| c.retention.is_some())
        );
        let payroll = suggest(&ActivitySuggestionRequest {
            description: "Payroll for our staff".into(),
            ..request
        });
        assert_eq!(payroll.fields.name, "Payroll");
        assert!(
            payroll
                .fields
                .purposes
                .iter()
                .any(|p| p.lawful_basis == LawfulBasis::LegalObligation)
        );
        assert!(payroll.fields.validated().is_ok());
    }

    #[test]
    fn breach_measures_follow_the_kinds_and_data_and_cite_the_register() {
        let breach = record(
            ContextKind::Breach,
            "Laptop stolen",
            "Kinds: confidentiality\nData subjects: Customers\nData categories: Contact data, Bank details",
        );
        let activity = record(
            ContextKind::ProcessingActivity,
            "Customer accounts",
            "Status: active",
        );
        let processor = record(ContextKind::Processor, "Mail Cloud", "DPA: signed");
        let organisation = record(
            ContextKind::Organisation,
            "Acme GmbH",
            "Legal name: Acme GmbH",
        );
        let request = TargetRequest {
            target_id: breach.id,
            language: "en".into(),
            organisation: None,
            context: vec![
                breach.clone(),
                organisation,
                activity.clone(),
                processor.clone(),
            ],
        };
        let draft = breach_measures(&request);
        assert!(
            draft.consequences.contains("identity theft"),
            "{}",
            draft.consequences
        );
        assert!(
            draft.consequences.contains("Financial loss"),
            "{}",
            draft.consequences
        );
        assert!(
            !draft.consequences.contains("unable to use services"),
            "not an availability breach"
        );
        assert!(
            draft.measures.contains("revoke access"),
            "{}",
            draft.measures
        );
        assert!(draft.measures.contains("Mail Cloud"), "{}", draft.measures);
        assert!(
            draft.measures.contains("risk to Customers"),
            "{}",
            draft.measures
        );
        assert!(draft.rationale.contains("Customer accounts"));
        assert_eq!(draft.citations, vec![breach.id, activity.id, processor.id]);
    }

    #[test]
    fn dpia_drafts_describe_the_covered_activities_and_cite_them() {
        let dpia = record(ContextKind::Dpia, "Employee health app", "Status: draft");
        let activity = record(
            ContextKind::ProcessingActivity,
            "Health app",
            "Purposes: Workplace health programme (consent)\nData subjects: Employees\nData categories: Step counts, special category: explicit_consent, retention: 12 months\nTransfers: US (adequacy_decision)",
        );
        let processor = record(ContextKind::Processor, "FitCloud Inc.", "DPA: signed");
        let request = TargetRequest {
            target_id: dpia.id,
            language: "en".into(),
            organisation: None,
            context: vec![dpia.clone(), activity.clone(), processor.clone()],
        };
        let draft = dpia_draft(&request);
        assert!(
            draft.description.contains("### Health app"),
            "{}",
            draft.description
        );
        assert!(
            draft.description.contains("12 months"),
            "{}",
            draft.description
        );
        assert!(
            draft.description.contains("FitCloud Inc."),
            "{}",
            draft.description
        );
        let topics: Vec<NecessityTopic> = draft.necessity.iter().map(|n| n.topic).collect();
        assert_eq!(
            topics,
            NecessityTopic::ALL,
            "every Art. 35(7)(b) topic, once"
        );
        assert!(draft.necessity[0].assessment.contains("Art. 9(2)"));
        assert!(
            draft.necessity[5]
                .assessment
                .contains("FitCloud Inc.**: signed")
        );
        assert_eq!(
            draft.risks.len(),
            5,
            "three events, the processor, the transfer"
        );
        assert_eq!(
            draft.risks[0].severity,
            Scale::Maximum,
            "special-category data"
        );
        assert!(draft.risks[3].source.contains("FitCloud Inc."));
        assert!(draft.risks.iter().all(|r| r.residual_level() == r.level()));
        assert_eq!(draft.citations, vec![dpia.id, activity.id, processor.id]);
    }

    #[test]
    fn answers_cite_what_they_use() {
        let payroll = record(
            ContextKind::ProcessingActivity,
            "Payroll",
            "Status: active\nMissing: 30(1)(f) retention",
        );
        let cctv = record(ContextKind::ProcessingActivity, "CCTV", "Status: active");
        let request = QuestionRequest {
            question: "Which records are incomplete?".into(),
            language: "en".into(),
            organisation: None,
            context: vec![payroll.clone(), cctv],
        };
        let answer = answer(&request);
        assert_eq!(answer.citations, vec![payroll.id]);
        assert!(answer.text.contains("Payroll"), "{}", answer.text);
    }
}
