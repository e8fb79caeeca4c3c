// Sessions through the binding (SPEC §6.4–6.5): login, authenticate with
// permissions from the roles as they are now, logout, userSessions,
// revokeUserSessions, lifetimes, sessions ended by deleting or disabling,
// client logins with IPv4/IPv6/CIDR/mapped allowlists, rotateClientSecret,
// scoped views, and logins from many threads.
package rosterdb.tests

import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
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
    test("login, authenticate with the roles' permissions as they are now, logout") {
        authStore().use { store ->
            val readers = store.createRole(NewRole("readers", permissions = listOf("users:read", "roles:read")))
            val writers = store.createRole(NewRole("writers", permissions = listOf("users:write", "users:read")))
            val ada = user(store, "ada", roles = listOf(writers.id, readers.id))
            val login = assertExpiresIn(900, { it.expiresAt }) { store.login("ada", Secret(PASSWORD)) }
            val token = login.token.expose()
            assertEquals(ada.id, login.user.id)
            assertNotNull(login.user.lastLoginAt)
            assertEquals(login.user, store.getUser(ada.id))

            val principal = store.authenticate(token)
            assertEquals(
                Principal(
                    kind = PrincipalKind.USER,
                    id = ada.id,
                    tenant = null,
                    roles = listOf(readers.id, writers.id),
                    permissions = listOf("roles:read", "users:read", "users:write"),
                    expiresAt = login.expiresAt,
                ),
                principal,
            )
            // Role changes reach the session at once.
            store.patchRole(readers.id, """[{"op": "add", "path": "/permissions/-", "value": "audit:read"}]""")
            assertEquals(listOf("audit:read", "roles:read", "users:read", "users:write"), store.authenticate(token).permissions)
            store.mergeUser(ada.id, """{"roles": [${writers.id}]}""")
            assertEquals(listOf(writers.id), store.authenticate(token).roles)
            assertEquals(listOf("users:read", "users:write"), store.authenticate(token).permissions)
            store.deleteRole(writers.id, cascade = true)
            assertEquals(principal.copy(roles = emptyList(), permissions = emptyList()), store.authenticate(token))

            val other = store.login("ada", Secret(PASSWORD), ttlSeconds = 60uL).token.expose()
            store.logout(token)
            assertInvalidToken("after logout") { store.authenticate(token) }
            store.logout(token)
            store.logout("not a token")
            assertEquals(ada.id, store.authenticate(other).id, "logout ends one session")
        }
    }

    test("ttlSeconds sets the lifetime; out of 1 s to 30 days it is InvalidArgument") {
        authStore().use { store ->
            val ada = user(store, "ada")
            val created = store.createClient(NewClient("sync"))
            for (seconds in listOf(1L, 3600L, 2_592_000L)) {
                assertExpiresIn(seconds, { it.expiresAt }) { store.login("ada", Secret(PASSWORD), ttlSeconds = seconds.toULong()) }
                assertExpiresIn(seconds, { it.expiresAt }) {
                    store.clientLogin(created.client.clientId, created.secret, ttlSeconds = seconds.toULong())
                }
            }
            assertExpiresIn(900, { it.expiresAt }) { store.clientLogin(created.client.clientId, created.secret) }
            val sessions = store.userSessions(ada.id).size
            for (bad in listOf(0uL, 2_592_001uL, Long.MAX_VALUE.toULong(), ULong.MAX_VALUE)) {
                assertInvalidArgument("ttlSeconds") { store.login("ada", Secret(PASSWORD), ttlSeconds = bad) }
                assertInvalidArgument("ttlSeconds") { store.clientLogin(created.client.clientId, created.secret, ttlSeconds = bad) }
                // A bad lifetime is refused before any check: even bad credentials get InvalidArgument.
                assertInvalidArgument("ttlSeconds") { store.login("ghost", Secret("x"), ttlSeconds = bad) }
            }
            assertEquals(sessions, store.userSessions(ada.id).size, "no session was opened")

            val short = store.login("ada", Secret(PASSWORD), ttlSeconds = 1uL).token.expose()
            store.authenticate(short)
            Thread.sleep(1100)
            assertInvalidToken("an expired session") { store.authenticate(short) }
            assertTrue(store.userSessions(ada.id).none { Instant.parse(it.expiresAt) < Instant.now() }, "expired sessions are not listed")
        }
    }

    test("userSessions lists live sessions; revokeUserSessions ends them all") {
        authStore().use { store ->
            val ada = user(store, "ada")
            val bob = user(store, "bob")
            assertEquals(emptyList(), store.userSessions(ada.id))
            val tokens = listOf(60uL, 120uL, 180uL).map { ttl -> store.login("ada", Secret(PASSWORD), ttlSeconds = ttl) }
            val bobToken = store.login("bob", Secret(PASSWORD)).token.expose()
            val sessions = store.userSessions(ada.id)
            assertEquals(3, sessions.size)
            assertEquals(tokens.map { it.expiresAt }.toSet(), sessions.map { it.expiresAt }.toSet())
            for (session in sessions) {
                val created = Instant.parse(session.createdAt)
                assertTrue(RFC3339_MILLIS.matches(session.createdAt))
                assertTrue(Duration.between(created, Instant.parse(session.expiresAt)).seconds in listOf(60L, 120L, 180L))
                assertTrue(!session.toString().contains("rs_"), session.toString())
            }
            assertEquals(sessions.sortedBy { it.createdAt }, sessions, "oldest first")

            store.logout(tokens[0].token.expose())
            assertEquals(2, store.userSessions(ada.id).size)
            assertEquals(2uL, store.revokeUserSessions(ada.id))
            for (login in tokens) assertInvalidToken { store.authenticate(login.token.expose()) }
            assertEquals(emptyList(), store.userSessions(ada.id))
            assertEquals(0uL, store.revokeUserSessions(ada.id))
            assertEquals(bob.id, store.authenticate(bobToken).id, "another user's sessions live on")
            assertEquals(listOf(1), listOf(store.userSessions(bob.id).size))
            assertFailsWith<RosterException.NotFound> { store.userSessions(999uL) }
            assertFailsWith<RosterException.NotFound> { store.revokeUserSessions(999uL) }
            assertEquals(ada.version, store.getUser(ada.id).version, "sessions are not part of the user")
        }
    }

    test("deleting or disabling a user ends its sessions") {
        authStore().use { store ->
            val ada = user(store, "ada")
            val bob = user(store, "bob")
            val adaToken = store.login("ada", Secret(PASSWORD)).token.expose()
            val bobToken = store.login("bob", Secret(PASSWORD)).token.expose()
            store.mergeUser(ada.id, """{"enabled": false}""")
            assertInvalidToken("a disabled user") { store.authenticate(adaToken) }
            assertAuthFails("a disabled user's login") { store.login("ada", Secret(PASSWORD)) }
            store.deleteUser(bob.id)
            assertInvalidToken("a deleted user") { store.authenticate(bobToken) }
            assertAuthFails("a deleted user's login") { store.login("bob", Secret(PASSWORD)) }
        }
    }

    test("clientLogin checks the secret and the IPv4, IPv6, CIDR and mapped allowlist") {
        authStore().use { store ->
            val role = store.createRole(NewRole("deploy", permissions = listOf("deploy:run")))
            val created = store.createClient(
                NewClient(
                    "deployer", tenant = "acme",
                    ipAllowlist = listOf("10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1", "::ffff:172.16.0.0/108"),
                ),
            )
            val id = created.client.clientId
            val allowed = listOf(
                "10.0.0.1", "10.255.255.255", "192.168.1.7", "2001:db8::1", "2001:DB8:FFFF::1", "::1",
                "::ffff:10.1.2.3", "::ffff:192.168.1.7", "172.16.0.1", "172.31.255.255", "::ffff:172.20.0.1", " 10.0.0.2 ",
            )
            for (ip in allowed) {
                val login = store.clientLogin(id, created.secret, ip = ip)
                assertEquals(created.client.id, login.client.id, ip)
                assertNotNull(login.client.lastUsedAt, ip)
                val principal = store.authenticate(login.token.expose())
                assertEquals(PrincipalKind.CLIENT, principal.kind)
                assertEquals(created.client.id, principal.id)
                assertEquals("acme", principal.tenant)
            }
            val refused = listOf(
                null, "", "11.0.0.1", "192.168.1.8", "2001:db9::1", "::2", "::ffff:11.0.0.1", "::ffff:192.168.1.8",
                "172.32.0.1", "10.0.0.0/8", "localhost", "10.0.0.1%eth0", "1.2.3.4.5",
            )
            for (ip in refused) assertAuthFails("ip $ip") { store.clientLogin(id, created.secret, ip = ip) }
            assertAuthFails("a wrong secret") { store.clientLogin(id, Secret(created.secret.expose().reversed()), ip = "10.0.0.1") }
            assertAuthFails("another client's id") { store.clientLogin("rc_0000000000000000000000", created.secret, ip = "10.0.0.1") }
            assertEquals(created.client.version, store.getClient(created.client.id).version, "client logins are bookkeeping")

            // An empty allowlist admits any address, and none.
            val open = store.createClient(NewClient("open", roles = listOf(role.id)))
            for (ip in listOf(null, "10.0.0.1", "2001:db8::1", "not an address")) {
                assertEquals(open.client.id, store.clientLogin(open.client.clientId, open.secret, ip = ip).client.id)
            }
            val principal = store.authenticate(store.clientLogin(open.client.clientId, open.secret).token.expose())
            assertEquals(listOf(role.id), principal.roles)
            assertEquals(listOf("deploy:run"), principal.permissions)
            assertNull(principal.tenant)
        }
    }

    test("rotateClientSecret, disabling and deleting a client end its secret and sessions") {
        authStore().use { store ->
            val created = store.createClient(NewClient("sync"))
            val id = created.client.clientId
            val token = store.clientLogin(id, created.secret).token.expose()
            val rotated = store.rotateClientSecret(created.client.id)
            assertEquals(43, rotated.expose().length)
            assertTrue(rotated.expose() != created.secret.expose())
            assertEquals(created.client.version + 1uL, store.getClient(created.client.id).version, "a rotation is an update")
            assertAuthFails("the old secret") { store.clientLogin(id, created.secret) }
            assertInvalidToken("a session of the old secret") { store.authenticate(token) }
            val next = store.clientLogin(id, rotated).token.expose()
            assertEquals(created.client.id, store.authenticate(next).id)

            store.mergeClient(created.client.id, """{"enabled": false}""")
            assertInvalidToken("a disabled client") { store.authenticate(next) }
            assertAuthFails("a disabled client's login") { store.clientLogin(id, rotated) }
            store.mergeClient(created.client.id, """{"enabled": true}""")
            val last = store.clientLogin(id, rotated).token.expose()
            store.deleteClient(created.client.id)
            assertInvalidToken("a deleted client") { store.authenticate(last) }
            assertAuthFails("a deleted client's login") { store.clientLogin(id, rotated) }
            assertFailsWith<RosterException.NotFound> { store.rotateClientSecret(created.client.id) }
        }
    }

    test("a scoped view logs in, authenticates and administers its tenant only") {
        authStore().use { store ->
            val plain = user(store, "ada")
            val acmeAda = user(store, "ada", tenant = "acme")
            val globexClient = store.createClient(NewClient("sync", tenant = "globex"))
            val plainToken = store.login("ada", Secret(PASSWORD)).token.expose()
            store.scoped("acme").use { acme ->
                val login = acme.login("ada", Secret(PASSWORD), tenant = "globex")
                assertEquals(acmeAda.id, login.user.id, "a view uses its own tenant")
                val token = login.token.expose()
                assertEquals("acme", acme.authenticate(token).tenant)
                assertEquals(acmeAda.id, store.authenticate(token).id, "the whole store sees every tenant")
                assertEquals(acmeAda.id, acme.verifyPassword("ADA@example.com", Secret(PASSWORD)).id)
                assertInvalidToken("another tenant's session") { acme.authenticate(plainToken) }
                acme.logout(plainToken)
                assertEquals(plain.id, store.authenticate(plainToken).id, "a view cannot end another tenant's session")
                assertAuthFails("another tenant's client") { acme.clientLogin(globexClient.client.clientId, globexClient.secret) }
                for (call in listOf<() -> Unit>(
                    { acme.setUserPassword(plain.id, Secret("another password")) },
                    { acme.unlockUser(plain.id) },
                    { acme.enrollUserTotp(plain.id) },
                    { acme.confirmUserTotp(plain.id, "123456") },
                    { acme.disableUserTotp(plain.id) },
                    { acme.userSessions(plain.id) },
                    { acme.revokeUserSessions(plain.id) },
                    { acme.rotateClientSecret(globexClient.client.id) },
                )) {
                    assertFailsWith<RosterException.NotFound> { call() }
                }
                assertEquals(1, acme.userSessions(acmeAda.id).size)
                assertEquals(1uL, acme.revokeUserSessions(acmeAda.id))
                assertInvalidToken { store.authenticate(token) }
            }
            assertEquals(globexClient.client.id, store.clientLogin(globexClient.client.clientId, globexClient.secret).client.id)
            store.scoped("globex").use { globex ->
                val login = globex.clientLogin(globexClient.client.clientId, globexClient.secret)
                assertEquals("globex", globex.authenticate(login.token.expose()).tenant)
            }
        }
    }

    test("logins and authentications from many threads give distinct live sessions") {
        withTempDir { dir ->
            RosterStore.open(dir.resolve("sessions.redb").toString(), CHEAP).use { store ->
                val ada = user(store, "ada")
                val created = store.createClient(NewClient("sync"))
                val start = CountDownLatch(1)
                val tokens = ConcurrentLinkedQueue<String>()
                val failures = ConcurrentLinkedQueue<Throwable>()
                val workers = (0 until 8).map { t ->
                    thread(name = "login-$t") {
                        try {
                            start.await()
                            repeat(3) {
                                val token = if (t % 2 == 0) {
                                    store.login("ada", Secret(PASSWORD)).token.expose()
                                } else {
                                    store.clientLogin(created.client.clientId, created.secret).token.expose()
                                }
                                store.authenticate(token)
                                tokens += token
                            }
                        } catch (e: Throwable) {
                            failures += e
                        }
                    }
                }
                start.countDown()
                workers.forEach { it.join() }
                failures.firstOrNull()?.let { throw it }
                assertEquals(24, tokens.toSet().size)
                assertEquals(12, store.userSessions(ada.id).size)
                assertEquals(12uL, store.revokeUserSessions(ada.id))
            }
        }
    }
}
