//! [`IdempotencyStore`] on PostgreSQL: `idempotency_keys` (a tenant table, reached only
//! through `in_tenant`, forced RLS) and `idempotency_signup_keys` (sign-up, before any
//! tenant exists; not tenant data). The same statements serve both; the tenant's add
//! `tenant_id` to every key and filter.
//!
//! A reservation is one `INSERT … ON CONFLICT DO UPDATE … WHERE` (take the key when it
//! is free, expired, or held by a dead holder of the same request) and, when that does
//! not take it, a read of the entry in the same transaction: ON CONFLICT locks the
//! conflicting row even when its WHERE is false, so the read sees it as it stands.
//! Expired entries of the space are purged a hundred at a time on each reservation
//! (`SKIP LOCKED`, so purges never wait on each other).

use std::sync::Arc;

use aura_idempotency::{
    Fingerprint, IdempotencyStore, KeyHash, KeySpace,
    ports::{EntryState, Existing, Reservation, Reserved},
};
use aura_shared_kernel::StoreError;
use diesel::{
    OptionalExtension, QueryableByName,
    pg::Pg,
    query_builder::{BoxedSqlQuery, SqlQuery},
    sql_types::{Binary, Nullable, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::{DbError, corrupt},
    pool::{in_tenant, unscoped},
    stores::PgStores,
};

/// Expired entries removed per reservation, at most.
const PURGE_BATCH: i64 = 100;

/// Which table, and the tenant (bound last) for the tenant table.
#[derive(Clone, Copy)]
struct Table {
    tenant: Option<Uuid>,
}

impl Table {
    fn of(space: &KeySpace) -> Self {
        Self {
            tenant: match space {
                KeySpace::SignUp => None,
                KeySpace::Tenant(scope) => Some(scope.tenant_id().as_uuid()),
            },
        }
    }

    fn name(self) -> &'static str {
        if self.tenant.is_some() {
            "idempotency_keys"
        } else {
            "idempotency_signup_keys"
        }
    }

    /// ` AND tenant_id = $n` for the tenant table (its tenant is the `n`th parameter).
    fn and_tenant(self, n: usize) -> String {
        if self.tenant.is_some() {
            format!(" AND tenant_id = ${n}")
        } else {
            String::new()
        }
    }

    /// The statement with its leading parameters bound by `bind`, then the tenant.
    fn query(
        self,
        sql: String,
        bind: impl FnOnce(BoxedSqlQuery<'static, Pg, SqlQuery>) -> BoxedSqlQuery<'static, Pg, SqlQuery>,
    ) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let query = bind(diesel::sql_query(sql).into_boxed());
        match self.tenant {
            Some(tenant) => query.bind::<diesel::sql_types::Uuid, _>(tenant),
            None => query,
        }
    }
}

#[derive(QueryableByName)]
struct TokenRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    #[allow(dead_code)]
    token: Uuid,
}

#[derive(QueryableByName)]
struct EntryRow {
    #[diesel(sql_type = Binary)]
    fingerprint: Vec<u8>,
    #[diesel(sql_type = Nullable<Binary>)]
    response: Option<Vec<u8>>,
    #[diesel(sql_type = Timestamptz)]
    locked_until: OffsetDateTime,
}

