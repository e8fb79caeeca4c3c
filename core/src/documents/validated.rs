//! An input form that has passed its kind's field rules once, so that a
//! create need not check them again.

/// An input form ([`NewUser`](crate::NewUser), [`NewRole`](crate::NewRole),
/// [`NewClient`](crate::NewClient)) that passed every field rule of its
/// kind that needs nothing from the store (its `validate`). Only the core
/// makes one: `validated` checks a form, `validated_from_json` reads and
/// checks one from its JSON document. The users' bulk create of validated
/// forms
/// ([`Collection::create_many_validated`](crate::Collection::create_many_validated))
/// does not check those rules again; it still checks what needs the store
/// or the view (the tenant a scoped view gives, the unique keys, the
/// roles), hashes passwords, and fails when the user ids run out, as
/// `create_many` does. Every other create takes the plain form
/// ([`Validated::into_input`]) and checks it.
///
/// The form is read-only inside, so it stays as checked.
#[derive(Clone, PartialEq)]
#[repr(transparent)]
pub struct Validated<N>(N);

impl<N> Validated<N> {
    /// Wraps a form the caller has just checked.
    pub(crate) fn checked(input: N) -> Self {
        Validated(input)
    }

    /// The form.
    pub fn input(&self) -> &N {
        &self.0
    }

    /// The form, to change (it must then be checked again to create it
    /// without its checks).
    pub fn into_input(self) -> N {
        self.0
    }
}

impl<N: std::fmt::Debug> std::fmt::Debug for Validated<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Validated").field(&self.0).finish()
    }
}
