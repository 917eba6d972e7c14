//! [`UserRepository`] on PostgreSQL, with the last-owner rule.

use aura_audit::{ChainHasher, PendingEvent};
use aura_identity::{
    AccountId, Email, Membership, User,
    ports::{LoginRecord, PrincipalRecord, UserRepository, account_event_elsewhere},
};
use aura_shared_kernel::{
    Conflict, Page, PageRequest, Role, StoreError, TenantId, TenantScope, UserId,
};
use diesel::{
    prelude::*,
    sql_types::{Integer, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::append_event,
    error::DbError,
    lookups::{AccountLookupRow, LoginRow, PendingEmailRow, ResetLookupRow},
    models::{AccountRow, AccountWithoutHash, MemberRow, TenantRow, UserRow, member_columns},
    partners::partner_access_holds,
    pool::{enter_tenant, in_tenant, read_in_tenant, read_opening_unit, unscoped},
    rows::{at_version, in_scope, new_in_scope},
    schema::{
        accounts, partner_members, password_reset_tokens, refresh_families, tenant_roles, tenants,
        users,
    },
    stores::PgStores,
};

/// Locks the tenant's active owners (in id order, so concurrent writers queue instead of
/// deadlocking) and then the target row. Returns whether the target is one of the active
/// owners, how many there are, and the target's row version, session version, account
/// and whether the tenant may read its account (accepted and active), or `NotFound`
/// when the target is not in the tenant.
///
/// Under READ COMMITTED a writer that waited re-reads the locked rows: after a
/// concurrent demotion it sees one owner fewer, so two demotions cannot both pass.
async fn lock_owners_and_target(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    target: Uuid,
) -> Result<(bool, usize, Target), DbError> {
    let owners: Vec<Uuid> = users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::role.eq(Role::Owner.as_str()))
        .filter(users::is_active.eq(true))
        .order(users::id.asc())
        .select(users::id)
        .for_update()
        .load(conn)
        .await?;
    let found: Option<(i32, i32, Uuid, Option<OffsetDateTime>, bool)> = users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::id.eq(target))
        .select((
            users::version,
            users::session_version,
            users::account_id,
            users::accepted_at,
            users::is_active,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((version, session_version, account, accepted_at, active)) = found else {
        return Err(StoreError::NotFound.into());
    };
    let found = Target {
        version,
        session_version,
        account,
        readable: accepted_at.is_some() && active,
    };
    Ok((owners.contains(&target), owners.len(), found))
}

/// The locked target of a membership write, as stored.
struct Target {
    version: i32,
    session_version: i32,
    account: Uuid,
    /// Accepted and active: the `member_of_tenant` policy lets the tenant read it.
    readable: bool,
}

/// Another tenant's membership of an account (`aura_account_password_changed`).
pub(crate) type Elsewhere = (TenantId, UserId);

/// The account of an accepted membership of the transaction's tenant got a new
/// password in this transaction (its session version is now `version`): voids the open
/// links of every membership of the account and returns the account's accepted
/// memberships in other tenants, whose sessions ended too.
pub(crate) async fn account_password_changed(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    version: i32,
    now: OffsetDateTime,
) -> Result<Vec<Elsewhere>, DbError> {
    let rows: Vec<ResetLookupRow> =
        diesel::sql_query("SELECT * FROM aura_account_password_changed($1, $2, $3)")
            .bind::<SqlUuid, _>(account)
            .bind::<Integer, _>(version)
            .bind::<Timestamptz, _>(now)
            .load(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                TenantId::from_uuid(r.tenant_id),
                UserId::from_uuid(r.user_id),
            )
        })
        .collect())
}

/// Appends `event` to `home`'s chain and [`account_event_elsewhere`] to the chain of
/// each tenant in `elsewhere`, inside the caller's transaction, and returns to `home`'s
/// context. The chains are locked in tenant order, so two such writes never deadlock.
/// Only these audit events are written outside `home`; the memberships come from the
/// database's own answer, not from the caller.
pub(crate) async fn audit_account_change(
    conn: &mut AsyncPgConnection,
    hasher: &dyn ChainHasher,
    home: TenantId,
    event: PendingEvent,
    elsewhere: &[Elsewhere],
    now: OffsetDateTime,
) -> Result<(), DbError> {
    let mut events: Vec<(TenantId, PendingEvent)> = elsewhere
        .iter()
        .map(|&(tenant, member)| (tenant, account_event_elsewhere(&event, member)))
        .collect();
    events.push((home, event));
    events.sort_by_key(|(tenant, _)| *tenant);
    let mut inside = home;
    for (tenant, event) in events {
        if tenant != inside {
            enter_tenant(conn, tenant).await?;
            inside = tenant;
        }
        append_event(conn, hasher, tenant, event, now).await?;
    }
    if inside != home {
        enter_tenant(conn, home).await?;
    }
    Ok(())
}

