//! The macro behind the field-by-field conversions between the core's types
//! and the records of the foreign API.

/// Implements `From<$from> for $to` for two structs with the same fields,
/// converting each with `Into`. Both sides are written out whole, so a field
/// added to either struct is a compile error here rather than a field the
/// bindings silently drop.
macro_rules! convert_fields {
    ($($from:ident)::+ => $($to:ident)::+ { $($field:ident),+ $(,)? }) => {
        impl From<$($from)::+> for $($to)::+ {
            fn from(value: $($from)::+) -> Self {
                let $($from)::+ { $($field),+ } = value;
                $($to)::+ { $($field: $field.into()),+ }
            }
        }
    };
}
