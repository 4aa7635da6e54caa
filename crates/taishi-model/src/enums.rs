//! Closed vocabularies stored and exchanged as lower-case words: org kinds, sectors, asset kinds, roles.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A word that is not one of an enum's accepted names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {got:?}: expected one of {expected}")]
pub struct ParseEnumError {
    /// Which vocabulary was being parsed ("sector", "role", …).
    pub what: &'static str,
    /// The rejected input.
    pub got: String,
    /// The accepted words, comma-separated.
    pub expected: &'static str,
}

macro_rules! word_enum {
    (
        $(#[$doc:meta])* $name:ident, $what:literal, $expected:literal {
            $( $(#[$vdoc:meta])* $variant:ident => $word:literal, $zh:literal; )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable lower-case word used in storage, files and APIs.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word,)+ }
            }

            /// The Simplified Chinese label shown to people.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $( if t.eq_ignore_ascii_case($word) || t == $zh { return Ok($name::$variant); } )+
                Err(ParseEnumError { what: $what, got: s.to_owned(), expected: $expected })
            }
        }
    };
}

word_enum!(
    /// What sort of body an organisation is; it does not constrain the tree shape.
    OrgKind, "org kind", "authority, district, township, department, village, institution, enterprise, site, other" {
        /// The supervising authority itself (e.g. a district cyberspace office).
        Authority => "authority", "主管机关";
        /// An administrative region: city, district or county (市/区/县).
        District => "district", "区县";
        /// A township or sub-district (乡镇/街道).
        Township => "township", "乡镇街道";
        /// A government department or bureau (部门/委办局).
        Department => "department", "部门";
        /// A village or residential community (村/社区).
        Village => "village", "村社区";
        /// A public institution: school, hospital, utility (事业单位).
        Institution => "institution", "事业单位";
        /// A company (企业).
        Enterprise => "enterprise", "企业";
        /// A physical or logical site of a parent organisation (站点).
        Site => "site", "站点";
        /// Anything else.
        Other => "other", "其他";
    }
);

word_enum!(
    /// The economic sector an organisation belongs to; drives sector reports and CII oversight.
    Sector, "sector", "government, education, health, energy, finance, water, transport, telecom, other" {
        /// Government and party bodies (党政机关).
        Government => "government", "党政机关";
        /// Schools and universities (教育).
        Education => "education", "教育";
        /// Hospitals and health care (卫生健康).
        Health => "health", "卫生健康";
        /// Power, oil and gas (能源).
        Energy => "energy", "能源";
        /// Banks, insurance, securities (金融).
        Finance => "finance", "金融";
        /// Water supply and treatment (水利).
        Water => "water", "水利";
        /// Transport (交通).
        Transport => "transport", "交通";
        /// Telecommunications (电信).
        Telecom => "telecom", "电信";
        /// Anything else (其他).
        Other => "other", "其他";
    }
);

word_enum!(
    /// What an asset is; decides how its identity is written and how it is attributed.
    AssetKind, "asset kind", "website, domain, ip, cidr, system" {
        /// A web site, identified by its URL (`https://www.example.gov.cn/`).
        Website => "website", "网站";
        /// A DNS domain; `*.example.cn` also covers every subdomain.
        Domain => "domain", "域名";
        /// One IPv4 or IPv6 address.
        Ip => "ip", "IP地址";
        /// An IPv4 or IPv6 network range in CIDR notation.
        Cidr => "cidr", "IP段";
        /// An information system, identified by its name within its organisation.
        System => "system", "信息系统";
    }
);

word_enum!(
    /// What a user may do; always together with an org subtree that limits where.
    Role, "role", "admin, analyst, officer, viewer" {
        /// Manages the registry, users and tokens within the subtree.
        Admin => "admin", "管理员";
        /// Works findings and notices, runs hunts and probes within the subtree.
        Analyst => "analyst", "分析员";
        /// An organisation's security officer: answers notices, maintains own assets.
        Officer => "officer", "安全员";
        /// Reads everything within the subtree, changes nothing.
        Viewer => "viewer", "只读";
    }
);

impl Role {
    /// True for roles that may change anything at all; a viewer may not.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_reject_unknown() {
        for s in Sector::ALL {
            assert_eq!(s.as_str().parse::<Sector>(), Ok(*s));
            assert_eq!(s.label_zh().parse::<Sector>(), Ok(*s));
        }
        for k in AssetKind::ALL {
            assert_eq!(k.to_string().to_uppercase().parse::<AssetKind>(), Ok(*k));
        }
        let err = "mining".parse::<Sector>().unwrap_err();
        assert_eq!(err.what, "sector");
        assert!(err.to_string().contains("telecom"));
        assert!(!Role::Viewer.can_write() && Role::Officer.can_write());
        assert_eq!(
            serde_json::to_string(&OrgKind::Township).unwrap(),
            "\"township\""
        );
    }
}