/// A member as the scope's tenant sees them. A pending or deactivated membership's
/// account is not the tenant's to read (row-level security hides it): only its address
/// comes, from
/// `aura_pending_member_email`, with no password hash and an account session version
/// of 0.
async fn seen_member(
    conn: &mut AsyncPgConnection,
    row: UserRow,
    account: Option<AccountRow>,
) -> Result<User, DbError> {
    let account = match account {
        Some(account) => account,
        None => {
            let found: PendingEmailRow =
                diesel::sql_query("SELECT aura_pending_member_email($1) AS email")
                    .bind::<SqlUuid, _>(row.id)
                    .get_result(conn)
                    .await?;
            let email = found
                .email
                .ok_or_else(|| StoreError::unexpected("a membership without its account"))?;
            AccountRow {
                id: row.account_id,
                email,
                password_hash: String::new(),
                session_version: 0,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }
        }
    };
    Ok(User::try_from(MemberRow(row, account))?)
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
/// password), only from the account version the caller read (a role change in one
/// tenant never writes back a password read before another tenant's reset), and never
/// through a pending or deactivated membership. A write that ends the user's sessions (password
/// change, deactivation, role change) voids their open reset and invitation links in
/// the same transaction; a new password voids those of every membership of the account
/// and returns the account's accepted memberships in other tenants (to audit there).
pub(crate) async fn write_user(
    conn: &mut AsyncPgConnection,
    user: &User,
    expected_version: i32,
) -> Result<Vec<Elsewhere>, DbError> {
    let tenant = user.tenant_id.as_uuid();
    let id = user.id.as_uuid();
    let (was_owner, owners, target) = lock_owners_and_target(conn, tenant, id).await?;
    let Target {
        version,
        session_version,
        account,
        readable,
    } = target;
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
    let mut elsewhere = Vec::new();
    if !readable {
        // Not the tenant's account (pending, or deactivated; read masked): only the
        // membership is written.
        write_membership(conn, user, expected_version).await?;
        if user.session_version != session_version {
            void_links(conn, user).await?;
        }
        return Ok(elsewhere);
    }
    let (account_version, email): (i32, String) = accounts::table
        .find(account)
        .select((accounts::session_version, accounts::email))
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
        // From the version read: a parallel new password makes this one stale (and
        // so does a membership the policy no longer lets write, e.g. deactivated).
        let written = diesel::update(
            accounts::table
                .find(account)
                .filter(accounts::session_version.eq(account_version)),
        )
        .set((
            accounts::password_hash.eq(user.password_hash.as_str()),
            accounts::session_version.eq(user.account_session_version),
            accounts::updated_at.eq(user.updated_at),
        ))
        .execute(conn)
        .await?;
        if written == 0 {
            return Err(StoreError::Conflict(Conflict::Version).into());
        }
        elsewhere =
            account_password_changed(conn, account, user.account_session_version, user.updated_at)
                .await?;
    }
    write_membership(conn, user, expected_version).await?;
    let generation_before = session_version.wrapping_add(account_version);
    if user.session_generation() != generation_before {
        void_links(conn, user).await?;
    }
    Ok(elsewhere)
}

/// Stores the membership's columns of `user` at `expected_version + 1`.
pub(crate) async fn write_membership(
    conn: &mut AsyncPgConnection,
    user: &User,
    expected_version: i32,
) -> Result<(), DbError> {
    let mut changes = UserRow::from(user);
    changes.version = expected_version.wrapping_add(1);
    let key = (user.tenant_id.as_uuid(), user.id.as_uuid());
    let target = at_version(users::table, users::version, key, expected_version);
    let updated = diesel::update(target).set(changes).execute(conn).await?;
    if updated == 0 {
        return Err(StoreError::Conflict(Conflict::Version).into());
    }
    Ok(())
}

