//! [`SecondFactorStore`] on PostgreSQL (migration 000033): `second_factors`, reached like
//! `accounts` only through an accepted, active membership of the transaction's tenant
//! (its policy asks `users`), and `mfa_challenges`, tenant data found by the presented
//! token through `aura_find_mfa_challenge`. Every statement that decides (a step newer
//! than the last, a recovery code still unused, a challenge still open) is one
//! conditional `UPDATE`, so parallel requests cannot both pass it.

use aura_audit::PendingEvent;
use aura_identity::{
    AccountId, TokenHash,
    mfa::{ChallengeLookup, ChallengePurpose, RecoveryHash, SealedSecret, TimeStep, TotpFactor},
    ports::SecondFactorStore,
};
use aura_shared_kernel::{StoreError, TenantId, TenantScope, UserId};
use diesel::{
    OptionalExtension, QueryableByName,
    sql_types::{Array, BigInt, Bool, Bytea, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::append_event,
    error::DbError,
    lookups::AcceptedRow,
    pool::{TxWork, in_tenant, unscoped},
    stores::PgStores,
};

#[derive(QueryableByName)]
struct FactorRow {
    #[diesel(sql_type = Bytea)]
    sealed_secret: Vec<u8>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    confirmed_at: Option<OffsetDateTime>,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_used_step: Option<i64>,
    #[diesel(sql_type = Int4)]
    recovery_codes_left: i32,
}

#[derive(QueryableByName)]
struct ChallengeRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    purpose: String,
    #[diesel(sql_type = Timestamptz)]
    expires_at: OffsetDateTime,
    #[diesel(sql_type = Bool)]
    used: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Int4)]
    n: i32,
}

fn hashes(codes: &[RecoveryHash]) -> Vec<Vec<u8>> {
    codes.iter().map(|code| code.0.to_vec()).collect()
}

impl PgStores {
    /// `change` (true when it changed a row) and then, only if it did, `event`, in one
    /// transaction inside the scope's tenant.
    async fn write_if_changed<F>(
        &self,
        scope: &TenantScope,
        event: PendingEvent,
        change: F,
    ) -> Result<bool, StoreError>
    where
        F: TxWork<bool>,
    {
        let now = self.now();
        let hasher = self.inner.hasher.as_ref();
        let tenant = scope.tenant_id();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let changed = change(conn).await?;
            if changed {
                append_event(conn, hasher, tenant, event, now).await?;
            }
            Ok(changed)
        })
        .await
    }
}

