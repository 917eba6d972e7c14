//! The portfolio use case (`aura_portfolio::Portfolio`, issue 16) on the memory store,
//! with a clock that stands still: each client tenant summarised under its own
//! membership's scope through the registers' use cases (counts right per tenant, nothing
//! of another tenant), a scope without read permission gets null sections and no audited
//! refusal, and the brief cache: served within its bound, recomputed after it, never
//! shared between accounts. No database, no HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::HashMap, sync::Arc};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_holidays::EuPublicHolidays;
use aura_adapter_memory::MemoryStore;
use aura_audit::RequestContext;
use aura_breaches::DeadlineStanding;
use aura_gdpr_registers::{DpaStatus, Members, PolicyFields, PolicyKind, PolicyStatus, Registers};
use aura_identity::{AccountId, AccountTenant, Authenticated, IdentityError, MemberScope, User};
use aura_port_contracts::{
    RegisterStores,
    fixtures::{TenantFixture, add_user, register_tenant},
    registers::{
        activities::activity_fields, breaches::breach_fields, processors::processor_fields,
    },
    requests::request_fields,
};
use aura_portfolio::{
    AccountMemberships, Completeness, FRESH_FOR, Portfolio, PortfolioEntry, ProcessorAttention,
    RequestsDue, Sources, TenantSummary,
};
use aura_records::RecordUseCases;
use aura_requests::{rules::RequestRules, settings::TenantCalendars};
use aura_shared_kernel::{FixedClock, Role, StoreError, Tenant, TenantId, TenantScope, UserId};
use aura_tasks::{
    Category, Recurrence, ReminderPolicy, TaskFields, TaskPorts, TaskService, TaskStatus,
};
use time::{Duration, OffsetDateTime, macros::datetime};

/// A Monday.
const NOW: OffsetDateTime = datetime!(2027-03-08 12:00 UTC);

/// Every owner named here belongs to its tenant (the store checks the reference).
struct EveryoneIsAMember;

#[async_trait::async_trait]
impl Members for EveryoneIsAMember {
    async fn is_member(&self, _: &TenantScope, _: UserId) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// Identity's part, as the portfolio sees it: each account's memberships.
#[derive(Default)]
struct Directory(std::sync::Mutex<HashMap<AccountId, Vec<MemberScope>>>);

#[async_trait::async_trait]
impl AccountMemberships for Directory {
    async fn memberships(&self, auth: &Authenticated) -> Result<Vec<AccountTenant>, IdentityError> {
        let accounts = self.0.lock().unwrap();
        Ok(accounts
            .get(&auth.user.account_id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(AccountTenant::from)
            .collect())
    }
}

struct World {
    clock: Arc<FixedClock>,
    stores: RegisterStores,
    sources: Sources,
    directory: Arc<Directory>,
    portfolio: Portfolio,
}

fn ctx() -> &'static RequestContext {
    static CTX: std::sync::LazyLock<RequestContext> =
        std::sync::LazyLock::new(RequestContext::default);
    &CTX
}

fn membership(tenant: &Tenant, user: &User) -> MemberScope {
    MemberScope {
        scope: TenantScope::for_tests(tenant.id, user.id, user.role),
        user: user.clone(),
        tenant: tenant.clone(),
        via_partner: None,
    }
}

impl World {
    fn new() -> Self {
        let clock = Arc::new(FixedClock::at(NOW));
        let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
        let stores = RegisterStores::from_single(store.clone(), clock.clone());
        let requests = RecordUseCases::new(
            stores.requests.clone(),
            Arc::new(RequestRules {
                holidays: Arc::new(EuPublicHolidays),
                calendars: Arc::new(TenantCalendars {
                    tenants: Arc::new(store.clone()),
                    organisation: Arc::new(store.clone()),
                }),
            }),
            stores.audit.clone(),
            clock.clone(),
        );
        let breaches = stores.breach_use_cases(clock.clone());
        let sources = Sources {
            registers: Registers::new(stores.ports(Arc::new(EveryoneIsAMember))),
            tasks: TaskService::new(TaskPorts {
                tasks: Arc::new(store.clone()),
                audit: stores.audit.clone(),
                clock: clock.clone(),
                reminders: ReminderPolicy::default(),
                retry: aura_jobs::RetryPolicy::default(),
            }),
            requests,
            breaches,
            reviews: Arc::new(store),
            clock: clock.clone(),
        };
        let directory = Arc::new(Directory::default());
        Self {
            portfolio: Portfolio::new(directory.clone(), sources.clone()),
            clock,
            stores,
            sources,
            directory,
        }
    }

