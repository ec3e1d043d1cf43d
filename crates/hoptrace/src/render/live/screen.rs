//! What the live screen shows and how keys change it, mtr's letters: pure state, no terminal.

use hoptrace_core::Event;

use super::target::TargetView;

/// The body of the screen (`d` cycles them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// mtr's statistics table.
    Table,
    /// The last probes of each hop, one character each (mtr's "Last N pings").
    History,
    /// A latency chart per hop: a bar per probe, its height the round-trip time.
    Chart,
}

/// How hosts are named (`n` cycles them): [`Naming::NameOnly`] (the address when there is no name),
/// [`Naming::Numeric`], [`Naming::NameAndAddress`] (the name alone where both do not fit).
pub use crate::settings::Naming;

/// A key the screen knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A letter, digit or sign.
    Char(char),
    /// Tab: the next target.
    Tab,
    /// Shift+Tab: the previous target.
    BackTab,
    /// Esc.
    Esc,
    /// Ctrl+C.
    Interrupt,
}

/// What a key asks of the world outside the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing: at most the screen changed.
    None,
    /// Leave and print the report.
    Quit,
    /// Stop (`true`) or resume (`false`) starting rounds.
    Pause(bool),
}

/// The whole state of the live screen.
#[derive(Debug, Clone)]
pub struct Screen {
    /// One per host given, in order.
    pub targets: Vec<TargetView>,
    /// The target shown.
    pub shown: usize,
    /// The body.
    pub display: Display,
    /// How hosts are named.
    pub naming: Naming,
    /// Jitter columns (`j`).
    pub jitter: bool,
    /// MPLS labels (`e`).
    pub mpls: bool,
    /// AS numbers (`z`).
    pub asns: bool,
    /// Rounds stopped (`p`).
    pub paused: bool,
    /// The help shown over the screen (`h`, `?`).
    pub help: bool,
    /// Colours for loss and latency bands.
    pub color: bool,
}

impl Screen {
    /// A screen for `hosts`, naming them as `naming` to start with.
    pub fn new(hosts: &[String], naming: Naming) -> Self {
        Screen {
            targets: hosts.iter().map(|host| TargetView::new(host)).collect(),
            shown: 0,
            display: Display::Table,
            naming,
            jitter: false,
            mpls: false,
            asns: false,
            paused: false,
            help: false,
            color: true,
        }
    }

    /// The target shown.
    pub fn target(&self) -> &TargetView {
        &self.targets[self.shown]
    }

    /// Takes in an event of the `index`-th target's run; whether it changes what the screen shows (a probe sent
    /// does not).
    pub fn feed(&mut self, index: usize, event: Event) -> bool {
        let Some(target) = self.targets.get_mut(index) else { return false };
        match event {
            Event::RoundStarted { info, .. } => target.start(info),
            Event::Reply { probe, ttl, .. } => target.reply(ttl, &probe),
            Event::HopComplete { hop, .. } => target.hop(hop),
            Event::RoundDone { .. } => target.done(),
            _ => return false,
        }
        true
    }

    /// Handles a key as mtr does; while the help shows, any key but `q` and Ctrl+C just closes it (Esc
    /// included, as it closes a box anywhere).
    pub fn key(&mut self, key: Key) -> Action {
        if matches!(key, Key::Interrupt | Key::Char('q')) || (key == Key::Esc && !self.help) {
            return Action::Quit;
        }
        if self.help {
            self.help = false;
            return Action::None;
        }
        match key {
            Key::Char('h' | '?') => self.help = true,
            Key::Char('p' | ' ') => {
                // mtr resumes with the space bar too.
                self.paused = key == Key::Char('p') && !self.paused;
                return Action::Pause(self.paused);
            }
            Key::Char('r') => self.targets.iter_mut().for_each(TargetView::reset),
            Key::Char('n') => {
                self.naming = match self.naming {
                    Naming::NameOnly => Naming::Numeric,
                    Naming::Numeric => Naming::NameAndAddress,
                    Naming::NameAndAddress | Naming::Both => Naming::NameOnly,
                }
            }
            Key::Char('d') => {
                self.display = match self.display {
                    Display::Table => Display::History,
                    Display::History => Display::Chart,
                    Display::Chart => Display::Table,
                }
            }
            Key::Char('j') => self.jitter = !self.jitter,
            Key::Char('e') => self.mpls = !self.mpls,
            Key::Char('z') => self.asns = !self.asns,
            Key::Tab => self.shown = (self.shown + 1) % self.targets.len(),
            Key::BackTab => self.shown = (self.shown + self.targets.len() - 1) % self.targets.len(),
            Key::Char(digit @ '1'..='9') => {
                let index = digit as usize - '1' as usize;
                if index < self.targets.len() {
                    self.shown = index;
                }
            }
            _ => {}
        }
        Action::None
    }
}

