//! Fixtures shared by this crate's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_postgres::{PgStores, PoolSettings, TestDatabase};
use aura_audit::{Actor, AuditAction, Changes, PendingEvent, RequestContext};
use aura_identity::{Email, FullName, PasswordHash, User};
use aura_shared_kernel::{
    Clock, FixedClock, Role, Tenant, TenantId, TenantName, TenantScope, TenantSlug,
};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use time::{OffsetDateTime, macros::datetime};
use uuid::Uuid;

pub const T0: OffsetDateTime = datetime!(2026-11-23 10:00:00 UTC);

pub struct Env {
    pub db: TestDatabase,
    pub stores: PgStores,
    pub clock: Arc<FixedClock>,
}

pub async fn env() -> Env {
    env_with_pool(4).await
}

pub async fn env_with_pool(max_size: usize) -> Env {
    let db = TestDatabase::create().await;
    let clock = Arc::new(FixedClock::at(T0));
    let settings = PoolSettings {
        max_size,
        ..PoolSettings::default()
    };
    let stores = connect_stores(db.app_url(), settings, clock.clone()).await;
    Env { db, stores, clock }
}

/// Stores on `url` (the app's, or another role's to see it refused) with `settings`,
/// sealing audit events with SHA-256 and reading `clock`.
pub async fn connect_stores(url: &str, settings: PoolSettings, clock: Arc<dyn Clock>) -> PgStores {
    PgStores::connect(
        url,
        settings,
        Arc::new(HmacChainHasher::with_test_key()),
        clock,
        aura_adapter_postgres::testing::test_seal(),
    )
    .await
    .expect("stores")
}

/// A slug nobody else uses.
pub fn unique_slug(prefix: &str) -> TenantSlug {
    let suffix = Uuid::new_v4().simple().to_string();
    TenantSlug::parse(&format!("{prefix}-{}", &suffix[..12])).expect("slug")
}

pub fn new_tenant(prefix: &str) -> Tenant {
    Tenant::new(
        TenantName::parse(&format!("{prefix} GmbH")).expect("name"),
        unique_slug(prefix),
        T0,
    )
}

pub fn email(local: &str) -> Email {
    Email::parse(&format!("{local}-{}@example.com", Uuid::new_v4().simple())).expect("email")
}

pub fn new_user(tenant: &Tenant, local: &str, role: Role) -> User {
    User::new(
        tenant.id,
        email(local),
        FullName::parse("Test Person").expect("name"),
        role,
        PasswordHash::from_stored("$2b$12$notarealhash".to_owned()),
        T0,
    )
}

pub fn event(action: AuditAction, entity: impl ToString) -> PendingEvent {
    PendingEvent::new(
        Actor::System,
        action,
        "test",
        entity,
        Changes::new().note("by", "test"),
        &RequestContext::new(
            Some("192.0.2.1".to_owned()),
            Some("test-agent".to_owned()),
            Some("req-1".to_owned()),
        ),
    )
}

pub fn owner_scope(tenant: &Tenant, owner: &User) -> TenantScope {
    TenantScope::for_tests(tenant.id, owner.id, Role::Owner)
}

/// A registered tenant with its owner (two audit events).
pub async fn registered(stores: &PgStores, prefix: &str) -> (Tenant, User, TenantScope) {
    let tenant = new_tenant(prefix);
    let owner = new_user(&tenant, prefix, Role::Owner);
    stores
        .tenants()
        .register(
            &aura_shared_kernel::TenantScope::for_credential_check(tenant.id, None),
            &tenant,
            &owner,
            vec![
                event(aura_identity::actions::TENANT_CREATED, tenant.id),
                event(aura_identity::actions::USER_CREATED, owner.id),
            ],
        )
        .await
        .expect("register");
    let scope = owner_scope(&tenant, &owner);
    (tenant, owner, scope)
}

/// Two [`registered`] tenants, alpha and beta.
pub async fn alpha_and_beta(stores: &PgStores) -> [(Tenant, User, TenantScope); 2] {
    let alpha = registered(stores, "alpha").await;
    let beta = registered(stores, "beta").await;
    [alpha, beta]
}

/// [`registered`], with a member besides the owner: the tenant, its owner, the owner's
/// scope and the member.
pub async fn registered_with_member(
    stores: &PgStores,
    prefix: &str,
) -> (Tenant, User, TenantScope, User) {
    let (tenant, owner, scope) = registered(stores, prefix).await;
    let member = add_user(stores, &scope, &tenant, "member", Role::Member).await;
    (tenant, owner, scope, member)
}

