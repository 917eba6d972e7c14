//! Working in several tenants in memory: an account's memberships, the switch into one,
//! and a client's partner grants, by the rules of PostgreSQL's `aura_account_tenants`,
//! `aura_enter_tenant` and `aura_partner_access` (migration 000035).

use std::collections::BTreeMap;

use aura_identity::{AccountId, Membership, PartnerGrant, PartnerRef, SETTING_CONSULTANCY, User};
use aura_shared_kernel::{Tenant, TenantId, UserId};
use time::OffsetDateTime;

use crate::state::State;

/// The grants (client, partner) and the memberships held through a partner.
#[derive(Default)]
pub(crate) struct Tables {
    /// Keyed by (client, partner).
    pub grants: BTreeMap<(TenantId, TenantId), PartnerGrant>,
    /// Keyed by (client, membership): the partner it is held through.
    pub members: BTreeMap<(TenantId, UserId), TenantId>,
}

/// Whether a tenant offers itself as a partner.
pub(crate) fn is_consultancy(tenant: &Tenant) -> bool {
    tenant.settings.as_map().get(SETTING_CONSULTANCY) == Some(&serde_json::Value::Bool(true))
}

impl State {
    /// Whether `member` is held through a partner.
    pub fn held_through_partner(&self, member: &User) -> bool {
        self.partners
            .members
            .contains_key(&(member.tenant_id, member.id))
    }

    fn active_tenant(&self, id: TenantId) -> Option<&Tenant> {
        self.tenants.get(&id).filter(|t| t.is_active)
    }

    /// The account's own membership in `tenant` (not one held through a partner).
    fn own_membership(&self, account: AccountId, tenant: TenantId) -> Option<&User> {
        self.memberships(account)
            .find(|u| u.tenant_id == tenant && !self.held_through_partner(u))
    }

    /// The partners (lowest id first) whose grant lets `account` into `client`: it is an
    /// accepted, active own member of an active consultancy the client granted.
    fn partner_ways_in(
        &self,
        account: AccountId,
        client: TenantId,
    ) -> impl Iterator<Item = (&PartnerGrant, &User)> {
        self.partners
            .grants
            .range((client, TenantId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(move |((c, _), _)| *c == client)
            .filter_map(move |((_, partner), grant)| {
                self.active_tenant(*partner).filter(|t| is_consultancy(t))?;
                let own = self.own_membership(account, *partner)?;
                (own.accepted_at.is_some() && own.is_active).then_some((grant, own))
            })
    }

    /// Like `aura_account_tenants`.
    pub fn memberships_of(&self, account: AccountId) -> Vec<Membership> {
        let listed = |tenant: &Tenant, user: Option<&User>, role, via_partner| Membership {
            tenant_id: tenant.id,
            tenant_name: tenant.name.clone(),
            tenant_slug: tenant.slug.clone(),
            tenant_active: tenant.is_active,
            user_id: user.map(|u| u.id),
            role,
            active: user.is_none_or(|u| u.is_active),
            via_partner,
        };
        let mut found: Vec<Membership> = self
            .memberships(account)
            .filter(|u| u.accepted_at.is_some() && !self.held_through_partner(u))
            .filter_map(|u| {
                Some(listed(
                    self.tenants.get(&u.tenant_id)?,
                    Some(u),
                    u.role,
                    None,
                ))
            })
            .collect();
        let clients: std::collections::BTreeSet<TenantId> = self
            .partners
            .grants
            .keys()
            .map(|(client, _)| *client)
            .collect();
        for client in clients {
            if self.own_membership(account, client).is_some() {
                continue;
            }
            let (Some(tenant), Some((grant, _))) = (
                self.tenants.get(&client),
                self.partner_ways_in(account, client).next(),
            ) else {
                continue;
            };
            let held = self.memberships(account).find(|u| u.tenant_id == client);
            let partner = self.tenants.get(&grant.partner.id).map(|p| PartnerRef {
                id: p.id,
                name: p.name.clone(),
            });
            found.push(listed(tenant, held, grant.role, partner));
        }
        found.sort_by(|a, b| {
            (a.tenant_name.as_str(), a.tenant_id).cmp(&(b.tenant_name.as_str(), b.tenant_id))
        });
        found
    }

    /// Like `aura_enter_tenant`: the membership a switch into `tenant` signs into.
    pub fn enter(
        &mut self,
        tenant: TenantId,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Option<(UserId, Option<TenantId>)> {
        self.active_tenant(tenant)?;
        if let Some(own) = self.own_membership(account, tenant) {
            return (own.accepted_at.is_some() && own.is_active).then_some((own.id, None));
        }
        let (grant, partner_member) = self.partner_ways_in(account, tenant).next()?;
        let (partner, role) = (grant.partner.id, grant.role);
        let held = self
            .memberships(account)
            .find(|u| u.tenant_id == tenant)
            .cloned();
        let mut member = held.unwrap_or_else(|| {
            let mut user = partner_member.clone();
            user.id = UserId::generate();
            user.tenant_id = tenant;
            user.invited_by = None;
            user.accepted_at = None;
            user.last_login_at = None;
            user.is_active = true;
            user.session_version = 1;
            user.version = 1;
            user.created_at = now;
            user.updated_at = now;
            user
        });
        if member.accepted_at.is_none() || member.role != role {
            if member.role != role {
                member.end_sessions();
            }
            member.role = role;
            member.accepted_at.get_or_insert(now);
            member.bump_version();
            member.updated_at = now;
        }
        self.partners.members.insert((tenant, member.id), partner);
        self.put_user(&member);
        member.is_active.then_some((member.id, Some(partner)))
    }

    /// Like `aura_partner_access`: the partner a membership held through one acts for,
    /// while its access holds.
    pub fn partner_access(&self, member: &User) -> Option<TenantId> {
        let partner = *self.partners.members.get(&(member.tenant_id, member.id))?;
        self.partner_ways_in(member.account_id, member.tenant_id)
            .any(|(grant, _)| grant.partner.id == partner)
            .then_some(partner)
    }
}
