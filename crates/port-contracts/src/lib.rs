//! The port contract suite: the behaviour every storage adapter owes the domain, written
//! once and run against each adapter (adapter-memory, adapter-postgres).
//!
//! An adapter's test file (`tests/contracts.rs`) names how to open a fresh store on a
//! clock and calls [`adapter_contract_tests!`]:
//!
//! ```text
//! async fn open(clock: Arc<dyn Clock>) -> (MyStore, Arc<dyn Clock>) { … }
//! aura_port_contracts::adapter_contract_tests!(open);
//! ```
//!
//! which runs every suite below on that adapter, once with the wall clock (module
//! `system_clock`) and once with a clock that stands still (module `fixed_clock`): one
//! `#[tokio::test]` per contract, grouped in modules by port
//! (`system_clock::tenants::register_stores_tenant_owner_and_events`,
//! `fixed_clock::sessions::rotate_has_one_winner`, …). The caller needs `tokio` (features
//! `macros`, `rt-multi-thread`) as a dev-dependency.
//!
//! What a contract may assume about the stores:
//! - They may be shared with other contracts (one database for a whole run): every
//!   contract makes its own tenants, with random slugs and e-mail addresses, and never
//!   asserts on global counts.
//! - Audit events are sealed with [`aura_adapter_crypto::HmacChainHasher`] under its test key.
//! - [`Stores::clock`] is the clock the stores use; it may stand still or move. Times are
//!   taken relative to `clock.now()`, and the `now` arguments of the ports are explicit.
//!
//! Each contract panics (fails its test) at the first broken promise, naming it.
//!
//! The suites, each over the ports it needs beside the identity [`Stores`] that set up
//! the tenants and users of its fixtures (every one also callable on its own):
//! - [`contract_tests!`]: identity and audit, over a [`Stores`];
//! - [`register_contract_tests!`]: the GDPR registers, over a [`RegisterStores`];
//! - [`task_contract_tests!`]: tasks and the job queue, over a [`TaskStores`];
//! - [`review_contract_tests!`]: review dates that become tasks, over a
//!   [`tasks::reviews::ReviewStores`];
//! - [`ai_contract_tests!`]: the AI assistant, over an [`AiStores`];
//! - [`request_contract_tests!`]: the request store's writes with their reminder plan and
//!   the retention job's read, over a [`RequestStores`];
//! - [`idempotency_contract_tests!`]: the idempotency store, over an [`IdempotencyStores`];
//! - [`intake_contract_tests!`]: the public intake's store, over an
//!   [`intakes::IntakeStores`];
//! - [`document_contract_tests!`]: the documents' content store (staging, chunks,
//!   versions, quota, sweep, removal under legal hold), over a
//!   [`documents::DocumentStores`].
//!
//! The queue's and the reviews' contracts claim across tenants, so unlike the others they
//! need stores no other contract uses at the same time: [`adapter_contract_tests!`] opens
//! a fresh store for every contract (a new database, a new memory store).
//!
//! The rate limiter has [`rate_limit_contract_tests!`], over a [`LimitStores`] (two
//! limiter instances on one store, as two API processes would have, and a base time).

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod ai;
pub mod audit;
pub mod documents;
pub mod fixtures;
pub mod idempotency;
pub mod intakes;
pub mod limits;
pub mod owners;
pub mod partners;
pub mod registers;
pub mod request_plans;
pub mod requests;
pub mod resets;
pub mod roles;
pub mod second_factors;
pub mod sessions;
pub mod tasks;
pub mod tenants;
pub mod throttle;
pub mod users;

use std::{future::Future, sync::Arc};

use aura_ai_port::{AiUsage, SuggestionRepository};
use aura_audit::{AuditLog, AuditQuery, AuditRecord};
use aura_breaches::Breaches;
use aura_dpia_screening::ports::ScreeningAnswersStore;
use aura_gdpr_registers::{
    Activities, Members, Policies, Processors, RegisterPorts,
    ports::{OrganisationRepository, PolicyVersions},
};
use aura_idempotency::IdempotencyStore;
use aura_identity::{
    CustomRoleRepository,
    ports::{
        LoginThrottle, PasswordResetStore, SecondFactorStore, SessionStore, TenantRepository,
        UserRepository,
    },
};
use aura_jobs::{JobQueue, PlannedWrites};
use aura_rate_limit::RateLimiter;
use aura_records::RecordStore;
use aura_requests::{request::Requests, store::RequestRepository};
use aura_shared_kernel::{Clock, FixedClock, SystemClock, TenantScope};
use aura_tasks::ports::TaskRepository;

