//! What the bindings say about a value JSON cannot hold (docs/reference/errors.md): the
//! messages of the field errors their conversions report, one wording for
//! Python, Kotlin and Swift. Each goes with the [`ValidationCode`] its
//! constant names. No message quotes the value (it may be a password).
//!
//! [`ValidationCode`]: crate::ValidationCode

/// A string holding lone surrogate code points (`string_unicode`).
pub const NOT_UNICODE: &str = "must be Unicode text (it holds lone surrogate code points)";

/// An object key holding lone surrogate code points (`string_unicode`).
pub const KEY_NOT_UNICODE: &str =
    "keys must be Unicode text (one holds lone surrogate code points)";

/// NaN or an infinity (`finite_number`).
pub const NOT_FINITE: &str = "must be a finite number (NaN and infinity are not JSON numbers)";

/// An integer beyond 64 bits, signed or unsigned (`number_out_of_range`).
pub const INTEGER_RANGE: &str =
    "must be an integer from -9223372036854775808 to 18446744073709551615";

/// A number written beyond the range of a double, such as `1e400`
/// (`number_out_of_range`).
pub const FLOAT_RANGE: &str = "must be a number within the range of a double (about ±1.8e308)";
