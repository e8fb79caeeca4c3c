//! Transactions: `RosterStore.transaction(body)` runs a `TransactionBody`
//! written in Kotlin or Swift with a `RosterTransaction`, then commits or
//! rolls back. The states and their errors (not begun, open, finished;
//! `Closed`, `Busy`) are the core's `TxHandle`'s.

use std::sync::Arc;

use rosterdb::TxHandle;

use crate::error::guard;
use crate::{RosterError, RosterStore};

/// The work of a transaction, implemented in Kotlin or Swift and given to
/// `RosterStore.transaction`.
///
/// In Kotlin, use the `transaction { tx -> … }` function shipped beside the
/// generated code (`bindings/kotlin/src/rosterdb/Transactions.kt`): it
/// commits when the block returns, rolls back when it throws, and rethrows
/// what it threw unchanged.
#[uniffi::export(callback_interface)]
pub trait TransactionBody: Send + Sync {
    /// Does the transaction's work through `tx` and returns whether to
    /// commit it: `true` commits, `false` rolls it back. Throwing a
    /// `RosterException` (`RosterError` in Swift) rolls it back, and
    /// `transaction` throws the same error; throwing anything else rolls
    /// it back, and `transaction` throws `Aborted` with its description.
    /// (The answer is a `Boolean`, not `Unit`, because the generated Kotlin
    /// lets a `java.lang.Error` such as a failed assertion escape into JNA,
    /// which ignores it: the call then answers `false`, and the transaction
    /// rolls back rather than commits.)
    fn run(&self, tx: Arc<RosterTransaction>) -> Result<bool, RosterError>;
}

/// An open transaction, as a `TransactionBody` receives it: the record,
/// query and account calls of `RosterStore` (not the whole-store ones, and
/// not `verifyPassword`, `login` and `clientLogin`, which run on their own),
/// all joining this transaction.
///
/// Its writes commit together or not at all; its reads and walks see its own
/// writes; in a scoped view's transaction, they see the view's tenant. Once
/// the transaction ended, every call is `Closed` ("the transaction is
/// finished"), and so is every call once the store is closed. From the
/// thread running the body, a write through the store (or a view, or a
/// second `transaction`) is `Busy`: it would wait for this transaction
/// forever. Reads through the store see the last commit.
#[derive(uniffi::Object)]
pub struct RosterTransaction {
    tx: Arc<TxHandle>,
}

impl RosterTransaction {
    /// Where this transaction's calls go.
    pub(crate) fn target(&self) -> &Arc<TxHandle> {
        &self.tx
    }
}

#[uniffi::export]
impl RosterTransaction {
    /// The tenant of the scoped view it was made from; `null`/`nil` for the
    /// whole store.
    pub fn tenant(&self) -> Option<String> {
        self.tx.tenant().map(str::to_owned)
    }
}

#[uniffi::export]
impl RosterStore {
    /// Runs `body` in one write transaction of this store (of this view's
    /// tenant, for a scoped view), waiting while another thread's
    /// transaction is open.
    ///
    /// Commits when `body.run` returns `true`; rolls back when it returns
    /// `false` or throws. A `RosterException` it throws is thrown here as
    /// it was; anything else is `Aborted`. A commit that fails is thrown
    /// here, and so is `Closed` when the store was closed while the body
    /// ran (the transaction was then rolled back). Before the body runs:
    /// `Closed` for a closed store, `Busy` from inside another transaction
    /// of this thread. A rollback that fails after the body threw leaves
    /// the body's error to be thrown.
    pub fn transaction(&self, body: Box<dyn TransactionBody>) -> Result<(), RosterError> {
        guard(|| {
            let tx = Arc::new(self.target().transaction());
            tx.begin()?;
            // Ends the transaction even if the body's call panics, while the
            // foreign side may still hold the `RosterTransaction`.
            let ending = RollbackOnDrop(Arc::clone(&tx));
            let outcome = body.run(Arc::new(RosterTransaction {
                tx: Arc::clone(&tx),
            }));
            let ended = match outcome {
                Ok(commit) => tx.end(commit).map_err(RosterError::from),
                // The body's error is the one to report; the rollback ends
                // the transaction whether it reports an error or not.
                Err(error) => {
                    drop(tx.end(false));
                    Err(error)
                }
            };
            drop(ending);
            ended
        })
    }
}

