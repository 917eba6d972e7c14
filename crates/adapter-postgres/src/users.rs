//! [`UserRepository`] on PostgreSQL, with the last-owner rule.

use aura_audit::PendingEvent;
use aura_identity::{
    AccountId, Email, User,
    ports::{LoginRecord, PrincipalRecord, UserRepository},
};
use aura_shared_kernel::{Conflict, Page, PageRequest, Role, StoreError, TenantScope, UserId};
use diesel::{prelude::*, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::DbError,
    lookups::{AccountLookupRow, LoginRow},
    models::{AccountRow, MemberRow, TenantRow, UserRow, convert_all, member_columns},
    pool::{in_tenant, unscoped},
    rows::{at_version, in_scope, new_in_scope},
    schema::{accounts, password_reset_tokens, refresh_families, tenants, users},
    stores::PgStores,
};

/// Locks the tenant's active owners (in id order, so concurrent writers queue instead of
/// deadlocking) and then the target row. Returns whether the target is one of the active
/// owners, how many there are, the target's row version, session version and account,
/// or
/// `NotFound` when the target is not in the tenant.
///
/// Under READ COMMITTED a writer that waited re-reads the locked rows: after a
/// concurrent demotion it sees one owner fewer, so two demotions cannot both pass.
async fn lock_owners_and_target(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    target: Uuid,
) -> Result<(bool, usize, i32, i32, Uuid), DbError> {
    let owners: Vec<Uuid> = users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::role.eq(Role::Owner.as_str()))
        .filter(users::is_active.eq(true))
        .order(users::id.asc())
        .select(users::id)
        .for_update()
        .load(conn)
        .await?;
    let found: Option<(i32, i32, Uuid)> = users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::id.eq(target))
        .select((users::version, users::session_version, users::account_id))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((version, session_version, account)) = found else {
        return Err(StoreError::NotFound.into());
    };
    Ok((
        owners.contains(&target),
        owners.len(),
        version,
        session_version,
        account,
    ))
}

