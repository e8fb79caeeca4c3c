//! Client IP allowlists (docs/reference/credentials.md, Client logins): addresses and CIDR blocks
//! of IPv4 and IPv6, where an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291
//! §2.5.5.2) stands for its IPv4 address.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

/// An address as allowlists compare it: IPv4-mapped IPv6 becomes IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One allowlist entry as a network (an address is a /32 or /128); `None`
/// for text that is neither (the store refuses such entries on write).
fn network(entry: &str) -> Option<IpNet> {
    let net = match entry.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => IpNet::from(entry.parse::<IpAddr>().ok()?),
    };
    // A block inside ::ffff:0:0/96 is the IPv4 block it maps.
    if let IpNet::V6(v6) = net
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && let Some(v4_prefix_len) = v6.prefix_len().checked_sub(96)
    {
        return Ipv4Net::new(v4, v4_prefix_len).ok().map(IpNet::V4);
    }
    Some(net)
}

/// Whether a client with this allowlist may log in from `ip`: an empty list
/// allows any address (and none); otherwise `ip` must parse and lie in an entry.
pub(crate) fn permits(allowlist: &[String], ip: Option<&str>) -> bool {
    if allowlist.is_empty() {
        return true;
    }
    let Some(addr) = ip
        .filter(|ip| ip.len() <= 64)
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        .map(canonical)
    else {
        return false;
    };
    allowlist
        .iter()
        .filter_map(|entry| network(entry))
        .any(|net| net.contains(&addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn an_empty_list_allows_anything() {
        assert!(permits(&[], None));
        assert!(permits(&[], Some("10.0.0.1")));
    }

    #[test]
    fn addresses_and_blocks_of_both_families() {
        let allow = list(&["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"]);
        for ok in [
            "10.1.2.3",
            "192.168.1.7",
            "2001:db8::42",
            "::1",
            " 10.0.0.1 ",
        ] {
            assert!(permits(&allow, Some(ok)), "{ok}");
        }
        for refused in [
            "11.0.0.1",
            "192.168.1.8",
            "2001:db9::1",
            "::2",
            "",
            "nonsense",
            "10.0.0.1/8",
            "10.0.0.256",
        ] {
            assert!(!permits(&allow, Some(refused)), "{refused}");
        }
        assert!(!permits(&allow, None));
        assert!(!permits(&allow, Some(&"1".repeat(1_000_000))));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_its_ipv4_address() {
        let allow = list(&["10.0.0.0/8"]);
        assert!(permits(&allow, Some("::ffff:10.1.2.3")));
        assert!(permits(&allow, Some("::FFFF:0a01:0203")));
        assert!(!permits(&allow, Some("::ffff:11.1.2.3")));
        let mapped = list(&["::ffff:192.0.2.0/120", "::ffff:198.51.100.1"]);
        assert!(permits(&mapped, Some("192.0.2.200")));
        assert!(permits(&mapped, Some("198.51.100.1")));
        assert!(permits(&mapped, Some("::ffff:198.51.100.1")));
        assert!(!permits(&mapped, Some("192.0.3.1")));
    }
}
