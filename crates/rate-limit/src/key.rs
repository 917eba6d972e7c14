use std::net::{IpAddr, Ipv6Addr};

use aura_shared_kernel::{TenantId, UserId};

/// What a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimitKey {
    /// The client address on the public auth routes (sign-up, sign-in, refresh, password
    /// reset). Build it with [`RateLimitKey::client_address`].
    ClientAddress(IpAddr),
    /// The tenant of a verified access token, on every authenticated route.
    Tenant(TenantId),
    /// The user of a verified access token, on every authenticated route: a share of
    /// the tenant's quota, so one user (or one leaked token) cannot take it all.
    User(UserId),
    /// Submissions to a tenant's public request intake page (kept apart from the
    /// tenant's API quota: strangers flooding the page must not lock its users out).
    Intake(TenantId),
}

/// The kind of a key: which quota applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    ClientAddress,
    Tenant,
    User,
    Intake,
}

impl KeyKind {
    /// A short name for logs and headers (`address`, `tenant`).
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::ClientAddress => "address",
            KeyKind::Tenant => "tenant",
            KeyKind::User => "user",
            KeyKind::Intake => "intake",
        }
    }
}

impl RateLimitKey {
    /// The key of a client address. An IPv4-mapped IPv6 address counts as its IPv4
    /// address, and an IPv6 address counts as its /64 network: one subscriber usually
    /// holds a whole /64, so counting single addresses would let it rotate freely.
    pub fn client_address(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let network = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(Ipv6Addr::from(network))
                }
            },
        };
        RateLimitKey::ClientAddress(ip)
    }

    pub fn kind(&self) -> KeyKind {
        match self {
            RateLimitKey::ClientAddress(_) => KeyKind::ClientAddress,
            RateLimitKey::Tenant(_) => KeyKind::Tenant,
            RateLimitKey::User(_) => KeyKind::User,
            RateLimitKey::Intake(_) => KeyKind::Intake,
        }
    }

    /// A stable text for the store (adapters hash it, so no address is stored in clear).
    pub fn storage_key(&self) -> String {
        match self {
            RateLimitKey::ClientAddress(ip) => format!("address:{ip}"),
            RateLimitKey::Tenant(tenant) => format!("tenant:{tenant}"),
            RateLimitKey::User(user) => format!("user:{user}"),
            RateLimitKey::Intake(tenant) => format!("intake:{tenant}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let other: IpAddr = "2001:db8:1:3::1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(
            RateLimitKey::client_address(a),
            RateLimitKey::client_address(b)
        );
        assert_ne!(
            RateLimitKey::client_address(a),
            RateLimitKey::client_address(other)
        );
        assert_eq!(
            RateLimitKey::client_address(a).storage_key(),
            "address:2001:db8:1:2::"
        );
        let mapped: IpAddr = "::ffff:203.0.113.7"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(
            RateLimitKey::client_address(mapped),
            RateLimitKey::ClientAddress(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)))
        );
    }

    #[test]
    fn storage_keys_name_the_kind() {
        let tenant = TenantId::generate();
        assert_eq!(
            RateLimitKey::Tenant(tenant).storage_key(),
            format!("tenant:{tenant}")
        );
        assert_eq!(RateLimitKey::Tenant(tenant).kind().name(), "tenant");
        assert_eq!(
            RateLimitKey::Intake(tenant).storage_key(),
            format!("intake:{tenant}")
        );
    }
}
