//! What only PostgreSQL shows about the public intake's store (its behaviour is the
//! contract suite's): the submission is sealed at rest — read as the superuser, the row
//! holds neither the e-mail address nor the name nor the token — and a sealed submission
//! copied into another intake's row does not open.

mod common;

use aura_identity::TokenHash;
use aura_requests::intake::{IntakeForm, IntakeStore, PendingIntake};
use aura_shared_kernel::SystemScope;
use common::{connect, env, registered};
use diesel::{QueryableByName, sql_types::Bytea};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Bytea)]
    token_hash: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    sealed: Vec<u8>,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_submission_is_sealed_at_rest_and_opens_only_in_its_own_row() {
    let env = env().await;
    let intakes: &dyn IntakeStore = &env.stores;
    let (tenant, _, _) = registered(&env.stores, "sealed").await;
    let scope = SystemScope::for_platform_operation("tests").within(tenant.id);
    let submission = IntakeForm {
        name: "Erika Mustermann".into(),
        email: "erika.sealed@example.test".into(),
        contact: "Musterstraße 1, 10115 Berlin".into(),
        category: "customer".into(),
        rights: vec!["access".into()],
        scope: "Bestellungen".into(),
        ..IntakeForm::default()
    }
    .validated()
    .expect("valid");
    let token = TokenHash([7; 32]);
    let first = PendingIntake::new(token, submission.clone(), common::T0);
    let second = PendingIntake::new(TokenHash([8; 32]), submission, common::T0);
    for intake in [&first, &second] {
        intakes
            .insert_pending(&scope, intake)
            .await
            .expect("stored");
    }

    let mut admin = connect(env.db.superuser_url()).await;
    let rows: Vec<Row> =
        diesel::sql_query("SELECT token_hash, sealed FROM request_intakes ORDER BY id")
            .load(&mut admin)
            .await
            .expect("read as superuser");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        for clear in [
            "erika.sealed@example.test".as_bytes(),
            b"Erika Mustermann",
            "Musterstraße".as_bytes(),
            b"Bestellungen",
            b"customer",
        ] {
            assert!(
                !contains(&row.sealed, clear),
                "{} in clear",
                String::from_utf8_lossy(clear)
            );
        }
        assert_eq!(row.token_hash.len(), 32, "only the token's hash");
    }

    // The first row's ciphertext moved into the second row: it does not open there.
    admin
        .batch_execute(&format!(
            "UPDATE request_intakes SET sealed = (SELECT sealed FROM request_intakes WHERE id = '{}') WHERE id = '{}'",
            first.id, second.id
        ))
        .await
        .expect("tampered");
    let moved = intakes
        .take_confirmed(&scope, &second.token_hash, common::T0)
        .await;
    assert!(moved.is_err(), "a moved ciphertext is refused, not opened");
    let own = intakes
        .take_confirmed(&scope, &first.token_hash, common::T0)
        .await
        .expect("take")
        .expect("its own row opens");
    assert_eq!(own.submission.email.as_str(), "erika.sealed@example.test");
}
