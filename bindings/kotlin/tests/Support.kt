// Helpers shared by the suites: cheap stores, temporary folders, and
// assertions on RosterException.
package rosterdb.tests

import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertFailsWith
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.StoreOptions

/** Argon2id parameters that make hashing cheap, for tests only. */
val CHEAP = StoreOptions(argon2MemoryKib = 8u, argon2Iterations = 1u, argon2Parallelism = 1u)

/** A fresh in-memory store with cheap hashing. */
fun memoryStore(): RosterStore = RosterStore.memory(CHEAP)

/** A fresh in-memory store with cheap hashing and these lockout and TOTP options (`null`: the default). */
fun authStore(lockoutThreshold: UInt? = null, lockoutSeconds: ULong? = null, totpIssuer: String? = null): RosterStore =
    RosterStore.memory(CHEAP.copy(lockoutThreshold = lockoutThreshold, lockoutSeconds = lockoutSeconds, totpIssuer = totpIssuer))

/**
 * Asserts that [body] fails with exactly `AuthenticationFailed`, the one
 * error of every failed check, telling nothing of the reason.
 */
fun assertAuthFails(what: String = "", body: () -> Unit): RosterException.AuthenticationFailed {
    val e = assertFailsWith<RosterException> { body() }
    kotlin.test.assertEquals(RosterException.AuthenticationFailed::class, e::class, "$what: $e")
    kotlin.test.assertEquals("authentication failed", e.toString(), what)
    return e as RosterException.AuthenticationFailed
}

/** Asserts that [body] fails with exactly `InvalidToken`. */
fun assertInvalidToken(what: String = "", body: () -> Unit) {
    val e = assertFailsWith<RosterException> { body() }
    kotlin.test.assertEquals(RosterException.InvalidToken::class, e::class, "$what: $e")
}

/** Asserts that [body] fails with `InvalidArgument` naming [argument]. */
fun assertInvalidArgument(argument: String, body: () -> Unit): RosterException.InvalidArgument {
    val e = assertFailsWith<RosterException.InvalidArgument> { body() }
    kotlin.test.assertEquals(argument, e.argument, e.toString())
    kotlin.test.assertTrue(e.reason.isNotEmpty())
    kotlin.test.assertEquals("invalid argument $argument: ${e.reason}", e.toString())
    return e
}

/** Runs [body] with a new temporary folder, deleted afterwards. */
fun <T> withTempDir(body: (Path) -> T): T {
    val dir = Files.createTempDirectory("rosterdb-kotlin-")
    try {
        return body(dir)
    } finally {
        dir.toFile().deleteRecursively()
    }
}

/** An RFC 3339 UTC timestamp with milliseconds, as the store writes them. */
val RFC3339_MILLIS = Regex("""\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z""")

/** Asserts that [body] throws a Validation error on exactly [fields]. */
fun assertInvalid(vararg fields: String, body: () -> Unit): RosterException.Validation {
    val e = assertFailsWith<RosterException.Validation> { body() }
    kotlin.test.assertEquals(fields.toSet(), e.errors.map { it.field }.toSet(), e.toString())
    return e
}

/**
 * The tests' `use` for stores (it shadows Kotlin's for this package): runs
 * [block], then, when it succeeded, checks that the store's indexes match
 * its records (SPEC §8 `check()`), and closes the store either way. Scoped
 * views, which refuse `check()`, are only closed.
 */
inline fun <R> RosterStore.use(block: (RosterStore) -> R): R {
    try {
        val result = block(this)
        val report = try {
            check()
        } catch (e: RosterException.Storage) {
            null
        }
        if (report != null) {
            kotlin.test.assertTrue(report.ok, "the store is inconsistent: ${report.problems}")
        }
        return result
    } finally {
        close()
    }
}

/** The message of every text that holds lone surrogates (never the value). */
const val NOT_UNICODE = "must be Unicode text (it holds lone surrogate code points)"
