//! The ends of a network link (issue #14, item 4): partitions, link faults and base
//! latencies name services, brokers, Kubernetes nodes (`node/2`) or pods (`api/0`, the
//! pod in replica slot 0 of `api`). One resolver for every link field.

use super::Check;
use crate::model::{Endpoint, ServiceId, Topic};
use crate::scenario::error::did_you_mean;
use crate::scenario::ServiceSpec;
use std::collections::BTreeMap;

/// What a link's end may name.
pub(super) struct Ends<'a> {
    pub services: &'a BTreeMap<String, usize>,
    pub brokers: &'a BTreeMap<String, usize>,
    /// Kubernetes nodes (0 without `nodes`).
    pub nodes: u32,
    /// Per service: its pods' replica slots that a pod end may name (its most pods), or
    /// 0 when it does not run as pods.
    pub pods: Vec<u32>,
    /// Per service: the brokers it publishes to or consumes from.
    pub talks_to: Vec<Vec<u32>>,
}

impl<'a> Ends<'a> {
    pub fn new(
        services: &'a BTreeMap<String, usize>,
        brokers: &'a BTreeMap<String, usize>,
        specs: &[ServiceSpec],
        nodes: Option<u32>,
        pods: &[bool],
        talks: impl Iterator<Item = Vec<u32>>,
        topics: &[Topic],
    ) -> Self {
        Ends {
            services,
            brokers,
            nodes: nodes.unwrap_or(0),
            pods: specs
                .iter()
                .zip(pods)
                .map(|(s, &pods)| match (pods, &s.autoscale) {
                    (false, _) => 0,
                    (true, Some(a)) => a.max.max(s.replicas),
                    (true, None) => s.replicas,
                })
                .collect(),
            talks_to: talks
                .map(|ts| ts.iter().map(|&t| topics[t as usize].broker).collect())
                .collect(),
        }
    }
}

impl Check {
    /// One end of a link at `path`: a service, a broker, `node/N` or `service/N`.
    pub(super) fn endpoint(&mut self, path: &str, name: &str, ends: &Ends) -> Option<Endpoint> {
        if let Some(&s) = ends.services.get(name) {
            return Some(Endpoint::Service(ServiceId(s as u32)));
        }
        if let Some(&b) = ends.brokers.get(name) {
            return Some(Endpoint::Broker(b as u32));
        }
        if let Some((head, index)) = name.rsplit_once('/') {
            let Ok(k) = index.parse::<u32>() else {
                self.fail(
                    path,
                    format!("\"{name}\": the part after '/' is a pod's or node's number, as in \"node/0\""),
                );
                return None;
            };
            if head == "node" {
                if ends.nodes == 0 {
                    self.fail(
                        path,
                        "the scenario has no nodes: add `nodes: Some(Nodes(count: 3))`",
                    );
                    return None;
                }
                if k >= ends.nodes {
                    self.fail(
                        path,
                        format!("node {k} does not exist (nodes 0..{})", ends.nodes),
                    );
                    return None;
                }
                return Some(Endpoint::Node(k));
            }
            let Some(&s) = ends.services.get(head) else {
                self.fail(
                    path,
                    format!(
                        "unknown service \"{head}\" in pod \"{name}\"{}",
                        did_you_mean(head, ends.services.keys().map(String::as_str))
                    ),
                );
                return None;
            };
            let pods = ends.pods[s];
            if pods == 0 {
                self.fail(
                    path,
                    format!("\"{head}\" does not run as pods: name the service, or give it `kubernetes`, `autoscale` or the scenario `nodes`"),
                );
                return None;
            }
            if k >= pods {
                self.fail(
                    path,
                    format!("pod {k} of \"{head}\" does not exist (pods {head}/0..{head}/{pods})"),
                );
                return None;
            }
            return Some(Endpoint::Pod {
                service: ServiceId(s as u32),
                slot: k,
            });
        }
        self.fail(
            path,
            format!(
                "unknown service or broker \"{name}\"{} (a node is \"node/0\", a pod \"service/0\")",
                did_you_mean(
                    name,
                    ends.services
                        .keys()
                        .chain(ends.brokers.keys())
                        .map(String::as_str)
                )
            ),
        );
        None
    }

    /// The two ends of a link at `p` (`{p}.from` -> `{p}.to`). `publishes`: the link
    /// acts on what a service and a broker exchange (latency, loss on its publishes and
    /// its consumer's fetches), so a broker's other end publishes to it or consumes from it.
    pub(super) fn link_ends(
        &mut self,
        p: &str,
        from: &str,
        to: &str,
        ends: &Ends,
        publishes: bool,
    ) -> Option<(Endpoint, Endpoint)> {
        let a = self.endpoint(&format!("{p}.from"), from, ends);
        let b = self.endpoint(&format!("{p}.to"), to, ends);
        let (a, b) = (a?, b?);
        if a == b {
            self.fail(format!("{p}.to"), "a link joins two different ends");
            return None;
        }
        let broker = match (a, b) {
            (Endpoint::Broker(_), Endpoint::Broker(_)) => {
                self.fail(
                    format!("{p}.to"),
                    "two brokers: a broker's link is to a service (its producers and consumers)",
                );
                return None;
            }
            (Endpoint::Broker(k), other) => Some((k, other, format!("{p}.to"))),
            (other, Endpoint::Broker(k)) => Some((k, other, format!("{p}.from"))),
            _ => None,
        };
        if let Some((k, other, path)) = broker {
            let Endpoint::Service(s) = other else {
                self.fail(
                    path,
                    "a broker's link is to a service (its producers and consumers), not a node or pod",
                );
                return None;
            };
            if publishes && !ends.talks_to[s.0 as usize].contains(&k) {
                self.fail(
                    path,
                    "link latency and loss with a broker act on the service's publishes and its consumer's fetches, and it neither publishes to nor consumes from that broker",
                );
                return None;
            }
        }
        Some((a, b))
    }
}
