// Scoped views (SPEC §7) and the whole-store operations (SPEC §8) through the
// binding: a view has the whole API and sees one tenant; export, import,
// check and compact work on the whole store and a view refuses them.
package rosterdb.tests

import java.io.File
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
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

/** Asserts that the store's indexes match its records. */
fun assertChecked(store: RosterStore) {
    val report = store.check()
    assertTrue(report.ok, report.problems.joinToString("\n"))
    assertEquals(emptyList(), report.problems)
}

/** Roles 1–2, users 1–3 (4 was deleted) and client 1, in two tenants and none. */
private fun populate(store: RosterStore) {
    val admins = store.createRole(NewRole("admins", permissions = listOf("users:write")))
    val acmeRole = store.createRole(NewRole("staff", tenant = "acme"))
    store.createUser(
        NewUser(
            "grace", "grace@example.com", "Grace", "Hopper", nickname = "Amazing Grace",
            roles = listOf(admins.id), externalIds = listOf(ExternalId("github", "1906")),
            attributes = """{"department":"Navy","languages":["COBOL"]}""",
            password = Secret("cobol-forever-1959"),
        ),
    )
    store.createUser(NewUser("ada", "ada@example.com", "Ada", "L", tenant = "acme", roles = listOf(acmeRole.id)))
    store.createUser(NewUser("ada", "ada@example.com", "Ada", "G", tenant = "globex", enabled = false))
    store.createClient(NewClient("deployer", tenant = "acme", roles = listOf(acmeRole.id), ipAllowlist = listOf("10.0.0.0/8")))
    store.patchUser(1uL, """[{"op": "add", "path": "/mobileNumber", "value": "+1 555 0199"}]""")
    store.deleteUser(store.createUser(NewUser("gone", "gone@example.com", "G", "One")).id)
}

