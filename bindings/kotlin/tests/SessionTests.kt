// Sessions through the binding (docs/reference/credentials.md, Sessions and Client
// logins): tokens as Secrets, the
// Principal and Session records, ttlSeconds and ip reaching the core,
// userSessions, revokeUserSessions, rotateClientSecret, a scoped view's
// session calls, and logins from many threads. What ends a session, the
// allowlist rules and tenant isolation are tested in Rust:
// core/tests/session_tests.rs.
package rosterdb.tests

import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import rosterdb.ClientLogin
import rosterdb.NewClient
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.Principal
import rosterdb.PrincipalKind
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.Secret
import rosterdb.User

private const val PASSWORD = "correct horse 1"

private fun user(store: RosterStore, username: String, tenant: String? = null, roles: List<ULong> = emptyList()): User =
    store.createUser(NewUser(username, "$username@example.com", "First", "Last", tenant = tenant, roles = roles, password = Secret(PASSWORD)))

/** Runs [call] and asserts that its `expiresAt` lies [seconds] after the call, to the millisecond. */
private fun <T> assertExpiresIn(seconds: Long, expiresAt: (T) -> String, call: () -> T): T {
    val before = Instant.now().truncatedTo(ChronoUnit.MILLIS)
    val result = call()
    val after = Instant.now()
    val at = Instant.parse(expiresAt(result))
    assertTrue(RFC3339_MILLIS.matches(expiresAt(result)))
    assertTrue(
        at >= before.plusSeconds(seconds) && at <= after.plusSeconds(seconds),
        "expires at $at, expected $seconds s after $before",
    )
    return result
}

