//! What a breach takes from the organisation's own records where its fields say nothing:
//! the Art. 33(3)(b) contact point from the organisation profile (its DPO, else its
//! privacy contact), and the categories of data subjects and of personal data and the
//! processors from the processing activities it names (their Art. 30(1)(c), (d) entries).
//! A value the user entered always wins: nothing here overwrites it.

use aura_gdpr_registers::{OrganisationProfile, ProcessingActivity, ProcessorId, string_enum};
use aura_records::{Id, Record, RecordKind, RecordStore};
use aura_shared_kernel::{StoreError, TenantScope};
use serde::{Deserialize, Serialize};

use crate::breach::BreachFields;

string_enum!(
    /// Where a breach's contact point in effect comes from.
    ContactSource {
        /// The breach's own `contact_point`.
        Breach => "breach",
        /// The organisation profile's data protection officer.
        OrganisationDpo => "organisation_dpo",
        /// The organisation profile's contact e-mail and phone (no DPO in the profile).
        OrganisationContact => "organisation_contact",
    }
);

/// The Art. 33(3)(b) contact point a notification of the breach gives, and where it
/// comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInEffect {
    pub source: ContactSource,
    /// The name and contact details, as one text.
    pub contact: String,
}

/// The breach's own contact point, else the profile's DPO, else the profile's contact
/// e-mail or phone; `None` when none of them is known.
pub fn contact_in_effect(
    fields: &BreachFields,
    organisation: Option<&OrganisationProfile>,
) -> Option<ContactInEffect> {
    if let Some(own) = &fields.contact_point {
        return Some(ContactInEffect {
            source: ContactSource::Breach,
            contact: own.clone(),
        });
    }
    let profile = organisation?;
    if let Some(dpo) = &profile.dpo {
        let name = format!("{} (data protection officer)", dpo.name);
        return Some(ContactInEffect {
            source: ContactSource::OrganisationDpo,
            contact: joined([Some(&name), dpo.email.as_ref(), dpo.phone.as_ref()]),
        });
    }
    if profile.contact_email.is_none() && profile.contact_phone.is_none() {
        return None;
    }
    Some(ContactInEffect {
        source: ContactSource::OrganisationContact,
        contact: joined([
            Some(&profile.legal_name),
            profile.contact_email.as_ref(),
            profile.contact_phone.as_ref(),
        ]),
    })
}

fn joined<const N: usize>(parts: [Option<&String>; N]) -> String {
    parts
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the processing activities a breach names say about it: their categories of data
/// subjects and of personal data and their processors, each once (ignoring case), in the
/// order of the activities.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FromRegister {
    pub data_subject_categories: Vec<String>,
    pub data_categories: Vec<String>,
    pub processor_ids: Vec<ProcessorId>,
}

impl FromRegister {
    pub fn of(activities: &[ProcessingActivity]) -> Self {
        let mut view = Self::default();
        for activity in activities {
            let f = &activity.fields;
            for category in &f.data_subject_categories {
                push_new(&mut view.data_subject_categories, category);
            }
            for category in &f.data_categories {
                push_new(&mut view.data_categories, &category.name);
            }
            for processor in &f.processor_ids {
                if !view.processor_ids.contains(processor) {
                    view.processor_ids.push(*processor);
                }
            }
        }
        view
    }

    /// `fields` with each of the three lists the user left empty filled from the
    /// register; a list with an entry stays as entered. A new breach's fields go through
    /// this (an edit is stored as sent: emptying a list there is the user's choice).
    pub fn prefill(&self, mut fields: BreachFields) -> BreachFields {
        if fields.data_subject_categories.is_empty() {
            fields
                .data_subject_categories
                .clone_from(&self.data_subject_categories);
        }
        if fields.data_categories.is_empty() {
            fields.data_categories.clone_from(&self.data_categories);
        }
        if fields.processor_ids.is_empty() {
            fields.processor_ids.clone_from(&self.processor_ids);
        }
        fields
    }
}

fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|known| known.eq_ignore_ascii_case(item)) {
        list.push(item.to_owned());
    }
}