/// The ports under test, as the domain sees them.
#[derive(Clone)]
pub struct Stores {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub roles: Arc<dyn CustomRoleRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub resets: Arc<dyn PasswordResetStore>,
    pub throttle: Arc<dyn LoginThrottle>,
    pub second_factors: Arc<dyn SecondFactorStore>,
    pub audit: Arc<dyn AuditLog>,
    /// The clock the stores use (for `find_principal`'s expiry and audit timestamps).
    pub clock: Arc<dyn Clock>,
}

/// The identity stores are their own: what the fixtures that read them take.
impl AsRef<Stores> for Stores {
    fn as_ref(&self) -> &Stores {
        self
    }
}

/// Every identity port in one value (as both adapters are): what `from_single` takes.
pub trait IdentityStore:
    TenantRepository
    + UserRepository
    + CustomRoleRepository
    + SessionStore
    + PasswordResetStore
    + LoginThrottle
    + SecondFactorStore
    + AuditLog
    + 'static
{
}

impl<S> IdentityStore for S where
    S: TenantRepository
        + UserRepository
        + CustomRoleRepository
        + SessionStore
        + PasswordResetStore
        + LoginThrottle
        + SecondFactorStore
        + AuditLog
        + 'static
{
}

impl Stores {
    /// Every port from one value that implements them all (as both adapters do).
    pub fn from_single<S: IdentityStore>(store: S, clock: Arc<dyn Clock>) -> Self {
        Self::from_single_arc(Arc::new(store), clock)
    }

    /// [`Stores::from_single`] over a store shared with other port sets.
    pub fn from_single_arc<S: IdentityStore>(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self {
            tenants: store.clone(),
            users: store.clone(),
            roles: store.clone(),
            sessions: store.clone(),
            resets: store.clone(),
            throttle: store.clone(),
            second_factors: store.clone(),
            audit: store,
            clock,
        }
    }

    /// The scope's audit events of `action`, in the audit log's list order (up to a
    /// hundred): what a use-case test checks a change left behind.
    pub async fn events(&self, scope: &TenantScope, action: &str) -> Vec<AuditRecord> {
        let query = AuditQuery {
            action: Some(action.to_owned()),
            limit: 100,
            ..AuditQuery::default()
        };
        self.audit.list(scope, &query).await.unwrap().items
    }

    /// The scope's one event of `action`, which must be about `entity_id`: what a
    /// use-case test checks a single change left behind.
    pub async fn the_event(
        &self,
        scope: &TenantScope,
        action: &str,
        entity_id: impl ToString,
    ) -> AuditRecord {
        let mut events = self.events(scope, action).await;
        assert_eq!(events.len(), 1, "exactly one {action} event");
        let event = events.remove(0);
        let entity = Some(entity_id.to_string());
        assert_eq!(event.entity_id, entity, "the {action} event's entity");
        event
    }
}

/// The wall clock, as a contract suite's stores read it.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock standing still at [`limits::FIXED_BASE`] (microseconds included).
pub fn fixed_clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock::at(limits::FIXED_BASE))
}

/// The ports one suite needs, from a fresh store that `open` makes on `clock` and the
/// clock it answers that the store reads (`clock` itself, or one wrapping it), as `build`
/// assembles them (`Stores::from_single`, `TaskStores::from_single`, …).
pub async fn assemble<St, S, F>(
    open: impl FnOnce(Arc<dyn Clock>) -> F,
    clock: Arc<dyn Clock>,
    build: impl FnOnce(St, Arc<dyn Clock>) -> S,
) -> S
where
    F: Future<Output = (St, Arc<dyn Clock>)>,
{
    let (store, clock) = open(clock).await;
    build(store, clock)
}

/// Expands to every contract suite of a storage adapter but the rate limiter's, once with
/// the wall clock (module `system_clock`) and once with a clock that stands still at
/// [`limits::FIXED_BASE`] (module `fixed_clock`). The argument names an
/// `async fn(Arc<dyn Clock>) -> (Store, Arc<dyn Clock>)` of the calling module that opens
/// a fresh store no other test uses and answers the clock the store reads; it is called
/// afresh for each test. Call it once per test file.
#[macro_export]
macro_rules! adapter_contract_tests {
    ($open:ident $(,)?) => {
        mod system_clock {
            $crate::__adapter_suites!(super::$open, $crate::system_clock());
        }

        mod fixed_clock {
            $crate::__adapter_suites!(super::$open, $crate::fixed_clock());
        }
    };
}

