//! Assets an organisation owns (websites, domains, IP addresses, CIDR ranges, information systems) and
//! their software inventory.

use crate::enums::AssetKind;
use crate::identity;
use crate::ids::{AssetId, OrgId, SoftwareId};
use crate::validate::{self, Errors, FieldError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Classified protection level under MLPS 2.0 (网络安全等级保护), 1 (lowest) to 5.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(try_from = "u8", into = "u8")]
#[schema(value_type = u8, minimum = 1, maximum = 5)]
pub struct MlpsLevel(u8);

impl MlpsLevel {
    /// The level as a number 1–5.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for MlpsLevel {
    type Error = String;

    fn try_from(v: u8) -> Result<Self, Self::Error> {
        if (1..=5).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!("protection level must be 1 to 5, got {v}"))
        }
    }
}

impl From<MlpsLevel> for u8 {
    fn from(l: MlpsLevel) -> u8 {
        l.0
    }
}

/// One registered asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Asset {
    /// Internal identifier.
    pub id: AssetId,
    /// The owning organisation.
    pub org_id: OrgId,
    /// What the asset is.
    pub kind: AssetKind,
    /// The normalised identity: URL, domain, address, network or system name (see [`identity`]).
    pub identity: String,
    /// Display name (e.g. the web site's title or the system's full name); may be empty.
    pub name: String,
    /// Free labels for grouping and filtering, sorted and unique.
    pub tags: Vec<String>,
    /// MLPS protection level, mainly for information systems.
    pub mlps_level: Option<MlpsLevel>,
    /// Part of critical information infrastructure (关键信息基础设施).
    pub critical_infrastructure: bool,
    /// Free-form notes.
    pub notes: String,
    /// When the asset was registered.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// What a caller supplies to register an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    /// The owning organisation.
    pub org_id: OrgId,
    /// What the asset is.
    pub kind: AssetKind,
    /// URL, domain, address, network or system name; normalised on the way in.
    pub identity: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// MLPS protection level 1–5.
    #[serde(default)]
    pub mlps_level: Option<MlpsLevel>,
    /// Critical-infrastructure flag.
    #[serde(default)]
    pub critical_infrastructure: bool,
    /// Notes.
    #[serde(default)]
    pub notes: String,
}

impl AssetInput {
    /// Validates every field and returns the input with identity and tags normalised.
    pub fn normalized(mut self) -> Result<Self, Vec<FieldError>> {
        let mut e = Errors::default();
        match identity::normalize(self.kind, &self.identity) {
            Ok(id) => self.identity = id,
            Err(msg) => e.add("identity", msg),
        }
        validate::check_text(&mut e, "name", &self.name, 200);
        match normalize_tags(&self.tags) {
            Ok(t) => self.tags = t,
            Err(msg) => e.add("tags", msg),
        }
        validate::check_text(&mut e, "notes", &self.notes, 10_000);
        e.finish().map(|()| self)
    }
}

/// A partial update of an asset: absent fields stay. Kind and identity are fixed: register a new asset
/// instead. Moving to another org is `org_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    /// New owner.
    #[serde(default)]
    pub org_id: Option<OrgId>,
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New labels (replace the old ones).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// New protection level; `0` clears it.
    #[serde(default)]
    pub mlps_level: Option<u8>,
    /// New critical-infrastructure flag.
    #[serde(default)]
    pub critical_infrastructure: Option<bool>,
    /// New notes.
    #[serde(default)]
    pub notes: Option<String>,
}

impl AssetPatch {
    /// Applies the patch to `asset` in memory, validating every field it touches.
    pub fn apply(&self, asset: &mut Asset) -> Result<(), Vec<FieldError>> {
        let mut e = Errors::default();
        if let Some(o) = self.org_id {
            asset.org_id = o;
        }
        if let Some(n) = &self.name {
            validate::check_text(&mut e, "name", n, 200);
            asset.name.clone_from(n);
        }
        if let Some(t) = &self.tags {
            match normalize_tags(t) {
                Ok(t) => asset.tags = t,
                Err(msg) => e.add("tags", msg),
            }
        }
        match self.mlps_level {
            None => {}
            Some(0) => asset.mlps_level = None,
            Some(l) => match MlpsLevel::try_from(l) {
                Ok(l) => asset.mlps_level = Some(l),
                Err(msg) => e.add("mlps_level", msg),
            },
        }
        if let Some(c) = self.critical_infrastructure {
            asset.critical_infrastructure = c;
        }
        if let Some(n) = &self.notes {
            validate::check_text(&mut e, "notes", n, 10_000);
            asset.notes.clone_from(n);
        }
        e.finish()
    }
}

