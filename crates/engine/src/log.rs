//! The probe log: every probe of a trace by hop, where each one's record lives, and the key its reply must carry.

use std::collections::HashMap;

use crate::probe::{MatchKey, ProbeId};
use crate::result::{Hop, ProbeRecord};

/// The hops probed so far (by TTL, ascending), each probe's place among them by number, and probes by key.
#[derive(Debug, Default)]
pub(crate) struct ProbeLog {
    hops: Vec<Hop>,
    /// Where each probe's record lives: (hop index, probe index), by probe number.
    locations: Vec<(usize, usize)>,
    by_key: HashMap<MatchKey, ProbeId>,
    /// Paris UDP probes by payload tag, for quotes that show no checksum (see [`ProbeLog::index_tag`]).
    by_tag: HashMap<u64, ProbeId>,
}

impl ProbeLog {
    /// Every hop probed, the ones past where the trace ends included.
    pub(crate) fn hops(&self) -> &[Hop] {
        &self.hops
    }

    /// How many probes were logged: the next probe's number.
    pub(crate) fn len(&self) -> usize {
        self.locations.len()
    }

    /// Logs probe `record`, of TTL `ttl`, in hop `hop_index` (a new last hop if it is one past the end), under
    /// `key`.
    pub(crate) fn push(&mut self, hop_index: usize, ttl: u8, record: ProbeRecord, key: MatchKey) {
        if hop_index == self.hops.len() {
            self.hops.push(Hop { ttl, probes: Vec::new() });
        }
        let hop = &mut self.hops[hop_index];
        self.locations.push((hop_index, hop.probes.len()));
        self.by_key.insert(key, record.id);
        hop.probes.push(record);
    }

    /// The probe sent with `key`, if any.
    pub(crate) fn find(&self, key: &MatchKey) -> Option<ProbeId> {
        self.by_key.get(key).copied()
    }

    /// Files probe `id` under its payload `tag` too: what names a Paris UDP probe in a quote whose checksum
    /// could not be read back.
    pub(crate) fn index_tag(&mut self, tag: u64, id: ProbeId) {
        self.by_tag.insert(tag, id);
    }

    /// The probe filed under payload `tag`, if any.
    pub(crate) fn find_by_tag(&self, tag: u64) -> Option<ProbeId> {
        self.by_tag.get(&tag).copied()
    }

    /// Where probe `id` lives: its hop's index and its index in the hop.
    pub(crate) fn location(&self, id: ProbeId) -> Option<(usize, usize)> {
        self.locations.get(id.0 as usize).copied()
    }

    /// The hop probe `id` was sent in.
    pub(crate) fn hop_of(&self, id: ProbeId) -> Option<&Hop> {
        self.hops.get(self.location(id)?.0)
    }

    /// The record of probe `id`.
    pub(crate) fn record(&self, id: ProbeId) -> Option<&ProbeRecord> {
        let (hop, index) = self.location(id)?;
        self.hops.get(hop)?.probes.get(index)
    }

    /// The record of probe `id`, to change.
    pub(crate) fn record_mut(&mut self, id: ProbeId) -> Option<&mut ProbeRecord> {
        let (hop, index) = self.location(id)?;
        self.hops.get_mut(hop)?.probes.get_mut(index)
    }

    /// The records of the probes of hops with TTLs above `ttl`, to change.
    pub(crate) fn records_beyond(&mut self, ttl: u8) -> impl Iterator<Item = &mut ProbeRecord> {
        self.hops.iter_mut().filter(move |hop| hop.ttl > ttl).flat_map(|hop| hop.probes.iter_mut())
    }

    /// The highest TTL that got an answer.
    pub(crate) fn farthest_answer(&self) -> Option<u8> {
        self.hops.iter().rev().find(|hop| hop.is_answered()).map(|hop| hop.ttl)
    }
}
