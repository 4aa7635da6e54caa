//! Typed identifiers: a `UserId` can never be passed where an `OrgId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// Identifies an organisation (a node of the org tree).
    OrgId
);
id_type!(
    /// Identifies an asset (website, domain, IP, CIDR range or information system).
    AssetId
);
id_type!(
    /// Identifies one software inventory line of an asset.
    SoftwareId
);
id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies a machine API token.
    TokenId
);
id_type!(
    /// Identifies an audit log entry; ids grow with time.
    AuditId
);
