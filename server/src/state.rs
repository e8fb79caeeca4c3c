//! What every handler shares: the store and the configuration, and the
//! way store calls run off the async executor.

use std::sync::Arc;

use rosterdb::Store;

use crate::config::Config;
use crate::problem::Problem;

/// The state of the router.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) config: Arc<Config>,
}

impl AppState {
    /// Runs `f` with the store on tokio's blocking pool: store calls are
    /// synchronous, and a password check takes an Argon2 hash's time,
    /// which must not stall the executor's other requests.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, Problem> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(result) => result,
            Err(err) => {
                tracing::error!(error = %err, "a store call panicked or was cancelled");
                Err(Problem::internal())
            }
        }
    }
}
