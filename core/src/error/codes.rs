//! Stable, machine-readable codes for field, query and patch errors.
//!
//! A code says what kind of problem an error reports, beside the message
//! that says it in words (as pydantic-core's error `type` strings do). The
//! strings of [`ValidationCode::as_str`], [`QueryCode::as_str`] and
//! [`PatchCode::as_str`] are part of the API: they never change meaning,
//! and new ones may be added (the enums are `#[non_exhaustive]`).
//! `docs/errors.md` lists every code with its meaning.

use std::fmt;

/// Defines a code enum: its variants with their snake_case strings, and
/// `ALL`, `as_str`, `parse`, `Display` and serde as those strings.
macro_rules! codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $name {
            /// Every code, in the order of the documentation.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable snake_case string of the code, e.g. `"missing"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The code whose [`as_str`](Self::as_str) is `text`; `None`
            /// for a string that names no code.
            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|code| code.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        text
                    ))
                })
            }
        }
    };
}

codes! {
    /// Why one field of a document fails: the code of a
    /// [`FieldError`](crate::FieldError) in a `Validation` error.
    pub enum ValidationCode {
        /// A required field is absent or `null`.
        Missing = "missing",
        /// The key is not a field of this kind of record.
        UnknownField = "unknown_field",
        /// The store sets this field; input may not (or, in an update, may
        /// only repeat the stored value).
        ReadOnly = "read_only",
        /// The field cannot change after creation (`tenant`).
        Immutable = "immutable",
        /// The field may not be given here: together with another field
        /// (`password` with `passwordHash`), or in this input (a plaintext
        /// password in an import file).
        NotAllowed = "not_allowed",
        /// The value must be a string.
        StringType = "string_type",
        /// The value must be a boolean.
        BoolType = "bool_type",
        /// The value (or the document) must be a JSON object.
        ObjectType = "object_type",
        /// The value must be a list of the stated items (ids, strings, objects).
        ListType = "list_type",
        /// The value is of a type JSON cannot hold (a binding's conversion:
        /// a `set`, a `bytes`, a dict key that is not a `str`).
        JsonType = "json_type",
        /// The text is not valid JSON.
        JsonInvalid = "json_invalid",
        /// A string holds lone surrogate code points, so it is not Unicode text.
        StringUnicode = "string_unicode",
        /// A float is NaN or infinite, which JSON cannot hold.
        FiniteNumber = "finite_number",
        /// A number is beyond the range the field or JSON value can hold
        /// (a 64-bit integer, a double, a role id up to 2^53 − 1).
        NumberOutOfRange = "number_out_of_range",
        /// The value must be a whole number in the stated range and is not
        /// (another type, a fraction or out of range), e.g. an imported `id`.
        InvalidNumber = "invalid_number",
        /// Objects and arrays nest deeper than allowed.
        TooDeep = "too_deep",
        /// The value is larger than allowed (`attributes` over 16 KiB as JSON).
        TooLarge = "too_large",
        /// The list has more entries than allowed.
        TooManyEntries = "too_many_entries",
        /// The string has fewer characters than allowed.
        StringTooShort = "string_too_short",
        /// The string has more characters than allowed.
        StringTooLong = "string_too_long",
        /// The string holds control characters the field does not allow.
        ControlCharacters = "control_characters",
        /// The string holds characters the field does not allow (a
        /// username's, tenant's or permission's alphabet; a password's
        /// RFC 8265 OpaqueString rules).
        InvalidCharacters = "invalid_characters",
        /// Not an e-mail address of the form `local@domain.tld`.
        InvalidEmail = "invalid_email",
        /// Not an IPv4 or IPv6 address or CIDR block.
        InvalidIp = "invalid_ip",
        /// A password or secret hash of a format or cost the store does not accept.
        InvalidHash = "invalid_hash",
        /// Not an RFC 3339 timestamp.
        InvalidTimestamp = "invalid_timestamp",
        /// The entry duplicates an earlier one of the same list.
        Duplicate = "duplicate",
        /// The value is not one of the allowed values (an import line's `kind`).
        NotOneOf = "not_one_of",
        /// A role the document names does not exist (in this tenant).
        RoleNotFound = "role_not_found",
        /// A scoped view's create names another tenant.
        TenantMismatch = "tenant_mismatch",
        /// A counter reached its largest value, 2^53 − 1 (ids of a kind, a
        /// record's version).
        LimitReached = "limit_reached",
        /// The record is not in a state that allows the call (a second
        /// factor enrolled twice, a confirmation with no enrolment waiting).
        InvalidState = "invalid_state",
    }
}

