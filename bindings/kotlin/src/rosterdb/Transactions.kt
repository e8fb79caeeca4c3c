// Hand-written Kotlin shipped with the generated bindings: copy it beside
// the generated rosterdb.kt (bindings/README.md, "Android, step by step").
package rosterdb

/**
 * Runs [body] in one write transaction of this store (of this view's tenant,
 * for a scoped view) and returns what it returns.
 *
 * The transaction commits when [body] returns and rolls back when it
 * throws; what it threw (any [Throwable], a failed assertion included) is
 * rethrown here unchanged, with a failed rollback, if any, added to it as
 * suppressed. Calls through `tx` join the transaction and see its writes;
 * from this thread, a write through the store, a view or a nested
 * `transaction` is [RosterException.Busy]. A commit that fails throws its
 * [RosterException]; so does [RosterException.Closed] when the store was
 * closed meanwhile (the transaction was rolled back), and before [body]
 * runs, a closed store or a transaction already open in this thread.
 * `tx` is closed when [body] returns: keep no reference to it.
 *
 * ```
 * val (ann, bob) = store.transaction { tx ->
 *     tx.createUser(NewUser("ann", "ann@example.com", "Ann", "A")) to
 *         tx.createUser(NewUser("bob", "bob@example.com", "Bob", "B"))
 * }
 * ```
 */
fun <T> RosterStore.transaction(body: (tx: RosterTransaction) -> T): T {
    val run = TransactionRun(body)
    try {
        transaction(run)
    } catch (e: RosterException) {
        val failed = run.outcome?.exceptionOrNull() ?: throw e
        failed.addSuppressed(e)
        throw failed
    }
    val outcome = checkNotNull(run.outcome) { "the transaction ended without running its body" }
    return outcome.getOrThrow()
}

/** A [TransactionBody] that runs a Kotlin block and keeps what it returned or threw. */
private class TransactionRun<T>(private val body: (RosterTransaction) -> T) : TransactionBody {
    /** What [body] returned or threw; `null` until it ran. */
    @Volatile
    var outcome: Result<T>? = null

    override fun run(tx: RosterTransaction): Boolean {
        // Closed afterwards: the transaction is over, and its object would
        // otherwise keep the store file open until it is collected.
        val result = tx.use { runCatching { body(it) } }
        outcome = result
        return result.isSuccess
    }
}