/// Adds a user to a tenant.
pub async fn add_user(
    stores: &PgStores,
    scope: &TenantScope,
    tenant: &Tenant,
    local: &str,
    role: Role,
) -> User {
    let user = new_user(tenant, local, role);
    stores
        .users()
        .insert(
            scope,
            &user,
            event(aura_identity::actions::USER_CREATED, user.id),
        )
        .await
        .expect("insert user");
    user
}

/// The stores' clock, which also keeps the test database alive for as long as any
/// store (or the contract) holds it.
struct ClockHoldingDatabase {
    clock: Arc<dyn Clock>,
    _db: Arc<TestDatabase>,
}

impl Clock for ClockHoldingDatabase {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// A fresh database's stores for a contract (the database dropped with the last store),
/// and the clock they read: `clock`, holding the database.
pub async fn open(clock: Arc<dyn Clock>) -> (PgStores, Arc<dyn Clock>) {
    let db = Arc::new(TestDatabase::create().await);
    let clock = holding(&db, clock);
    (pool_on(&db, clock.clone()).await, clock)
}

/// Stores with a pool of their own on `db` (two calls on one database: two API
/// processes), reading `clock`.
pub async fn pool_on(db: &TestDatabase, clock: Arc<dyn Clock>) -> PgStores {
    let settings = PoolSettings {
        max_size: 8,
        ..Default::default()
    };
    connect_stores(db.app_url(), settings, clock).await
}

/// `clock`, holding `db` alive as long as anything (a store) holds the clock.
pub fn holding(db: &Arc<TestDatabase>, clock: Arc<dyn Clock>) -> Arc<dyn Clock> {
    Arc::new(ClockHoldingDatabase {
        clock,
        _db: db.clone(),
    })
}

/// A connection of its own (as the app, the owner or the superuser), outside the pool.
pub async fn connect(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url).await.expect("connect")
}

/// One `count(*) AS n` row.
#[derive(QueryableByName, Debug)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The `n` of a query that counts (`SELECT count(*) AS n …`).
pub async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// As the app role on `conn`: no row of `tables` is visible without a tenant; then, in a
/// transaction left open for the caller's write probes, `tenant` sees exactly its own
/// number of rows of each and none of another tenant.
pub async fn assert_only_own_rows(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    tables: &[(&str, i64)],
) {
    for (table, _) in tables {
        let n = count(conn, &format!("SELECT count(*) AS n FROM {table}")).await;
        assert_eq!(n, 0, "{table} visible without a tenant");
    }
    enter_tenant(conn, tenant).await;
    for (table, own_rows) in tables {
        let own = count(conn, &format!("SELECT count(*) AS n FROM {table}")).await;
        assert_eq!(own, *own_rows, "{table}: own rows");
        let foreign = count(
            conn,
            &format!("SELECT count(*) AS n FROM {table} WHERE tenant_id <> '{tenant}'"),
        )
        .await;
        assert_eq!(foreign, 0, "{table}: another tenant's rows visible");
    }
}

/// Opens a transaction on `conn` inside `tenant`'s context, as `in_tenant` does.
pub async fn enter_tenant(conn: &mut AsyncPgConnection, tenant: TenantId) {
    conn.batch_execute("BEGIN").await.expect("begin");
    diesel::sql_query("SELECT set_config('app.tenant_id', $1, true)")
        .bind::<Text, _>(tenant.to_string())
        .execute(conn)
        .await
        .expect("set tenant");
}

/// In the transaction open on `conn`: `sql` is refused by row-level security, and the
/// transaction goes on (a savepoint takes the refusal back).
pub async fn assert_refused_by_rls(conn: &mut AsyncPgConnection, sql: &str) {
    conn.batch_execute("SAVEPOINT probe")
        .await
        .expect("savepoint");
    let error = conn.batch_execute(sql).await.expect_err(sql);
    assert!(error.to_string().contains("row-level security"), "{error}");
    conn.batch_execute("ROLLBACK TO SAVEPOINT probe")
        .await
        .expect("rollback to");
}

/// `statement` (an UPDATE or DELETE of `table` whose `$1` is `other`, another tenant)
/// changes no row from the tenant `conn` acts in.
pub async fn assert_changes_none(
    conn: &mut AsyncPgConnection,
    table: &str,
    statement: String,
    other: TenantId,
) {
    let changed = diesel::sql_query(statement)
        .bind::<Text, _>(other.to_string())
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    assert_eq!(changed, 0, "{table}: another tenant's rows changed");
}