    /// A client tenant and a user of `role` in it (the owner for `Role::Owner`).
    async fn client(&self) -> (TenantFixture, HashMap<Role, User>) {
        let fx = register_tenant(&self.stores.identity).await;
        let mut users = HashMap::from([(Role::Owner, fx.owner.clone())]);
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            users.insert(role, add_user(&self.stores.identity, &fx, role).await);
        }
        (fx, users)
    }

    /// `user`'s account holds these memberships; answers the request of that account.
    fn account(&self, user: &User, memberships: Vec<MemberScope>) -> Authenticated {
        let own = memberships
            .iter()
            .find(|m| m.user.id == user.id)
            .expect("the account's own membership")
            .clone();
        self.directory
            .0
            .lock()
            .unwrap()
            .insert(user.account_id, memberships);
        Authenticated {
            scope: own.scope,
            session_id: uuid::Uuid::now_v7(),
            user: user.clone(),
            tenant: own.tenant,
        }
    }

    async fn overview(&self, auth: &Authenticated) -> Vec<PortfolioEntry> {
        self.portfolio.overview(auth, ctx()).await.unwrap()
    }

    async fn task(&self, scope: &TenantScope, title: &str, due_in_days: i64) {
        let fields = TaskFields {
            title: title.to_owned(),
            description: None,
            category: Category::Other,
            due_date: Some(NOW.date() + Duration::days(due_in_days)),
            assigned_to: None,
            link: None,
            recurrence: Recurrence::None,
            status: TaskStatus::Open,
        };
        (self.sources.tasks.records())
            .create(scope, fields, None, ctx())
            .await
            .unwrap();
    }

    /// The data of the busy client: two activities, three processors, tasks, requests,
    /// breaches (and a drill) and a policy, with dates around [`NOW`].
    async fn fill(&self, scope: &TenantScope) {
        let registers = &self.sources.registers;
        for name in ["Payroll", "Newsletter"] {
            (registers.activity_records())
                .create(scope, activity_fields(name, None, &[]), None, ctx())
                .await
                .unwrap();
        }
        let mut unsigned = processor_fields("Draft Cloud");
        unsigned.dpa_status = DpaStatus::Draft;
        unsigned.dpa_signed_on = None;
        unsigned.dpa_review_on = None;
        let mut review_soon = processor_fields("Mail Inc.");
        review_soon.dpa_review_on = Some(NOW.date() + Duration::days(10));
        let mut review_later = processor_fields("Payroll GmbH");
        review_later.dpa_review_on = Some(NOW.date() + Duration::days(200));
        for fields in [unsigned, review_soon, review_later] {
            (registers.processor_records())
                .create(scope, fields, None, ctx())
                .await
                .unwrap();
        }
        self.task(scope, "Overdue one", -3).await;
        self.task(scope, "Overdue two", -1).await;
        self.task(scope, "Due today", 0).await;
        self.task(scope, "Due later", 5).await;
        // A request received 40 days ago is overdue, one 25 days ago is due within a
        // week, one received today is due in a month.
        for days_ago in [40, 25, 0] {
            let received = NOW - Duration::days(days_ago);
            (self.sources.requests)
                .create(
                    scope,
                    request_fields(received, "erika@example.test"),
                    None,
                    ctx(),
                )
                .await
                .unwrap();
        }
        let no_links = (vec![], vec![]);
        let recent = breach_fields("Laptop stolen", NOW - Duration::hours(10), None, &no_links);
        let late = breach_fields(
            "Mail to the wrong list",
            NOW - Duration::hours(80),
            None,
            &no_links,
        );
        let mut drill = breach_fields("Drill", NOW - Duration::hours(1), None, &no_links);
        drill.drill = true;
        for fields in [recent, late, drill] {
            (self.sources.breaches)
                .create(scope, fields, None, ctx())
                .await
                .unwrap();
        }
        let policy = PolicyFields {
            title: "Privacy policy".to_owned(),
            kind: PolicyKind::PrivacyPolicy,
            owner_id: None,
            review_interval_months: Some(12),
            next_review_date: Some(NOW.date() + Duration::days(5)),
            status: PolicyStatus::Draft,
        };
        (registers.policy_records())
            .create(scope, policy, None, ctx())
            .await
            .unwrap();
    }
}