fun tenancyTests() = Suite("tenancy").apply {
    test("a view creates records in its tenant and refuses another") {
        memoryStore().use { store ->
            assertNull(store.tenant())
            store.scoped("acme").use { acme ->
                assertEquals("acme", acme.tenant())
                val user = acme.createUser(NewUser("ada", "ada@example.com", "Ada", "Lovelace"))
                assertEquals("acme", user.tenant)
                assertEquals("acme", acme.createRole(NewRole("staff")).tenant)
                assertEquals("acme", acme.createClient(NewClient("sync")).client.tenant)
                val json = Json.parse(acme.createUserJson("""{"username":"bob","email":"b@example.com","firstName":"B","lastName":"B"}"""))
                assertEquals("acme", (json as Map<*, *>)["tenant"])
                assertEquals("acme", acme.createUser(NewUser("carl", "c@example.com", "C", "C", tenant = "acme")).tenant)
                assertInvalid("tenant") { acme.createUser(NewUser("dora", "d@example.com", "D", "D", tenant = "globex")) }
                assertInvalid("tenant") { acme.createRoleJson("""{"name":"x","tenant":"globex"}""") }
                assertEquals(user, store.getUser(user.id), "the store sees the view's records")
            }
            assertInvalid("tenant") { store.scoped("not a tenant!") }
            assertChecked(store)
        }
    }

    test("another tenant's records are NotFound through a view") {
        memoryStore().use { store ->
            val theirs = store.createUser(NewUser("ada", "ada@example.com", "Ada", "G", tenant = "globex"))
            val plain = store.createUser(NewUser("bob", "bob@example.com", "Bob", "B"))
            val role = store.createRole(NewRole("staff", tenant = "globex"))
            val client = store.createClient(NewClient("sync", tenant = "globex")).client
            val acme = store.scoped("acme")
            for (id in listOf(theirs.id, plain.id)) {
                assertEquals(EntityKind.USER, assertFailsWith<RosterException.NotFound> { acme.getUser(id) }.entity)
                assertFailsWith<RosterException.NotFound> { acme.patchUser(id, """[{"op":"replace","path":"/lastName","value":"X"}]""") }
                assertFailsWith<RosterException.NotFound> { acme.mergeUser(id, """{"lastName":"X"}""") }
                assertFailsWith<RosterException.NotFound> { acme.replaceUser(id, """{"username":"x","email":"x@example.com","firstName":"X","lastName":"X"}""") }
                assertFailsWith<RosterException.NotFound> { acme.deleteUser(id) }
            }
            assertFailsWith<RosterException.NotFound> { acme.getRole(role.id) }
            assertFailsWith<RosterException.NotFound> { acme.mergeRole(role.id, """{"description":"x"}""") }
            assertFailsWith<RosterException.NotFound> { acme.deleteRole(role.id, cascade = true) }
            assertFailsWith<RosterException.NotFound> { acme.getClient(client.id) }
            assertFailsWith<RosterException.NotFound> { acme.getClientByClientId(client.clientId) }
            assertFailsWith<RosterException.NotFound> { acme.patchClient(client.id, """[{"op":"replace","path":"/name","value":"x"}]""") }
            assertFailsWith<RosterException.NotFound> { acme.deleteClient(client.id) }
            assertEquals(theirs, store.getUser(theirs.id), "nothing was changed")
            assertEquals(1uL, store.getRole(role.id).version)
            assertEquals(client, store.getClient(client.id))
            val globex = store.scoped("globex")
            assertEquals("X", globex.mergeUser(theirs.id, """{"lastName":"X"}""").lastName)
            assertEquals(client, globex.deleteClient(client.id))
            assertChecked(store)
        }
    }

    test("lookups through a view use its tenant") {
        memoryStore().use { store ->
            val plain = store.createUser(NewUser("alice", "alice@example.com", "Alice", "P"))
            val acmeAlice = store.createUser(
                NewUser("alice", "alice@example.com", "Alice", "A", tenant = "acme", externalIds = listOf(ExternalId("ldap", "uid=alice"))),
            )
            store.createUser(NewUser("alice", "alice@example.com", "Alice", "G", tenant = "globex", externalIds = listOf(ExternalId("ldap", "uid=alice"))))
            val acme = store.scoped("acme")
            assertEquals(acmeAlice.id, acme.getUserByUsername("ALICE").id)
            assertEquals(acmeAlice.id, acme.getUserByEmail("Alice@Example.com").id)
            assertEquals(acmeAlice.id, acme.getUserByExternalId("ldap", "uid=alice").id)
            assertEquals(acmeAlice.id, acme.getUserByUsername("alice", tenant = "globex").id, "the view's tenant wins")
            assertEquals(plain.id, store.getUserByUsername("alice").id)
            assertFailsWith<RosterException.NotFound> { store.scoped("initech").getUserByUsername("alice") }
            assertChecked(store)
        }
    }

    test("lists, counts, plans and cursors through a view see one tenant") {
        memoryStore().use { store ->
            for (tenant in listOf("acme", "globex", null)) {
                repeat(3) { i ->
                    store.createUser(NewUser("u$i", "u$i@example.com", "U", "Hopper", tenant = tenant))
                }
            }
            store.createRole(NewRole("staff", tenant = "globex"))
            val acme = store.scoped("acme")
            val globex = store.scoped("globex")
            val page = acme.listUsers(ListQuery(withTotal = true))
            assertEquals(3uL, page.total)
            assertTrue(page.items.all { it.tenant == "acme" }, page.toString())
            assertEquals(9uL, store.count(EntityKind.USER, ListQuery()))
            assertEquals(3uL, acme.count(EntityKind.USER, ListQuery(filters = mapOf("lastName" to "Hopper"))))
            assertEquals(0uL, acme.count(EntityKind.USER, ListQuery(filter = "tenant = 'globex'")))
            assertEquals(0uL, acme.count(EntityKind.ROLE, ListQuery()))
            assertEquals(1uL, globex.count(EntityKind.ROLE, ListQuery()))
            assertEquals(emptyList(), acme.listRoles().items)
            assertTrue(acme.exists(EntityKind.USER, ListQuery()))
            assertTrue(acme.explain(EntityKind.USER, ListQuery()).isNotEmpty())
            val json = Json.parse(acme.listJson(EntityKind.USER, ListQuery(fields = listOf("tenant")))) as Map<*, *>
            assertEquals(List(3) { "acme" }, (json["items"] as List<*>).map { (it as Map<*, *>)["tenant"] })

            val first = acme.listUsers(ListQuery(pageSize = 2u))
            val cursor = first.nextCursor!!
            assertEquals(1, acme.listUsers(ListQuery(cursor = cursor)).items.size)
            val refused = assertFailsWith<RosterException.InvalidQuery> { globex.listUsers(ListQuery(cursor = cursor)) }
            assertEquals("cursor", refused.field, refused.toString())
            assertFailsWith<RosterException.InvalidQuery> { store.listUsers(ListQuery(cursor = cursor)) }
            assertChecked(store)
        }
    }

    test("queries compare tenants exactly, as views do") {
        memoryStore().use { store ->
            store.scoped("acme").createUser(NewUser("alice", "alice@example.com", "A", "L"))
            store.scoped("ACME").createUser(NewUser("alice", "alice@example.com", "A", "L"))
            assertEquals(1uL, store.scoped("acme").count(EntityKind.USER, ListQuery()))
            assertEquals(1uL, store.count(EntityKind.USER, ListQuery(filters = mapOf("tenant" to "acme"))))
            assertEquals(2uL, store.count(EntityKind.USER, ListQuery(filters = mapOf("tenant" to "in:acme,ACME"))))
            assertEquals(listOf(2uL), store.listUsers(ListQuery(filter = "tenant like 'A%'")).items.map { it.id })
            assertEquals(listOf(2uL, 1uL), store.listUsers(ListQuery(sort = listOf("tenant"))).items.map { it.id })
            assertChecked(store)
        }
    }

    test("changes through a view are that tenant's only") {
        memoryStore().use { store ->
            val acme = store.scoped("acme")
            val ada = acme.createUser(NewUser("ada", "ada@example.com", "Ada", "L"))
            store.createUser(NewUser("bob", "bob@example.com", "Bob", "B", tenant = "globex"))
            store.createRole(NewRole("plain"))
            acme.mergeUser(ada.id, """{"nickname":"Countess"}""")
            acme.deleteUser(ada.id)
            val changes = acme.changes()
            assertEquals(listOf(ChangeOp.CREATE, ChangeOp.UPDATE, ChangeOp.DELETE), changes.map { it.op })
            assertTrue(changes.all { it.entity == EntityKind.USER && it.id == ada.id }, changes.toString())
            assertEquals(listOf(1uL, 4uL, 5uL), changes.map { it.seq })
            assertEquals(changes.drop(1), acme.changes(after = 1uL))
            assertEquals(5, store.changes().size)
            assertEquals(listOf(2uL), store.scoped("globex").changes().map { it.seq })
            assertChecked(store)
        }
    }

    test("a view keeps the store open until it is closed too") {
        withTempDir { dir ->
            val path = dir.resolve("views.redb").toString()
            val store = RosterStore.open(path, CHEAP)
            val acme = store.scoped("acme")
            store.close()
            val user = acme.createUser(NewUser("ada", "ada@example.com", "Ada", "L"))
            assertFailsWith<RosterException.Locked> { RosterStore.open(path, CHEAP) }
            acme.close()
            RosterStore.open(path, CHEAP).use { reopened ->
                assertEquals(user, reopened.getUser(user.id))
                assertEquals("globex", reopened.scoped("acme").scoped("globex").tenant(), "a view of a view is of its own tenant")
                assertChecked(reopened)
            }
        }
    }

    test("a view refuses export, import, check and compact") {
        withTempDir { dir ->
            memoryStore().use { store ->
                val acme = store.scoped("acme")
                val file = dir.resolve("x.jsonl").toString()
                val calls = listOf<() -> Any>(
                    { acme.exportJsonl(file) }, { acme.importJsonl(file) }, { acme.check() }, { acme.compact() },
                )
                for (call in calls) {
                    val e = assertFailsWith<RosterException.Storage> { call() }
                    assertTrue(e.reason.contains("whole store, not a scoped view"), e.toString())
                }
                assertTrue(!File(file).exists(), "nothing was written")
                assertChecked(store)
            }
        }
    }
}

