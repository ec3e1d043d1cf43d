//! A report as data (`serde::Serialize`): the rounds and the hops shown, each with what the accessors say (loss
//! with the rate-limit rule applied, RTT statistics in milliseconds), not the running sums behind them.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::{FlowSummary, HopSummary, Report, Responder, RttStats};

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut report = serializer.serialize_struct("Report", 2)?;
        report.serialize_field("rounds", &self.rounds())?;
        report.serialize_field("hops", self.hops())?;
        report.end()
    }
}

impl Serialize for HopSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut hop = serializer.serialize_struct("HopSummary", 12)?;
        hop.serialize_field("ttl", &self.ttl)?;
        hop.serialize_field("responders", &self.responders)?;
        hop.serialize_field("sent", &self.sent)?;
        hop.serialize_field("received", &self.received)?;
        hop.serialize_field("lost", &self.lost())?;
        hop.serialize_field("loss_percent", &self.loss_percent())?;
        hop.serialize_field("rate_limited", &self.is_rate_limited())?;
        hop.serialize_field("rounds", &self.rounds)?;
        hop.serialize_field("ended_rounds", &self.ended_rounds)?;
        hop.serialize_field("reached", &self.reached)?;
        hop.serialize_field("rtt", &self.rtt)?;
        hop.serialize_field("flows", &self.flows)?;
        hop.end()
    }
}

impl Serialize for Responder {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut responder = serializer.serialize_struct("Responder", 2)?;
        responder.serialize_field("addr", &self.addr)?;
        responder.serialize_field("mark", &self.mark)?;
        responder.end()
    }
}

impl Serialize for FlowSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut flow = serializer.serialize_struct("FlowSummary", 6)?;
        flow.serialize_field("flow", &self.flow)?;
        flow.serialize_field("responders", &self.responders)?;
        flow.serialize_field("sent", &self.sent)?;
        flow.serialize_field("received", &self.received)?;
        flow.serialize_field("loss_percent", &self.loss_percent())?;
        flow.serialize_field("rtt", &self.rtt)?;
        flow.end()
    }
}

impl Serialize for RttStats {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rtt = serializer.serialize_struct("RttStats", 8)?;
        rtt.serialize_field("count", &self.count())?;
        rtt.serialize_field("last_ms", &self.last())?;
        rtt.serialize_field("mean_ms", &self.mean())?;
        rtt.serialize_field("best_ms", &self.best())?;
        rtt.serialize_field("worst_ms", &self.worst())?;
        rtt.serialize_field("stdev_ms", &self.stdev())?;
        rtt.serialize_field("jitter_mean_ms", &self.jitter_mean())?;
        rtt.serialize_field("jitter_worst_ms", &self.jitter_worst())?;
        rtt.end()
    }
}