fn summary(entry: &PortfolioEntry) -> &TenantSummary {
    entry.summary.as_deref().expect("the tenant was read")
}

/// Nothing to do in a tenant: every section read, every count zero.
fn nothing_due() -> TenantSummary {
    TenantSummary {
        completeness: Some(Completeness::default()),
        processors: Some(ProcessorAttention::default()),
        overdue_tasks: Some(0),
        requests: Some(RequestsDue::default()),
        open_breaches: Some(vec![]),
        dpias_due_for_review: Some(0),
        policies_due_for_review: Some(0),
    }
}

#[tokio::test]
async fn each_client_is_summarised_under_its_own_membership() {
    let world = World::new();
    let (busy, busy_users) = world.client().await;
    let (quiet, quiet_users) = world.client().await;
    let (empty, empty_users) = world.client().await;
    let consultant = &busy_users[&Role::Owner];
    world.fill(&busy.scope).await;
    world.task(&quiet.scope, "Quiet's overdue task", -2).await;

    // The consultant owns the busy client, views the quiet one, is a member of the
    // empty one: three memberships of one account.
    let auth = world.account(
        consultant,
        vec![
            membership(&busy.tenant, consultant),
            membership(&quiet.tenant, &quiet_users[&Role::Viewer]),
            membership(&empty.tenant, &empty_users[&Role::Member]),
        ],
    );
    let entries = world.overview(&auth).await;
    let seen: Vec<(TenantId, Role)> = entries.iter().map(|e| (e.tenant.id, e.role)).collect();
    assert_eq!(
        seen,
        [
            (busy.tenant.id, Role::Owner),
            (quiet.tenant.id, Role::Viewer),
            (empty.tenant.id, Role::Member)
        ]
    );

    let busy_summary = summary(&entries[0]);
    assert_eq!(
        busy_summary.completeness,
        Some(Completeness {
            activities: 2,
            complete: 0,
            incomplete: 2
        }),
        "without an organisation profile every record lacks Art. 30(1)(a)"
    );
    assert_eq!(
        busy_summary.processors,
        Some(ProcessorAttention {
            without_signed_dpa: 1,
            dpa_review_due: 1
        })
    );
    assert_eq!(
        busy_summary.overdue_tasks,
        Some(2),
        "today's is not overdue"
    );
    let requests = busy_summary.requests.unwrap();
    assert_eq!((requests.overdue, requests.due_soon), (1, 1));
    let earliest = requests.earliest_due_on.unwrap();
    assert!(earliest < NOW.date(), "the overdue one's: {earliest}");
    let breaches = busy_summary.open_breaches.as_ref().unwrap();
    let standings: Vec<DeadlineStanding> = breaches.iter().map(|b| b.standing).collect();
    assert_eq!(
        standings,
        [
            DeadlineStanding::HoursLate(8),
            DeadlineStanding::HoursLeft(62)
        ],
        "soonest deadline first, the drill left out"
    );
    assert!(breaches.iter().all(|b| b.reference.starts_with("BR-2027-")));
    assert_eq!(busy_summary.policies_due_for_review, Some(1));
    assert_eq!(busy_summary.dpias_due_for_review, Some(0));

    // A viewer reads the counts; nothing of the busy client shows elsewhere.
    let quiet_summary = summary(&entries[1]);
    assert_eq!(
        quiet_summary,
        &TenantSummary {
            overdue_tasks: Some(1),
            ..nothing_due()
        }
    );
    assert_eq!(summary(&entries[2]), &nothing_due());
}

