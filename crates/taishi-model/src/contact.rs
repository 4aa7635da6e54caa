//! People an organisation answers through: the principal responsible person and the security officer.

use serde::{Deserialize, Serialize};

/// One named person with the ways to reach them. Every field may be empty when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Full name (姓名).
    #[serde(default)]
    pub name: String,
    /// Phone number as written; not normalised.
    #[serde(default)]
    pub phone: String,
    /// E-mail address.
    #[serde(default)]
    pub email: String,
}

impl Contact {
    /// True when nothing is known about this person.
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.phone.is_empty() && self.email.is_empty()
    }
}

/// The two people a notice about an organisation is addressed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    /// The principal responsible person (主要负责人), accountable for the organisation.
    #[serde(default)]
    pub principal: Contact,
    /// The security officer (网络安全负责人), who handles notices day to day.
    #[serde(default)]
    pub security_officer: Contact,
}
