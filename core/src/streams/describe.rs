//! What a topology looks like: Kafka's text form, Mermaid, and a plain SVG picture.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::{NodeInfo, NodeKind};

/// One node of a [`Description`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeDescription {
    /// Its name (`KSTREAM-FILTER-0000000001`, or the one given by `named`).
    pub name: String,
    /// `source`, `processor` or `sink`.
    pub kind: &'static str,
    /// The operator (`filter`, `map`, `count`, `to`, …).
    pub op: &'static str,
    /// Topics it reads (sources) or writes (sinks).
    pub topics: Vec<String>,
    /// Tables it keeps or reads.
    pub stores: Vec<String>,
    /// Windows, for windowed aggregations.
    pub detail: Option<String>,
    /// The nodes feeding it, by index.
    pub parents: Vec<usize>,
    /// The nodes it feeds, by index.
    pub children: Vec<usize>,
    /// Its sub-topology (connected part of the graph).
    pub subtopology: usize,
}

/// A topology's graph ([`Topology::describe`](super::Topology::describe)).
/// `Display` prints Kafka Streams' `describe()` text; also [`to_mermaid`] and
/// [`to_svg`]; serializable (the bindings hand it out as plain data).
///
/// [`to_mermaid`]: Description::to_mermaid
/// [`to_svg`]: Description::to_svg
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Description {
    /// The topology's name.
    pub topology: String,
    /// The nodes, in the order they were added.
    pub nodes: Vec<NodeDescription>,
    /// Number of sub-topologies.
    pub subtopologies: usize,
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Source => "source",
        NodeKind::Processor => "processor",
        NodeKind::Sink => "sink",
    }
}

impl Description {
    pub(crate) fn new(name: &str, graph: &[NodeInfo]) -> Self {
        let n = graph.len();
        let mut children = vec![Vec::new(); n];
        for (i, node) in graph.iter().enumerate() {
            for &p in &node.parents {
                if p < n {
                    children[p].push(i);
                }
            }
        }
        // Sub-topologies: connected parts, joined by edges and shared stores.
        let mut group: Vec<usize> = (0..n).collect();
        fn find(g: &mut [usize], i: usize) -> usize {
            let mut r = i;
            while g[r] != r {
                r = g[r];
            }
            g[i] = r;
            r
        }
        for (i, node) in graph.iter().enumerate() {
            for &p in &node.parents {
                let (a, b) = (find(&mut group, i), find(&mut group, p));
                group[a.max(b)] = a.min(b);
            }
            for (j, other) in graph.iter().enumerate().take(i) {
                if node.stores.iter().any(|s| other.stores.contains(s)) {
                    let (a, b) = (find(&mut group, i), find(&mut group, j));
                    group[a.max(b)] = a.min(b);
                }
            }
        }
        let mut ids: Vec<usize> = Vec::new();
        let mut sub = vec![0; n];
        for (i, s) in sub.iter_mut().enumerate() {
            let root = find(&mut group, i);
            *s = match ids.iter().position(|&r| r == root) {
                Some(k) => k,
                None => {
                    ids.push(root);
                    ids.len() - 1
                }
            };
        }
        let nodes = graph
            .iter()
            .enumerate()
            .map(|(i, node)| NodeDescription {
                name: node.name.clone(),
                kind: kind_name(node.kind),
                op: node.op,
                topics: node.topics.clone(),
                stores: node.stores.clone(),
                detail: node.detail.clone(),
                parents: node.parents.clone(),
                children: children[i].clone(),
                subtopology: sub[i],
            })
            .collect();
        Description {
            topology: name.to_string(),
            nodes,
            subtopologies: ids.len(),
        }
    }