/// Voids the user's open reset and invitation links.
async fn void_links(conn: &mut AsyncPgConnection, user: &User) -> Result<(), DbError> {
    diesel::update(
        password_reset_tokens::table
            .filter(password_reset_tokens::tenant_id.eq(user.tenant_id.as_uuid()))
            .filter(password_reset_tokens::user_id.eq(user.id.as_uuid()))
            .filter(password_reset_tokens::used_at.is_null()),
    )
    .set(password_reset_tokens::used_at.eq(user.updated_at))
    .execute(conn)
    .await?;
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

    async fn logins_of(&self, email: &Email) -> Result<Vec<LoginRecord>, StoreError> {
        let rows: Vec<LoginRow> = unscoped(&self.inner.pool, async move |conn| {
            Ok(diesel::sql_query("SELECT * FROM aura_find_login($1)")
                .bind::<Text, _>(email.as_str())
                .load(conn)
                .await?)
        })
        .await?;
        rows.into_iter().map(LoginRecord::try_from).collect()
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

    async fn memberships_of(&self, account: AccountId) -> Result<Vec<Membership>, StoreError> {
        self.account_memberships(account).await
    }

    async fn enter(
        &self,
        scope: &TenantScope,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Option<(UserId, Option<TenantId>)>, StoreError> {
        self.enter_tenant(scope, account, now).await
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
            AccountWithoutHash,
            TenantRow,
            Option<(Option<OffsetDateTime>, OffsetDateTime)>,
            Option<Uuid>,
            Option<Vec<String>>,
        );
        // A request's first principal read leaves its transaction open for the request's
        // work (`request_unit`): the check and the work commit as one.
        let found: Option<Found> =
            read_opening_unit(&self.inner.pool, scope, async move |mut conn| {
                let found: Option<Found> = users::table
                    .inner_join(accounts::table.on(accounts::id.eq(users::account_id)))
                    .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
                    .left_join(
                        refresh_families::table.on(refresh_families::tenant_id
                            .eq(users::tenant_id)
                            .and(refresh_families::user_id.eq(users::id))
                            .and(refresh_families::id.eq(session))),
                    )
                    .left_join(
                        partner_members::table.on(partner_members::tenant_id
                            .eq(users::tenant_id)
                            .and(partner_members::user_id.eq(users::id))),
                    )
                    // The custom role's permissions as stored now, in the same statement.
                    .left_join(
                        tenant_roles::table.on(tenant_roles::tenant_id
                            .eq(users::tenant_id)
                            .and(tenant_roles::id.nullable().eq(users::custom_role_id))),
                    )
                    .filter(users::tenant_id.eq(tenant_uuid))
                    .filter(users::id.eq(user_uuid))
                    .select((
                        UserRow::as_select(),
                        AccountWithoutHash::as_select(),
                        TenantRow::as_select(),
                        (
                            refresh_families::revoked_at,
                            refresh_families::absolute_expires_at,
                        )
                            .nullable(),
                        partner_members::partner_id.nullable(),
                        tenant_roles::permissions.nullable(),
                    ))
                    .first(&mut conn)
                    .await
                    .optional()?;
                // A membership held through a partner is a principal only while the
                // partner's access holds (one more lookup, for those memberships only).
                if let Some((.., Some(partner), _)) = &found
                    && !partner_access_holds(conn, user_uuid, *partner).await?
                {
                    return Ok(None);
                }
                Ok(found)
            })
            .await?;
        let Some((user_row, account_row, tenant_row, family, partner, permissions)) = found else {
            return Ok(None);
        };
        let custom_permissions = (permissions.as_deref())
            .map(crate::roles::stored_set)
            .transpose()?;
        Ok(Some(PrincipalRecord {
            user: User::try_from(MemberRow(user_row, account_row.into()))?,
            tenant: tenant_row.try_into()?,
            custom_permissions,
            session_active: session_active(family, now),
            via_partner: partner.map(TenantId::from_uuid),
        }))
    }

    async fn get(&self, scope: &TenantScope, id: UserId) -> Result<User, StoreError> {
        let key = (scope.tenant_id().as_uuid(), id.as_uuid());
        read_in_tenant(&self.inner.pool, scope, async move |conn| {
            let row: Option<(UserRow, Option<AccountRow>)> = users::table
                .find(key)
                .left_join(accounts::table.on(accounts::id.eq(users::account_id)))
                .select(member_columns())
                .first(conn)
                .await
                .optional()?;
            let (row, account) = row.ok_or(StoreError::NotFound)?;
            seen_member(conn, row, account).await
        })
        .await
    }

    async fn list(&self, scope: &TenantScope, page: PageRequest) -> Result<Page<User>, StoreError> {
        let tenant = scope.tenant_id().as_uuid();
        let fetch = i64::try_from(page.limit)
            .unwrap_or(i64::MAX - 1)
            .saturating_add(1);
        let users = read_in_tenant(&self.inner.pool, scope, async move |conn| {
            let mut query = users::table
                .left_join(accounts::table.on(accounts::id.eq(users::account_id)))
                .filter(users::tenant_id.eq(tenant))
                .select(member_columns())
                .into_boxed();
            if let Some(after) = page.after {
                query = query.filter(users::id.gt(after));
            }
            let rows: Vec<(UserRow, Option<AccountRow>)> =
                query.order(users::id.asc()).limit(fetch).load(conn).await?;
            let mut users = Vec::with_capacity(rows.len());
            for (row, account) in rows {
                users.push(seen_member(conn, row, account).await?);
            }
            Ok(users)
        })
        .await?;
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
        let (hasher, now) = (self.inner.hasher.as_ref(), self.now());
        let home = scope.tenant_id();
        in_tenant(&self.inner.pool, scope, async move |conn| {
            let elsewhere = write_user(conn, user, expected_version).await?;
            audit_account_change(conn, hasher, home, event, &elsewhere, now).await
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
            let (was_owner, owners, _) =
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