fun transferTests() = Suite("transfer").apply {
    test("export, import into a fresh file store, export again: byte for byte") {
        withTempDir { dir ->
            val first = dir.resolve("first.jsonl").toFile()
            val second = dir.resolve("second.jsonl").toFile()
            val (written, before) = memoryStore().use { store ->
                populate(store)
                assertChecked(store)
                store.exportJsonl(first.path) to store.listJson(EntityKind.USER, ListQuery())
            }
            assertEquals(6uL, written, "2 roles, 3 users, 1 client")
            assertEquals(6, first.readLines().size)
            assertTrue(!first.readText().contains("cobol-forever-1959"), "no plaintext password")
            RosterStore.open(dir.resolve("copy.redb").toString(), CHEAP).use { copy ->
                assertEquals(6uL, copy.importJsonl(first.path))
                assertEquals(6uL, copy.exportJsonl(second.path))
                assertContentEquals(first.readBytes(), second.readBytes())
                assertEquals(before, copy.listJson(EntityKind.USER, ListQuery()))
                val next = copy.createUser(NewUser("next", "next@example.com", "N", "X"))
                assertTrue(next.id > 3uL, "later ids do not collide with imported ones: ${next.id}")
                assertEquals(1, copy.scoped("acme").listClients().items.size)
                assertChecked(copy)
            }
        }
    }

    test("import refuses a non-empty store and a bad line, writing nothing") {
        withTempDir { dir ->
            val export = dir.resolve("export.jsonl").toFile()
            memoryStore().use { store ->
                populate(store)
                store.exportJsonl(export.path)
                assertFailsWith<RosterException.Conflict> { store.importJsonl(export.path) }
                assertChecked(store)
            }
            val lines = export.readLines()
            val bad = dir.resolve("bad.jsonl").toFile()
            bad.writeText((lines.take(2) + "{not json" + lines.drop(2)).joinToString("\n", postfix = "\n"))
            memoryStore().use { store ->
                val e = assertFailsWith<RosterException.Validation> { store.importJsonl(bad.path) }
                assertTrue(e.errors.single().message.contains("line 3"), e.toString())
                bad.writeText(lines.joinToString("\n") + "\n" + """{"kind":"user","doc":{"username":"x"}}""" + "\n")
                val invalid = assertFailsWith<RosterException.Validation> { store.importJsonl(bad.path) }
                assertTrue(invalid.errors.all { it.message.contains("line 7") }, invalid.toString())
                assertEquals(0uL, store.count(EntityKind.ROLE, ListQuery()), "all or nothing")
                assertEquals(emptyList(), store.changes())
                val missing = assertFailsWith<RosterException.Storage> { store.importJsonl(dir.resolve("none.jsonl").toString()) }
                assertTrue(missing.reason.isNotEmpty())
                assertEquals(6uL, store.importJsonl(export.path), "a failed import leaves the store empty")
                assertChecked(store)
            }
        }
    }

    test("check reports an ok store; compact returns") {
        withTempDir { dir ->
            RosterStore.open(dir.resolve("compact.redb").toString(), CHEAP).use { store ->
                val empty = store.check()
                assertTrue(empty.ok)
                assertEquals(emptyList(), empty.problems)
                populate(store)
                val view = store.scoped("acme")
                repeat(20) { i -> view.createUser(NewUser("u$i", "u$i@example.com", "U", "$i")) }
                repeat(20) { i -> view.deleteUser(view.getUserByUsername("u$i").id) }
                store.compact()
                store.compact()
                assertEquals(3uL, store.count(EntityKind.USER, ListQuery()))
                assertEquals(emptyList(), view.listUsers(ListQuery(filter = "username sw 'u'")).items)
                assertChecked(store)
            }
        }
    }
}
