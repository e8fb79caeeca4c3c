//! The attributes rosterdb serves over SCIM (RFC 7643 §4, §7): one table
//! per resource type, from which `/Schemas` is written and against which
//! attribute paths (filters, PATCH, `attributes`) are resolved, so what is
//! declared is exactly what is supported.

use serde_json::{Value, json};

/// The URN of the core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The URN of the core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

/// When an attribute may be written (RFC 7643 §7 `mutability`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §7 `returned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Returned {
    Always,
    Never,
    Default,
}

/// One attribute of a schema.
#[derive(Debug)]
pub(crate) struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub multi: bool,
    pub required: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    /// Unique per tenant (rosterdb checks it case-insensitively).
    pub unique: bool,
    pub case_exact: bool,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub: &'static [Attr],
    pub description: &'static str,
}

const fn attr(name: &'static str, kind: Kind, description: &'static str) -> Attr {
    Attr {
        name,
        kind,
        multi: false,
        required: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        case_exact: false,
        canonical: &[],
        reference_types: &[],
        sub: &[],
        description,
    }
}

impl Attr {
    const fn required(mut self) -> Attr {
        self.required = true;
        self
    }
    const fn multi(mut self) -> Attr {
        self.multi = true;
        self
    }
    const fn unique(mut self) -> Attr {
        self.unique = true;
        self
    }
    const fn case_exact(mut self) -> Attr {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, mutability: Mutability) -> Attr {
        self.mutability = mutability;
        self
    }
    const fn returned(mut self, returned: Returned) -> Attr {
        self.returned = returned;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Attr {
        self.canonical = values;
        self
    }
    const fn references(mut self, types: &'static [&'static str]) -> Attr {
        self.reference_types = types;
        self
    }
    const fn sub(mut self, sub: &'static [Attr]) -> Attr {
        self.sub = sub;
        self
    }