/// The suites of [`adapter_contract_tests!`] for one clock.
#[doc(hidden)]
#[macro_export]
macro_rules! __adapter_suites {
    ($open:path, $clock:expr) => {
        $crate::contract_tests!($crate::assemble($open, $clock, $crate::Stores::from_single));
        $crate::idempotency_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::IdempotencyStores::from_single
        ));
        $crate::register_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::RegisterStores::from_single
        ));
        $crate::task_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::TaskStores::from_single
        ));
        $crate::review_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::tasks::reviews::ReviewStores::from_single
        ));
        $crate::ai_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::AiStores::from_single
        ));
        $crate::request_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::RequestStores::from_single
        ));
        $crate::intake_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::intakes::IntakeStores::from_single
        ));
        $crate::document_contract_tests!($crate::assemble(
            $open,
            $clock,
            $crate::documents::DocumentStores::from_single
        ));
    };
}

/// Expands to one `#[tokio::test]` per contract. The argument is an async expression
/// (evaluated afresh for each test) that yields a [`Stores`].
///
/// The expansion defines a function `__port_contract_stores` and the modules `tenants`,
/// `users`, `owners`, `sessions`, `resets`, `throttle`, `second_factors` and `audit` in
/// the calling module,
/// so call the macro once per module.
#[macro_export]
macro_rules! contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(__port_contract_stores: $crate::Stores = $stores);

        $crate::__contract_module!(__port_contract_stores: tenants => tenants {
            register_stores_tenant_owner_and_events,
            register_rejects_a_taken_slug,
            register_rejects_a_taken_email,
            slug_taken_sees_every_tenant,
            update_replaces_the_row_with_its_event,
            update_rejects_a_taken_slug,
            other_tenants_are_not_found,
            list_all_contains_tenants_oldest_first,
            stale_update_loses_nothing,
            concurrent_updates_have_one_winner,
        });
        $crate::__contract_module!(__port_contract_stores: users => users {
            insert_then_get_and_find_for_login,
            find_for_login_of_an_unknown_email_is_none,
            logins_of_lists_the_accounts_own,
            email_is_unique_across_tenants,
            concurrent_inserts_of_one_email_have_one_winner,
            list_is_ordered_by_id_and_paginates,
            update_replaces_the_row_with_its_event,
            delete_removes_the_user_with_its_event,
            other_tenants_users_are_not_found,
            insert_into_another_tenant_is_refused,
            find_principal_checks_tenant_user_and_session,
            find_principal_sees_an_expired_session_as_inactive,
            stale_update_loses_nothing,
            concurrent_updates_have_one_winner,
        });
        $crate::__contract_module!(__port_contract_stores: partners => partners {
            a_partner_member_enters_a_client_while_the_grant_holds,
            leaving_the_partner_ends_the_access_it_gave,
        });
        $crate::__contract_module!(__port_contract_stores: owners => owners {
            the_last_owner_cannot_be_demoted,
            the_last_owner_cannot_be_deactivated,
            the_last_owner_cannot_be_deleted,
            one_of_two_owners_may_go,
            an_inactive_owner_does_not_count,
            concurrent_demotions_keep_an_owner,
            members_change_freely,
        });
        $crate::__contract_module!(__port_contract_stores: roles => roles {
            insert_then_get_and_list_by_name,
            a_name_is_the_tenants_once,
            update_at_its_version_only,
            a_held_role_is_not_deleted,
            other_tenants_roles_are_not_found_nor_held,
            find_principal_reads_the_role_as_stored_now,
        });
        $crate::__contract_module!(__port_contract_stores: sessions => sessions {
            start_opens_a_family_and_records_the_login,
            start_for_another_tenants_user_is_refused,
            find_of_an_unknown_token_is_none,
            rotate_marks_used_and_adds_the_next_token,
            rotate_has_one_winner,
            rotate_in_another_tenant_changes_nothing,
            revoke_ends_the_session,
            revoke_in_another_tenant_is_not_found,
            start_does_not_change_the_version,
        });
        $crate::__contract_module!(__port_contract_stores: resets => resets {
            issue_find_and_redeem_once,
            find_and_redeem_refuse_expired_tokens,
            redeem_has_one_winner,
            redeem_is_atomic_with_the_user_rules,
            redeem_refuses_another_users_token,
            issue_for_another_tenants_user_is_refused,
            redeem_in_another_tenant_changes_nothing,
            redeem_at_a_stale_version_changes_nothing,
            deactivation_voids_open_reset_links,
        });
        $crate::__contract_module!(__port_contract_stores: throttle => throttle {
            failures_are_counted_per_key,
            old_failures_are_forgotten,
            clear_forgets_only_the_given_keys,
            record_failure_returns_the_counted_states,
            parallel_failures_get_distinct_counts,
            release_takes_back_one_failure,
        });
        $crate::__contract_module!(__port_contract_stores: second_factors => second_factors {
            enrolment_is_confirmed_once_with_its_events,
            a_step_is_used_once_and_only_forward,
            a_recovery_code_is_used_once,
            another_tenant_reaches_no_factor,
            removing_the_factor_is_written_with_its_event,
            a_challenge_is_found_by_its_hash_and_taken_once,
        });
        $crate::__contract_module!(__port_contract_stores: audit => audit {
            append_links_the_chain,
            chain_after_pages_in_chain_order,
            writes_keep_a_valid_chain,
            concurrent_appends_keep_one_chain,
            failed_writes_leave_no_event,
            list_is_newest_first_and_filters,
            list_pages_with_the_cursor,
            tenants_have_separate_chains,
            head_is_the_newest_sealed_link,
            shredding_clears_only_the_selected_personal_values,
        });
    };
}