/// Trims, de-duplicates and sorts tags; a tag is 1–64 characters without `;`, `,` or control characters.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 64 || t.contains([';', ',']) || t.chars().any(char::is_control) {
            return Err(format!(
                "tag {t:?} must be at most 64 characters without ';', ',' or control characters"
            ));
        }
        out.push(t.to_owned());
    }
    out.sort();
    out.dedup();
    if out.len() > 50 {
        return Err("at most 50 tags".into());
    }
    Ok(out)
}

/// One line of an asset's software inventory; matched against exploited-vulnerability warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Software {
    /// Internal identifier.
    pub id: SoftwareId,
    /// The asset that runs it.
    pub asset_id: AssetId,
    /// Vendor as commonly written (`Apache`, `致远互联`).
    pub vendor: String,
    /// Product name (`Tomcat`, `OA`).
    pub product: String,
    /// Version string as reported; may be empty when unknown.
    pub version: String,
    /// CPE 2.3 formatted string, when known.
    pub cpe: Option<String>,
    /// When the line was registered.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// What a caller supplies to add a software line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SoftwareInput {
    /// Vendor.
    pub vendor: String,
    /// Product.
    pub product: String,
    /// Version; empty when unknown.
    #[serde(default)]
    pub version: String,
    /// CPE 2.3 formatted string (`cpe:2.3:a:apache:tomcat:9.0.1:*:*:*:*:*:*:*`).
    #[serde(default)]
    pub cpe: Option<String>,
}

impl SoftwareInput {
    /// Every problem with the input's fields.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut e = Errors::default();
        validate::check_name(&mut e, "vendor", &self.vendor, 100);
        validate::check_name(&mut e, "product", &self.product, 200);
        validate::check_text(&mut e, "version", &self.version, 100);
        if let Some(c) = &self.cpe
            && let Err(msg) = check_cpe23(c)
        {
            e.add("cpe", msg);
        }
        e.finish()
    }
}

/// Checks the shape of a CPE 2.3 formatted string: `cpe:2.3:` then part (`a`, `o`, `h`) and ten more
/// colon-separated components (`\:` escapes a colon inside a component).
pub fn check_cpe23(cpe: &str) -> Result<(), String> {
    let Some(rest) = cpe.strip_prefix("cpe:2.3:") else {
        return Err("must start with \"cpe:2.3:\"".into());
    };
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ':' => parts.push(std::mem::take(&mut cur)),
            c if c.is_whitespace() => return Err("must not contain whitespace".into()),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    if parts.len() != 11 {
        return Err(format!(
            "must have 13 colon-separated components, found {}",
            parts.len() + 2
        ));
    }
    if !matches!(parts[0].as_str(), "a" | "o" | "h" | "*" | "-") {
        return Err("part must be a, o or h".into());
    }
    if parts.iter().any(String::is_empty) {
        return Err("components must not be empty (use * for any)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpe_shape() {
        assert!(check_cpe23("cpe:2.3:a:apache:tomcat:9.0.1:*:*:*:*:*:*:*").is_ok());
        assert!(check_cpe23("cpe:2.3:a:ex\\:ample:x:1:*:*:*:*:*:*:*").is_ok());
        assert!(check_cpe23("cpe:/a:apache:tomcat").is_err());
        assert!(check_cpe23("cpe:2.3:a:apache:tomcat:9").is_err());
        assert!(check_cpe23("cpe:2.3:x:apache:tomcat:9.0.1:*:*:*:*:*:*:*").is_err());
    }

    #[test]
    fn tags_and_levels() {
        assert_eq!(
            normalize_tags(&[" b".into(), "a".into(), "b".into(), "".into()]).unwrap(),
            ["a", "b"]
        );
        assert!(normalize_tags(&["a;b".into()]).is_err());
        assert!(serde_json::from_str::<MlpsLevel>("6").is_err());
        assert_eq!(serde_json::from_str::<MlpsLevel>("3").unwrap().get(), 3);
    }
}
