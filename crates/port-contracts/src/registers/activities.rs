//! Processing activities on the record kernel: their fixture (complete, realistic Art. 30
//! records) and the contracts only activities owe: links name only the tenant's
//! processors and follow the activity through updates and deletes, each list filter,
//! and paging through a filtered list. The contracts every kernel register owes are in
//! [`records`](super::records).

use aura_gdpr_registers::{
    Activities, ActivityFields, ActivityFilter, ActivityRole, ActivityStatus, Art9Condition,
    DataCategory, DpiaRequirement, LawfulBasis, ProcessingActivity, ProcessorId, Purpose, Transfer,
    TransferMechanism,
};
use aura_records::{Id, RecordStore};
use aura_shared_kernel::UserId;
use time::macros::date;

use crate::{
    RegisterStores,
    fixtures::assert_not_found,
    registers::{
        RegisterFixture, add_processor, assert_chain, country, events,
        organisation::{profile, put},
        processors::{assert_unlinked, linking},
        records::{
            FilterCase, RecordFixture, all, assert_filters, assert_pages, assert_unresolved,
            delete, edited, get, insert, list_rows, new_record, try_insert, update,
        },
        register,
    },
};

/// A complete controller activity (payroll-like): two purposes, special-category data
/// with its Art. 9 condition, retention periods, a third-country transfer under SCCs,
/// security measures, an owner and the given processor links.
pub fn activity_fields(
    name: &str,
    owner: Option<UserId>,
    processors: &[ProcessorId],
) -> ActivityFields {
    ActivityFields {
        name: name.to_owned(),
        description: Some(
            "Monthly salary payments and the tax and social-security reporting they need."
                .to_owned(),
        ),
        role: ActivityRole::Controller,
        controller_name: None,
        controller_contact: None,
        purposes: vec![
            Purpose {
                description: "Paying salaries under the employment contract".to_owned(),
                lawful_basis: LawfulBasis::Contract,
                legitimate_interest: None,
            },
            Purpose {
                description: "Reporting to tax and social-security authorities".to_owned(),
                lawful_basis: LawfulBasis::LegalObligation,
                legitimate_interest: None,
            },
        ],
        data_subject_categories: vec!["Employees".to_owned(), "Former employees".to_owned()],
        data_categories: vec![
            DataCategory {
                name: "Bank details".to_owned(),
                special_category: None,
                criminal_offence_data: false,
                retention: Some("10 years after the end of the financial year".to_owned()),
            },
            DataCategory {
                name: "Sick-leave certificates".to_owned(),
                special_category: Some(Art9Condition::EmploymentSocialSecurity),
                criminal_offence_data: false,
                retention: Some("3 years after the end of the leave".to_owned()),
            },
        ],
        recipient_categories: vec![
            "Tax office".to_owned(),
            "Social-security funds".to_owned(),
            "Payroll provider".to_owned(),
        ],
        transfers: vec![Transfer {
            country: country("US"),
            recipient: Some("Payroll Cloud Inc.".to_owned()),
            mechanism: TransferMechanism::StandardContractualClauses,
            safeguards: Some("SCC 2021/914 module 2 with a transfer impact assessment".to_owned()),
        }],
        security_measures: Some(
            "Role-based access, encryption at rest and in transit, quarterly access review"
                .to_owned(),
        ),
        data_source: Some("The employees themselves and the tax office".to_owned()),
        automated_decision_making: false,
        automated_decision_details: None,
        dpia_required: DpiaRequirement::No,
        dpia_reason: Some("No large-scale processing of special categories".to_owned()),
        owner_id: owner,
        department: Some("Human Resources".to_owned()),
        processor_ids: processors.to_vec(),
        status: ActivityStatus::Active,
        review_date: Some(date!(2027 - 01 - 31)),
    }
    .validated()
    .expect("a complete activity is valid")
}

/// A new complete activity owned by the member (version 1, created by the owner now),
/// not stored.
pub fn new_activity(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    processors: &[ProcessorId],
) -> ProcessingActivity {
    new_record(
        stores,
        rf,
        activity_fields(name, Some(rf.member), processors),
    )
}

/// Stores a new complete activity and returns it.
pub async fn add_activity(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    processors: &[ProcessorId],
) -> ProcessingActivity {
    let activity = new_activity(stores, rf, name, processors);
    insert(stores, rf, &activity).await
}

impl RecordFixture for Activities {
    /// The processors a complete activity names.
    type Links = Vec<ProcessorId>;

    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self> {
        stores.activities.as_ref()
    }

    async fn links(stores: &RegisterStores, rf: &RegisterFixture) -> Vec<ProcessorId> {
        vec![add_processor(stores, rf, "Payroll Cloud").await.id]
    }