/// The function a suite's tests take their stores from (used by the `*_contract_tests!`
/// macros): `$name`, which evaluates the async expression `$stores` afresh on each call.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_stores {
    ($name:ident : $stores_type:ty = $stores:expr) => {
        async fn $name() -> $stores_type {
            $stores.await
        }
    };
}

/// One module of contract tests (used by the `*_contract_tests!` macros): a
/// `#[tokio::test]` per case, calling `$crate::<path>::<case>` (with `::<Kind>` when a
/// kind is given) on the stores that the caller's function `$stores` yields.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_module {
    ($stores:ident : $module:ident => $($path:ident)::+ { $($name:ident),* $(,)? }) => {
        mod $module {
            $crate::__contract_cases!($stores => $($path)::+ { $($name),* });
        }
    };
}

/// The cases of one contract module (used by [`__contract_module!`] and
/// [`__record_contract_module!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    // One case at a time: the path repeats once per case, which a plain `$(…)*` over the
    // names cannot express.
    ($stores:ident => $($path:ident)::+ $(<$kind:ty>)? { $name:ident $(, $rest:ident)* $(,)? }) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::$($path)::+::$name $(::<$kind>)? (super::$stores().await).await;
        }
        $crate::__contract_cases!($stores => $($path)::+ $(<$kind>)? { $($rest),* });
    };
    ($stores:ident => $($path:ident)::+ $(<$kind:ty>)? { $(,)? }) => {};
}

/// The GDPR registers' ports under test, with the identity [`Stores`] of the same
/// adapter (the fixtures register tenants and users through them).
#[derive(Clone)]
pub struct RegisterStores {
    pub organisation: Arc<dyn OrganisationRepository>,
    pub activities: Arc<dyn RecordStore<Activities>>,
    pub processors: Arc<dyn RecordStore<Processors>>,
    pub policies: Arc<dyn RecordStore<Policies>>,
    pub policy_versions: Arc<dyn PolicyVersions>,
    /// Tasks as a kernel register (the task repository, reminders planned on writes).
    pub tasks: Arc<dyn RecordStore<aura_tasks::Tasks>>,
    /// Data-subject requests.
    pub requests: Arc<dyn RecordStore<Requests>>,
    /// Personal-data breaches.
    pub breaches: Arc<dyn RecordStore<Breaches>>,
    /// The DPIA screening's answers per activity.
    pub dpia_screenings: Arc<dyn ScreeningAnswersStore>,
    /// DPIAs.
    pub dpias: Arc<dyn RecordStore<aura_dpias::Dpias>>,
    /// The audit log the register writes seal their events into (`identity.audit`).
    pub audit: Arc<dyn AuditLog>,
    /// Tenants, users and the clock of the same adapter.
    pub identity: Stores,
}

impl AsRef<Stores> for RegisterStores {
    fn as_ref(&self) -> &Stores {
        &self.identity
    }
}