async fn reserve_on(
    conn: &mut AsyncPgConnection,
    table: Table,
    r: Reservation,
) -> Result<Reserved, DbError> {
    let name = table.name();
    let purge = format!(
        "DELETE FROM {name} WHERE ctid IN (SELECT ctid FROM {name} WHERE expires_at <= $1{}
           LIMIT $2 FOR UPDATE SKIP LOCKED)",
        table.and_tenant(3)
    );
    table
        .query(purge, |q| {
            q.bind::<Timestamptz, _>(r.now)
                .bind::<diesel::sql_types::BigInt, _>(PURGE_BATCH)
        })
        .execute(conn)
        .await?;

    let (tenant_column, tenant_value, conflict) = if table.tenant.is_some() {
        (", tenant_id", ", $7", "tenant_id, key_hash")
    } else {
        ("", "", "key_hash")
    };
    let insert = format!(
        "INSERT INTO {name} AS k
                (key_hash, fingerprint, token, locked_until, expires_at, created_at{tenant_column})
         VALUES ($1, $2, $3, $4, $5, $6{tenant_value})
         ON CONFLICT ({conflict}) DO UPDATE
            SET fingerprint = EXCLUDED.fingerprint, token = EXCLUDED.token, response = NULL,
                locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at,
                created_at = EXCLUDED.created_at
          WHERE k.expires_at <= EXCLUDED.created_at
             OR (k.response IS NULL AND k.locked_until <= EXCLUDED.created_at
                 AND k.fingerprint = EXCLUDED.fingerprint)
         RETURNING token"
    );
    let taken: Option<TokenRow> = table
        .query(insert, |q| {
            q.bind::<Binary, _>(r.key_hash.0.to_vec())
                .bind::<Binary, _>(r.fingerprint.0.to_vec())
                .bind::<diesel::sql_types::Uuid, _>(r.token)
                .bind::<Timestamptz, _>(r.locked_until)
                .bind::<Timestamptz, _>(r.expires_at)
                .bind::<Timestamptz, _>(r.now)
        })
        .get_result(conn)
        .await
        .optional()?;
    if taken.is_some() {
        return Ok(Reserved::New);
    }

    let select = format!(
        "SELECT fingerprint, response, locked_until FROM {name} WHERE key_hash = $1{}",
        table.and_tenant(2)
    );
    let row: EntryRow = table
        .query(select, |q| q.bind::<Binary, _>(r.key_hash.0.to_vec()))
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::unexpected("a conflicting idempotency entry vanished"))?;
    let fingerprint = Fingerprint(
        row.fingerprint
            .try_into()
            .map_err(|_| corrupt("stored idempotency fingerprint"))?,
    );
    let state = match row.response {
        Some(sealed) => EntryState::Completed { sealed },
        None => EntryState::InProgress {
            locked_until: row.locked_until,
        },
    };
    Ok(Reserved::Existing(Existing { fingerprint, state }))
}

impl PgStores {
    pub fn idempotency(&self) -> Arc<dyn IdempotencyStore> {
        Arc::new(self.clone())
    }

    /// Runs `work` in one transaction: inside the tenant for the tenant table, on a plain
    /// connection for sign-up keys.
    async fn in_key_space<R, F>(&self, space: &KeySpace, work: F) -> Result<R, StoreError>
    where
        F: crate::pool::TxWork<R>,
        R: Send,
    {
        match space {
            KeySpace::Tenant(scope) => in_tenant(&self.inner.pool, scope, work).await,
            KeySpace::SignUp => unscoped(&self.inner.pool, work).await,
        }
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for PgStores {
    async fn reserve(
        &self,
        space: &KeySpace,
        reservation: &Reservation,
    ) -> Result<Reserved, StoreError> {
        let table = Table::of(space);
        let reservation = reservation.clone();
        self.in_key_space(space, async move |conn| {
            reserve_on(conn, table, reservation).await
        })
        .await
    }

    async fn complete(
        &self,
        space: &KeySpace,
        key_hash: &KeyHash,
        token: Uuid,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let table = Table::of(space);
        let sql = format!(
            "UPDATE {} SET response = $2
              WHERE key_hash = $1 AND token = $3 AND response IS NULL{}",
            table.name(),
            table.and_tenant(4)
        );
        let (hash, sealed) = (key_hash.0.to_vec(), sealed.to_vec());
        self.in_key_space(space, async move |conn| {
            let updated = table
                .query(sql, |q| {
                    q.bind::<Binary, _>(hash)
                        .bind::<Binary, _>(sealed)
                        .bind::<diesel::sql_types::Uuid, _>(token)
                })
                .execute(conn)
                .await?;
            Ok::<bool, DbError>(updated == 1)
        })
        .await
    }

    async fn release(
        &self,
        space: &KeySpace,
        key_hash: &KeyHash,
        token: Uuid,
    ) -> Result<(), StoreError> {
        let table = Table::of(space);
        let sql = format!(
            "DELETE FROM {} WHERE key_hash = $1 AND token = $2 AND response IS NULL{}",
            table.name(),
            table.and_tenant(3)
        );
        let hash = key_hash.0.to_vec();
        self.in_key_space(space, async move |conn| {
            table
                .query(sql, |q| {
                    q.bind::<Binary, _>(hash)
                        .bind::<diesel::sql_types::Uuid, _>(token)
                })
                .execute(conn)
                .await?;
            Ok::<(), DbError>(())
        })
        .await
    }
}
