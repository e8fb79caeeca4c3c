// Helpers shared by the suites: cheap stores, temporary folders, and
// assertions on RosterException.
package rosterdb.tests

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread
import kotlin.test.assertFailsWith
import rosterdb.ExternalId
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.Secret
import rosterdb.StoreOptions

/** Argon2id parameters that make hashing cheap, for tests only. */
val CHEAP = StoreOptions(argon2MemoryKib = 8u, argon2Iterations = 1u, argon2Parallelism = 1u)

/** A fresh in-memory store with cheap hashing. */
fun memoryStore(): RosterStore = RosterStore.memory(CHEAP)

/** A fresh in-memory store with cheap hashing and these lockout and TOTP options (`null`: the default). */
fun authStore(lockoutThreshold: UInt? = null, lockoutSeconds: ULong? = null, totpIssuer: String? = null): RosterStore =
    RosterStore.memory(CHEAP.copy(lockoutThreshold = lockoutThreshold, lockoutSeconds = lockoutSeconds, totpIssuer = totpIssuer))

/**
 * Grace Hopper as a new user with every optional field set: [roles],
 * [tenant], [enabled] and [attributes] as given, the others fixed (phone
 * numbers, a GitHub id, a password).
 */
fun graceHopper(
    roles: List<ULong>,
    tenant: String? = null,
    enabled: Boolean = true,
    attributes: String = """{"department": "Navy", "languages": ["COBOL"]}""",
) = NewUser(
    username = "grace",
    email = "grace@example.com",
    firstName = "Grace",
    lastName = "Hopper",
    nickname = "Amazing Grace",
    telephoneNumber = "+1 555 0100",
    mobileNumber = "+1 555 0199",
    tenant = tenant,
    enabled = enabled,
    roles = roles,
    externalIds = listOf(ExternalId(kind = "github", value = "1906")),
    attributes = attributes,
    password = Secret("cobol-forever-1959"),
)

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

/**
 * Runs [body] on [threads] threads at once (each given its number, from 0,
 * and named `"$name-<number>"`), released together, and waits for all of
 * them; then throws the first failure of any.
 */
fun concurrently(threads: Int, name: String, body: (Int) -> Unit) {
    val start = CountDownLatch(1)
    val failures = ConcurrentLinkedQueue<Throwable>()
    val workers = (0 until threads).map { t ->
        thread(name = "$name-$t") {
            try {
                start.await()
                body(t)
            } catch (e: Throwable) {
                failures += e
            }
        }
    }
    start.countDown()
    workers.forEach { it.join() }
    failures.firstOrNull()?.let { throw it }
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
 * its records (docs/reference/changes-and-export.md `check()`), and closes the store either way.
 * Scoped views, which refuse `check()`, are only closed.
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
