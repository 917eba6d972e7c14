//! One transaction for a request's principal check and its first piece of tenant work.
//!
//! An authenticated request first re-reads its principal (user, tenant, session: see
//! `find_principal`), then does its work. Run inside [`with_request_unit`], that read
//! leaves its transaction open — begun, tenant set — and the request's next tenant work in
//! the same tenant continues it and commits ([`crate::pool::in_tenant`]): the check and the
//! work are one transaction, one `BEGIN` and one `COMMIT` fewer, and the work's statements
//! follow the check's on the same connection. Nothing else changes for the work: it still
//! commits when it succeeds and rolls back when it fails (taking the check's read with it).
//! Work that only reads ([`crate::pool::read_in_tenant`]) continues the unit and leaves
//! it open: the answer of a request that only reads waits for no `COMMIT`. A unit no
//! writing work takes is rolled back when the request ends: it only read.
//!
//! Invariants:
//! - Only a read opens a unit ([`crate::pool::read_opening_unit`]), and only reads
//!   leave it open, so nothing written ever waits uncommitted for later work or the end
//!   of the request.
//! - A task holding an open unit takes no second connection: before it does (work in
//!   another tenant, `unscoped` work such as the rate limiter's counters), it ends its unit
//!   ([`crate::pool::acquire`]). No request holds one connection while it waits for
//!   another — in this pool, or behind a transaction-mode pooler for a server connection —
//!   so a busy pool cannot deadlock.
//! - The unit is the request task's own (a task-local): work spawned onto another task,
//!   or outside any request (the worker, the CLI), opens its own transactions.

use std::{
    future::Future,
    mem,
    sync::{Mutex, MutexGuard, PoisonError},
};

use ::deadpool::managed::Object;
use aura_shared_kernel::TenantId;
use diesel_async::{AnsiTransactionManager, TransactionManager};

use crate::pool::PooledConnection;

tokio::task_local! {
    static UNIT: Unit;
}

/// Runs `request` (one request's whole handling) with a unit its principal read may open.
/// A unit still open when `request` ends — or is dropped, cancelled by its client or its
/// deadline — is rolled back in the background and its connection returned to the pool.
pub async fn with_request_unit<F: Future>(request: F) -> F::Output {
    UNIT.scope(Unit::default(), request).await
}

#[derive(Default)]
struct Unit(Mutex<Slot>);

#[derive(Default)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per request, kept in place in its task-local: a box would allocate per request"
)]
enum Slot {
    /// Nothing read yet: the request's principal read may open the unit.
    #[default]
    Vacant,
    /// Begun in `tenant` by the principal read: the next work there continues it.
    Open {
        tenant: TenantId,
        conn: PooledConnection,
    },
    /// Taken by work, ended, or claimed by a read that failed.
    Spent,
}

impl Unit {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        // Every critical section only moves values: a panic cannot leave it half done.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Claims this task's vacant unit: the caller's read opens it ([`keep`] the connection
/// after). False outside a request, or when the unit was opened before.
pub(crate) fn claim() -> bool {
    UNIT.try_with(|unit| {
        let mut slot = unit.slot();
        let vacant = matches!(*slot, Slot::Vacant);
        if vacant {
            *slot = Slot::Spent;
        }
        vacant
    })
    .unwrap_or(false)
}

/// Keeps `conn`, its transaction begun in `tenant` and only read in, open for the next
/// work of the request (after a successful [`claim`], or a [`take`] by a read).
pub(crate) fn keep(tenant: TenantId, conn: PooledConnection) {
    let mut kept = Some(conn);
    let _ = UNIT.try_with(|unit| {
        if let Some(conn) = kept.take() {
            *unit.slot() = Slot::Open { tenant, conn };
        }
    });
    // Only after a claim, so always inside a unit; if not, it must not leak open.
    if let Some(conn) = kept {
        end_in_background(conn);
    }
}

/// This task's open unit, when it was begun in `tenant`: taken out, for work to continue
/// its transaction.
pub(crate) fn take(tenant: TenantId) -> Option<PooledConnection> {
    take_open(|begun| begun == tenant)
}

/// Rolls this task's open unit back, whatever its tenant, and returns its connection.
pub(crate) async fn end() {
    if let Some(conn) = take_open(|_| true) {
        roll_back(conn).await;
    }
}

/// The open unit's connection, when the tenant it was begun in is `wanted`; any other
/// state (vacant, spent, another tenant's) is left as it was.
fn take_open(wanted: impl FnOnce(TenantId) -> bool) -> Option<PooledConnection> {
    UNIT.try_with(|unit| {
        let mut slot = unit.slot();
        match mem::take(&mut *slot) {
            Slot::Open { tenant, conn } if wanted(tenant) => {
                *slot = Slot::Spent;
                Some(conn)
            }
            other => {
                *slot = other;
                None
            }
        }
    })
    .ok()
    .flatten()
}

/// Rolls back the transaction on `conn` and returns it to the pool; a connection that
/// cannot even roll back leaves the pool.
async fn roll_back(mut conn: PooledConnection) {
    if AnsiTransactionManager::rollback_transaction(&mut *conn)
        .await
        .is_err()
    {
        drop(Object::take(conn));
    }
}

/// [`roll_back`] on the runtime, not awaited (a request's answer does not wait for it).
fn end_in_background(conn: PooledConnection) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(roll_back(conn));
        }
        // No runtime to roll back on: close the connection rather than pool it open.
        Err(_) => drop(Object::take(conn)),
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        let slot = mem::take(self.0.get_mut().unwrap_or_else(PoisonError::into_inner));
        if let Slot::Open { conn, .. } = slot {
            end_in_background(conn);
        }
    }
}