#[async_trait::async_trait]
impl SecondFactorStore for PgStores {
    async fn factor(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> Result<Option<TotpFactor>, StoreError> {
        let row: Option<FactorRow> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(diesel::sql_query(
                "SELECT sealed_secret, confirmed_at, last_used_step,
                        cardinality(recovery_codes) AS recovery_codes_left
                   FROM second_factors WHERE account_id = $1",
            )
            .bind::<SqlUuid, _>(account.as_uuid())
            .get_result(conn)
            .await
            .optional()?)
        })
        .await?;
        Ok(row.map(|row| TotpFactor {
            account,
            sealed: SealedSecret(row.sealed_secret),
            confirmed_at: row.confirmed_at,
            last_used_step: row.last_used_step.map(TimeStep),
            recovery_codes_left: u32::try_from(row.recovery_codes_left).unwrap_or(0),
        }))
    }

    async fn accepted_memberships(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> Result<u32, StoreError> {
        let count: Count = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(
                diesel::sql_query("SELECT aura_account_memberships($1) AS n")
                    .bind::<SqlUuid, _>(account.as_uuid())
                    .get_result(conn)
                    .await?,
            )
        })
        .await?;
        Ok(u32::try_from(count.n).unwrap_or(0))
    }

    async fn start_enrolment(
        &self,
        scope: &TenantScope,
        account: AccountId,
        sealed: &SealedSecret,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        let sealed = sealed.0.clone();
        self.write_if_changed(scope, event, async move |conn| {
            // A row the tenant may not reach (no accepted, active membership) is refused
            // by the insert policy, as a foreign row.
            let written = diesel::sql_query(
                "INSERT INTO second_factors (account_id, sealed_secret, created_at, updated_at)
                 VALUES ($1, $2, $3, $3)
                 ON CONFLICT (account_id) DO UPDATE
                    SET sealed_secret = EXCLUDED.sealed_secret, recovery_codes = '{}',
                        created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
                  WHERE second_factors.confirmed_at IS NULL",
            )
            .bind::<SqlUuid, _>(account.as_uuid())
            .bind::<Bytea, _>(sealed)
            .bind::<Timestamptz, _>(now)
            .execute(conn)
            .await
            .map_err(policy_refusal)?;
            Ok(written == 1)
        })
        .await
    }

    async fn confirm(
        &self,
        scope: &TenantScope,
        account: AccountId,
        step: TimeStep,
        recovery: &[RecoveryHash],
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        let recovery = hashes(recovery);
        self.write_if_changed(scope, event, async move |conn| {
            let written = diesel::sql_query(
                "UPDATE second_factors
                    SET confirmed_at = $2, last_used_step = $3, recovery_codes = $4,
                        updated_at = $2
                  WHERE account_id = $1 AND confirmed_at IS NULL",
            )
            .bind::<SqlUuid, _>(account.as_uuid())
            .bind::<Timestamptz, _>(now)
            .bind::<BigInt, _>(step.0)
            .bind::<Array<Bytea>, _>(recovery)
            .execute(conn)
            .await?;
            Ok(written == 1)
        })
        .await
    }

    async fn use_step(
        &self,
        scope: &TenantScope,
        account: AccountId,
        step: TimeStep,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let written = diesel::sql_query(
                "UPDATE second_factors SET last_used_step = $2, updated_at = $3
                  WHERE account_id = $1 AND confirmed_at IS NOT NULL
                    AND (last_used_step IS NULL OR last_used_step < $2)",
            )
            .bind::<SqlUuid, _>(account.as_uuid())
            .bind::<BigInt, _>(step.0)
            .bind::<Timestamptz, _>(now)
            .execute(conn)
            .await?;
            Ok(written == 1)
        })
        .await
    }

    async fn use_recovery_code(
        &self,
        scope: &TenantScope,
        account: AccountId,
        code: &RecoveryHash,
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        let code = code.0.to_vec();
        self.write_if_changed(scope, event, async move |conn| {
            let written = diesel::sql_query(
                "UPDATE second_factors
                    SET recovery_codes = array_remove(recovery_codes, $2), updated_at = $3
                  WHERE account_id = $1 AND confirmed_at IS NOT NULL
                    AND $2 = ANY (recovery_codes)",
            )
            .bind::<SqlUuid, _>(account.as_uuid())
            .bind::<Bytea, _>(code)
            .bind::<Timestamptz, _>(now)
            .execute(conn)
            .await?;
            Ok(written == 1)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        scope: &TenantScope,
        account: AccountId,
        recovery: &[RecoveryHash],
        now: OffsetDateTime,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        let recovery = hashes(recovery);
        self.write_if_changed(scope, event, async move |conn| {
            let written = diesel::sql_query(
                "UPDATE second_factors SET recovery_codes = $2, updated_at = $3
                  WHERE account_id = $1 AND confirmed_at IS NOT NULL",
            )
            .bind::<SqlUuid, _>(account.as_uuid())
            .bind::<Array<Bytea>, _>(recovery)
            .bind::<Timestamptz, _>(now)
            .execute(conn)
            .await?;
            Ok(written == 1)
        })
        .await
    }

    async fn remove(
        &self,
        scope: &TenantScope,
        account: AccountId,
        event: PendingEvent,
    ) -> Result<bool, StoreError> {
        self.write_if_changed(scope, event, async move |conn| {
            let removed = diesel::sql_query("DELETE FROM second_factors WHERE account_id = $1")
                .bind::<SqlUuid, _>(account.as_uuid())
                .execute(conn)
                .await?;
            Ok(removed == 1)
        })
        .await
    }

    async fn issue_challenge(
        &self,
        scope: &TenantScope,
        user: UserId,
        token: &TokenHash,
        purpose: ChallengePurpose,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let token = token.0.to_vec();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            // The composite foreign key refuses a user outside the tenant.
            diesel::sql_query(
                "INSERT INTO mfa_challenges
                        (tenant_id, token_hash, user_id, purpose, expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind::<SqlUuid, _>(tenant)
            .bind::<Bytea, _>(token)
            .bind::<SqlUuid, _>(user.as_uuid())
            .bind::<Text, _>(purpose.as_str())
            .bind::<Timestamptz, _>(expires_at)
            .bind::<Timestamptz, _>(now)
            .execute(conn)
            .await?;
            // As a session's start: the right password accepts the membership that
            // created the account while it is the account's only way in.
            let accepted: AcceptedRow =
                diesel::sql_query("SELECT aura_accept_sign_in($1, $2) AS accepted")
                    .bind::<SqlUuid, _>(user.as_uuid())
                    .bind::<Timestamptz, _>(now)
                    .get_result(conn)
                    .await?;
            if !accepted.accepted {
                return Err(DbError::Store(StoreError::NotFound));
            }
            Ok(())
        })
        .await
    }

    async fn find_challenge(
        &self,
        token: &TokenHash,
    ) -> Result<Option<ChallengeLookup>, StoreError> {
        let row: Option<ChallengeRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(
                diesel::sql_query("SELECT * FROM aura_find_mfa_challenge($1)")
                    .bind::<Bytea, _>(token.0.as_slice())
                    .get_result(conn)
                    .await
                    .optional()?,
            )
        })
        .await?;
        row.map(|row| {
            let purpose = ChallengePurpose::parse(&row.purpose)
                .ok_or_else(|| StoreError::unexpected("unknown challenge purpose"))?;
            Ok(ChallengeLookup {
                tenant: TenantId::from_uuid(row.tenant_id),
                user: UserId::from_uuid(row.user_id),
                purpose,
                expires_at: row.expires_at,
                used: row.used,
            })
        })
        .transpose()
    }

    async fn take_challenge(
        &self,
        scope: &TenantScope,
        token: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let token = token.0.to_vec();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let taken = diesel::sql_query(
                "UPDATE mfa_challenges SET used_at = $3
                  WHERE tenant_id = $1 AND token_hash = $2
                    AND used_at IS NULL AND expires_at > $3",
            )
            .bind::<SqlUuid, _>(tenant)
            .bind::<Bytea, _>(token)
            .bind::<Timestamptz, _>(now)
            .execute(conn)
            .await?;
            Ok(taken == 1)
        })
        .await
    }
}

/// A row-level security refusal of an insert (the account is not the tenant's to reach)
/// reads as a row that is not there.
fn policy_refusal(error: diesel::result::Error) -> DbError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, info)
            if info.message().contains("row-level security") =>
        {
            DbError::Store(StoreError::NotFound)
        }
        _ => DbError::Diesel(error),
    }
}
