//! Working in several tenants (`UserRepository::memberships_of` and `enter`,
//! `find_principal`'s partner check) and a client's partner grants
//! (`TenantRepository::find_partner`, `grant_partner`, `partner_grants`,
//! `revoke_partner`): what both stores must agree on.

use aura_audit::Actor;
use aura_identity::{PartnerGrant, User, actions};
use aura_shared_kernel::{Conflict, Role, StoreError, TenantSettings};
use serde_json::json;
use uuid::Uuid;

use crate::{
    Stores,
    fixtures::{
        TenantFixture, acted_by, add_user, assert_conflict, credential_scope, event, principal,
        register_tenant, update_tenant,
    },
};

/// A tenant that offers itself as a partner, with an own member.
async fn consultancy(stores: &Stores) -> (TenantFixture, User) {
    let fx = register_tenant(stores).await;
    let mut tenant = fx.tenant.clone();
    tenant.settings =
        TenantSettings::parse(json!({ "consultancy": true })).expect("valid settings");
    update_tenant(
        stores,
        &fx.scope,
        &tenant,
        fx.tenant.version,
        (Actor::User(fx.owner.id), actions::TENANT_UPDATED),
    )
    .await
    .expect("the consultancy setting");
    let member = add_user(stores, &fx, Role::Member).await;
    (fx, member)
}

async fn grant(
    stores: &Stores,
    client: &TenantFixture,
    partner: &TenantFixture,
) -> Result<PartnerGrant, StoreError> {
    let (found, slug) = stores
        .tenants
        .find_partner(&client.scope, &partner.tenant.slug)
        .await?
        .ok_or(StoreError::NotFound)?;
    let grant = PartnerGrant {
        partner: found,
        partner_slug: slug,
        role: Role::Viewer,
        granted_by: Some(client.owner.id),
        granted_at: stores.clock.now(),
    };
    let granted = acted_by(
        &client.owner,
        actions::PARTNER_GRANTED,
        "partner",
        partner.tenant.id,
    );
    stores
        .tenants
        .grant_partner(&client.scope, &grant, granted)
        .await?;
    Ok(grant)
}

pub async fn a_partner_member_enters_a_client_while_the_grant_holds(stores: Stores) {
    let plain = register_tenant(&stores).await;
    let client = register_tenant(&stores).await;
    let (partner, member) = consultancy(&stores).await;
    let account = member.account_id;

    // Only an active consultancy other than the caller's own tenant is found.
    let none = stores
        .tenants
        .find_partner(&client.scope, &plain.tenant.slug)
        .await
        .expect("the store answers");
    assert_eq!(none, None, "not a consultancy");
    let own = stores
        .tenants
        .find_partner(&partner.scope, &partner.tenant.slug)
        .await
        .expect("the store answers");
    assert_eq!(own, None, "not its own partner");
    let granted = grant(&stores, &client, &partner).await.expect("grant");
    assert_eq!(granted.partner.id, partner.tenant.id);
    assert_conflict(
        grant(&stores, &client, &partner).await.map(|_| ()),
        Conflict::IdTaken("partner"),
        "a second grant",
    );
    let listed = stores
        .tenants
        .partner_grants(&client.scope)
        .await
        .expect("the store answers");
    assert_eq!(listed, [granted]);

    // Listed through the partner, entered as a membership of the client held through it.
    let memberships = stores
        .users
        .memberships_of(account)
        .await
        .expect("the store answers");
    let through = memberships
        .iter()
        .find(|m| m.tenant_id == client.tenant.id)
        .expect("the client is listed");
    assert_eq!(
        through.via_partner.as_ref().map(|p| p.id),
        Some(partner.tenant.id)
    );
    assert_eq!((through.role, through.user_id), (Role::Viewer, None));
    assert!(
        memberships
            .iter()
            .any(|m| m.tenant_id == partner.tenant.id && m.via_partner.is_none())
    );
    let now = stores.clock.now();
    let nowhere = stores
        .users
        .enter(&credential_scope(plain.tenant.id), account, now)
        .await
        .expect("the store answers");
    assert_eq!(nowhere, None, "no grant there");
    let (held, via) = stores
        .users
        .enter(&credential_scope(client.tenant.id), account, now)
        .await
        .expect("the store answers")
        .expect("a way in");
    assert_eq!(via, Some(partner.tenant.id));
    let again = stores
        .users
        .enter(&credential_scope(client.tenant.id), account, now)
        .await
        .expect("the store answers");
    assert_eq!(again, Some((held, via)), "one membership, reused");
    let found = principal(&stores, client.tenant.id, held, Uuid::nil())
        .await
        .expect("a principal");
    assert_eq!(found.via_partner, Some(partner.tenant.id));
    assert_eq!(
        (found.user.role, found.user.account_id),
        (Role::Viewer, account)
    );
    // Its own partner membership is entered as its own.
    let home = stores
        .users
        .enter(&credential_scope(partner.tenant.id), account, now)
        .await
        .expect("the store answers");
    assert_eq!(home, Some((member.id, None)));

    // Revoked: no principal, no way in, not listed; a second revoke finds nothing.
    let revoked = event(
        Actor::User(client.owner.id),
        actions::PARTNER_REVOKED,
        "partner",
        partner.tenant.id,
    );
    stores
        .tenants
        .revoke_partner(&client.scope, partner.tenant.id, revoked.clone())
        .await
        .expect("revoke");
    assert_eq!(
        principal(&stores, client.tenant.id, held, Uuid::nil()).await,
        None
    );
    let after = stores
        .users
        .enter(&credential_scope(client.tenant.id), account, now)
        .await
        .expect("the store answers");
    assert_eq!(after, None);
    let memberships = stores
        .users
        .memberships_of(account)
        .await
        .expect("the store answers");
    assert!(
        memberships.iter().all(|m| m.tenant_id != client.tenant.id),
        "{memberships:?}"
    );
    let twice = stores
        .tenants
        .revoke_partner(&client.scope, partner.tenant.id, revoked)
        .await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");
}

pub async fn leaving_the_partner_ends_the_access_it_gave(stores: Stores) {
    let client = register_tenant(&stores).await;
    let (partner, member) = consultancy(&stores).await;
    grant(&stores, &client, &partner).await.expect("grant");
    let now = stores.clock.now();
    let (held, _) = stores
        .users
        .enter(&credential_scope(client.tenant.id), member.account_id, now)
        .await
        .expect("the store answers")
        .expect("a way in");
    assert!(
        principal(&stores, client.tenant.id, held, Uuid::nil())
            .await
            .is_some()
    );

    let deleted = acted_by(&partner.owner, actions::USER_DELETED, "user", member.id);
    stores
        .users
        .delete(&partner.scope, member.id, deleted)
        .await
        .expect("remove the member from the partner");
    assert_eq!(
        principal(&stores, client.tenant.id, held, Uuid::nil()).await,
        None
    );
    let after = stores
        .users
        .enter(&credential_scope(client.tenant.id), member.account_id, now)
        .await
        .expect("the store answers");
    assert_eq!(after, None);
}