impl RegisterStores {
    /// The register ports of `store` beside `identity` (whose audit log they must write
    /// to).
    pub fn new<S>(identity: Stores, store: Arc<S>) -> Self
    where
        S: OrganisationRepository
            + RecordStore<Activities>
            + RecordStore<Processors>
            + RecordStore<Policies>
            + PolicyVersions
            + TaskRepository
            + RecordStore<Requests>
            + RecordStore<Breaches>
            + ScreeningAnswersStore
            + RecordStore<aura_dpias::Dpias>
            + 'static,
    {
        Self {
            organisation: store.clone(),
            activities: store.clone(),
            processors: store.clone(),
            policies: store.clone(),
            policy_versions: store.clone(),
            requests: store.clone(),
            breaches: store.clone(),
            dpia_screenings: store.clone(),
            dpias: store.clone(),
            tasks: tasks::records::kernel_store(store, identity.clock.clone()),
            audit: identity.audit.clone(),
            identity,
        }
    }

    /// Every port, identity's and the registers', from one value that implements them all.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore
            + OrganisationRepository
            + RecordStore<Activities>
            + RecordStore<Processors>
            + RecordStore<Policies>
            + PolicyVersions
            + TaskRepository
            + RecordStore<Requests>
            + RecordStore<Breaches>
            + ScreeningAnswersStore
            + RecordStore<aura_dpias::Dpias>
            + 'static,
    {
        let store = Arc::new(store);
        let identity = Stores::from_single_arc(store.clone(), clock);
        Self::new(identity, store)
    }

    /// The clock the stores use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.identity.clock
    }

    /// The ports of the register use cases (`Registers`) over these stores, with
    /// `members` answering who belongs to a tenant: what a use-case test wires.
    pub fn ports(&self, members: Arc<dyn Members>) -> RegisterPorts {
        RegisterPorts {
            organisation: self.organisation.clone(),
            activities: self.activities.clone(),
            processors: self.processors.clone(),
            policies: self.policies.clone(),
            policy_versions: self.policy_versions.clone(),
            members,
            audit: self.audit.clone(),
            clock: self.clock().clone(),
            time_zones: Arc::new(aura_adapter_holidays::IanaTimeZones::new()),
        }
    }
}

/// Expands to one `#[tokio::test]` per register contract. The argument is an async
/// expression (evaluated afresh for each test) that yields a [`RegisterStores`].
///
/// Each register on the record kernel (activities, processors, policies) runs every shared
/// contract of [`registers::records`] (e.g. `activities::insert_then_get`, calling
/// `records::insert_then_get::<Activities>`) and then its own.
///
/// The expansion defines a function `__register_contract_stores` and the modules
/// `organisation`, `activities`, `processors`, `tasks`, `due_sorts`, `policies`, `requests`, `breaches` and `dpias` in the
/// calling module, so call the macro once per module (it may share a module with
/// [`contract_tests!`]).
#[macro_export]
macro_rules! register_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(__register_contract_stores: $crate::RegisterStores = $stores);

        $crate::__contract_module!(__register_contract_stores: organisation => registers::organisation {
            get_before_the_first_put_is_none,
            put_creates_at_version_one_then_replaces,
            create_over_an_existing_profile_is_a_conflict,
            put_at_a_version_without_a_profile_is_not_found,
            stale_put_loses_nothing,
            concurrent_puts_have_one_winner,
            concurrent_creates_have_one_winner,
            tenants_have_separate_profiles,
        });
        $crate::__record_contract_module!(activities: $crate::registers::Activities {
            links_name_only_the_tenants_processors,
            links_follow_the_activity,
            update_with_a_bad_link_changes_nothing,
            list_filters,
            list_pages_through_a_filtered_list,
            gaps_follow_the_organisation_profile,
        });
        $crate::__record_contract_module!(processors: $crate::registers::Processors {
            sub_processors_name_a_parent_of_the_tenant,
            activity_ids_are_the_linking_activities_sorted,
            a_linked_processor_is_in_use,
            a_parent_processor_is_in_use,
            another_tenants_processor_is_no_parent,
            list_filters,
            refused_deletes_keep_a_valid_chain,
        });
        // Tasks' own contracts are `task_contract_tests!`'s; here the shared ones.
        $crate::__record_contract_module!(tasks: $crate::tasks::Tasks {
            a_link_names_a_record_of_the_tenant,
        });
        // The due sorts, on the register whose records fall due.
        $crate::__contract_module!(__register_contract_stores: due_sorts => registers::due_sorts {
            requests_page_through_the_due_sorts,
        });
        $crate::__record_contract_module!(policies: $crate::registers::Policies {
            delete_removes_the_versions,
            versions_are_numbered_in_sequence,
            versions_of_a_missing_or_foreign_policy_are_not_found,
            publishing_retires_the_previous_version,
            publishing_with_a_stale_policy_changes_nothing,
            stale_version_update_loses_nothing,
            concurrent_version_updates_have_one_winner,
            concurrent_publications_leave_one_published,
            at_most_one_version_is_published,
            current_version_follows_the_published_version,
            list_filters,
            version_writes_keep_a_valid_chain,
        });
        $crate::__contract_module!(__register_contract_stores: requests => requests {
            references_are_numbered_per_tenant_and_year,
            the_case_reads_back_as_written,
            checklist_references_are_checked_in_the_write,
            list_filters,
            other_tenants_requests_are_out_of_reach,
        });
        $crate::__record_contract_module!(breaches: $crate::registers::Breaches {
            decisions_read_back_as_written,
            references_are_numbered_per_tenant_and_year_of_awareness,
            links_name_only_the_tenants_records,
            list_filters,
            other_tenants_breaches_are_out_of_reach,
        });
        $crate::__contract_module!(__register_contract_stores: dpia_screenings => registers::dpia_screenings {
            answers_are_created_at_version_one_then_replaced,
            stale_or_repeated_first_puts_change_nothing,
            another_tenants_activity_has_no_answers_here,
            answers_go_with_the_activity,
            a_required_dpia_is_missing_while_active,
        });
        $crate::__record_contract_module!(dpias: $crate::registers::Dpias {
            state_reads_back_as_written,
            links_name_only_the_tenants_records,
            a_covered_activity_is_in_use,
            a_pending_prior_consultation_shows_on_the_covered_activities,
            list_filters,
            other_tenants_dpias_are_out_of_reach,
        });
    };
}