    fn fields(rf: &RegisterFixture, name: &str, links: &Vec<ProcessorId>) -> ActivityFields {
        activity_fields(name, Some(rf.member), links)
    }

    /// An activity carried out as a processor for a client: a legitimate interest with
    /// its assessment, automated decisions, a draft without owner, review date or links.
    fn vary(f: &mut ActivityFields) {
        f.role = ActivityRole::Processor;
        f.controller_name = Some("Client Retail AG".to_owned());
        f.controller_contact = Some("privacy@client.example".to_owned());
        f.purposes = vec![Purpose {
            description: "Fraud screening of the client's orders".to_owned(),
            lawful_basis: LawfulBasis::LegitimateInterests,
            legitimate_interest: Some("LIA 2025-04, balancing test documented".to_owned()),
        }];
        f.automated_decision_making = true;
        f.automated_decision_details =
            Some("Orders above a risk score are held for manual review".to_owned());
        f.status = ActivityStatus::Draft;
        f.review_date = None;
        f.owner_id = None;
        f.processor_ids.clear();
    }

    fn edit(f: &mut ActivityFields) {
        f.purposes = vec![Purpose {
            description: "Sending the monthly newsletter".to_owned(),
            lawful_basis: LawfulBasis::Consent,
            legitimate_interest: None,
        }];
        f.processor_ids.clear();
        f.status = ActivityStatus::Retired;
        f.transfers.clear();
        f.review_date = Some(date!(2028 - 02 - 29));
    }

    fn rename(f: &mut ActivityFields, name: &str) {
        f.name = name.to_owned();
    }
}

pub async fn links_name_only_the_tenants_processors(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let own = add_processor(&stores, &a, "Payroll Cloud").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let base = events(&stores, &a).await;

    for (links, what) in [
        (vec![own.id, Id::generate()], "an unknown processor"),
        (vec![own.id, foreign.id], "another tenant's processor"),
    ] {
        let activity = new_activity(&stores, &a, "Payroll", &links);
        assert_unresolved(
            try_insert(&stores, &a, &activity).await,
            &["processor_ids[1]"],
            &format!("inserting a link to {what}"),
        );
        assert_not_found(
            stores.activities.get(a.scope(), activity.id).await,
            "the refused activity",
        );
    }
    assert!(all::<Activities>(&stores, &a).await.is_empty());
    assert_unlinked(&stores, &b, foreign.id, "B's processor gained no link").await;
    assert_chain(&stores, a.scope(), base, "no event for refused inserts").await;

    let linked = add_activity(&stores, &a, "Payroll", &[own.id]).await;
    assert_eq!(
        get(&stores, &a, linked.id).await.fields.processor_ids,
        [own.id]
    );
}

pub async fn links_follow_the_activity(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let mailer = add_processor(&stores, &rf, "Mailer").await;
    let activity = add_activity(&stores, &rf, "Newsletter", &[hosting.id]).await;

    let relinked = edited(&stores, &activity, |f| {
        f.processor_ids = vec![mailer.id, hosting.id];
    });
    let relinked = update(&stores, &rf, &relinked, 1)
        .await
        .expect("link a second processor");
    assert_eq!(get(&stores, &rf, activity.id).await, relinked);
    assert_eq!(linking(&stores, &rf, mailer.id).await, [activity.id]);
    assert_eq!(linking(&stores, &rf, hosting.id).await, [activity.id]);

    let unlinked = edited(&stores, &relinked, |f| f.processor_ids = vec![hosting.id]);
    update(&stores, &rf, &unlinked, 2)
        .await
        .expect("unlink one");
    assert_unlinked(&stores, &rf, mailer.id, "removed links are gone").await;
    assert_eq!(linking(&stores, &rf, hosting.id).await, [activity.id]);

    delete(&stores, &rf, activity.id, 3)
        .await
        .expect("delete the activity");
    assert_unlinked(&stores, &rf, hosting.id, "its links went with it").await;
}

