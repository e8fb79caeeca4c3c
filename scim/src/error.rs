//! SCIM errors (RFC 7644 §3.12): an HTTP status, a `scimType` and a
//! detail, and how rosterdb's error kinds (docs/reference/errors.md) map to them.

use serde_json::{Value, json};

use crate::schema::Resource;

/// The URN of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A failed SCIM request. Its detail never holds a password or secret: it
/// names attributes, positions and rules, not the values sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status.
    pub status: u16,
    /// RFC 7644 Table 9's `scimType` (`invalidFilter`, `uniqueness`, …), when one applies.
    pub scim_type: Option<&'static str>,
    /// What went wrong, in words.
    pub detail: String,
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for ScimError {}

impl ScimError {
    /// An error of `status` and `scim_type`.
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 `invalidFilter` at a character position of the filter.
    pub fn invalid_filter(position: usize, message: String) -> Self {
        Self::new(
            400,
            Some("invalidFilter"),
            format!("invalid filter at position {position}: {message}"),
        )
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }

    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }

    /// 404 without a `scimType`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// The error body (status as a string, as RFC 7644 §3.12 shows it).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(kind), Value::Object(map)) = (self.scim_type, &mut body) {
            map.insert("scimType".into(), Value::String(kind.into()));
        }
        body
    }

    /// A rosterdb error of a request on `resource`, with rosterdb's field
    /// names turned into SCIM attribute names.
    pub(crate) fn from_store(error: rosterdb::Error, resource: Resource) -> Self {
        use rosterdb::Error as E;
        let name = |field: &str| scim_name(field, resource);
        match error {
            E::NotFound { key, .. } => {
                Self::not_found(format!("{} not found: {key}", resource.name()))
            }
            E::Conflict { field, .. } => Self::new(
                409,
                Some("uniqueness"),
                format!("{} {} is already taken", resource.name(), name(&field)),
            ),
            E::Validation { errors } => {
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", name(&e.field), e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                // A field the request may not set is RFC 7644's `mutability`.
                let fixed = errors.iter().any(|e| {
                    matches!(
                        e.code,
                        rosterdb::ValidationCode::ReadOnly | rosterdb::ValidationCode::Immutable
                    )
                });
                if fixed {
                    Self::mutability(detail)
                } else {
                    Self::invalid_value(detail)
                }
            }
            E::InvalidQuery { message, field, .. } => Self::new(
                400,
                Some("invalidFilter"),
                match field {
                    Some(field) => format!("invalid filter on {}: {message}", name(&field)),
                    None => format!("invalid filter: {message}"),
                },
            ),
            E::InvalidPatch { message, .. } => Self::invalid_value(message),
            E::VersionConflict { expected, actual } => Self::new(
                412,
                None,
                format!("If-Match names version {expected}; the resource is at version {actual}"),
            ),
            E::InUse { .. } => Self::new(409, None, error.to_string()),
            E::InvalidArgument { .. } => Self::invalid_value(error.to_string()),
            // Another process holds the file, the store is closing, or a
            // writer is in the way: the request may succeed later.
            E::Locked | E::Closed { .. } | E::Busy { .. } => Self::new(
                503,
                None,
                "the store cannot serve the request now; try again",
            ),
            other => Self::new(500, None, other.to_string()),
        }
    }
}

/// The SCIM attribute a rosterdb field (or field path, e.g.
/// `externalIds[0].value`) of `resource` is served as.
fn scim_name(field: &str, resource: Resource) -> String {
    let top = field.split(['.', '[']).next().unwrap_or(field);
    let mapped = match (resource, top) {
        (Resource::User, "username") => "userName",
        (Resource::User, "firstName") => "name.givenName",
        (Resource::User, "lastName") => "name.familyName",
        (Resource::User, "nickname") => "displayName",
        (Resource::User, "email") => "emails.value",
        (Resource::User, "telephoneNumber") => "phoneNumbers[type eq \"work\"].value",
        (Resource::User, "mobileNumber") => "phoneNumbers[type eq \"mobile\"].value",
        (Resource::User, "enabled") => "active",
        (Resource::User, "externalIds") => "externalId",
        (Resource::User, "roles") => "groups",
        (Resource::Group, "name") => "displayName",
        (_, "createdAt") => "meta.created",
        (_, "updatedAt") => "meta.lastModified",
        (_, other) => other,
    };
    mapped.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosterdb::{Error, FieldError, ValidationCode};

    #[test]
    fn an_unavailable_store_is_503() {
        let busy = ScimError::from_store(Error::Locked, Resource::User);
        assert_eq!((busy.status, busy.scim_type), (503, None));
    }

    #[test]
    fn a_read_only_field_is_mutability() {
        let error = Error::Validation {
            errors: vec![FieldError {
                field: "createdAt".into(),
                code: ValidationCode::ReadOnly,
                message: "is read-only".into(),
            }],
        };
        let scim = ScimError::from_store(error, Resource::User);
        assert_eq!((scim.status, scim.scim_type), (400, Some("mutability")));
        assert_eq!(scim.detail, "meta.created: is read-only");
    }
}