/// One module of a register on the record kernel (used by [`register_contract_tests!`]):
/// every contract of [`registers::records`] for the register's kind, then the register's
/// own contracts (functions of `registers::<area>`).
#[doc(hidden)]
#[macro_export]
macro_rules! __record_contract_module {
    ($area:ident : $kind:ty { $($name:ident),* $(,)? }) => {
        mod $area {
            $crate::__contract_cases!(__register_contract_stores => registers::records<$kind> {
                insert_then_get,
                insert_of_a_taken_id_is_a_conflict,
                update_replaces_the_row_at_the_expected_version,
                stale_update_loses_nothing,
                concurrent_updates_have_one_winner,
                delete_checks_the_version,
                other_tenants_records_are_out_of_reach,
                all_is_oldest_first,
                list_pages_through_every_sort,
                due_sorts_only_where_records_fall_due,
                writes_keep_a_valid_chain,
            });
            $crate::__contract_cases!(__register_contract_stores => registers::$area {
                $($name),*
            });
        }
    };
}

/// The task ports under test (the task repository and the job queue), with the
/// identity [`Stores`] of the same adapter (the fixtures register tenants and users
/// through them).
#[derive(Clone)]
pub struct TaskStores {
    pub tasks: Arc<dyn TaskRepository>,
    pub jobs: Arc<dyn JobQueue>,
    /// The audit log the task writes seal their events into (`identity.audit`).
    pub audit: Arc<dyn AuditLog>,
    /// Tenants, users and the clock of the same adapter.
    pub identity: Stores,
}

impl AsRef<Stores> for TaskStores {
    fn as_ref(&self) -> &Stores {
        &self.identity
    }
}

impl TaskStores {
    /// The task ports beside `identity` (whose audit log they must write to).
    pub fn new(identity: Stores, tasks: Arc<dyn TaskRepository>, jobs: Arc<dyn JobQueue>) -> Self {
        Self {
            tasks,
            jobs,
            audit: identity.audit.clone(),
            identity,
        }
    }

    /// Every port, identity's and the tasks', from one value that implements them all.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore + TaskRepository + JobQueue,
    {
        let store = Arc::new(store);
        let identity = Stores::from_single_arc(store.clone(), clock);
        Self::new(identity, store.clone(), store)
    }

    /// The clock the stores use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.identity.clock
    }
}

