//! Attribute definitions as RFC 7643 section 7 describes them, read from the schema documents.

use serde::{Deserialize, Serialize};

/// RFC 7643 §2.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    /// A Unicode string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An xsd:dateTime string.
    DateTime,
    /// Base64-encoded bytes.
    Binary,
    /// A URI.
    Reference,
    /// An object of sub-attributes.
    Complex,
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Freely updated.
    ReadWrite,
    /// Set once, never changed.
    Immutable,
    /// Written, never returned.
    WriteOnly,
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// Always returned, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded.
    Default,
    /// Returned only when named in `attributes`.
    Request,
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// No uniqueness rule.
    None,
    /// Unique within the tenant.
    Server,
    /// Unique across all tenants.
    Global,
}

/// One attribute (or sub-attribute) of a schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    /// The attribute name, in the case the schema gives it.
    pub name: String,
    /// The data type.
    #[serde(rename = "type")]
    pub kind: AttrType,
    /// Whether the value is an array.
    pub multi_valued: bool,
    /// Human-readable description.
    #[serde(default)]
    pub description: String,
    /// Whether a value must be present.
    pub required: bool,
    /// Whether string comparison is case-sensitive.
    #[serde(default)]
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// Uniqueness rule.
    #[serde(default = "no_uniqueness")]
    pub uniqueness: Uniqueness,
    /// Suggested values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    /// Resource types a reference may point at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    /// Sub-attributes of a complex attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
    /// For an attribute of a tenant-defined extension, the store's column holding its value.
    #[serde(skip)]
    pub column: Option<String>,
}

fn no_uniqueness() -> Uniqueness {
    Uniqueness::None
}

impl Attribute {
    /// The sub-attribute of that name, compared case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// `externalId` or `meta`, the common attributes outside every schema (RFC 7643 §3.1), by
/// their exact name as resources hold them. Made once: projection asks for them on every
/// rendered resource.
pub fn common(name: &str) -> Option<&'static Attribute> {
    static COMMON: std::sync::OnceLock<[Attribute; 2]> = std::sync::OnceLock::new();
    let [external_id, meta] = COMMON.get_or_init(|| {
        let attribute = |name: &str, kind, case_exact, mutability| Attribute {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact,
            mutability,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
            column: None,
        };
        [
            attribute("externalId", AttrType::String, true, Mutability::ReadWrite),
            attribute("meta", AttrType::Complex, false, Mutability::ReadOnly),
        ]
    });
    match name {
        "externalId" => Some(external_id),
        "meta" => Some(meta),
        _ => None,
    }
}
