// Password checks through the binding (SPEC §6.1–6.3): the one
// AuthenticationFailed of every failed check, lockout (also from 20 threads
// at once), unlock, setUserPassword, TOTP with codes computed here by an
// independent RFC 6238 implementation, recovery codes, the store options of
// authentication, secrets kept out of toString(), and malformed input.
package rosterdb.tests

import java.io.ByteArrayOutputStream
import java.net.URI
import java.net.URLDecoder
import java.nio.ByteBuffer
import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlin.concurrent.thread
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import rosterdb.NewClient
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.Secret
import rosterdb.StoreOptions
import rosterdb.User

/** RFC 6238 TOTP with HMAC-SHA-1, written here independently of the core's. */
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

    /** A 6-digit code that is none of [key]'s codes from two steps back to three ahead. */
    fun wrongCode(key: ByteArray, at: Long): String {
        val window = (-2..3).map { code(key, at + it * STEP) }.toSet()
        return (0 until 1_000_000).asSequence()
            .map { "%06d".format((it * 7919L + 123_456L) % 1_000_000L) }
            .first { it !in window }
    }
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

/** An instant [seconds] after [at]. */
private fun Instant.plusSeconds(seconds: ULong): Instant = plus(Duration.ofSeconds(seconds.toLong()))

fun authTests() = Suite("auth").apply {
    test("the test's TOTP matches the RFC 6238 Appendix B SHA-1 vectors and RFC 4648 base32") {
        val seed = "12345678901234567890".toByteArray()
        val vectors = listOf(
            59L to "94287082",
            1111111109L to "07081804",
            1111111111L to "14050471",
            1234567890L to "89005924",
            2000000000L to "69279037",
            20000000000L to "65353130",
        )
        for ((time, code) in vectors) {
            assertEquals(code, Totp.code(seed, time, digits = 8), "T = $time")
            assertEquals(code.takeLast(6), Totp.code(seed, time), "6 digits at T = $time")
        }
        assertContentEquals(seed, Totp.base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
        val rfc4648 = listOf(
            "" to "", "f" to "MY======", "fo" to "MZXQ====", "foo" to "MZXW6===",
            "foob" to "MZXW6YQ=", "fooba" to "MZXW6YTB", "foobar" to "MZXW6YTBOI======",
        )
        for ((plain, encoded) in rfc4648) {
            assertEquals(plain, String(Totp.base32Decode(encoded)), encoded)
            assertEquals(plain, String(Totp.base32Decode(encoded.trimEnd('=').lowercase())), encoded)
        }
    }

    test("verifyPassword returns the user, found by username or email, in a tenant") {
        authStore().use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val acme = userWithPassword(store, "ada", "acme horse 22", tenant = "acme")
            val checked = store.verifyPassword("ADA", Secret("correct horse 1"))
            assertEquals(ada.id, checked.id)
            assertNotNull(checked.lastLoginAt, "a successful check sets lastLoginAt")
            assertTrue(RFC3339_MILLIS.matches(checked.lastLoginAt!!))
            assertEquals(ada.version, checked.version, "login bookkeeping is no update")
            assertEquals(checked, store.getUser(ada.id))
            assertEquals(ada.id, store.verifyPassword("Ada@Example.com", Secret("correct horse 1")).id)
            assertEquals(acme.id, store.verifyPassword("ada", Secret("acme horse 22"), tenant = "acme").id)
            assertEquals(acme.id, store.scoped("acme").use { it.verifyPassword("ada", Secret("acme horse 22")).id })
            assertEquals(acme.id, store.verifyPassword("ada", Secret("acme horse 22"), "acme", null).id)
            assertEquals(2, store.changes().size, "checks write nothing to the change log")
        }
    }

    test("every failed check of verifyPassword and login is the same AuthenticationFailed") {
        authStore(lockoutThreshold = 3u).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val acme = userWithPassword(store, "ada", "acme horse 22", tenant = "acme")
            val disabled = userWithPassword(store, "dis", "correct horse 1", enabled = false)
            val locked = userWithPassword(store, "lock", "correct horse 1")
            val noPassword = store.createUser(NewUser("nopw", "nopw@example.com", "No", "Password"))
            val tina = userWithPassword(store, "tina", "correct horse 1")
            val (key, _) = enrolTotp(store, tina.id)
            repeat(3) { assertAuthFails { store.verifyPassword("lock", Secret("wrong password")) } }
            assertNotNull(store.getUser(locked.id).lockedUntil)
            val changes = store.changes().size

            data class Case(val what: String, val identifier: String, val password: String, val tenant: String? = null, val code: String? = null, val user: ULong? = null)
            val cases = listOf(
                Case("unknown user", "ghost", "correct horse 1"),
                Case("unknown email", "ghost@example.com", "correct horse 1"),
                Case("wrong password", "ada", "wrong horse 1", user = ada.id),
                Case("wrong case of the password", "ada", "CORRECT HORSE 1", user = ada.id),
                Case("user of another tenant", "ada", "correct horse 1", tenant = "globex"),
                Case("the other tenant's password", "ada", "correct horse 1", tenant = "acme", user = acme.id),
                Case("disabled user", "dis", "correct horse 1", user = disabled.id),
                Case("locked user, right password", "lock", "correct horse 1"),
                Case("user without a password", "nopw", "correct horse 1", user = noPassword.id),
                Case("missing second factor", "tina", "correct horse 1", user = tina.id),
                Case("wrong second factor", "tina", "correct horse 1", code = Totp.wrongCode(key, Totp.now()), user = tina.id),
                Case("second factor with a wrong password", "tina", "wrong horse 1", code = Totp.code(key, Totp.now() + Totp.STEP), user = tina.id),
                Case("a code that is no recovery code", "tina", "correct horse 1", code = "aaaaa-aaaaa", user = tina.id),
            )
            val messages = mutableSetOf<String?>()
            for (case in cases) {
                val e1 = assertAuthFails("verifyPassword: ${case.what}") {
                    store.verifyPassword(case.identifier, Secret(case.password), case.tenant, case.code)
                }
                val e2 = assertAuthFails("login: ${case.what}") {
                    store.login(case.identifier, Secret(case.password), case.tenant, null, case.code)
                }
                messages += e1.message
                messages += e2.message
                // Clear the failure count, so that each case fails for its own reason.
                case.user?.let { assertNull(store.unlockUser(it).lockedUntil, case.what) }
            }
            assertEquals(1, messages.size, "one message for every failure: $messages")
            assertEquals(changes, store.changes().size, "failed checks are bookkeeping, not updates")
            assertEquals(ada.id, store.login("ada", Secret("correct horse 1")).user.id)
            assertEquals(disabled.version, store.getUser(disabled.id).version)
        }
    }

    test("lockout after lockoutThreshold failures until unlockUser") {
        authStore(lockoutThreshold = 3u, lockoutSeconds = 3600uL).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            repeat(2) { assertAuthFails { store.verifyPassword("ada", Secret("wrong horse $it")) } }
            assertNull(store.getUser(ada.id).lockedUntil, "two failures do not lock")
            val before = Instant.now().truncatedTo(ChronoUnit.MILLIS)
            assertAuthFails { store.login("ada", Secret("wrong horse 3")) }
            val after = Instant.now()
            val lockedUser = store.getUser(ada.id)
            val until = Instant.parse(assertNotNull(lockedUser.lockedUntil, "the third failure locks"))
            assertTrue(until >= before.plusSeconds(3600uL) && until <= after.plusSeconds(3600uL), "locked until $until")
            assertEquals(ada.version, lockedUser.version, "a lockout is bookkeeping")
            assertAuthFails("locked, right password") { store.verifyPassword("ada", Secret("correct horse 1")) }
            assertEquals(lockedUser, store.getUser(ada.id), "a check of a locked user changes nothing")

            val unlocked = store.unlockUser(ada.id)
            assertNull(unlocked.lockedUntil)
            assertEquals(ada.version + 1uL, unlocked.version, "unlocking a lock in force is an update")
            assertEquals(unlocked, store.getUser(ada.id))
            assertEquals(ada.id, store.verifyPassword("ada", Secret("correct horse 1")).id)
            assertEquals(unlocked.version, store.unlockUser(ada.id).version, "nothing to unlock: no update")
            assertFailsWith<RosterException.NotFound> { store.unlockUser(999uL) }
        }
        authStore(lockoutThreshold = 0u).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            repeat(12) { assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) } }
            assertNull(store.getUser(ada.id).lockedUntil, "threshold 0 never locks")
            store.verifyPassword("ada", Secret("correct horse 1"))
        }
        authStore().use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            repeat(4) { assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) } }
            assertNull(store.getUser(ada.id).lockedUntil, "the default threshold is 5")
            assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) }
            val until = Instant.parse(assertNotNull(store.getUser(ada.id).lockedUntil))
            val left = Duration.between(Instant.now(), until).seconds
            assertTrue(left in 890..900, "the default lock is 900 s, $left s left")
        }
    }

    test("a lock of lockoutSeconds = 1 ends by itself") {
        authStore(lockoutThreshold = 1u, lockoutSeconds = 1uL).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) }
            assertNotNull(store.getUser(ada.id).lockedUntil)
            assertAuthFails { store.verifyPassword("ada", Secret("correct horse 1")) }
            Thread.sleep(1100)
            assertNull(store.getUser(ada.id).lockedUntil, "lockedUntil shows only while in the future")
            assertEquals(ada.id, store.verifyPassword("ada", Secret("correct horse 1")).id)
        }
    }

    test("20 threads failing at once lock the user exactly once") {
        withTempDir { dir ->
            val options = CHEAP.copy(lockoutThreshold = 3u, lockoutSeconds = 3600uL)
            RosterStore.open(dir.resolve("lockout.redb").toString(), options).use { store ->
                val ada = userWithPassword(store, "ada", "correct horse 1")
                val changes = store.changes().size
                val start = CountDownLatch(1)
                val outcomes = ConcurrentLinkedQueue<Any>()
                val before = Instant.now().truncatedTo(ChronoUnit.MILLIS)
                val workers = (0 until 20).map { t ->
                    thread(name = "failing-$t") {
                        start.await()
                        outcomes += try {
                            store.verifyPassword("ada", Secret("wrong horse $t"))
                        } catch (e: Throwable) {
                            e
                        }
                    }
                }
                start.countDown()
                workers.forEach { it.join() }
                val after = Instant.now()
                assertEquals(20, outcomes.size)
                for (outcome in outcomes) {
                    assertEquals(RosterException.AuthenticationFailed::class, outcome::class, outcome.toString())
                }
                val locked = store.getUser(ada.id)
                val until = Instant.parse(assertNotNull(locked.lockedUntil, "20 failures lock"))
                assertTrue(until >= before.plusSeconds(3600uL) && until <= after.plusSeconds(3600uL), "locked until $until")
                assertEquals(ada.version, locked.version)
                assertEquals(changes, store.changes().size, "a lockout writes no change")
                // Further failures neither extend the lock nor count.
                repeat(5) { assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) } }
                assertEquals(locked, store.getUser(ada.id))
                // After unlocking, the count starts from zero: two failures do not lock, a third does.
                store.unlockUser(ada.id)
                repeat(2) { assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) } }
                assertNull(store.getUser(ada.id).lockedUntil)
                assertAuthFails { store.verifyPassword("ada", Secret("wrong horse")) }
                assertNotNull(store.getUser(ada.id).lockedUntil)
            }
        }
    }

    test("setUserPassword checks the password, is an update and ends sessions") {
        authStore().use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            val token = store.login("ada", Secret("correct horse 1")).token.expose()
            for (bad in listOf("", "seven77", "x".repeat(1025), "password\u0000x", "pass\u0007word")) {
                val e = assertInvalid("password") { store.setUserPassword(ada.id, Secret(bad)) }
                if (bad.isNotEmpty()) assertFalse(e.toString().contains(bad), e.toString())
            }
            assertEquals(ada.version, store.getUser(ada.id).version, "a refused password changes nothing")
            store.authenticate(token)

            val changed = store.setUserPassword(ada.id, Secret("battery staple 2"))
            assertEquals(ada.version + 1uL, changed.version)
            assertTrue(changed.hasPassword)
            assertInvalidToken("a session of the old password") { store.authenticate(token) }
            assertAuthFails { store.verifyPassword("ada", Secret("correct horse 1")) }
            assertEquals(ada.id, store.verifyPassword("ada", Secret("battery staple 2")).id)
            // PRECIS OpaqueString: a no-break space is a space.
            store.setUserPassword(ada.id, Secret("battery\u00a0staple 3"))
            assertEquals(ada.id, store.verifyPassword("ada", Secret("battery staple 3")).id)

            val bob = store.createUser(NewUser("bob", "bob@example.com", "Bob", "B"))
            assertFalse(bob.hasPassword)
            assertTrue(store.setUserPassword(bob.id, Secret("a first password")).hasPassword)
            assertFailsWith<RosterException.NotFound> { store.setUserPassword(999uL, Secret("a fine password")) }
        }
    }

    test("TOTP end to end: enrol, confirm, codes once each, recovery codes once each, disable") {
        val issuer = "Acme Corp"
        authStore(lockoutThreshold = 0u, totpIssuer = issuer).use { store ->
            val ada = userWithPassword(store, "ada", "correct horse 1")
            assertFalse(ada.totpEnabled)
            assertFailsWith<RosterException.Validation> { store.confirmUserTotp(ada.id, "123456") }.also {
                assertEquals(listOf("totp"), it.errors.map { e -> e.field })
            }

            val enrollment = store.enrollUserTotp(ada.id)
            val secret = enrollment.secret.expose()
            val uri = enrollment.uri.expose()
            assertTrue(Regex("[A-Z2-7]{32}").matches(secret), "160 bits in base32: $secret")
            val parsed = URI(uri)
            assertEquals("otpauth", parsed.scheme)
            assertEquals("totp", parsed.host)
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
            val pending = store.getUser(ada.id)
            assertFalse(pending.totpEnabled, "pending until confirmed")
            assertEquals(ada.version + 1uL, pending.version, "enrolment is an update")
            assertEquals(ada.id, store.login("ada", Secret("correct horse 1")).user.id, "a pending enrolment asks no code")

            val key = Totp.base32Decode(secret)
            val now = Totp.now()
            assertAuthFails("a wrong confirmation code") { store.confirmUserTotp(ada.id, Totp.wrongCode(key, now)) }
            val confirmCode = Totp.code(key, now)
            val recovery = store.confirmUserTotp(ada.id, confirmCode)
            assertEquals(10, recovery.size)
            val codes = recovery.map { it.expose() }
            assertTrue(codes.all { Regex("[a-z2-7]{5}-[a-z2-7]{5}").matches(it) }, codes.toString())
            assertEquals(10, codes.toSet().size)
            assertFalse(codes.any { recovery.toString().contains(it) }, recovery.toString())
            val enabled = store.getUser(ada.id)
            assertTrue(enabled.totpEnabled)
            assertEquals(pending.version + 1uL, enabled.version)
            assertInvalid("totpEnabled") { store.enrollUserTotp(ada.id) }
            assertFailsWith<RosterException.Validation> { store.confirmUserTotp(ada.id, confirmCode) }

            val password = Secret("correct horse 1")
            assertAuthFails("no code") { store.login("ada", password) }
            assertAuthFails("a wrong code") { store.login("ada", password, totpCode = Totp.wrongCode(key, now)) }
            assertAuthFails("the confirmation code again") { store.verifyPassword("ada", password, totpCode = confirmCode) }
            val next = Totp.code(key, now + Totp.STEP)
            val login = store.login("ada", password, totpCode = next)
            assertEquals(ada.id, login.user.id)
            assertTrue(login.user.totpEnabled)
            assertAuthFails("a code used already") { store.login("ada", password, totpCode = next) }
            assertAuthFails("an earlier code") { store.verifyPassword("ada", password, totpCode = confirmCode) }

            assertEquals(ada.id, store.verifyPassword("ada", password, totpCode = codes[0]).id)
            assertAuthFails("a recovery code used already") { store.verifyPassword("ada", password, totpCode = codes[0]) }
            assertAuthFails("a recovery code with a wrong password") { store.login("ada", Secret("wrong horse 1"), totpCode = codes[1]) }
            assertEquals(ada.id, store.login("ada", password, totpCode = codes[1]).user.id, "a failed check does not use a code up")
            assertEquals(ada.id, store.login("ada", password, totpCode = codes[2].uppercase()).user.id)
            assertEquals(enabled.version, store.getUser(ada.id).version, "using a code is bookkeeping")

            val disabled = store.disableUserTotp(ada.id)
            assertFalse(disabled.totpEnabled)
            assertEquals(enabled.version + 1uL, disabled.version)
            assertEquals(ada.id, store.login("ada", password).user.id, "no code needed once disabled")
            assertEquals(disabled.version, store.disableUserTotp(ada.id).version, "nothing to disable: no update")
            // Enrolling again gives a new secret; the old one's codes are no use.
            val again = store.enrollUserTotp(ada.id)
            assertFalse(again.secret.expose() == secret)
            assertAuthFails { store.confirmUserTotp(ada.id, Totp.code(key, Totp.now())) }
            // A username beyond ASCII is the URI's account, percent-encoded.
            val zoe = userWithPassword(store, "Zoë", "correct horse 1")
            assertEquals("/$issuer:Zoë", URI(store.enrollUserTotp(zoe.id).uri.expose()).path)
            for (call in listOf<() -> Unit>({ store.enrollUserTotp(999uL) }, { store.confirmUserTotp(999uL, "123456") }, { store.disableUserTotp(999uL) })) {
                assertFailsWith<RosterException.NotFound> { call() }
            }
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

    test("store options: lockout and TOTP issuer reach the core, bad ones are InvalidArgument naming the option") {
        withTempDir { dir ->
            val bad = listOf(
                "argon2MemoryKib" to CHEAP.copy(argon2MemoryKib = 1u),
                "argon2Iterations" to CHEAP.copy(argon2Iterations = 0u),
                "argon2Parallelism" to CHEAP.copy(argon2Parallelism = 0u),
                "lockoutSeconds" to CHEAP.copy(lockoutSeconds = 0uL),
                "lockoutSeconds" to CHEAP.copy(lockoutSeconds = 31_536_001uL),
                "lockoutSeconds" to CHEAP.copy(lockoutSeconds = ULong.MAX_VALUE),
                "totpIssuer" to CHEAP.copy(totpIssuer = ""),
                "totpIssuer" to CHEAP.copy(totpIssuer = "Acme:Corp"),
                "totpIssuer" to CHEAP.copy(totpIssuer = "Acme\u0000"),
                "totpIssuer" to CHEAP.copy(totpIssuer = "x".repeat(101)),
                "totpIssuer" to CHEAP.copy(totpIssuer = "x".repeat(1 shl 20)),
                "argon2MemoryKib" to StoreOptions(argon2MemoryKib = UInt.MAX_VALUE),
            )
            for ((argument, options) in bad) {
                assertInvalidArgument(argument) { RosterStore.memory(options) }
                val path = dir.resolve("bad.redb")
                assertInvalidArgument(argument) { RosterStore.open(path.toString(), options) }
                assertFalse(path.toFile().exists(), "options are checked before the file is created")
            }
            val extremes = listOf(
                CHEAP.copy(lockoutThreshold = 0u, lockoutSeconds = 1uL, totpIssuer = "x"),
                CHEAP.copy(lockoutThreshold = UInt.MAX_VALUE, lockoutSeconds = 31_536_000uL, totpIssuer = "é".repeat(100)),
            )
            for (options in extremes) RosterStore.memory(options).close()
        }
    }

    test("malformed identifiers, passwords, tenants, codes, tokens and addresses are typed errors") {
        val megabyte = 1 shl 20
        val bad = listOf(
            "", " ", "\u0000", "ada\u0000", "\u0000ada", "ad\u0000a@example.com", "x".repeat(megabyte),
            "ada" + "\u0000".repeat(megabyte), "rs_" + "\u0000".repeat(43), "rs_" + "A".repeat(43),
            "123456\u0000", "aaaaa-aaaaa\u0000", "10.0.0.1\u0000", "::ffff:10.0.0.1/8",
        )
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
                if (b.isNotEmpty()) {
                    assertAuthFails("password + $what") { store.verifyPassword("ada", Secret(password + b)) }
                }
                assertAuthFails("tenant $what") { store.verifyPassword("ada", Secret(password), tenant = b) }
                assertAuthFails("code $what") { store.verifyPassword("tina", Secret(password), totpCode = b) }
                assertAuthFails("all $what") { store.login(b, Secret(b), b, null, b) }
                assertAuthFails("confirm $what") { store.confirmUserTotp(pending.id, b) }
                assertInvalidToken("token $what") { store.authenticate(b) }
                store.logout(b)
                assertAuthFails("client id $what") { store.clientLogin(b, open.secret) }
                assertAuthFails("client secret $what") { store.clientLogin(open.client.clientId, Secret(b)) }
                assertAuthFails("ip $what") { store.clientLogin(fenced.client.clientId, fenced.secret, ip = b) }
                if (b.length !in 8..1024 || b.any { it.isISOControl() }) {
                    assertInvalid("password") { store.setUserPassword(ada.id, Secret(b)) }
                }
            }
            // None of it broke anything: the right credentials still work.
            assertEquals(ada.id, store.login("ada", Secret(password)).user.id)
            assertEquals(open.client.id, store.clientLogin(open.client.clientId, open.secret, ip = "\u0000").client.id, "an open client ignores the address")
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
