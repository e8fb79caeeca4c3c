// Records through the binding: create, get, delete, lookups, clients and
// their secrets, the change log, reopening a file, and use from two threads.
package rosterdb.tests

import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import rosterdb.ChangeOp
import rosterdb.EntityKind
import rosterdb.ExternalId
import rosterdb.ListQuery
import rosterdb.NewClient
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.Secret

fun storeTests() = Suite("store").apply {
    test("create, get and delete a user with every field") {
        memoryStore().use { store ->
            val role = store.createRole(NewRole(name = "support", permissions = listOf("users:read")))
            val created = store.createUser(
                graceHopper(roles = listOf(role.id, role.id), enabled = false, attributes = """{"department":"Navy"}"""),
            )
            assertEquals(1uL, created.id)
            assertEquals("grace", created.username)
            assertEquals("Grace", created.firstName)
            assertEquals("Hopper", created.lastName)
            assertEquals("Amazing Grace", created.nickname)
            assertEquals("+1 555 0100", created.telephoneNumber)
            assertEquals("+1 555 0199", created.mobileNumber)
            assertNull(created.tenant)
            assertFalse(created.enabled)
            assertEquals(listOf(role.id), created.roles, "duplicate role ids are removed")
            assertEquals(listOf(ExternalId("github", "1906")), created.externalIds)
            assertTrue(created.hasPassword)
            assertEquals(1uL, created.version)
            assertTrue(RFC3339_MILLIS.matches(created.createdAt), created.createdAt)
            assertEquals(created.createdAt, created.updatedAt)
            assertNull(created.lastLoginAt)
            assertNull(created.lockedUntil)

            assertEquals(created, store.getUser(created.id))
            assertEquals(created, store.deleteUser(created.id))
            val gone = assertFailsWith<RosterException.NotFound> { store.getUser(created.id) }
            assertEquals(EntityKind.USER, gone.entity)
            val next = store.createUser(NewUser("ada", "ada@example.com", "Ada", "Lovelace"))
            assertEquals(2uL, next.id, "ids are never reused")
            assertEquals("{}", next.attributes)
            assertTrue(next.enabled)
            assertFalse(next.hasPassword)
        }
    }

    test("lookups by username, email and external id are per tenant") {
        memoryStore().use { store ->
            val plain = store.createUser(NewUser("alice", "alice@example.com", "Alice", "Liddell"))
            val acme = store.createUser(
                NewUser(
                    "alice", "alice@example.com", "Alice", "Acme", tenant = "acme",
                    externalIds = listOf(ExternalId("ldap", "uid=alice")),
                ),
            )
            assertEquals(plain.id, store.getUserByUsername("ALICE").id)
            assertEquals(acme.id, store.getUserByUsername("Alice", tenant = "acme").id)
            assertEquals(plain.id, store.getUserByEmail("Alice@Example.com").id)
            assertEquals(acme.id, store.getUserByEmail("alice@example.com", "acme").id)
            assertEquals(acme.id, store.getUserByExternalId("ldap", "uid=alice", "acme").id)
            assertFailsWith<RosterException.NotFound> { store.getUserByExternalId("ldap", "uid=alice") }
            assertFailsWith<RosterException.NotFound> { store.getUserByUsername("alice", "globex") }
        }
    }

    test("a held role is deleted only with cascade") {
        memoryStore().use { store ->
            val role = store.createRole(
                NewRole("ops", description = "Operations", permissions = listOf("b:write", "a:read", "a:read")),
            )
            assertEquals(listOf("a:read", "b:write"), role.permissions)
            assertEquals("Operations", role.description)
            val user = store.createUser(NewUser("bob", "bob@example.com", "Bob", "Ops", roles = listOf(role.id)))
            val client = store.createClient(NewClient("deployer", roles = listOf(role.id))).client

            val inUse = assertFailsWith<RosterException.InUse> { store.deleteRole(role.id) }
            assertEquals(role.id, inUse.id)
            assertEquals(2uL, inUse.count)
            assertEquals(role, store.getRole(role.id), "a refused delete changes nothing")

            assertEquals(role, store.deleteRole(role.id, cascade = true))
            assertEquals(emptyList(), store.getUser(user.id).roles)
            assertEquals(emptyList(), store.getClient(client.id).roles)
        }
    }

    test("a role's externalId crosses both ways") {
        memoryStore().use { store ->
            val role = store.createRole(NewRole("ops", externalId = "Grp-1"))
            assertEquals("Grp-1", role.externalId)
            assertNull(store.createRole(NewRole("staff")).externalId, "absent unless set")
            assertEquals(role, store.getRole(role.id))
            val query = ListQuery(filter = "externalId eq 'Grp-1'")
            assertEquals(listOf(role.id), store.listRoles(query).items.map { it.id })
            assertEquals(emptyList(), store.listRoles(query.copy(filter = "externalId eq 'grp-1'")).items, "compared exactly")
            assertEquals("Grp-2", store.mergeRole(role.id, """{"externalId": "Grp-2"}""", null).externalId)
            assertNull(store.patchRole(role.id, """[{"op": "remove", "path": "/externalId"}]""", null).externalId)
            val bad = assertFailsWith<RosterException.Validation> { store.createRole(NewRole("x", externalId = "")) }
            assertEquals(listOf("externalId"), bad.errors.map { it.field })
        }
    }

    test("a client's secret is returned once and never printed") {
        memoryStore().use { store ->
            val created = store.createClient(
                NewClient("billing-sync", description = "Nightly sync", ipAllowlist = listOf("10.0.0.0/8")),
            )
            val secret = created.secret.expose()
            assertEquals(43, secret.length, "32 random bytes, base64url without padding")
            assertEquals("Secret(***)", created.secret.toString())
            assertFalse(created.toString().contains(secret), created.toString())

            val client = created.client
            assertTrue(Regex("rc_[0-9A-Za-z]{22}").matches(client.clientId), client.clientId)
            assertEquals(listOf("10.0.0.0/8"), client.ipAllowlist)
            assertTrue(client.enabled)
            assertNull(client.lastUsedAt)
            assertEquals(client, store.getClient(client.id))
            assertEquals(client, store.getClientByClientId(client.clientId))
            assertFalse(store.getClient(client.id).toString().contains(secret))
            assertEquals(client, store.deleteClient(client.id))
            assertFailsWith<RosterException.NotFound> { store.getClientByClientId(client.clientId) }
        }
    }

    test("a password never shows in toString") {
        val password = "correct horse battery staple"
        val secret = Secret(password)
        assertEquals("Secret(***)", secret.toString())
        assertEquals(password, secret.expose())
        val user = NewUser("carol", "carol@example.com", "Carol", "C", password = secret)
        assertFalse(user.toString().contains(password), user.toString())
    }

    test("the change log lists every write in order") {
        memoryStore().use { store ->
            val role = store.createRole(NewRole("r"))
            val user = store.createUser(NewUser("dave", "dave@example.com", "Dave", "D", roles = listOf(role.id)))
            store.deleteRole(role.id, cascade = true)
            store.deleteUser(user.id)
            val changes = store.changes()
            assertEquals(listOf(1uL, 2uL, 3uL, 4uL, 5uL), changes.map { it.seq })
            assertEquals(
                listOf(
                    Triple(EntityKind.ROLE, ChangeOp.CREATE, 1uL),
                    Triple(EntityKind.USER, ChangeOp.CREATE, 1uL),
                    Triple(EntityKind.USER, ChangeOp.UPDATE, 2uL),
                    Triple(EntityKind.ROLE, ChangeOp.DELETE, 1uL),
                    Triple(EntityKind.USER, ChangeOp.DELETE, 2uL),
                ),
                changes.map { Triple(it.entity, it.op, it.version) },
            )
            assertTrue(changes.all { RFC3339_MILLIS.matches(it.at) })
            assertEquals(changes.drop(3), store.changes(after = 3uL))
            assertEquals(changes.take(2), store.changes(limit = 2u))
        }
    }

    test("a file store keeps its records across close and reopen") {
        withTempDir { dir ->
            val path = dir.resolve("roster.redb").toString()
            val (user, role) = RosterStore.open(path, CHEAP).use { store ->
                val role = store.createRole(NewRole("admins", permissions = listOf("users:write")))
                val user = store.createUser(
                    NewUser(
                        "erin", "erin@example.com", "Erin", "E",
                        roles = listOf(role.id), attributes = """{"city":"Zürich"}""",
                        password = Secret("open sesame 123"),
                    ),
                )
                user to role
            }
            RosterStore.open(path).use { store ->
                assertEquals(user, store.getUser(user.id))
                assertEquals(role, store.getRole(role.id))
                assertEquals(2, store.changes().size)
                val next = store.createUser(NewUser("fred", "fred@example.com", "Fred", "F"))
                assertEquals(2uL, next.id)
            }
            RosterStore.open(path).use { store -> assertEquals(3, store.changes().size) }
        }
    }

    test("two threads share one store") {
        withTempDir { dir ->
            RosterStore.open(dir.resolve("threads.redb").toString(), CHEAP).use { store ->
                val perThread = 15
                val ids = ConcurrentLinkedQueue<ULong>()
                concurrently(2, "writer") { t ->
                    repeat(perThread) { i ->
                        val user = store.createUser(
                            NewUser("t${t}u$i", "t${t}u$i@example.com", "T$t", "U$i",
                                password = Secret("password-$t-$i")),
                        )
                        ids += user.id
                        assertEquals(user, store.getUser(user.id))
                        assertEquals(user.id, store.getUserByUsername("T${t}U$i").id)
                    }
                }
                assertEquals((1uL..(2 * perThread).toULong()).toSet(), ids.toSet())
                assertEquals(2 * perThread, store.changes(limit = 1000u).size)
            }
        }
    }
}