fun sessionTests() = Suite("sessions").apply {
    test("login, authenticate and logout: the token a Secret, the Principal whole") {
        authStore().use { store ->
            val readers = store.createRole(NewRole("readers", permissions = listOf("users:read", "roles:read")))
            val writers = store.createRole(NewRole("writers", permissions = listOf("users:write", "users:read")))
            val ada = user(store, "ada", roles = listOf(writers.id, readers.id))
            val login = assertExpiresIn(900, { it.expiresAt }) { store.login("ada", Secret(PASSWORD)) }
            val token = login.token.expose()
            assertTrue(Regex("rs_[A-Za-z0-9_-]{43}").matches(token), token)
            assertEquals(ada.id, login.user.id)
            assertEquals(login.user, store.getUser(ada.id))
            assertEquals(
                Principal(
                    kind = PrincipalKind.USER,
                    id = ada.id,
                    tenant = null,
                    roles = listOf(readers.id, writers.id),
                    permissions = listOf("roles:read", "users:read", "users:write"),
                    expiresAt = login.expiresAt,
                ),
                store.authenticate(token),
            )
            store.logout(token)
            assertInvalidToken("after logout") { store.authenticate(token) }
            store.logout(token)
        }
    }

    test("ttlSeconds reaches the core for users and clients") {
        authStore().use { store ->
            user(store, "ada")
            val created = store.createClient(NewClient("sync"))
            for (seconds in listOf(1L, 2_592_000L)) {
                assertExpiresIn(seconds, { it.expiresAt }) { store.login("ada", Secret(PASSWORD), ttlSeconds = seconds.toULong()) }
                assertExpiresIn(seconds, { it.expiresAt }) {
                    store.clientLogin(created.client.clientId, created.secret, ttlSeconds = seconds.toULong())
                }
            }
            assertExpiresIn<ClientLogin>(900, { it.expiresAt }) { store.clientLogin(created.client.clientId, created.secret) }
        }
    }

    test("userSessions lists Session records without tokens; revokeUserSessions counts what it ended") {
        authStore().use { store ->
            val ada = user(store, "ada")
            assertEquals(emptyList(), store.userSessions(ada.id))
            val logins = listOf(60uL, 120uL).map { ttl -> store.login("ada", Secret(PASSWORD), ttlSeconds = ttl) }
            val sessions = store.userSessions(ada.id)
            assertEquals(logins.map { it.expiresAt }.toSet(), sessions.map { it.expiresAt }.toSet())
            for (session in sessions) {
                assertTrue(RFC3339_MILLIS.matches(session.createdAt))
                assertTrue(Duration.between(Instant.parse(session.createdAt), Instant.parse(session.expiresAt)).seconds in listOf(60L, 120L))
                assertTrue(!session.toString().contains("rs_"), session.toString())
            }
            assertEquals(2uL, store.revokeUserSessions(ada.id))
            for (login in logins) assertInvalidToken { store.authenticate(login.token.expose()) }
            assertEquals(emptyList(), store.userSessions(ada.id))
        }
    }

    test("clientLogin takes the secret and the address; the Principal is the client's") {
        authStore().use { store ->
            val created = store.createClient(NewClient("deployer", tenant = "acme", ipAllowlist = listOf("10.0.0.0/8", "2001:db8::/32")))
            val id = created.client.clientId
            for (ip in listOf("10.1.2.3", "2001:db8::1")) {
                val login = store.clientLogin(id, created.secret, ip = ip)
                assertEquals(created.client.id, login.client.id, ip)
                assertNotNull(login.client.lastUsedAt, ip)
                val principal = store.authenticate(login.token.expose())
                assertEquals(PrincipalKind.CLIENT to created.client.id, principal.kind to principal.id)
                assertEquals("acme", principal.tenant)
            }
            for (ip in listOf(null, "11.0.0.1")) assertAuthFails("ip $ip") { store.clientLogin(id, created.secret, ip = ip) }
            assertAuthFails("a wrong secret") { store.clientLogin(id, Secret(created.secret.expose().reversed()), ip = "10.0.0.1") }
        }
    }

    test("rotateClientSecret returns the new secret as a Secret") {
        authStore().use { store ->
            val created = store.createClient(NewClient("sync"))
            val id = created.client.clientId
            val rotated = store.rotateClientSecret(created.client.id)
            assertEquals("Secret(***)", rotated.toString())
            assertTrue(rotated.expose() != created.secret.expose())
            assertAuthFails("the old secret") { store.clientLogin(id, created.secret) }
            assertEquals(created.client.id, store.clientLogin(id, rotated).client.id)
        }
    }

    test("a scoped view's session and account calls go to its tenant") {
        authStore().use { store ->
            val plain = user(store, "ada")
            val acmeAda = user(store, "ada", tenant = "acme")
            store.scoped("acme").use { acme ->
                val login = acme.login("ada", Secret(PASSWORD), tenant = "globex")
                assertEquals(acmeAda.id, login.user.id, "a view uses its own tenant")
                assertEquals("acme", acme.authenticate(login.token.expose()).tenant)
                assertFailsWith<RosterException.NotFound> { acme.userSessions(plain.id) }
                assertEquals(1uL, acme.revokeUserSessions(acmeAda.id))
            }
        }
    }

    test("logins and authentications from many threads give distinct live sessions") {
        withTempDir { dir ->
            RosterStore.open(dir.resolve("sessions.redb").toString(), CHEAP).use { store ->
                val ada = user(store, "ada")
                val created = store.createClient(NewClient("sync"))
                val tokens = ConcurrentLinkedQueue<String>()
                concurrently(8, "login") { t ->
                    repeat(3) {
                        val token = if (t % 2 == 0) {
                            store.login("ada", Secret(PASSWORD)).token.expose()
                        } else {
                            store.clientLogin(created.client.clientId, created.secret).token.expose()
                        }
                        store.authenticate(token)
                        tokens += token
                    }
                }
                assertEquals(24, tokens.toSet().size)
                assertEquals(12, store.userSessions(ada.id).size)
                assertEquals(12uL, store.revokeUserSessions(ada.id))
            }
        }
    }
}