/// Expands to one `#[tokio::test]` per task and job queue contract. The argument is an
/// async expression (evaluated afresh for each test) that yields a [`TaskStores`] no
/// other test uses (the queue's claims span tenants).
///
/// The expansion defines a function `__task_contract_stores` and the modules
/// `task_repository` and `job_queue` in the calling module, so call the macro once per
/// module (it may share a module with the other contract macros).
#[macro_export]
macro_rules! task_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(__task_contract_stores: $crate::TaskStores = $stores);

        $crate::__contract_module!(__task_contract_stores: task_repository => tasks::repository {
            insert_then_get_returns_the_task,
            insert_stores_the_reminder_plan,
            an_assignee_outside_the_tenant_is_refused,
            other_tenants_tasks_are_out_of_reach,
            concurrent_updates_have_one_winner,
            update_replaces_the_queued_reminders,
            a_sent_reminder_is_not_planned_again,
            complete_cancels_reminders_and_creates_the_next_occurrence,
            a_stale_completion_changes_nothing,
            delete_checks_the_version_and_cancels_reminders,
            a_deleted_user_leaves_the_tasks_unassigned,
            list_filters,
            list_pages_through_every_sort,
            list_pages_through_a_filtered_list,
            writes_keep_a_valid_chain,
        });
        $crate::__contract_module!(__task_contract_stores: job_queue => tasks::queue {
            enqueue_keeps_one_live_job_per_key,
            enqueue_into_another_tenant_is_refused,
            claim_takes_due_jobs_oldest_first,
            a_lease_holds_until_it_runs_out,
            concurrent_claims_never_share_a_job,
            finishing_needs_the_lease,
            failing_requeues_or_buries_the_job,
            exhausted_attempts_and_an_expired_lease_bury_the_job,
            schedule_digests_is_idempotent_and_skips_suspended_tenants,
            list_is_newest_first_and_filters,
            retry_requeues_dead_and_cancelled_jobs,
            stats_count_the_queue,
        });
    };
}

/// The request store's own ports (its planned writes and its retention read), with the
/// register's store, the job queue (where the plans go) and the identity [`Stores`] of
/// the same adapter.
#[derive(Clone)]
pub struct RequestStores {
    pub records: Arc<dyn RecordStore<Requests>>,
    pub writes: Arc<dyn PlannedWrites<Requests>>,
    pub repository: Arc<dyn RequestRepository>,
    pub jobs: Arc<dyn JobQueue>,
    pub identity: Stores,
}

impl AsRef<Stores> for RequestStores {
    fn as_ref(&self) -> &Stores {
        &self.identity
    }
}

impl RequestStores {
    /// Every port from one value that implements them all.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore
            + RecordStore<Requests>
            + PlannedWrites<Requests>
            + RequestRepository
            + JobQueue,
    {
        let store = Arc::new(store);
        Self {
            records: store.clone(),
            writes: store.clone(),
            repository: store.clone(),
            jobs: store.clone(),
            identity: Stores::from_single_arc(store, clock),
        }
    }
}

/// Expands to one `#[tokio::test]` per contract of the request store's own port. The
/// argument is an async expression that yields a [`RequestStores`]. Defines
/// `__request_contract_stores` and the module `request_repository` in the calling module.
#[macro_export]
macro_rules! request_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(__request_contract_stores: $crate::RequestStores = $stores);

        $crate::__contract_module!(__request_contract_stores: request_repository => request_plans {
            writes_replace_the_reminder_plan,
            a_stale_write_stores_no_plan,
            closed_requests_await_pseudonymisation_oldest_first,
        });
    };
}

/// The AI assistant's ports under test, with the identity [`Stores`] of the same adapter.
#[derive(Clone)]
pub struct AiStores {
    pub suggestions: Arc<dyn SuggestionRepository>,
    pub usage: Arc<dyn AiUsage>,
    pub identity: Stores,
}

impl AiStores {
    /// Every port, identity's and the assistant's, from one value that implements them all.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore + SuggestionRepository + AiUsage,
    {
        let store = Arc::new(store);
        Self {
            suggestions: store.clone(),
            usage: store.clone(),
            identity: Stores::from_single_arc(store, clock),
        }
    }
}