/// Rolls the transaction back when dropped, unless it ended already (then
/// ending it again does nothing).
struct RollbackOnDrop(Arc<TxHandle>);

impl Drop for RollbackOnDrop {
    fn drop(&mut self) {
        // A rollback error here has no caller left to report to.
        drop(self.0.end(false));
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for RosterError {
    /// A transaction body threw something other than a `RosterException`.
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        RosterError::Aborted { reason: e.reason }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::{EntityKind, ListQuery};

    /// A body that creates a user, keeps its transaction, then answers `answer`.
    struct Body {
        answer: Result<bool, RosterError>,
        kept: Mutex<Option<Arc<RosterTransaction>>>,
    }

    fn body(answer: Result<bool, RosterError>) -> Arc<Body> {
        Arc::new(Body {
            answer,
            kept: Mutex::new(None),
        })
    }

    impl TransactionBody for Arc<Body> {
        fn run(&self, tx: Arc<RosterTransaction>) -> Result<bool, RosterError> {
            let doc = r#"{"username": "ann", "email": "ann@example.com", "firstName": "A", "lastName": "B"}"#;
            tx.create_user_json(doc.into())?;
            *self.kept.lock().unwrap() = Some(tx);
            self.answer.clone()
        }
    }

    fn users(store: &RosterStore) -> u64 {
        store.count(EntityKind::User, ListQuery::default()).unwrap()
    }

    #[test]
    fn the_body_s_answer_commits_or_rolls_back() {
        let store = RosterStore::memory(None).unwrap();
        store.transaction(Box::new(body(Ok(false)))).unwrap();
        assert_eq!(users(&store), 0, "false rolls back");
        let error = RosterError::Locked;
        assert_eq!(
            store.transaction(Box::new(body(Err(error.clone())))),
            Err(error),
            "the body's error is the call's"
        );
        assert_eq!(users(&store), 0, "an error rolls back");
        let committed = body(Ok(true));
        store.transaction(Box::new(Arc::clone(&committed))).unwrap();
        assert_eq!(users(&store), 1, "true commits");
        let kept = committed.kept.lock().unwrap().clone().unwrap();
        assert!(matches!(
            kept.get_user(1),
            Err(RosterError::Closed { reason }) if reason == "the transaction is finished"
        ));
    }

    /// A body that keeps its transaction, writes, then panics.
    struct Panics(Mutex<Option<Arc<RosterTransaction>>>);

    impl TransactionBody for Arc<Panics> {
        fn run(&self, tx: Arc<RosterTransaction>) -> Result<bool, RosterError> {
            let doc = r#"{"username": "bob", "email": "bob@example.com", "firstName": "B", "lastName": "B"}"#;
            tx.create_user_json(doc.into())?;
            *self.0.lock().unwrap() = Some(tx);
            panic!("the body broke");
        }
    }

    #[test]
    fn a_panic_in_the_body_rolls_back_though_the_transaction_is_held() {
        let store = RosterStore::memory(None).unwrap();
        let panics = Arc::new(Panics(Mutex::new(None)));
        assert!(matches!(
            store.transaction(Box::new(Arc::clone(&panics))),
            Err(RosterError::Internal { reason }) if reason.contains("the body broke")
        ));
        assert_eq!(users(&store), 0);
        assert!(panics.0.lock().unwrap().is_some(), "still held");
        store.transaction(Box::new(body(Ok(true)))).unwrap();
        assert_eq!(users(&store), 1, "the writer lock was let go");
    }

    #[test]
    fn a_foreign_error_that_is_no_roster_error_is_aborted() {
        let unexpected = uniffi::UnexpectedUniFFICallbackError::new("java.lang.Oops: no");
        let error = RosterError::from(unexpected);
        assert_eq!(
            error,
            RosterError::Aborted {
                reason: "java.lang.Oops: no".into()
            }
        );
        assert_eq!(
            error.to_string(),
            "the transaction was rolled back: its body threw java.lang.Oops: no"
        );
    }
}
