//! Which items of Art. 30 a record still lacks, per activity and across the register.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    activity::{
        ActivityFields, ActivityRole, ActivityStatus, DpiaRequirement, LawfulBasis,
        TransferMechanism,
    },
    organisation::OrganisationProfile,
};

/// One missing item: the provision that asks for it, the field to fill, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// e.g. `30(1)(b)`.
    pub article: &'static str,
    pub field: String,
    pub message: &'static str,
}

fn gap(article: &'static str, field: impl Into<String>, message: &'static str) -> Gap {
    Gap {
        article,
        field: field.into(),
        message,
    }
}

/// What the record of `fields` still lacks. Controller and joint-controller activities
/// are checked against Art. 30(1), processor activities against Art. 30(2). The
/// organisation profile supplies item (a) of both.
pub fn activity_gaps(
    fields: &ActivityFields,
    organisation: Option<&OrganisationProfile>,
) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let processor = fields.role == ActivityRole::Processor;
    let (a, purposes_item, transfers_item, security_item) = if processor {
        ("30(2)(a)", "30(2)(b)", "30(2)(c)", "30(2)(d)")
    } else {
        ("30(1)(a)", "30(1)(b)", "30(1)(e)", "30(1)(g)")
    };

    match organisation {
        None => gaps.push(gap(
            a,
            "organisation",
            "the organisation profile (name and contact details) is missing",
        )),
        Some(org) => {
            if org.contact_email.is_none() && org.address.is_none() && org.contact_phone.is_none() {
                gaps.push(gap(
                    a,
                    "organisation.contact",
                    "the controller's contact details are missing",
                ));
            }
            if org.dpo.is_none() && org.dpo_not_required_reason.is_none() {
                gaps.push(gap(
                    a,
                    "organisation.dpo",
                    "name a DPO or record why none is required",
                ));
            }
        }
    }
    if processor && fields.controller_name.is_none() {
        gaps.push(gap(
            "30(2)(a)",
            "controller_name",
            "name the controller this processing is done for",
        ));
    }
    if fields.joint_controller_missing(organisation) {
        gaps.push(gap(
            "30(1)(a)",
            "organisation.joint_controllers",
            "a joint-controller activity needs the joint controller in the profile",
        ));
    }

    if fields.purposes.is_empty() {
        let message = if processor {
            "describe the categories of processing carried out for the controller"
        } else {
            "state at least one purpose with its lawful basis"
        };
        gaps.push(gap(purposes_item, "purposes", message));
    }
    for (i, purpose) in fields.purposes.iter().enumerate() {
        if purpose.lawful_basis == LawfulBasis::LegitimateInterests
            && purpose.legitimate_interest.is_none()
        {
            gaps.push(gap(
                "6(1)(f)",
                format!("purposes[{i}].legitimate_interest"),
                "record the legitimate interest pursued",
            ));
        }
    }

    if !processor {
        if fields.data_subject_categories.is_empty() {
            gaps.push(gap(
                "30(1)(c)",
                "data_subject_categories",
                "list the categories of data subjects",
            ));
        }
        if fields.data_categories.is_empty() {
            gaps.push(gap(
                "30(1)(c)",
                "data_categories",
                "list the categories of personal data",
            ));
        }
        if fields.recipient_categories.is_empty() {
            gaps.push(gap(
                "30(1)(d)",
                "recipient_categories",
                "list the categories of recipients (or 'none')",
            ));
        }
        for (i, category) in fields.data_categories.iter().enumerate() {
            if category.retention.is_none() {
                gaps.push(gap(
                    "30(1)(f)",
                    format!("data_categories[{i}].retention"),
                    "state when this category is erased",
                ));
            }
        }
    }
    for (i, transfer) in fields.transfers.iter().enumerate() {
        if transfer.mechanism == TransferMechanism::Art49Derogation && transfer.safeguards.is_none()
        {
            gaps.push(gap(
                transfers_item,
                format!("transfers[{i}].safeguards"),
                "document the safeguards of an Art. 49 transfer",
            ));
        }
    }
    if fields.security_measures.is_none() {
        gaps.push(gap(
            security_item,
            "security_measures",
            "describe the technical and organisational security measures",
        ));
    }
    gaps
}

/// What the stores know of an activity's DPIA where they derive its `missing`, read from
/// the DPIA register (`approved_dpias` in both adapters' `registers/activities.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DpiaStanding {
    /// An approved DPIA covers it.
    pub approved: bool,
    /// An approved DPIA covering it keeps a high risk after the measures and its prior
    /// consultation of the supervisory authority (Art. 36) is not answered yet.
    pub consultation_pending: bool,
}

/// Art. 35(1): an active activity whose DPIA is required needs an approved DPIA before
/// the processing. Art. 36(1), (2): one whose approved DPIA awaits the authority's answer
/// to the prior consultation shows it until the answer is recorded (a retired activity
/// processes nothing).
pub fn dpia_gap(fields: &ActivityFields, dpia: DpiaStanding) -> Vec<Gap> {
    let mut gaps = Vec::new();
    if fields.status == ActivityStatus::Active
        && fields.dpia_required == DpiaRequirement::Yes
        && !dpia.approved
    {
        gaps.push(gap("35(1)", "dpia", "DPIA required before the processing"));
    }
    if fields.status != ActivityStatus::Retired && dpia.consultation_pending {
        gaps.push(gap(
            "36(1)",
            "dpia",
            "prior consultation pending: the supervisory authority's written advice (Art. 36(2)) is not recorded yet",
        ));
    }
    gaps
}

/// An activity's `missing`, as the stores derive it: the Art. 30 gaps and the Art. 35(1)
/// one.
pub fn activity_missing(
    fields: &ActivityFields,
    organisation: Option<&OrganisationProfile>,
    dpia: DpiaStanding,
) -> Vec<Gap> {
    let mut gaps = activity_gaps(fields, organisation);
    gaps.extend(dpia_gap(fields, dpia));
    gaps
}

impl ActivityFields {
    fn joint_controller_missing(&self, organisation: Option<&OrganisationProfile>) -> bool {
        self.role == ActivityRole::JointController
            && organisation.is_some_and(|org| org.joint_controllers.is_empty())
    }
}

/// The register at a glance: how many activities are complete, and which items are
/// missing how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CompletenessSummary {
    pub activities: usize,
    pub complete: usize,
    pub incomplete: usize,
    /// Article item → number of activities lacking it.
    pub missing_by_article: BTreeMap<&'static str, usize>,
}

impl CompletenessSummary {
    pub fn add(&mut self, gaps: &[Gap]) {
        self.activities += 1;
        if gaps.is_empty() {
            self.complete += 1;
        } else {
            self.incomplete += 1;
        }
        let mut seen: Vec<&'static str> = gaps.iter().map(|g| g.article).collect();
        seen.sort_unstable();
        seen.dedup();
        for article in seen {
            *self.missing_by_article.entry(article).or_default() += 1;
        }
    }
}
