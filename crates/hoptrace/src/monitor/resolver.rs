//! Host names looked up on a thread of their own, so that a slow or dead resolver never holds back probing: the
//! loop asks, and picks the answers up between its turns.

use core::net::IpAddr;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;

use hoptrace_core::{resolve_host, Family};

/// The answer about one name: its address, or the error to report.
pub type Answer = (String, Result<IpAddr, hoptrace_core::Error>);

/// The lookup thread's two ends.
pub struct Resolver {
    questions: Sender<String>,
    answers: Receiver<Answer>,
    /// The family asked for.
    family: Family,
}

impl Resolver {
    /// Starts the lookup thread, answering in the family asked for. It ends when the
    /// resolver is dropped (after the lookup under way, which cannot be interrupted).
    pub fn start(family: Family) -> std::io::Result<Self> {
        let (questions, asked) = channel::<String>();
        let (answer, answers) = channel();
        thread::Builder::new().name("hoptrace-resolve".to_owned()).spawn(move || {
            for name in asked {
                let address = resolve_host(&name, family);
                if answer.send((name, address)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Resolver { questions, answers, family })
    }

    /// The answer for an address literal, at once and with its family checked as a lookup's is; `None` for a name,
    /// which is to be asked.
    pub fn literal(&self, name: &str) -> Option<Result<IpAddr, hoptrace_core::Error>> {
        name.parse::<IpAddr>().is_ok().then(|| resolve_host(name, self.family))
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
        let resolver = Resolver::start(Family::V4).expect("a thread");
        assert_eq!(resolver.literal("198.18.0.1").map(Result::ok), Some(Some(IpAddr::from([198, 18, 0, 1]))));
        assert!(matches!(resolver.literal("2001:db8::1"), Some(Err(hoptrace_core::Error::WrongFamily(_)))));
        assert!(resolver.literal("example.invalid").is_none());
    }
}