pub async fn update_with_a_bad_link_changes_nothing(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let own = add_processor(&stores, &a, "Hosting").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let activity = add_activity(&stores, &a, "Payroll", &[own.id]).await;
    let base = events(&stores, &a).await;

    for (link, what) in [(Id::generate(), "an unknown"), (foreign.id, "B's")] {
        let next = edited(&stores, &activity, |f| {
            f.name = "Payroll relinked".into();
            f.processor_ids.push(link);
        });
        assert_unresolved(
            update(&stores, &a, &next, 1).await,
            &["processor_ids[1]"],
            &format!("linking {what} processor"),
        );
        assert_eq!(
            get(&stores, &a, activity.id).await,
            activity,
            "the refused update changed nothing"
        );
    }
    assert_unlinked(&stores, &b, foreign.id, "B's processor gained no link").await;
    assert_chain(&stores, a.scope(), base, "no event for refused updates").await;
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let mailer = add_processor(&stores, &rf, "Mailer").await;

    let payroll = add_activity(&stores, &rf, "Payroll", &[hosting.id]).await;
    let mut newsletter = new_activity(
        &stores,
        &rf,
        "Customer Newsletter",
        &[mailer.id, hosting.id],
    );
    newsletter.fields.purposes = vec![Purpose {
        description: "Sending the newsletter".into(),
        lawful_basis: LawfulBasis::Consent,
        legitimate_interest: None,
    }];
    newsletter.fields.status = ActivityStatus::Draft;
    newsletter.fields.owner_id = Some(rf.owner());
    insert(&stores, &rf, &newsletter).await;
    let mut support = new_activity(&stores, &rf, "CUSTOMER support", &[]);
    support.fields.role = ActivityRole::Processor;
    support.fields.controller_name = Some("Client AG".into());
    support.fields.purposes = vec![Purpose {
        description: "Answering tickets for the client".into(),
        lawful_basis: LawfulBasis::Contract,
        legitimate_interest: None,
    }];
    support.fields.owner_id = None;
    insert(&stores, &rf, &support).await;

    let cases: &[FilterCase<Activities>] = &[
        (&|_| {}, &[&payroll, &newsletter, &support], "no filter"),
        (
            &|f| f.status = Some(ActivityStatus::Draft),
            &[&newsletter],
            "status",
        ),
        (
            &|f| f.role = Some(ActivityRole::Processor),
            &[&support],
            "role",
        ),
        (&|f| f.owner = Some(rf.member), &[&payroll], "owner"),
        (
            &|f| f.lawful_basis = Some(LawfulBasis::Contract),
            &[&payroll, &support],
            "lawful basis of any purpose",
        ),
        (
            &|f| f.lawful_basis = Some(LawfulBasis::VitalInterests),
            &[],
            "a lawful basis nobody uses",
        ),
        (
            &|f| f.processor = Some(hosting.id),
            &[&payroll, &newsletter],
            "processor",
        ),
        (
            &|f| f.processor = Some(mailer.id),
            &[&newsletter],
            "processor",
        ),
        (
            &|f| f.search = Some("customer".into()),
            &[&newsletter, &support],
            "search is a case-insensitive substring of the name",
        ),
        (
            &|f| f.search = Some("ROLL".into()),
            &[&payroll],
            "search inside the name",
        ),
        (
            &|f| {
                f.search = Some("customer".into());
                f.processor = Some(hosting.id);
                f.status = Some(ActivityStatus::Draft);
            },
            &[&newsletter],
            "filters combine",
        ),
        (
            &|f| f.search = Some("nothing like it".into()),
            &[],
            "no match",
        ),
    ];
    assert_filters(&stores, &rf, cases).await;
}

pub async fn list_pages_through_a_filtered_list(stores: RegisterStores) {
    let rf = register(&stores).await;
    let rows = list_rows::<Activities>(&stores, &rf, &Vec::new()).await;
    let matching: Vec<ProcessingActivity> = rows
        .iter()
        .filter(|a| a.fields.name.to_lowercase().contains("e"))
        .cloned()
        .collect();
    assert!(matching.len() > 3 && matching.len() < rows.len());
    let filter = ActivityFilter {
        search: Some("E".into()),
        ..ActivityFilter::default()
    };
    assert_pages(
        &stores,
        &rf,
        filter,
        &matching,
        2,
        "activities matching `E`",
    )
    .await;
}

/// An activity's gaps are derived where it is read or written, from its fields and the
/// organisation profile of that moment: item (a) of Art. 30 is missing until the profile
/// is saved, and is no longer missing once it is, without the activity changing.
pub async fn gaps_follow_the_organisation_profile(stores: RegisterStores) {
    let rf = register(&stores).await;
    let organisation_gap =
        |a: &ProcessingActivity| (a.derived.missing.iter()).any(|gap| gap.field == "organisation");
    let created = add_activity(&stores, &rf, "Payroll", &[]).await;
    assert!(
        organisation_gap(&created),
        "the insert answers the gap: {created:?}"
    );
    assert_eq!(get(&stores, &rf, created.id).await, created);

    put(&stores, &rf, &profile("Acme GmbH"), 0)
        .await
        .expect("save the profile");
    let read = get(&stores, &rf, created.id).await;
    assert!(!organisation_gap(&read), "a read after the save: {read:?}");
    assert_eq!(read.fields, created.fields);
    let listed = all::<Activities>(&stores, &rf).await;
    assert!(listed.iter().all(|a| !organisation_gap(a)));
    let renamed = edited(&stores, &read, |f| f.name = "Payroll 2027".into());
    let answered = update(&stores, &rf, &renamed, 1).await.expect("rename");
    assert_eq!(answered.derived.missing, read.derived.missing);
}