codes! {
    /// What is wrong with a query: the code of an `InvalidQuery` error.
    pub enum QueryCode {
        /// The text of a filter, sort, field list or field name is malformed
        /// (an unexpected character or token, an unterminated string, a bad
        /// escape, a malformed number).
        Syntax = "syntax",
        /// The filter nests `not` and parentheses deeper than allowed.
        TooDeep = "too_deep",
        /// A number literal no query value can hold.
        NumberOutOfRange = "number_out_of_range",
        /// A parameter's name or text holds lone surrogate code points, so
        /// it is not Unicode text (bindings).
        StringUnicode = "string_unicode",
        /// The query names a field the kind does not have.
        UnknownField = "unknown_field",
        /// The query names a write-only field (`password`, `passwordHash`).
        WriteOnly = "write_only",
        /// A literal or operator does not fit the field's type (a string for
        /// a boolean, a text pattern on a number, `null` with `<`).
        TypeMismatch = "type_mismatch",
        /// The sort names a field that cannot be sorted.
        NotSortable = "not_sortable",
        /// `fields` names something other than a top-level field.
        NotTopLevel = "not_top_level",
        /// A paging value (`page`, `pageSize`, `offset`, `limit`) is not a
        /// whole number in its range.
        InvalidPaging = "invalid_paging",
        /// Parameters that cannot be given together (two paging styles, a
        /// cursor with `page` or `offset`).
        ConflictingParameters = "conflicting_parameters",
        /// A parameter is given more than once.
        DuplicateParameter = "duplicate_parameter",
        /// A parameter's name or value is malformed (an empty name, a
        /// `withTotal` other than true or false, an empty `in:` list or item).
        InvalidParameter = "invalid_parameter",
        /// The cursor is empty, damaged, not a cursor, or from another
        /// collection or tenant.
        InvalidCursor = "invalid_cursor",
        /// A part of the query differs from the query the cursor continues.
        CursorMismatch = "cursor_mismatch",
    }
}

codes! {
    /// What is wrong with a JSON Patch operation: the code of an
    /// `InvalidPatch` error.
    pub enum PatchCode {
        /// The patch is not a JSON array of operations.
        NotAnArray = "not_an_array",
        /// The patch text is not valid JSON (bindings that take JSON text).
        JsonInvalid = "json_invalid",
        /// The operation is malformed: not a JSON object, members of the
        /// wrong shape, or values JSON cannot hold outside `value`.
        InvalidOperation = "invalid_operation",
        /// `op` is not one of add, remove, replace, move, copy, test.
        UnknownOp = "unknown_op",
        /// The operation lacks a member its `op` needs (`path`, `value`, `from`).
        MissingMember = "missing_member",
        /// `path` or `from` is not a valid JSON Pointer (or not a string).
        PointerSyntax = "pointer_syntax",
        /// The operation targets the whole document, which only replace may.
        RootTarget = "root_target",
        /// The operation changes or moves a read-only field.
        ReadOnly = "read_only",
        /// The operation reads or removes a write-only field, or sets one to
        /// something other than a string.
        WriteOnly = "write_only",
        /// `path` or `from` does not lead to a place the operation can use.
        PathNotFound = "path_not_found",
        /// A move into a place inside the value moved.
        MoveIntoItself = "move_into_itself",
        /// A `test` operation found another value.
        TestFailed = "test_failed",
        /// The operation (or the document it makes) nests deeper than allowed.
        TooDeep = "too_deep",
        /// The document the operations make grows past the size allowed.
        TooLarge = "too_large",
    }
}
