//! The supervised organisation tree as the loop sees it: parents for escalation, subtrees for
//! permissions and roll-ups, names and contacts for notices and bulletins. Built from the registry by the
//! caller; cycles and unknown parents are rejected when it is built.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use taishi_model::OrgId;

/// One organisation, with only what the loop needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgNode {
    /// Id.
    pub id: OrgId,
    /// Parent (`None` for the root(s)).
    pub parent: Option<OrgId>,
    /// Display name.
    pub name: String,
    /// Officer e-mail addresses to notify.
    pub emails: Vec<String>,
    /// Whether the org operates critical information infrastructure.
    pub critical_infrastructure: bool,
}

/// A tree that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A node names a parent that is not in the tree.
    #[error("org {org} names unknown parent {parent}")]
    UnknownParent {
        /// The node.
        org: OrgId,
        /// Its missing parent.
        parent: OrgId,
    },
    /// Following parents from a node comes back to it.
    #[error("org {0} is its own ancestor")]
    Cycle(OrgId),
    /// The same id twice.
    #[error("org {0} appears twice")]
    Duplicate(OrgId),
}

/// The organisation tree (a forest is allowed: several roots).
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    nodes: Vec<OrgNode>,
    index: HashMap<OrgId, usize>,
    children: HashMap<OrgId, Vec<OrgId>>,
    depth: Vec<u8>,
}

impl OrgTree {
    /// Builds and checks the tree.
    ///
    /// # Errors
    /// Duplicate ids, unknown parents and cycles.
    pub fn new(nodes: Vec<OrgNode>) -> Result<OrgTree, TreeError> {
        let mut index = HashMap::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            if index.insert(n.id, i).is_some() {
                return Err(TreeError::Duplicate(n.id));
            }
        }
        let mut children: HashMap<OrgId, Vec<OrgId>> = HashMap::new();
        for n in &nodes {
            if let Some(p) = n.parent {
                if !index.contains_key(&p) {
                    return Err(TreeError::UnknownParent {
                        org: n.id,
                        parent: p,
                    });
                }
                children.entry(p).or_default().push(n.id);
            }
        }
        let mut depth = vec![u8::MAX; nodes.len()];
        for i in 0..nodes.len() {
            // Walk up until a node of known depth or a root, then assign depths on the way back down.
            let mut chain = Vec::new();
            let mut cur = i;
            let base = loop {
                if depth[cur] != u8::MAX {
                    break depth[cur].saturating_add(1);
                }
                chain.push(cur);
                if chain.len() > nodes.len() {
                    return Err(TreeError::Cycle(nodes[i].id));
                }
                match nodes[cur].parent {
                    Some(p) => cur = index[&p],
                    None => break 0,
                }
            };
            let mut d = base;
            for &c in chain.iter().rev() {
                depth[c] = d.min(u8::MAX - 1);
                d = d.saturating_add(1);
            }
        }
        Ok(OrgTree {
            nodes,
            index,
            children,
            depth,
        })
    }

    /// The node with this id.
    pub fn get(&self, id: OrgId) -> Option<&OrgNode> {
        self.index.get(&id).map(|&i| &self.nodes[i])
    }

    /// All nodes in the order given.
    pub fn nodes(&self) -> &[OrgNode] {
        &self.nodes
    }

    /// Tier of an org: 1 for a root, 2 for its children, …
    pub fn tier(&self, id: OrgId) -> u8 {
        self.index
            .get(&id)
            .map_or(1, |&i| self.depth[i].saturating_add(1))
    }

    /// Direct children.
    pub fn children(&self, id: OrgId) -> &[OrgId] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The `n`-th ancestor (1 = parent).
    pub fn ancestor(&self, id: OrgId, n: u8) -> Option<OrgId> {
        let mut cur = id;
        for _ in 0..n {
            cur = self.get(cur)?.parent?;
        }
        Some(cur)
    }

    /// Whether `org` is `root` or below it.
    pub fn covers(&self, root: OrgId, org: OrgId) -> bool {
        let mut cur = Some(org);
        while let Some(c) = cur {
            if c == root {
                return true;
            }
            cur = self.get(c).and_then(|n| n.parent);
        }
        false
    }

    /// `root` and everything below it, parents before children.
    pub fn subtree(&self, root: OrgId) -> Vec<OrgId> {
        let mut out = Vec::new();
        if self.get(root).is_none() {
            return out;
        }
        let mut stack = vec![root];
        while let Some(c) = stack.pop() {
            out.push(c);
            stack.extend(self.children(c).iter().rev());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn node(id: u128, parent: Option<u128>) -> OrgNode {
        OrgNode {
            id: OrgId(id as i64),
            parent: parent.map(|p| OrgId(p as i64)),
            name: format!("org{id}"),
            emails: vec![format!("o{id}@example.org")],
            critical_infrastructure: false,
        }
    }

    #[test]
    fn tiers_ancestors_and_errors() {
        // Children listed before parents on purpose.
        let t = OrgTree::new(vec![
            node(4, Some(2)),
            node(2, Some(1)),
            node(1, None),
            node(3, Some(1)),
        ])
        .unwrap();
        let u = |i: i64| OrgId(i);
        assert_eq!(
            (t.tier(u(1)), t.tier(u(2)), t.tier(u(4)), t.tier(u(3))),
            (1, 2, 3, 2)
        );
        assert_eq!(t.ancestor(u(4), 1), Some(u(2)));
        assert_eq!(t.ancestor(u(4), 2), Some(u(1)));
        assert_eq!(t.ancestor(u(4), 3), None);
        assert!(t.covers(u(2), u(4)) && !t.covers(u(3), u(4)) && t.covers(u(1), u(1)));
        assert_eq!(t.subtree(u(1)), vec![u(1), u(2), u(4), u(3)]);
        assert_eq!(
            OrgTree::new(vec![node(1, Some(9))]).unwrap_err(),
            TreeError::UnknownParent {
                org: u(1),
                parent: u(9)
            }
        );
        assert_eq!(
            OrgTree::new(vec![node(1, Some(2)), node(2, Some(1))]).unwrap_err(),
            TreeError::Cycle(u(1))
        );
        assert_eq!(
            OrgTree::new(vec![node(1, None), node(1, None)]).unwrap_err(),
            TreeError::Duplicate(u(1))
        );
    }
}
