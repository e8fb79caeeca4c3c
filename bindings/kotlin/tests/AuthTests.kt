// Password checks through the binding (docs/reference/credentials.md: Passwords, Lockout, Second factor
// (TOTP)): each argument of
// verifyPassword, login, setUserPassword, unlockUser and the TOTP calls
// reaching the core (the lockout and issuer options too), their records and
// Secrets coming back, secrets kept out of toString(), and malformed or
// non-Unicode credentials as typed errors. What the core decides about a
// check (which failures, lockout rules, code replays, concurrent failures)
// is tested in Rust: core/tests/password_tests.rs and totp_tests.rs.
package rosterdb.tests

import java.io.ByteArrayOutputStream
import java.net.URI
import java.net.URLDecoder
import java.nio.ByteBuffer
import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import rosterdb.NewClient
import rosterdb.NewUser
import rosterdb.RosterStore
import rosterdb.Secret
import rosterdb.User

/**
 * RFC 6238 TOTP with HMAC-SHA-1, written here independently of the core's
 * (a wrong code here fails `confirmUserTotp`, so the tests below check it).
 */
object Totp {
    private const val ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    const val STEP = 30L

    /** RFC 4648 §6 base32, padding optional, case-insensitive. */
    fun base32Decode(text: String): ByteArray {
        val out = ByteArrayOutputStream()
        var buffer = 0
        var bits = 0
        for (c in text.trimEnd('=').uppercase()) {
            val value = ALPHABET.indexOf(c)
            require(value >= 0) { "not base32: $c" }
            buffer = (buffer shl 5) or value
            bits += 5
            if (bits >= 8) {
                bits -= 8
                out.write((buffer shr bits) and 0xff)
                buffer = buffer and ((1 shl bits) - 1)
            }
        }
        return out.toByteArray()
    }

    /** RFC 4226 HOTP of [key] at [counter], [digits] digits. */
    fun hotp(key: ByteArray, counter: Long, digits: Int): String {
        val mac = Mac.getInstance("HmacSHA1")
        mac.init(SecretKeySpec(key, "HmacSHA1"))
        val hash = mac.doFinal(ByteBuffer.allocate(8).putLong(counter).array())
        val offset = hash[hash.size - 1].toInt() and 0x0f
        val binary = ((hash[offset].toInt() and 0x7f) shl 24) or
            ((hash[offset + 1].toInt() and 0xff) shl 16) or
            ((hash[offset + 2].toInt() and 0xff) shl 8) or
            (hash[offset + 3].toInt() and 0xff)
        var modulus = 1
        repeat(digits) { modulus *= 10 }
        return (binary % modulus).toString().padStart(digits, '0')
    }

    /** The RFC 6238 code of [key] at [unixSeconds] (30 s steps). */
    fun code(key: ByteArray, unixSeconds: Long, digits: Int = 6): String = hotp(key, unixSeconds / STEP, digits)

    /** The current Unix time in seconds. */
    fun now(): Long = System.currentTimeMillis() / 1000
}

/** A user named [username] with [password], created in [store]. */
private fun userWithPassword(
    store: RosterStore,
    username: String,
    password: String,
    tenant: String? = null,
    enabled: Boolean = true,
): User = store.createUser(
    NewUser(username, "$username@example.com", "First", "Last", tenant = tenant, enabled = enabled, password = Secret(password)),
)

/** The base32 key of a TOTP enrolment of [id], confirmed with a current code; returns the key and the recovery codes. */
private fun enrolTotp(store: RosterStore, id: ULong): Pair<ByteArray, List<Secret>> {
    val enrollment = store.enrollUserTotp(id)
    val key = Totp.base32Decode(enrollment.secret.expose())
    val codes = store.confirmUserTotp(id, Totp.code(key, Totp.now()))
    return key to codes
}

/** The instant [seconds] after this one. */
private fun Instant.plusSeconds(seconds: ULong): Instant = plus(Duration.ofSeconds(seconds.toLong()))