    /// A Mermaid flowchart (`flowchart LR`): topics as stadiums, processors as
    /// boxes, stores as cylinders.
    pub fn to_mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        let mut topics: Vec<&str> = Vec::new();
        let mut stores: Vec<&str> = Vec::new();
        for n in &self.nodes {
            for t in &n.topics {
                if !topics.contains(&t.as_str()) {
                    topics.push(t);
                }
            }
            for st in &n.stores {
                if !stores.contains(&st.as_str()) {
                    stores.push(st);
                }
            }
        }
        let esc = |t: &str| t.replace('"', "#quot;");
        for (i, t) in topics.iter().enumerate() {
            let _ = writeln!(s, "    t{i}([\"{}\"])", esc(t));
        }
        for (i, st) in stores.iter().enumerate() {
            let _ = writeln!(s, "    s{i}[(\"{}\")]", esc(st));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(s, "    n{i}[\"{}<br/>{}\"]", esc(n.op), esc(&n.name));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let tix = |t: &String| topics.iter().position(|x| x == t).unwrap_or(0);
            match n.kind {
                "source" => {
                    for t in &n.topics {
                        let _ = writeln!(s, "    t{} --> n{i}", tix(t));
                    }
                }
                "sink" => {
                    for t in &n.topics {
                        let _ = writeln!(s, "    n{i} --> t{}", tix(t));
                    }
                }
                _ => {}
            }
            for p in &n.parents {
                let _ = writeln!(s, "    n{p} --> n{i}");
            }
            for st in &n.stores {
                let k = stores.iter().position(|x| x == st).unwrap_or(0);
                let _ = writeln!(s, "    n{i} -.- s{k}");
            }
        }
        s
    }

    /// Columns by depth from the sources.
    fn layers(&self) -> Vec<usize> {
        let mut depth = vec![0usize; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            // Parents always come before their children.
            depth[i] = n.parents.iter().map(|&p| depth[p] + 1).max().unwrap_or(0);
        }
        depth
    }

    /// A self-contained SVG picture of the graph (columns by depth, one row per
    /// node in a column), with no script and no external resources.
    pub fn to_svg(&self) -> String {
        const W: i64 = 190;
        const H: i64 = 46;
        const GX: i64 = 50;
        const GY: i64 = 22;
        let depth = self.layers();
        let mut rows = vec![0i64; self.nodes.len()];
        let mut count: Vec<i64> = Vec::new();
        for (i, &d) in depth.iter().enumerate() {
            if count.len() <= d {
                count.resize(d + 1, 0);
            }
            rows[i] = count[d];
            count[d] += 1;
        }
        let cols = count.len().max(1) as i64;
        let maxrow = count.iter().copied().max().unwrap_or(1).max(1);
        let (width, height) = (cols * (W + GX) + GX, maxrow * (H + GY) + GY);
        let pos = |i: usize| (GX + depth[i] as i64 * (W + GX), GY + rows[i] * (H + GY));
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"topology {}\">",
            esc(&self.topology)
        );
        s.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#667\"/></marker></defs>");
        for (i, n) in self.nodes.iter().enumerate() {
            let (x, y) = pos(i);
            for &p in &n.parents {
                let (px, py) = pos(p);
                let _ = write!(
                    s,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#667\" marker-end=\"url(#arrow)\"/>",
                    px + W,
                    py + H / 2,
                    y + H / 2
                );
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let (x, y) = pos(i);
            let (fill, rx) = match n.kind {
                "source" => ("#dbeafe", 20),
                "sink" => ("#dcfce7", 20),
                _ if !n.stores.is_empty() => ("#fef3c7", 4),
                _ => ("#f3f4f6", 4),
            };
            let extra = if n.kind == "processor" {
                n.stores.join(", ")
            } else {
                n.topics.join(", ")
            };
            let _ = write!(
                s,
                "<g class=\"node {}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"#445\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#445\">{}</text></g>",
                n.kind,
                esc(&n.name),
                x + W / 2,
                y + 18,
                esc(n.op),
                x + W / 2,
                y + 35,
                esc(&shorten(if extra.is_empty() { &n.name } else { &extra }, 28))
            );
        }
        s.push_str("</svg>");
        s
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

impl fmt::Display for Description {
    /// Kafka Streams' `TopologyDescription` text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Topologies:")?;
        for sub in 0..self.subtopologies {
            writeln!(f, "   Sub-topology: {sub}")?;
            for n in self.nodes.iter().filter(|n| n.subtopology == sub) {
                match n.kind {
                    "source" => writeln!(
                        f,
                        "    Source: {} (topics: [{}])",
                        n.name,
                        n.topics.join(", ")
                    )?,
                    "sink" => writeln!(f, "    Sink: {} (topic: {})", n.name, n.topics.join(", "))?,
                    _ => {
                        write!(
                            f,
                            "    Processor: {} (stores: [{}])",
                            n.name,
                            n.stores.join(", ")
                        )?;
                        if let Some(d) = &n.detail {
                            write!(f, " ({d})")?;
                        }
                        writeln!(f)?;
                    }
                }
                let names = |ix: &[usize]| {
                    ix.iter()
                        .map(|&i| self.nodes[i].name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if !n.children.is_empty() {
                    writeln!(f, "      --> {}", names(&n.children))?;
                } else if n.kind != "sink" {
                    writeln!(f, "      --> none")?;
                }
                if !n.parents.is_empty() {
                    writeln!(f, "      <-- {}", names(&n.parents))?;
                }
            }
        }
        Ok(())
    }
}
