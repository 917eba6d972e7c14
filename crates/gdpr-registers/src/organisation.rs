//! The controller's own details: Art. 30(1)(a) and the heading of both records.

use aura_shared_kernel::{TimeZoneName, TimeZones, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::text::{CountryCode, TextRule, optional_text, text};

/// A named party with contact details (DPO, EU representative, joint controller).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl Contact {
    pub fn validated(self, field: &str) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.collect(text(
            &format!("{field}.name"),
            &self.name,
            TextRule::line(200),
        ));
        let email = errors.collect(optional_email(
            &format!("{field}.email"),
            self.email.as_deref(),
        ));
        let phone = errors.collect(optional_text(
            &format!("{field}.phone"),
            self.phone.as_deref(),
            TextRule::line(50),
        ));
        let address = errors.collect(optional_text(
            &format!("{field}.address"),
            self.address.as_deref(),
            TextRule::block(500),
        ));
        errors.into_result()?;
        Ok(Self {
            name: name.unwrap_or_default(),
            email: email.flatten(),
            phone: phone.flatten(),
            address: address.flatten(),
        })
    }
}

/// A joint controller (Art. 26) and what it is responsible for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointController {
    pub contact: Contact,
    pub responsibilities: Option<String>,
}

/// The organisation profile of a tenant. One per tenant; `version` guards updates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationProfile {
    pub legal_name: String,
    pub address: Option<String>,
    /// Where the organisation is established: its public holidays count in the legal
    /// clocks (a data-subject request's due date).
    #[serde(default)]
    pub country: Option<CountryCode>,
    /// The organisation's IANA time zone (default `UTC`): deadlines are instants, and the
    /// answers say them in UTC and in this zone (a breach's Art. 33(1) deadline).
    #[serde(default)]
    pub time_zone: TimeZoneName,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub dpo: Option<Contact>,
    /// Why no DPO is designated (Art. 37 does not apply), when there is none.
    pub dpo_not_required_reason: Option<String>,
    pub eu_representative: Option<Contact>,
    #[serde(default)]
    pub joint_controllers: Vec<JointController>,
}

impl OrganisationProfile {
    /// Fields that name or reach people (the DPO, the representative, contact lines):
    /// their values stay beside the audit chain, shreddable (`Changes::personal`).
    pub const PERSONAL_FIELDS: &'static [&'static str] =
        &["contact_email", "contact_phone", "dpo", "eu_representative"];
}

/// The stored profile with its concurrency version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredOrganisation {
    pub profile: OrganisationProfile,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

fn optional_email(field: &str, raw: Option<&str>) -> Result<Option<String>, ValidationErrors> {
    let value = optional_text(field, raw, TextRule::line(254))?;
    if let Some(email) = &value
        && (!email.contains('@')
            || email.starts_with('@')
            || email.ends_with('@')
            || email.contains(' '))
    {
        return Err(ValidationErrors::single(field, "must be an e-mail address"));
    }
    Ok(value)
}

impl OrganisationProfile {
    /// The profile with every field checked; the time zone must be in `zones` and is kept
    /// in the database's spelling.
    pub fn validated(self, zones: &dyn TimeZones) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let legal_name = errors.collect(text("legal_name", &self.legal_name, TextRule::line(300)));
        let time_zone = errors.collect(self.time_zone.checked("time_zone", zones));
        let address = errors.collect(optional_text(
            "address",
            self.address.as_deref(),
            TextRule::block(1000),
        ));
        let contact_email = errors.collect(optional_email(
            "contact_email",
            self.contact_email.as_deref(),
        ));
        let contact_phone = errors.collect(optional_text(
            "contact_phone",
            self.contact_phone.as_deref(),
            TextRule::line(50),
        ));
        let dpo = self.dpo.and_then(|c| errors.collect(c.validated("dpo")));
        let reason = errors.collect(optional_text(
            "dpo_not_required_reason",
            self.dpo_not_required_reason.as_deref(),
            TextRule::block(2000),
        ));
        let representative = self
            .eu_representative
            .and_then(|c| errors.collect(c.validated("eu_representative")));
        if self.joint_controllers.len() > 50 {
            errors.push("joint_controllers", "must have at most 50 entries");
        }
        let mut joint_controllers = Vec::new();
        for (i, jc) in self.joint_controllers.into_iter().enumerate() {
            let field = format!("joint_controllers[{i}]");
            let contact = errors.collect(jc.contact.validated(&format!("{field}.contact")));
            let responsibilities = errors.collect(optional_text(
                &format!("{field}.responsibilities"),
                jc.responsibilities.as_deref(),
                TextRule::block(2000),
            ));
            if let (Some(contact), Some(responsibilities)) = (contact, responsibilities) {
                joint_controllers.push(JointController {
                    contact,
                    responsibilities,
                });
            }
        }
        errors.into_result()?;
        Ok(Self {
            legal_name: legal_name.unwrap_or_default(),
            address: address.flatten(),
            country: self.country,
            time_zone: time_zone.unwrap_or_default(),
            contact_email: contact_email.flatten(),
            contact_phone: contact_phone.flatten(),
            dpo,
            dpo_not_required_reason: reason.flatten(),
            eu_representative: representative,
            joint_controllers,
        })
    }
}
