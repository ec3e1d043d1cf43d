//! Host names looked up on a thread of their own, so that a slow or dead resolver never holds back probing: the
//! loop asks, and picks the answers up between its turns.

use core::net::IpAddr;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;

use hoptrace_core::resolve_host;

/// The answer about one name: its address, or the error to report.
pub type Answer = (String, Result<IpAddr, hoptrace_core::Error>);

/// The lookup thread's two ends.
pub struct Resolver {
    questions: Sender<String>,
    answers: Receiver<Answer>,
}

impl Resolver {
    /// Starts the lookup thread, answering in the family `ipv6` asks for (`None`: either). It ends when the
    /// resolver is dropped (after the lookup under way, which cannot be interrupted).
    pub fn start(ipv6: Option<bool>) -> std::io::Result<Self> {
        let (questions, asked) = channel::<String>();
        let (answer, answers) = channel();
        thread::Builder::new().name("hoptrace-resolve".to_owned()).spawn(move || {
            for name in asked {
                let address = resolve_host(&name, ipv6);
                if answer.send((name, address)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Resolver { questions, answers })
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