/// The records of `ids` in the caller's tenant, in that order; one removed since is
/// left out (a breach documents what was affected, and a later removal does not fail it).
pub async fn present<K: RecordKind>(
    store: &dyn RecordStore<K>,
    scope: &TenantScope,
    ids: &[Id<K>],
) -> Result<Vec<Record<K>>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        match store.get(scope, *id).await {
            Ok(record) => found.push(record),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use aura_gdpr_registers::Contact;
    use aura_shared_kernel::TenantId;
    use time::macros::datetime;

    use super::*;
    use crate::testing::fields;

    fn profile(dpo: Option<Contact>, email: Option<&str>) -> OrganisationProfile {
        let mut profile: OrganisationProfile = serde_json::from_value(serde_json::json!({
            "legal_name": "Acme GmbH", "address": null, "country": "DE",
            "contact_email": null, "contact_phone": null, "dpo": null,
            "dpo_not_required_reason": null, "eu_representative": null
        }))
        .expect("profile");
        profile.dpo = dpo;
        profile.contact_email = email.map(str::to_owned);
        profile
    }

    #[test]
    fn the_breachs_own_contact_wins_then_the_dpo_then_the_organisation() {
        let dpo = Contact {
            name: "Dana Schmidt".into(),
            email: Some("dpo@acme.example".into()),
            phone: None,
            address: None,
        };
        let mut own = fields(datetime!(2027-03-01 09:00 UTC));
        own.contact_point = Some("CISO, +49 30 1".into());
        let with_dpo = profile(Some(dpo), Some("privacy@acme.example"));
        let in_effect = |f: &BreachFields, p: Option<&OrganisationProfile>| {
            contact_in_effect(f, p).map(|c| (c.source, c.contact))
        };
        assert_eq!(
            in_effect(&own, Some(&with_dpo)),
            Some((ContactSource::Breach, "CISO, +49 30 1".into()))
        );
        let none = fields(datetime!(2027-03-01 09:00 UTC));
        assert_eq!(
            in_effect(&none, Some(&with_dpo)),
            Some((
                ContactSource::OrganisationDpo,
                "Dana Schmidt (data protection officer), dpo@acme.example".into()
            ))
        );
        let without_dpo = profile(None, Some("privacy@acme.example"));
        assert_eq!(
            in_effect(&none, Some(&without_dpo)),
            Some((
                ContactSource::OrganisationContact,
                "Acme GmbH, privacy@acme.example".into()
            ))
        );
        assert_eq!(in_effect(&none, Some(&profile(None, None))), None);
        assert_eq!(in_effect(&none, None), None);
    }

    fn activity(
        subjects: &[&str],
        data: &[&str],
        processors: &[ProcessorId],
    ) -> ProcessingActivity {
        let fields = serde_json::from_value(serde_json::json!({
            "name": "Accounts", "description": null, "controller_name": null,
            "controller_contact": null, "status": "active", "purposes": []
        }))
        .expect("activity");
        let at = datetime!(2027-01-01 00:00 UTC);
        let mut activity: ProcessingActivity = Record::first_version(
            Id::generate(),
            TenantId::generate(),
            fields,
            Default::default(),
            at,
        );
        let f = &mut activity.fields;
        f.data_subject_categories = subjects.iter().map(|s| (*s).to_owned()).collect();
        f.data_categories = (data.iter())
            .map(|name| {
                serde_json::from_value(serde_json::json!({"name": name})).expect("category")
            })
            .collect();
        f.processor_ids = processors.to_vec();
        activity
    }

    #[test]
    fn the_register_fills_only_what_the_user_left_empty() {
        let (p1, p2) = (Id::generate(), Id::generate());
        let view = FromRegister::of(&[
            activity(&["Customers"], &["Contact data"], &[p1]),
            activity(&["customers", "Employees"], &["Bank details"], &[p1, p2]),
        ]);
        assert_eq!(view.data_subject_categories, ["Customers", "Employees"]);
        assert_eq!(view.data_categories, ["Contact data", "Bank details"]);
        assert_eq!(view.processor_ids, [p1, p2]);

        let mut entered = fields(datetime!(2027-03-01 09:00 UTC));
        entered.data_subject_categories = vec!["Newsletter readers".into()];
        entered.data_categories.clear();
        let filled = view.prefill(entered);
        assert_eq!(
            filled.data_subject_categories,
            ["Newsletter readers"],
            "what the user entered stays"
        );
        assert_eq!(filled.data_categories, ["Contact data", "Bank details"]);
        assert_eq!(filled.processor_ids, [p1, p2]);
    }
}
