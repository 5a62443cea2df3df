//! `DATABASE_URL`, parsed once, the way the store connects with it, so that what
//! `check-config` passes the store can use: the driver's own URL or key=value syntax
//! (tokio-postgres), plus libpq's `sslmode` and `sslrootcert`, which the driver does not read
//! itself. A reason for rejecting the URL never repeats any part of it.
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::net::IpAddr;
use tokio_postgres::config::Host;

/// libpq's `sslmode`, with libpq's meanings (`allow` is treated as `prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    /// Try TLS, fall back to plain when the server has none; no verification.
    Prefer,
    /// TLS or nothing; no verification.
    Require,
    /// TLS, the chain checked against the roots.
    VerifyCa,
    /// TLS, the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    /// libpq's default is `prefer`.
    fn parse(value: Option<&str>) -> Result<SslMode, String> {
        Ok(match value.unwrap_or("prefer") {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return Err(
                "has an unsupported sslmode (use disable, prefer, require, verify-ca or verify-full)"
                    .to_owned(),
            ),
        })
    }

    /// The connection is encrypted or not made at all.
    pub fn always_encrypts(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }

    /// The server certificate is checked against roots (`sslrootcert` or the system's).
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// A usable `DATABASE_URL`.
#[derive(Clone)]
pub struct DatabaseUrl {
    /// Everything but `sslmode` and `sslrootcert`, as the driver parsed it.
    pub driver: tokio_postgres::Config,
    pub sslmode: SslMode,
    /// The roots to verify against when `sslmode` verifies: the `sslrootcert` file, or
    /// `None` for the system roots (no `sslrootcert`, or `sslrootcert=system`).
    pub roots: Option<RootCertStore>,
}

/// The URL holds a password: never print it.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("sslmode", &self.sslmode)
            .finish_non_exhaustive()
    }
}

impl DatabaseUrl {
    /// Parse `raw`, reading the `sslrootcert` file when the mode verifies. The error is a
    /// reason to follow the variable's name; it never contains the URL or a part of it.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let extracted = extract(raw);
        let sslmode = SslMode::parse(extracted.sslmode.as_deref())?;
        let driver: tokio_postgres::Config = extracted.rest.parse().map_err(driver_reason)?;
        if driver.get_hosts().is_empty() {
            return Err("names no host".to_owned());
        }
        let roots = match extracted.sslrootcert.as_deref() {
            Some(path) if sslmode.verifies() && path != "system" => Some(root_store(path)?),
            _ => None,
        };
        Ok(DatabaseUrl {
            driver,
            sslmode,
            roots,
        })
    }

    /// Every host it may connect to is this machine (loopback addresses, `localhost`, or a
    /// Unix socket), so the connection never crosses a network.
    pub fn is_loopback(&self) -> bool {
        let hosts_local = self.driver.get_hosts().iter().all(|host| match host {
            Host::Tcp(name) => {
                name.eq_ignore_ascii_case("localhost")
                    || name
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Host::Unix(_) => true,
        });
        let addresses_local = self.driver.get_hostaddrs().iter().all(IpAddr::is_loopback);
        hosts_local && addresses_local
    }
}

/// Why the driver refused the rest of the URL. Only what the driver names itself is
/// repeated (the name of an option whose value is invalid); an unknown option's name comes
/// from the URL, so it is not.
fn driver_reason(error: tokio_postgres::Error) -> String {
    let detail = error.to_string();
    if let Some(option) = detail
        .split_once("invalid value for option `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(option, _)| option)
        .filter(|option| option.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    {
        return format!("has an invalid {option} (e.g. a port that is not a number)");
    }
    if detail.contains("unknown option") {
        return "has a parameter the Postgres driver does not know (e.g. pgbouncer=true, a client-side hint: remove it)".to_owned();
    }
    "is not a valid postgres:// URL or key=value connection string".to_owned()
}

/// The certificates of an `sslrootcert` file.
fn root_store(path: &str) -> Result<RootCertStore, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|_| "names an sslrootcert file that is missing or not PEM".to_owned())?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err("names an sslrootcert file that holds no usable certificate".to_owned());
    }
    Ok(roots)
}

/// The parts of a connection string the driver does not read itself.
#[derive(Debug, PartialEq, Eq)]
struct Extracted {
    rest: String,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Pull `sslmode` and `sslrootcert` out of a URL query or a key=value string. A later
/// occurrence wins, as in libpq.
fn extract(raw: &str) -> Extracted {
    let mut extracted = Extracted {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut take = |pair: &str| -> bool {
        match pair.split_once('=') {
            Some(("sslmode", value)) => extracted.sslmode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => extracted.sslrootcert = Some(value.to_owned()),
            _ => return false,
        }
        true
    };
    let rest = if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        match raw.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|pair| !take(pair)).collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => raw.to_owned(),
        }
    } else {
        let kept: Vec<&str> = raw.split_whitespace().filter(|pair| !take(pair)).collect();
        kept.join(" ")
    };
    extracted.rest = rest;
    extracted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_a_url_query() {
        let got = extract(
            "postgres://u:p@db:5432/app?sslmode=verify-full&application_name=x&sslrootcert=/ca.pem",
        );
        assert_eq!(got.rest, "postgres://u:p@db:5432/app?application_name=x");
        assert_eq!(got.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(got.sslrootcert.as_deref(), Some("/ca.pem"));
        assert_eq!(
            extract("postgresql://db/app?sslmode=require").rest,
            "postgresql://db/app"
        );
    }

    #[test]
    fn sslmode_is_taken_out_of_a_key_value_string() {
        let got = extract("host=db user=app sslmode=require dbname=app");
        assert_eq!(got.rest, "host=db user=app dbname=app");
        assert_eq!(got.sslmode.as_deref(), Some("require"));
    }

    #[test]
    fn the_effective_sslmode_is_the_parameter_not_a_value_that_mentions_it() {
        let url = DatabaseUrl::parse(
            "postgres://u:p@db.example.com/app?sslmode=prefer&application_name=sslmode=require",
        )
        .expect("a valid URL");
        assert_eq!(url.sslmode, SslMode::Prefer);
    }

    #[test]
    fn what_the_driver_or_the_tls_setup_would_refuse_is_a_reason_without_the_url() {
        for bad in [
            "postgres://u:hunter2@db.example.com/app?sslmode=required",
            "postgres://u:hunter2@db.example.com:notaport/app",
            "postgres://u:hunter2@db.example.com/app?pgbouncer=true",
            "postgres://u:hunter2@db.example.com/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "host=db.example.com password=hunter2 secretword",
        ] {
            let reason = DatabaseUrl::parse(bad).expect_err(bad);
            for part in ["hunter2", "db.example.com", "secretword", "/nonexistent"] {
                assert!(!reason.contains(part), "{reason:?} repeats {part}");
            }
        }
    }

    #[test]
    fn loopback_is_judged_on_every_parsed_host_and_address() {
        for local in [
            "postgres://u:p@127.0.0.1/app",
            "postgres://u:p@localhost:5432/app",
            "postgres://u:p@[::1]/app",
            "host=/var/run/postgresql dbname=app",
        ] {
            let url = DatabaseUrl::parse(local).expect(local);
            assert!(url.is_loopback(), "{local}");
        }
        for remote in [
            "postgres://u:p@db.example.com/app",
            "postgres://u:p@127.0.0.1,db.example.com/app",
            "postgres://u:p@localhost/app?hostaddr=10.0.0.7",
        ] {
            let url = DatabaseUrl::parse(remote).expect(remote);
            assert!(!url.is_loopback(), "{remote}");
        }
    }
}