#[tokio::test]
async fn a_scope_without_read_permission_gets_null_sections_and_no_refusal() {
    let world = World::new();
    let (client, users) = world.client().await;
    world.fill(&client.scope).await;
    let owner = &users[&Role::Owner];
    let before = world
        .stores
        .identity
        .events(&client.scope, "auth.permission_denied")
        .await
        .len();

    // A scope that holds no permission (as a role without read of any register would).
    let mut without = membership(&client.tenant, owner);
    without.scope = TenantScope::for_credential_check(client.tenant.id, Some(owner.id));
    let auth = world.account(owner, vec![membership(&client.tenant, owner)]);
    world
        .directory
        .0
        .lock()
        .unwrap()
        .insert(owner.account_id, vec![without]);
    let entries = world.overview(&auth).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(summary(&entries[0]), &TenantSummary::default(), "all null");
    let after = world
        .stores
        .identity
        .events(&client.scope, "auth.permission_denied")
        .await
        .len();
    assert_eq!(after, before, "an omitted section is not a refusal");
}

#[tokio::test]
async fn a_summary_is_kept_for_its_bound_and_never_for_another_account() {
    let world = World::new();
    let (client, users) = world.client().await;
    let (owner, viewer) = (&users[&Role::Owner], &users[&Role::Viewer]);
    let owner_auth = world.account(owner, vec![membership(&client.tenant, owner)]);
    let viewer_auth = world.account(viewer, vec![membership(&client.tenant, viewer)]);
    let overdue = |entries: Vec<PortfolioEntry>| summary(&entries[0]).overdue_tasks;

    assert_eq!(overdue(world.overview(&owner_auth).await), Some(0));
    world.task(&client.scope, "Late", -1).await;
    world.clock.advance(FRESH_FOR - Duration::seconds(1));
    let cached = world.overview(&owner_auth).await;
    assert_eq!(cached[0].computed_at, NOW, "computed at the first read");
    assert_eq!(overdue(cached), Some(0), "served from the cache");

    // Another account in the same tenant never gets the owner's entry.
    assert_eq!(overdue(world.overview(&viewer_auth).await), Some(1));

    // Past the bound, the owner's is computed again.
    world.clock.advance(Duration::seconds(1));
    let fresh = world.overview(&owner_auth).await;
    assert_eq!(fresh[0].computed_at, NOW + FRESH_FOR);
    assert_eq!(overdue(fresh), Some(1));
}

#[tokio::test]
async fn more_clients_than_run_at_once_all_come_back_in_order() {
    let world = World::new();
    let mut memberships = Vec::new();
    let mut expected = Vec::new();
    let mut first = None;
    for overdue in 0..(aura_portfolio::CONCURRENCY + 3) {
        let (client, users) = world.client().await;
        for n in 0..overdue {
            world.task(&client.scope, &format!("Task {n}"), -1).await;
        }
        let owner = users[&Role::Owner].clone();
        memberships.push(membership(&client.tenant, &owner));
        expected.push((client.tenant.id, Some(overdue)));
        first.get_or_insert(owner);
    }
    let auth = world.account(&first.unwrap(), memberships);
    let seen: Vec<(TenantId, Option<usize>)> = (world.overview(&auth).await.iter())
        .map(|e| (e.tenant.id, summary(e).overdue_tasks))
        .collect();
    assert_eq!(seen, expected);
}