    /// The sub-attribute called `name` (case-insensitively, RFC 7643 §2.1).
    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The attribute as `/Schemas` describes it (RFC 7643 §7).
    fn to_json(&self) -> Value {
        let kind = match self.kind {
            Kind::String => "string",
            Kind::Boolean => "boolean",
            Kind::DateTime => "dateTime",
            Kind::Reference => "reference",
            Kind::Complex => "complex",
        };
        let mutability = match self.mutability {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        };
        let returned = match self.returned {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
        };
        let mut out = json!({
            "name": self.name,
            "type": kind,
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": mutability,
            "returned": returned,
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if let Value::Object(map) = &mut out {
            if !self.canonical.is_empty() {
                map.insert("canonicalValues".into(), json!(self.canonical));
            }
            if !self.reference_types.is_empty() {
                map.insert("referenceTypes".into(), json!(self.reference_types));
            }
            if !self.sub.is_empty() {
                let sub: Vec<Value> = self.sub.iter().map(Attr::to_json).collect();
                map.insert("subAttributes".into(), Value::Array(sub));
            }
        }
        out
    }
}

use Kind::{Boolean, Complex, Reference, String as Str};
use Mutability::{Immutable, ReadOnly, WriteOnly};

/// The User attributes: rosterdb's `username`, `firstName`, `lastName`,
/// `nickname`, `email`, `telephoneNumber`, `mobileNumber`, `enabled`,
/// `password` and, read-only, the roles held as `groups`.
pub(crate) static USER_ATTRS: &[Attr] = &[
    attr(
        "userName",
        Str,
        "Unique identifier for the user (rosterdb username).",
    )
    .required()
    .unique(),
    attr("name", Complex, "The user's name.").required().sub(&[
        attr("givenName", Str, "Given name (rosterdb firstName).").required(),
        attr("familyName", Str, "Family name (rosterdb lastName).").required(),
    ]),
    attr(
        "displayName",
        Str,
        "Name shown for the user (rosterdb nickname).",
    ),
    attr(
        "emails",
        Complex,
        "The user's one email address (rosterdb email).",
    )
    .multi()
    .required()
    .sub(&[
        attr("value", Str, "Email address.").required().unique(),
        attr("type", Str, "Always work.").canonical(&["work"]),
    ]),
    attr(
        "phoneNumbers",
        Complex,
        "Work (telephoneNumber) and mobile (mobileNumber) numbers.",
    )
    .multi()
    .sub(&[
        attr("value", Str, "Phone number.").required(),
        attr("type", Str, "work or mobile.").canonical(&["work", "mobile"]),
    ]),
    attr(
        "active",
        Boolean,
        "Whether the user may log in (rosterdb enabled).",
    )
    .required(),
    attr("password", Str, "The user's password; never returned.")
        .mutability(WriteOnly)
        .returned(Returned::Never)
        .case_exact(),
    attr(
        "groups",
        Complex,
        "The groups (rosterdb roles) the user holds.",
    )
    .multi()
    .mutability(ReadOnly)
    .sub(&[
        attr("value", Str, "Group id.").mutability(ReadOnly),
        attr("$ref", Reference, "Group URI.")
            .mutability(ReadOnly)
            .references(&["Group"]),
        attr("display", Str, "Group name.").mutability(ReadOnly),
    ]),
];

/// The Group attributes: a role's `name`, and the users holding it.
pub(crate) static GROUP_ATTRS: &[Attr] = &[
    attr("displayName", Str, "The group's name (rosterdb role name).")
        .required()
        .unique(),
    attr("members", Complex, "The users holding the role.")
        .multi()
        .sub(&[
            attr("value", Str, "User id.").mutability(Immutable),
            attr("$ref", Reference, "User URI.")
                .mutability(Immutable)
                .references(&["User"]),
            attr("type", Str, "Always User.")
                .mutability(Immutable)
                .canonical(&["User"]),
        ]),
];

/// The attributes every resource has (RFC 7643 §3.1), found before a
/// schema's own.
pub(crate) static COMMON_ATTRS: &[Attr] = &[
    attr("id", Str, "Store-assigned id.")
        .mutability(ReadOnly)
        .returned(Returned::Always)
        .case_exact(),
    attr(
        "externalId",
        Str,
        "The provisioning client's id (a User's rosterdb externalIds entry of type scim, \
         a Group's role externalId).",
    )
    .case_exact(),
    attr("meta", Complex, "Resource metadata.")
        .mutability(ReadOnly)
        .sub(&[
            attr("resourceType", Str, "User or Group.")
                .mutability(ReadOnly)
                .case_exact(),
            attr("created", Kind::DateTime, "Creation time.").mutability(ReadOnly),
            attr("lastModified", Kind::DateTime, "Last change.").mutability(ReadOnly),
            attr("location", Reference, "Resource URI.").mutability(ReadOnly),
            attr("version", Str, "Weak ETag of the version.")
                .mutability(ReadOnly)
                .case_exact(),
        ]),
];

/// A resource type rosterdb serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `/Users`, from rosterdb users.
    User,
    /// `/Groups`, from rosterdb roles.
    Group,
}

impl Resource {
    /// `User` or `Group`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Group => "Group",
        }
    }

    /// `/Users` or `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            Resource::User => "/Users",
            Resource::Group => "/Groups",
        }
    }

    /// The core schema URN.
    pub fn schema(self) -> &'static str {
        match self {
            Resource::User => USER_SCHEMA,
            Resource::Group => GROUP_SCHEMA,
        }
    }

    /// The resource type's own attributes.
    pub(crate) fn attrs(self) -> &'static [Attr] {
        match self {
            Resource::User => USER_ATTRS,
            Resource::Group => GROUP_ATTRS,
        }
    }

    /// The top-level attribute `name` (case-insensitively, with or
    /// without the schema URN prefix).
    pub(crate) fn attr(self, name: &str) -> Option<&'static Attr> {
        let name = self.strip_urn(name);
        COMMON_ATTRS
            .iter()
            .chain(self.attrs())
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// `name` without a leading `<schema URN>:`.
    pub(crate) fn strip_urn(self, name: &str) -> &str {
        let urn = self.schema();
        match name.get(..urn.len()) {
            Some(head) if head.eq_ignore_ascii_case(urn) => name
                .get(urn.len()..)
                .and_then(|rest| rest.strip_prefix(':'))
                .unwrap_or(name),
            _ => name,
        }
    }

    /// The schema resource as `/Schemas/{id}` returns it.
    pub(crate) fn schema_json(self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self.attrs().iter().map(Attr::to_json).collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.schema(),
            "name": self.name(),
            "description": match self {
                Resource::User => "User Account",
                Resource::Group => "Group",
            },
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.schema()),
            },
        })
    }
}
