//! Forward lookups: a host name or address literal to one address of the family asked for, through the system
//! resolver ([`lookup_host`]), or on a thread of their own ([`Resolver`]) so that a slow or dead resolver never
//! holds back probing: the loop asks, and picks the answers up between its turns.

use core::fmt;
use core::net::IpAddr;
use std::net::ToSocketAddrs;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;

/// Why a host has no address to trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The name does not resolve (or is empty).
    Unknown(String),
    /// The host is an address, or has addresses only, of the other family than the one asked for.
    WrongFamily(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Unknown(host) if host.is_empty() => write!(f, "empty host name"),
            HostError::Unknown(host) => write!(f, "unknown host {host}"),
            // traceroute(8)'s words (getaddrinfo's EAI_ADDRFAMILY).
            HostError::WrongFamily(host) => write!(f, "{host}: Address family for hostname not supported"),
        }
    }
}

impl std::error::Error for HostError {}

/// `host`'s address of the family `ipv6` asks for (`None`: either, the resolver's first): an address literal as it
/// is, a name through the system resolver (`getaddrinfo`, so `/etc/hosts` and nsswitch apply). Blocks.
pub fn lookup_host(host: &str, ipv6: Option<bool>) -> Result<IpAddr, HostError> {
    let wanted = |addr: &IpAddr| ipv6.is_none_or(|ipv6| addr.is_ipv6() == ipv6);
    let wrong_family = || HostError::WrongFamily(host.to_owned());
    if let Ok(addr) = host.parse::<IpAddr>() {
        return if wanted(&addr) { Ok(addr) } else { Err(wrong_family()) };
    }
    if host.is_empty() {
        return Err(HostError::Unknown(String::new()));
    }
    let addrs = (host, 0).to_socket_addrs().map_err(|_| HostError::Unknown(host.to_owned()))?;
    addrs.map(|addr| addr.ip()).find(wanted).ok_or_else(wrong_family)
}

/// The answer about one name: its address, or why it has none.
pub type Answer = (String, Result<IpAddr, HostError>);

/// The lookup thread's two ends.
pub struct Resolver {
    questions: Sender<String>,
    answers: Receiver<Answer>,
    /// The family asked for (`None`: either).
    ipv6: Option<bool>,
}

impl Resolver {
    /// Starts the lookup thread, answering in the family `ipv6` asks for (`None`: either). It ends when the
    /// resolver is dropped (after the lookup under way, which cannot be interrupted).
    pub fn start(ipv6: Option<bool>) -> std::io::Result<Self> {
        let (questions, asked) = channel::<String>();
        let (answer, answers) = channel();
        thread::Builder::new().name("hoptrace-resolve".to_owned()).spawn(move || {
            for name in asked {
                let address = lookup_host(&name, ipv6);
                if answer.send((name, address)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Resolver { questions, answers, ipv6 })
    }

    /// The answer for an address literal, at once and with its family checked as a lookup's is; `None` for a name,
    /// which is to be asked.
    pub fn literal(&self, name: &str) -> Option<Result<IpAddr, HostError>> {
        name.parse::<IpAddr>().is_ok().then(|| lookup_host(name, self.ipv6))
    }

    /// Asks for `name`'s address; the answer comes from [`Resolver::answers`].
    pub fn ask(&self, name: &str) {
        // The thread only ends when this end is gone.
        let _ = self.questions.send(name.to_owned());
    }

    /// The answers that came in since last asked.
    pub fn answers(&self) -> Vec<Answer> {
        self.answers.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_of_the_other_family_is_refused_without_a_lookup() {
        let resolver = Resolver::start(Some(false)).expect("a thread");
        assert_eq!(resolver.literal("198.18.0.1").map(Result::ok), Some(Some(IpAddr::from([198, 18, 0, 1]))));
        assert!(matches!(resolver.literal("2001:db8::1"), Some(Err(HostError::WrongFamily(_)))));
        assert!(resolver.literal("example.invalid").is_none());
        assert_eq!(lookup_host("", None), Err(HostError::Unknown(String::new())));
    }
}
