//! The client address that quotas count, in a form a client cannot vary at will. Behind a
//! trusted proxy it is the right-most entry of the LAST line of the configured header (the
//! entry the proxy itself wrote; every entry left of it, and every earlier line, came from
//! the client). It must parse as an IP address, else the TCP peer is used. Then one client
//! is one string: IPv4-mapped IPv6 folds to IPv4, ports are dropped, and IPv6 counts per
//! /64 (one subscriber's allocation), so `2001:db8:1:2::7` is `2001:db8:1:2::/64`.
use actix_web::HttpRequest;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

pub fn client_address(req: &HttpRequest, trusted_proxy_header: Option<&str>) -> Option<String> {
    let forwarded = trusted_proxy_header.and_then(|name| {
        req.headers()
            .get_all(name)
            .last()
            .and_then(|line| line.to_str().ok())
            .and_then(|line| line.rsplit(',').next())
            .and_then(parse_entry)
    });
    forwarded
        .or_else(|| req.peer_addr().map(|peer| peer.ip()))
        .map(canonical)
}

/// One forwarded entry: an IP, optionally with a port (`1.2.3.4:80`, `[2001:db8::1]:443`) or
/// in brackets. Strict: `004.4.4.4`, host names and zone ids do not parse.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })
}

/// The string quotas count: IPv4 dotted quad, or the IPv6 /64 prefix.
pub fn canonical(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical_entry(entry: &str) -> Option<String> {
        parse_entry(entry).map(canonical)
    }

    #[test]
    fn one_ipv4_client_is_one_address_however_it_is_written() {
        for written in [
            "4.4.4.4",
            " 4.4.4.4 ",
            "4.4.4.4:1234",
            "::ffff:4.4.4.4",
            "[::ffff:4.4.4.4]:80",
            "::FFFF:0404:0404",
        ] {
            assert_eq!(
                canonical_entry(written).as_deref(),
                Some("4.4.4.4"),
                "{written}"
            );
        }
    }

    #[test]
    fn entries_that_are_not_strictly_an_ip_do_not_parse() {
        for bad in [
            "004.4.4.4",
            "4.4.4.04",
            "4.4.4",
            "0x4.4.4.4",
            "4.4.4.4.4",
            "example.com",
            "unknown",
            "",
            "fe80::1%eth0",
            "[2001:db8::1",
            "for=4.4.4.4",
        ] {
            assert_eq!(canonical_entry(bad), None, "{bad}");
        }
    }

    #[test]
    fn ipv6_clients_count_per_64_prefix() {
        let expected = Some("2001:db8:1:2::/64".to_owned());
        for written in [
            "2001:db8:1:2::1",
            "2001:DB8:1:2:ffff:ffff:ffff:ffff",
            "[2001:db8:1:2::7]:443",
            "[2001:0db8:0001:0002::9]",
        ] {
            assert_eq!(canonical_entry(written), expected, "{written}");
        }
        assert_eq!(
            canonical_entry("2001:db8:1:3::1").as_deref(),
            Some("2001:db8:1:3::/64")
        );
        assert_eq!(canonical_entry("::1").as_deref(), Some("::/64"));
    }
}