/// Expands to one `#[tokio::test]` per contract of the AI assistant's ports. The argument
/// is an async expression (evaluated afresh for each test) that yields an [`AiStores`].
/// Defines `__ai_contract_stores` and the module `ai` in the calling module.
#[macro_export]
macro_rules! ai_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(__ai_contract_stores: $crate::AiStores = $stores);

        $crate::__contract_module!(__ai_contract_stores: ai => ai {
            insert_then_get_returns_the_suggestion,
            insert_of_a_taken_id_is_refused,
            insert_into_another_tenant_is_refused,
            list_is_newest_first_and_pages,
            list_filters_by_status_and_kind,
            decide_stores_the_decision_only,
            stale_decision_changes_nothing,
            concurrent_decisions_have_one_winner,
            other_tenants_suggestions_are_out_of_reach,
            usage_counts_per_tenant_and_window_up_to_the_limit,
            concurrent_usage_never_exceeds_the_limit,
            usage_counts_each_users_share_and_the_tenant,
        });
    };
}

/// The rate limiter under test: two instances on one store (as two API processes on
/// one database or Redis would have) and the time the contracts count from.
#[derive(Clone)]
pub struct LimitStores {
    pub first: Arc<dyn RateLimiter>,
    /// Another instance sharing `first`'s store (its own connection or pool).
    pub second: Arc<dyn RateLimiter>,
    /// The contracts' "now"; they add offsets to it and never read a clock.
    pub base: time::OffsetDateTime,
}

/// Expands to one `#[tokio::test]` per rate limiter contract and time base: the
/// argument names an `async fn(time::OffsetDateTime) -> LimitStores` of the calling
/// module (evaluated afresh for each test), called with a fixed time (microseconds
/// included) in the module `fixed_time` and with the wall clock's in `wall_time`.
#[macro_export]
macro_rules! rate_limit_contract_tests {
    ($stores:ident $(,)?) => {
        mod fixed_time {
            $crate::__contract_stores!(
                __limit_contract_stores: $crate::LimitStores =
                    super::$stores($crate::limits::FIXED_BASE)
            );

            $crate::__limit_contract_modules!();
        }

        mod wall_time {
            $crate::__contract_stores!(
                __limit_contract_stores: $crate::LimitStores =
                    super::$stores(::time::OffsetDateTime::now_utc())
            );

            $crate::__limit_contract_modules!();
        }
    };
}

/// The contract module of [`rate_limit_contract_tests!`] for one time base.
#[doc(hidden)]
#[macro_export]
macro_rules! __limit_contract_modules {
    () => {
        $crate::__contract_module!(__limit_contract_stores: rate_limits => limits {
            a_quiet_key_gets_its_burst_then_refusals,
            retry_after_is_exact,
            refusals_are_not_counted,
            the_burst_refills_at_the_rate,
            keys_are_counted_apart,
            an_ipv6_network_shares_one_count,
            concurrent_checks_allow_exactly_the_burst,
            concurrent_checks_over_time_never_exceed_the_rate,
            the_second_instance_sees_the_first_ones_count,
        });
    };
}

/// The idempotency store under test, with the identity [`Stores`] of the same adapter
/// (the contracts register tenants through them).
#[derive(Clone)]
pub struct IdempotencyStores {
    pub keys: Arc<dyn IdempotencyStore>,
    pub identity: Stores,
}

impl IdempotencyStores {
    /// Every port, identity's and the idempotency store, from one value.
    pub fn from_single<S>(store: S, clock: Arc<dyn Clock>) -> Self
    where
        S: IdentityStore + IdempotencyStore,
    {
        let store = Arc::new(store);
        Self {
            keys: store.clone(),
            identity: Stores::from_single_arc(store, clock),
        }
    }
}

/// Expands to one `#[tokio::test]` per contract of the idempotency store. The argument
/// is an async expression (evaluated afresh for each test) that yields an
/// [`IdempotencyStores`]. Defines `__idempotency_contract_stores` and the module
/// `idempotency` in the calling module.
#[macro_export]
macro_rules! idempotency_contract_tests {
    ($stores:expr $(,)?) => {
        $crate::__contract_stores!(
            __idempotency_contract_stores: $crate::IdempotencyStores =
                $stores
        );

        $crate::__contract_module!(__idempotency_contract_stores: idempotency => idempotency {
            a_free_key_is_reserved_then_reported_in_progress,
            a_completed_entry_is_returned_sealed,
            only_the_holder_completes_or_releases,
            release_frees_the_key_but_never_a_completed_one,
            concurrent_reservations_have_one_winner,
            expired_entries_count_as_absent,
            a_dead_holders_key_goes_to_the_same_request_only,
            tenants_and_sign_up_keep_their_keys_apart,
        });
    };
}