/// Adds a member: a new account with its first membership (which shares the account's
/// id), or a membership of an existing account, which is left as it is (a tenant never
/// writes the e-mail or password of an account it merely invites; the foreign key
/// refuses an account that does not exist). An address another account has is
/// `Conflict::EmailTaken` (`accounts_email_key`), and so is a second membership of one
/// account in a tenant (`users_tenant_account_key`).
pub(crate) async fn insert_member(
    conn: &mut AsyncPgConnection,
    user: &User,
) -> Result<(), DbError> {
    if user.account_id.as_uuid() == user.id.as_uuid() {
        diesel::insert_into(accounts::table)
            .values(AccountRow::from(user))
            .execute(conn)
            .await?;
    }
    diesel::insert_into(users::table)
        .values(UserRow::from(user))
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces a user row at `expected_version` (storing `expected_version + 1`), keeping
/// at least one active owner in the tenant. Runs inside the caller's tenant transaction.
/// `Conflict::Version` when the row moved on since the caller read it. The account's
/// columns are written only by a write that moved the account's session version (a new
/// password), and only from the account version the caller read: a role change in one
/// tenant never writes back a password read before another tenant's reset. A write that
/// ends the user's sessions (password change, deactivation, role change: the session
/// generation moves) voids their open reset and invitation links in the same
/// transaction.
pub(crate) async fn write_user(
    conn: &mut AsyncPgConnection,
    user: &User,
    expected_version: i32,
) -> Result<(), DbError> {
    let tenant = user.tenant_id.as_uuid();
    let id = user.id.as_uuid();
    let (was_owner, owners, version, session_version, account) =
        lock_owners_and_target(conn, tenant, id).await?;
    // The row is locked now: its version cannot move until this transaction ends.
    if version != expected_version {
        return Err(StoreError::Conflict(Conflict::Version).into());
    }
    let stays_owner = user.role == Role::Owner && user.is_active;
    if was_owner && !stays_owner && owners <= 1 {
        return Err(StoreError::Conflict(Conflict::LastOwner).into());
    }
    if account != user.account_id.as_uuid() {
        return Err(StoreError::unexpected("a membership cannot move to another account").into());
    }
    let (account_version, email): (i32, String) = accounts::table
        .find(account)
        .select((accounts::session_version, accounts::email))
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if email != user.email.as_str() {
        // Another account's address fails on `accounts_email_key` (EmailTaken).
        diesel::update(accounts::table.find(account))
            .set((
                accounts::email.eq(user.email.as_str()),
                accounts::updated_at.eq(user.updated_at),
            ))
            .execute(conn)
            .await?;
    }
    if user.account_session_version != account_version {
        if user.account_session_version.wrapping_sub(1) != account_version {
            return Err(StoreError::Conflict(Conflict::Version).into());
        }
        diesel::update(accounts::table.find(account))
            .set((
                accounts::password_hash.eq(user.password_hash.as_str()),
                accounts::session_version.eq(user.account_session_version),
                accounts::updated_at.eq(user.updated_at),
            ))
            .execute(conn)
            .await?;
    }
    let mut changes = UserRow::from(user);
    changes.version = expected_version.wrapping_add(1);
    let target = at_version(users::table, users::version, (tenant, id), expected_version);
    let updated = diesel::update(target).set(changes).execute(conn).await?;
    if updated == 0 {
        return Err(StoreError::Conflict(Conflict::Version).into());
    }
    let generation_before = session_version.wrapping_add(account_version);
    if user.session_generation() != generation_before {
        diesel::update(
            password_reset_tokens::table
                .filter(password_reset_tokens::tenant_id.eq(tenant))
                .filter(password_reset_tokens::user_id.eq(id))
                .filter(password_reset_tokens::used_at.is_null()),
        )
        .set(password_reset_tokens::used_at.eq(user.updated_at))
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Whether a family row (revoked_at, absolute_expires_at) is a live session at `now`.
fn session_active(
    family: Option<(Option<OffsetDateTime>, OffsetDateTime)>,
    now: OffsetDateTime,
) -> bool {
    matches!(family, Some((None, absolute_expires_at)) if now < absolute_expires_at)
}

#[async_trait::async_trait]
impl UserRepository for PgStores {
    async fn find_for_login(&self, email: &Email) -> Result<Option<LoginRecord>, StoreError> {
        let row: Option<LoginRow> = unscoped(&self.inner.pool, async move |conn| {
            // The membership signed into last comes first.
            Ok(
                diesel::sql_query("SELECT * FROM aura_find_login($1) LIMIT 1")
                    .bind::<Text, _>(email.as_str())
                    .get_result(conn)
                    .await
                    .optional()?,
            )
        })
        .await?;
        row.map(LoginRecord::try_from).transpose()
    }

    async fn find_account(&self, email: &Email) -> Result<Option<AccountId>, StoreError> {
        let row: AccountLookupRow = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT aura_find_account($1) AS account")
                .bind::<Text, _>(email.as_str())
                .get_result(conn)
                .await?)
        })
        .await?;
        Ok(row.account.map(AccountId::from_uuid))
    }

    async fn find_principal(
        &self,
        scope: &TenantScope,
        user: UserId,
        session: Uuid,
    ) -> Result<Option<PrincipalRecord>, StoreError> {
        let tenant = scope.tenant_id();
        let now = self.now();
        let (tenant_uuid, user_uuid) = (tenant.as_uuid(), user.as_uuid());
        type Found = (
            UserRow,
            AccountRow,
            TenantRow,
            Option<(Option<OffsetDateTime>, OffsetDateTime)>,
        );
        let found: Option<Found> = in_tenant(&self.inner.pool, scope, async move |conn| {
            Ok(users::table
                .inner_join(accounts::table.on(accounts::id.eq(users::account_id)))
                .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
                .left_join(
                    refresh_families::table.on(refresh_families::tenant_id
                        .eq(users::tenant_id)
                        .and(refresh_families::user_id.eq(users::id))
                        .and(refresh_families::id.eq(session))),
                )
                .filter(users::tenant_id.eq(tenant_uuid))
                .filter(users::id.eq(user_uuid))
                .select((
                    UserRow::as_select(),
                    AccountRow::as_select(),
                    TenantRow::as_select(),
                    (
                        refresh_families::revoked_at,
                        refresh_families::absolute_expires_at,
                    )
                        .nullable(),
                ))
                .first(conn)
                .await
                .optional()?)
        })
        .await?;
        let Some((user_row, account_row, tenant_row, family)) = found else {
            return Ok(None);
        };
        Ok(Some(PrincipalRecord {
            user: User::try_from(MemberRow(user_row, account_row))?,
            tenant: tenant_row.try_into()?,
            session_active: session_active(family, now),
        }))
    }

    async fn get(&self, scope: &TenantScope, id: UserId) -> Result<User, StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        let row: Option<(UserRow, AccountRow)> =
            in_tenant(&self.inner.pool, scope, async move |conn| {
                Ok(users::table
                    .find(key)
                    .inner_join(accounts::table.on(accounts::id.eq(users::account_id)))
                    .select(member_columns())
                    .first(conn)
                    .await
                    .optional()?)
            })
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        User::try_from(MemberRow::from(row))
    }

    async fn list(&self, scope: &TenantScope, page: PageRequest) -> Result<Page<User>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let fetch = i64::try_from(page.limit)
            .unwrap_or(i64::MAX - 1)
            .saturating_add(1);
        let rows: Vec<(UserRow, AccountRow)> =
            in_tenant(&self.inner.pool, scope, async move |conn| {
                let mut query = users::table
                    .inner_join(accounts::table.on(accounts::id.eq(users::account_id)))
                    .filter(users::tenant_id.eq(tenant))
                    .select(member_columns())
                    .into_boxed();
                if let Some(after) = page.after {
                    query = query.filter(users::id.gt(after));
                }
                Ok(query.order(users::id.asc()).limit(fetch).load(conn).await?)
            })
            .await?;
        let users: Vec<User> = convert_all(rows.into_iter().map(MemberRow::from).collect())?;
        Ok(Page::from_overfetch(users, page.limit, |u| u.id.as_uuid()))
    }

    async fn insert(
        &self,
        scope: &TenantScope,
        user: &User,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        new_in_scope(scope, user.tenant_id)?;
        self.write_audited(scope, event, async move |conn| {
            insert_member(conn, user).await
        })
        .await
    }

    async fn update(
        &self,
        scope: &TenantScope,
        user: &User,
        expected_version: i32,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        in_scope(scope, user.tenant_id)?;
        self.write_audited(scope, event, async move |conn| {
            write_user(conn, user, expected_version).await
        })
        .await
    }

    async fn delete(
        &self,
        scope: &TenantScope,
        id: UserId,
        event: PendingEvent,
    ) -> Result<(), StoreError> {
        let tenant = scope.tenant_id();
        self.write_audited(scope, event, async move |conn| {
            let (was_owner, owners, ..) =
                lock_owners_and_target(conn, tenant.as_uuid(), id.as_uuid()).await?;
            if was_owner && owners <= 1 {
                return Err(StoreError::Conflict(Conflict::LastOwner).into());
            }
            let account: Uuid = diesel::delete(
                users::table
                    .filter(users::tenant_id.eq(tenant.as_uuid()))
                    .filter(users::id.eq(id.as_uuid())),
            )
            .returning(users::account_id)
            .get_result(conn)
            .await?;
            // The membership's sessions went with it (ON DELETE CASCADE); the account
            // stays while another tenant has it, and goes when it has none left.
            diesel::sql_query("SELECT aura_forget_lone_account($1)")
                .bind::<diesel::sql_types::Uuid, _>(account)
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    #[test]
    fn a_session_is_active_only_unrevoked_and_unexpired() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        assert!(session_active(Some((None, now + Duration::SECOND)), now));
        assert!(!session_active(Some((None, now)), now));
        assert!(!session_active(Some((Some(now), now + Duration::DAY)), now));
        assert!(!session_active(None, now));
    }
}
