//! A request's principal read and its first tenant work in one transaction
//! (`with_request_unit`), on PostgreSQL: the work continues the read's transaction, reads
//! continue it and leave it open, later work and work outside a request do not, a unit no
//! work takes gives its connection back
//! rolled back, a write in it commits, and a request holding its unit takes no second
//! connection (a pool of one does not deadlock).

mod common;

use std::time::Duration;

use aura_adapter_postgres::{PgStores, testing::transaction_age, with_request_unit};
use aura_identity::actions;
use aura_shared_kernel::{Role, Tenant, TenantScope, UserId};
use common::{Env, env_with_pool, event, new_user, registered};
use uuid::Uuid;

/// Longer than any statement here takes on an idle machine, far shorter than a test.
const PAUSE: Duration = Duration::from_millis(300);

/// The principal read a request's authentication makes.
async fn read_principal(stores: &PgStores, tenant: &Tenant, user: UserId) {
    let reading = TenantScope::for_credential_check(tenant.id, Some(user));
    let principal = stores
        .users()
        .find_principal(&reading, user, Uuid::nil())
        .await
        .expect("principal read");
    assert!(principal.is_some(), "the principal is found");
}

/// No connection of the test database is left inside a transaction (a unit rolled back,
/// not pooled open). The rollback runs in the background: polled for up to 5 s.
async fn assert_no_open_transaction(env: &Env) {
    let mut admin = common::connect(env.db.superuser_url()).await;
    let mut open = -1;
    for _ in 0..100 {
        open = common::count(
            &mut admin,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND state LIKE 'idle in transaction%'",
        )
        .await;
        if open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{open} connections still idle in a transaction");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_work_after_the_principal_read_continues_its_transaction() {
    let env = env_with_pool(4).await;
    let (tenant, owner, scope) = registered(&env.stores, "unit").await;

    let (first, second) = with_request_unit(async {
        read_principal(&env.stores, &tenant, owner.id).await;
        tokio::time::sleep(PAUSE).await;
        let first = transaction_age(&env.stores, &scope)
            .await
            .expect("first work");
        tokio::time::sleep(PAUSE).await;
        let second = transaction_age(&env.stores, &scope)
            .await
            .expect("second work");
        (first, second)
    })
    .await;
    assert!(
        first >= PAUSE,
        "the first work began with the read: {first:?}"
    );
    assert!(
        second < PAUSE,
        "later work has its own transaction: {second:?}"
    );

    // Outside a request the read commits on its own.
    read_principal(&env.stores, &tenant, owner.id).await;
    tokio::time::sleep(PAUSE).await;
    let alone = transaction_age(&env.stores, &scope).await.expect("work");
    assert!(alone < PAUSE, "no unit outside a request: {alone:?}");
    assert_no_open_transaction(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_continue_the_unit_and_leave_it_open() {
    let env = env_with_pool(4).await;
    let (tenant, owner, scope) = registered(&env.stores, "reads").await;

    let (age, after) = with_request_unit(async {
        read_principal(&env.stores, &tenant, owner.id).await;
        tokio::time::sleep(PAUSE).await;
        let read = env.stores.users().get(&scope, owner.id).await;
        assert_eq!(read.expect("a read in the unit").id, owner.id);
        tokio::time::sleep(PAUSE).await;
        // Still the principal read's transaction: the read above did not end it.
        let age = transaction_age(&env.stores, &scope)
            .await
            .expect("work after the read");
        let after = transaction_age(&env.stores, &scope)
            .await
            .expect("later work");
        (age, after)
    })
    .await;
    assert!(age >= PAUSE * 2, "the read left the unit open: {age:?}");
    assert!(
        after < PAUSE,
        "the work after the read ended the unit: {after:?}"
    );
    assert_no_open_transaction(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_in_the_unit_then_a_write_commits_both() {
    let env = env_with_pool(4).await;
    let (tenant, owner, scope) = registered(&env.stores, "readwrite").await;
    let member = new_user(&tenant, "member", Role::Member);

    with_request_unit(async {
        read_principal(&env.stores, &tenant, owner.id).await;
        let listed = env.stores.users().get(&scope, owner.id).await;
        assert_eq!(listed.expect("a read in the unit").id, owner.id);
        env.stores
            .users()
            .insert(&scope, &member, event(actions::USER_CREATED, member.id))
            .await
            .expect("the write continues the unit");
    })
    .await;

    let stored = env.stores.users().get(&scope, member.id).await;
    assert_eq!(stored.expect("the member was committed").id, member.id);
    assert_no_open_transaction(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_in_another_tenant_does_not_continue_the_unit() {
    let env = env_with_pool(4).await;
    let (alpha, owner, _) = registered(&env.stores, "alpha").await;
    let (_, _, beta_scope) = registered(&env.stores, "beta").await;

    let age = with_request_unit(async {
        read_principal(&env.stores, &alpha, owner.id).await;
        tokio::time::sleep(PAUSE).await;
        transaction_age(&env.stores, &beta_scope)
            .await
            .expect("work in beta")
    })
    .await;
    assert!(age < PAUSE, "beta's work has its own transaction: {age:?}");
    assert_no_open_transaction(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_the_unit_commits_with_it() {
    let env = env_with_pool(4).await;
    let (tenant, owner, scope) = registered(&env.stores, "write").await;
    let member = new_user(&tenant, "member", Role::Member);

    with_request_unit(async {
        read_principal(&env.stores, &tenant, owner.id).await;
        env.stores
            .users()
            .insert(&scope, &member, event(actions::USER_CREATED, member.id))
            .await
            .expect("insert in the unit");
    })
    .await;

    let stored = env.stores.users().get(&scope, member.id).await;
    assert_eq!(stored.expect("the member was committed").id, member.id);
    assert_no_open_transaction(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_no_work_takes_is_rolled_back_and_its_connection_returned() {
    // One connection: the unit's must come back for the read after.
    let env = env_with_pool(1).await;
    let (tenant, owner, scope) = registered(&env.stores, "untaken").await;

    with_request_unit(read_principal(&env.stores, &tenant, owner.id)).await;

    let after = tokio::time::timeout(Duration::from_secs(5), transaction_age(&env.stores, &scope))
        .await
        .expect("the pool's one connection came back")
        .expect("read");
    assert!(after < PAUSE, "{after:?}");
    assert_no_open_transaction(&env).await;
    let status = env.stores.pool_status();
    assert_eq!((status.size, status.available), (1, 1), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_holding_its_unit_takes_no_second_connection() {
    // One connection, held by the unit: work that needs another (another tenant's here;
    // the rate limiter's counters in the API) must end the unit rather than wait for a
    // connection that only this request could give back (or, behind a transaction-mode
    // pooler, for a server connection that open units hold).
    let env = env_with_pool(1).await;
    let (alpha, owner, alpha_scope) = registered(&env.stores, "alpha").await;
    let (_, _, beta_scope) = registered(&env.stores, "beta").await;

    let request = with_request_unit(async {
        read_principal(&env.stores, &alpha, owner.id).await;
        let beta = transaction_age(&env.stores, &beta_scope)
            .await
            .expect("beta");
        let alpha = transaction_age(&env.stores, &alpha_scope)
            .await
            .expect("alpha");
        (beta, alpha)
    });
    let (beta, alpha) = tokio::time::timeout(Duration::from_secs(3), request)
        .await
        .expect("no wait on the pool's one connection");
    assert!(beta < PAUSE && alpha < PAUSE, "{beta:?} {alpha:?}");
    assert_no_open_transaction(&env).await;
}
