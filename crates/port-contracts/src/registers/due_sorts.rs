//! The due-date sorts (`due_on`, `-due_on`) on the register whose records fall due:
//! data-subject requests. Requests with and without a due date (one whose clock waits
//! for proof of identity has none), some due on the same day, walked in pages of every
//! size: undated requests come after every dated one (before them in `-due_on`), a cursor
//! on an undated request continues among the undated ones, and no page repeats or skips a
//! request. Every other register refuses these sorts
//! (`records::due_sorts_only_where_records_fall_due`).

use aura_records::{ListQuery, RecordKind};
use aura_requests::request::{DataSubjectRequest, Requests};
use time::{Date, macros::date};

use crate::{
    RegisterStores,
    registers::{
        DUE_SORTS, RegisterFixture, assert_pages_in_every_order, now,
        records::{new_record, record_event},
        register,
    },
    requests::request_fields,
};

/// The due dates of the requests a contract stores, in the order it stores them: ties
/// on one date, and undated requests between, before and after the dated ones by id.
const DUES: [Option<Date>; 8] = [
    Some(date!(2027 - 03 - 01)),
    None,
    Some(date!(2027 - 02 - 15)),
    Some(date!(2027 - 03 - 01)),
    None,
    Some(date!(2027 - 04 - 30)),
    Some(date!(2027 - 02 - 15)),
    None,
];

/// A new request received now, due on `due_on` (its clock started today when it has a
/// due date, still waiting for proof of identity when it has none); not stored.
fn request(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    due_on: Option<Date>,
) -> DataSubjectRequest {
    let received_at = now(stores);
    let fields = request_fields(received_at, "subject@example.com");
    let mut request = new_record::<Requests>(stores, rf, fields);
    let state = &mut request.derived;
    state.clock_starts_on = due_on.map(|_| received_at.date());
    state.first_due_on = due_on;
    state.due_on = due_on;
    request
}

/// Stores a request due on `due_on`; the request as stored.
async fn add_request(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    due_on: Option<Date>,
) -> DataSubjectRequest {
    let request = request(stores, rf, due_on);
    let event = record_event(rf, &Requests::ACTIONS.created, request.id);
    match stores.requests.insert(rf.scope(), &request, event).await {
        Ok(stored) => stored,
        Err(error) => panic!("insert a request due on {due_on:?}: {error:?}"),
    }
}

pub async fn requests_page_through_the_due_sorts(stores: RegisterStores) {
    let rf = register(&stores).await;
    let other = register(&stores).await;
    add_request(&stores, &other, Some(date!(2027 - 01 - 04))).await;
    add_request(&stores, &other, None).await;
    let mut rows = Vec::new();
    for due_on in DUES {
        rows.push(add_request(&stores, &rf, due_on).await);
    }
    assert_eq!(
        rows.iter().map(|r| r.derived.due_on).collect::<Vec<_>>(),
        DUES,
        "the store keeps each request's due date"
    );

    for limit in [1, 2, 3, 100] {
        let fetch = |sort, after| {
            let query = ListQuery {
                sort,
                after,
                limit,
                ..ListQuery::default()
            };
            let store = stores.requests.clone();
            let scope = rf.scope().clone();
            async move {
                store
                    .list(&scope, &query)
                    .await
                    .expect("list the requests by due date")
            }
        };
        assert_pages_in_every_order(&DUE_SORTS, &rows, limit, fetch, Requests::ENTITY).await;
    }
}