#[cfg(test)]
mod tests {
    use super::super::target::tests::{complete, done, hop, started};
    use super::*;

    fn screen(hosts: &[&str]) -> Screen {
        let hosts: Vec<String> = hosts.iter().map(|&host| host.to_owned()).collect();
        Screen::new(&hosts, Naming::NameOnly)
    }

    #[test]
    fn the_letters_do_what_mtr_does() {
        let mut screen = screen(&["a"]);
        for (key, display) in [('d', Display::History), ('d', Display::Chart), ('d', Display::Table)] {
            screen.key(Key::Char(key));
            assert_eq!(screen.display, display);
        }
        for naming in [Naming::Numeric, Naming::NameAndAddress, Naming::NameOnly] {
            screen.key(Key::Char('n'));
            assert_eq!(screen.naming, naming);
        }
        assert_eq!(screen.key(Key::Char('p')), Action::Pause(true));
        assert!(screen.paused);
        assert_eq!(screen.key(Key::Char('p')), Action::Pause(false));
        assert_eq!(screen.key(Key::Char('p')), Action::Pause(true));
        assert_eq!(screen.key(Key::Char(' ')), Action::Pause(false));
        for key in ['j', 'e', 'z'] {
            let flags = |s: &Screen| [s.jitter, s.mpls, s.asns];
            screen.key(Key::Char(key));
            assert_eq!(flags(&screen).iter().filter(|&&on| on).count(), 1, "{key}");
            screen.key(Key::Char(key));
            assert_eq!(flags(&screen), [false; 3], "{key}");
        }
        for key in [Key::Char('q'), Key::Esc, Key::Interrupt] {
            assert_eq!(screen.key(key), Action::Quit);
        }
    }

    #[test]
    fn help_shows_until_the_next_key_which_does_nothing_else() {
        let mut screen = screen(&["a"]);
        screen.key(Key::Char('h'));
        assert!(screen.help);
        assert_eq!(screen.key(Key::Char('d')), Action::None);
        assert!(!screen.help);
        assert_eq!(screen.display, Display::Table);
        screen.key(Key::Char('?'));
        assert!(screen.help);
        assert_eq!(screen.key(Key::Char('q')), Action::Quit);
    }

    #[test]
    fn esc_closes_the_help_and_quits_without_it() {
        let mut screen = screen(&["a"]);
        screen.key(Key::Char('h'));
        assert_eq!(screen.key(Key::Esc), Action::None);
        assert!(!screen.help);
        assert_eq!(screen.key(Key::Esc), Action::Quit);
        screen.key(Key::Char('h'));
        assert_eq!(screen.key(Key::Interrupt), Action::Quit);
    }

    #[test]
    fn tab_and_digits_choose_the_target() {
        let mut screen = screen(&["a", "b", "c"]);
        screen.key(Key::Tab);
        assert_eq!(screen.shown, 1);
        screen.key(Key::Char('3'));
        assert_eq!(screen.shown, 2);
        screen.key(Key::Tab);
        assert_eq!(screen.shown, 0);
        screen.key(Key::BackTab);
        assert_eq!(screen.shown, 2);
        screen.key(Key::Char('9'));
        assert_eq!(screen.shown, 2);
    }

    #[test]
    fn feeds_go_to_their_target_and_r_resets_every_target() {
        let mut screen = screen(&["a", "b"]);
        for index in 0..2 {
            screen.feed(index, started("198.18.1.2"));
            screen.feed(index, complete(hop(1, Some(("198.18.0.1", 1.0)))));
            screen.feed(index, done());
        }
        assert!(screen.feed(1, complete(hop(1, None))));
        assert!(!screen.feed(7, done()), "no such target");
        let probe = hop(2, None).probes.remove(0);
        assert!(!screen.feed(0, Event::ProbeSent { round: 0, probe, ttl: 2 }), "a probe sent changes nothing shown");
        let sent = |screen: &Screen, index: usize| screen.targets[index].shown().hops()[0].sent;
        assert_eq!((sent(&screen, 0), sent(&screen, 1)), (1, 2));
        screen.key(Key::Char('r'));
        assert!(screen.targets.iter().all(|target| target.shown().hops().is_empty()));
    }
}