fun authTests() = Suite("auth").apply {
    test("verifyPassword and login take the identifier, password and tenant and return the user") {
        authStore().use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val acme = userWithPassword(store, "ada", "acme horse 22", tenant = "acme")
            val checked = store.verifyPassword("ada", Secret("correct horse 1"))
            assertEquals(ada.id, checked.id)
            assertTrue(RFC3339_MILLIS.matches(assertNotNull(checked.lastLoginAt)), "a successful check sets lastLoginAt")
            assertEquals(checked, store.getUser(ada.id))
            assertEquals(acme.id, store.verifyPassword("ada", Secret("acme horse 22"), tenant = "acme").id)
            assertEquals(acme.id, store.login("ada", Secret("acme horse 22"), "acme", null, null).user.id)
            assertEquals(acme.id, store.scoped("acme").use { it.verifyPassword("ada", Secret("acme horse 22")).id })
            assertAuthFails { store.verifyPassword("ada", Secret("acme horse 22")) }
        }
    }

    test("the lockout options reach the core; unlockUser returns the unlocked user") {
        authStore(lockoutThreshold = 2u, lockoutSeconds = 3600uL).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            assertAuthFails { store.verifyPassword("ada", Secret("wrong horse 1")) }
            assertNull(store.getUser(ada.id).lockedUntil, "one failure of two")
            val before = Instant.now().truncatedTo(ChronoUnit.MILLIS)
            assertAuthFails { store.login("ada", Secret("wrong horse 2")) }
            val after = Instant.now()
            val until = Instant.parse(assertNotNull(store.getUser(ada.id).lockedUntil, "the second failure locks"))
            assertTrue(until >= before.plusSeconds(3600uL) && until <= after.plusSeconds(3600uL), "locked until $until")
            val unlocked = store.unlockUser(ada.id)
            assertNull(unlocked.lockedUntil)
            assertEquals(unlocked, store.getUser(ada.id))
            assertEquals(ada.id, store.verifyPassword("ada", Secret("correct horse 1")).id)
        }
        // The extremes of each option convert.
        for (options in listOf(
            CHEAP.copy(lockoutThreshold = 0u, lockoutSeconds = 1uL, totpIssuer = "x"),
            CHEAP.copy(lockoutThreshold = UInt.MAX_VALUE, lockoutSeconds = 31_536_000uL, totpIssuer = "é".repeat(100)),
        )) {
            RosterStore.memory(options).close()
        }
    }

    test("setUserPassword takes a Secret and returns the updated user") {
        authStore().use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val e = assertInvalid("password") { store.setUserPassword(ada.id, Secret("seven77")) }
            assertFalse(e.toString().contains("seven77"), e.toString())
            val changed = store.setUserPassword(ada.id, Secret("battery staple 2"))
            assertEquals(ada.version + 1uL, changed.version)
            assertEquals(changed, store.getUser(ada.id))
            assertEquals(ada.id, store.verifyPassword("ada", Secret("battery staple 2")).id)
            val bob = store.createUser(NewUser("bob", "bob@example.com", "Bob", "B"))
            assertTrue(store.setUserPassword(bob.id, Secret("a first password")).hasPassword)
        }
    }

    test("TOTP through the binding: the issuer option, the enrolment and recovery codes as Secrets, totpCode") {
        val issuer = "Acme Corp"
        authStore(totpIssuer = issuer).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val enrollment = store.enrollUserTotp(ada.id)
            val secret = enrollment.secret.expose()
            val parsed = URI(enrollment.uri.expose())
            assertEquals("otpauth", parsed.scheme)
            assertEquals("/$issuer:ada", parsed.path)
            val query = parsed.rawQuery.split("&").associate {
                val (k, v) = it.split("=", limit = 2)
                k to URLDecoder.decode(v, Charsets.UTF_8)
            }
            assertEquals(secret, query["secret"])
            assertEquals(issuer, query["issuer"])
            for (text in listOf(enrollment.toString(), enrollment.secret.toString(), enrollment.uri.toString())) {
                assertFalse(text.contains(secret) || text.contains("otpauth"), text)
            }

            val key = Totp.base32Decode(secret)
            val now = Totp.now()
            val recovery = store.confirmUserTotp(ada.id, Totp.code(key, now))
            assertEquals(10, recovery.size)
            val codes = recovery.map { it.expose() }
            assertTrue(codes.all { Regex("[a-z2-7]{5}-[a-z2-7]{5}").matches(it) }, codes.toString())
            assertFalse(codes.any { recovery.toString().contains(it) }, recovery.toString())
            assertTrue(store.getUser(ada.id).totpEnabled)

            val password = Secret("correct horse 1")
            assertAuthFails("no code") { store.login("ada", password) }
            val login = store.login("ada", password, totpCode = Totp.code(key, now + Totp.STEP))
            assertEquals(ada.id, login.user.id)
            assertEquals(ada.id, store.verifyPassword("ada", password, totpCode = codes[0]).id)

            val disabled = store.disableUserTotp(ada.id)
            assertFalse(disabled.totpEnabled)
            assertEquals(disabled, store.getUser(ada.id))
            assertEquals(ada.id, store.login("ada", password).user.id)
        }
    }

    test("secrets never show in toString(), Debug or error messages") {
        authStore().use { store ->
            val password = "correct horse 1"
            val ada = userWithPassword(store, "ada", password)
            val login = store.login("ada", Secret(password))
            val token = login.token.expose()
            assertTrue(Regex("rs_[A-Za-z0-9_-]{43}").matches(token), token)
            val created = store.createClient(NewClient("sync"))
            val clientLogin = store.clientLogin(created.client.clientId, created.secret)
            val rotated = store.rotateClientSecret(created.client.id)
            val enrollment = store.enrollUserTotp(ada.id)
            val recovery = store.confirmUserTotp(ada.id, Totp.code(Totp.base32Decode(enrollment.secret.expose()), Totp.now()))
            val secrets = listOf(password, token, clientLogin.token.expose(), rotated.expose(), created.secret.expose(), enrollment.secret.expose(), enrollment.uri.expose()) +
                recovery.map { it.expose() }
            val texts = listOf(
                login.toString(), clientLogin.toString(), rotated.toString(), enrollment.toString(), recovery.toString(),
                store.authenticate(token).toString(), store.userSessions(ada.id).toString(), store.getUser(ada.id).toString(),
                assertAuthFails { store.login("ada", Secret(password), totpCode = "000000x") }.toString(),
                assertAuthFails { store.clientLogin(created.client.clientId, created.secret) }.message ?: "",
            )
            assertTrue(login.toString().contains("token=Secret(***)"), login.toString())
            assertEquals("Secret(***)", rotated.toString())
            for (text in texts) {
                for (secret in secrets) assertFalse(text.contains(secret), "a secret in: $text")
            }
        }
    }

    test("empty, NUL and 1 MB credentials cross to the core and fail as typed errors") {
        val megabyte = 1 shl 20
        val bad = listOf("", "\u0000", "ada\u0000", "x".repeat(megabyte))
        authStore(lockoutThreshold = 0u).use { store ->
            val password = "correct horse 1"
            val ada = userWithPassword(store, "ada", password)
            val tina = userWithPassword(store, "tina", password)
            enrolTotp(store, tina.id)
            val pending = userWithPassword(store, "pending", password)
            store.enrollUserTotp(pending.id)
            val open = store.createClient(NewClient("open"))
            val fenced = store.createClient(NewClient("fenced", ipAllowlist = listOf("10.0.0.0/8")))
            for (b in bad) {
                val what = "${b.take(12).map { if (it < ' ') "\\u%04x".format(it.code) else "$it" }.joinToString("")} (${b.length} chars)"
                assertAuthFails("identifier $what") { store.verifyPassword(b, Secret(password)) }
                assertAuthFails("password $what") { store.verifyPassword("ada", Secret(b)) }
                assertAuthFails("tenant $what") { store.verifyPassword("ada", Secret(password), tenant = b) }
                assertAuthFails("code $what") { store.verifyPassword("tina", Secret(password), totpCode = b) }
                assertAuthFails("all $what") { store.login(b, Secret(b), b, null, b) }
                assertAuthFails("confirm $what") { store.confirmUserTotp(pending.id, b) }
                assertInvalidToken("token $what") { store.authenticate(b) }
                store.logout(b)
                assertAuthFails("client id $what") { store.clientLogin(b, open.secret) }
                assertAuthFails("client secret $what") { store.clientLogin(open.client.clientId, Secret(b)) }
                assertAuthFails("ip $what") { store.clientLogin(fenced.client.clientId, fenced.secret, ip = b) }
                assertInvalid("password") { store.setUserPassword(ada.id, Secret(b)) }
            }
            // None of it broke anything: the right credentials still work.
            assertEquals(ada.id, store.login("ada", Secret(password)).user.id)
            assertEquals(fenced.client.id, store.clientLogin(fenced.client.clientId, fenced.secret, ip = "10.0.0.1").client.id)
        }
    }

    test("a lone surrogate in a credential fails the check like any wrong value") {
        // Kotlin strings may hold unpaired UTF-16 surrogates, which no UTF-8
        // text can. They cross as WTF-8 (bindings/uniffi.toml), and a
        // credential holding one is checked with U+FFFD in place of each, as
        // in Python: it fails as any wrong value does, never with a
        // CharacterCodingException. A new password holding one is refused.
        authStore(lockoutThreshold = 0u).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val tina = userWithPassword(store, "tina", "correct horse 1")
            enrolTotp(store, tina.id)
            val pending = userWithPassword(store, "pending", "correct horse 1")
            store.enrollUserTotp(pending.id)
            val client = store.createClient(NewClient("fenced", ipAllowlist = listOf("10.0.0.0/8")))
            for (bad in listOf("\uD800", "ada\uDC00", "\uDC00\uD800", "correct horse 1\uD800")) {
                assertAuthFails("identifier") { store.verifyPassword(bad, Secret("correct horse 1")) }
                assertAuthFails("password") { store.verifyPassword("ada", Secret(bad)) }
                assertAuthFails("tenant") { store.login("ada", Secret("correct horse 1"), tenant = bad) }
                assertAuthFails("code") { store.login("tina", Secret("correct horse 1"), totpCode = bad) }
                assertAuthFails("confirm") { store.confirmUserTotp(pending.id, bad) }
                assertAuthFails("client id") { store.clientLogin(bad, client.secret, ip = "10.0.0.1") }
                assertAuthFails("client secret") { store.clientLogin(client.client.clientId, Secret(bad), ip = "10.0.0.1") }
                assertAuthFails("ip") { store.clientLogin(client.client.clientId, client.secret, ip = "10.0.0.1$bad") }
                assertInvalidToken("token") { store.authenticate(bad) }
                store.logout(bad)
                assertEquals(NOT_UNICODE, assertInvalid("password") { store.setUserPassword(ada.id, Secret(bad)) }.errors.single().message)
            }
            assertEquals(ada.id, store.login("ada", Secret("correct horse 1")).user.id)
            assertNull(store.getUser(ada.id).lockedUntil)
        }
    }
}
