//! The macro behind the field-by-field conversions between the core's types
//! and the records of the foreign API.

/// Implements `From<$from> for $to` for two structs with the same fields,
/// converting each with `Into`, or with the function given after its name
/// (`field: function`). Both sides are written out whole, so a field added
/// to either struct is a compile error here rather than a field the
/// bindings silently drop.
///
/// `convert_fields!(TryFrom …)` implements `TryFrom` instead, for records
/// with a field whose conversion can fail: its function returns a `Result`
/// with a [`RosterError`](crate::RosterError).
macro_rules! convert_fields {
    (TryFrom $($from:ident)::+ => $($to:ident)::+ { $($field:ident $(: $convert:expr)?),+ $(,)? }) => {
        impl TryFrom<$($from)::+> for $($to)::+ {
            type Error = $crate::RosterError;

            fn try_from(value: $($from)::+) -> Result<Self, $crate::RosterError> {
                let $($from)::+ { $($field),+ } = value;
                Ok($($to)::+ { $($field: convert_fields!(@try_field $field $(, $convert)?)),+ })
            }
        }
    };
    ($($from:ident)::+ => $($to:ident)::+ { $($field:ident $(: $convert:expr)?),+ $(,)? }) => {
        impl From<$($from)::+> for $($to)::+ {
            fn from(value: $($from)::+) -> Self {
                let $($from)::+ { $($field),+ } = value;
                $($to)::+ { $($field: convert_fields!(@field $field $(, $convert)?)),+ }
            }
        }
    };
    (@field $field:ident) => {
        $field.into()
    };
    (@field $field:ident, $convert:expr) => {
        $convert($field)
    };
    (@try_field $field:ident) => {
        $field.into()
    };
    (@try_field $field:ident, $convert:expr) => {
        $convert($field)?
    };
}

/// Converts each item of a list (`convert_fields!(… { items: all })`).
pub(crate) fn all<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}
