// Scoped views (docs/reference/tenancy.md) and the whole-store operations
// (docs/reference/changes-and-export.md) through the binding: scoped() gives a view whose calls go
// to its tenant, which outlives the store object, and which refuses export, import, check and
// compact; export, import, check and compact take their paths and return their
// counts. What a view sees and refuses record by record, and what an import
// accepts, are tested in Rust: core/tests/tenancy_tests.rs,
// handle_tests.rs and transfer_tests.rs.
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

    test("a view's reads and writes go to its tenant; another tenant's record is NotFound") {
        memoryStore().use { store ->
            val theirs = store.createUser(NewUser("ada", "ada@example.com", "Ada", "G", tenant = "globex"))
            val acme = store.scoped("acme")
            assertEquals(EntityKind.USER, assertFailsWith<RosterException.NotFound> { acme.getUser(theirs.id) }.entity)
            assertFailsWith<RosterException.NotFound> { acme.mergeUser(theirs.id, """{"lastName":"X"}""") }
            assertEquals(theirs, store.getUser(theirs.id), "nothing was changed")
            val globex = store.scoped("globex")
            assertEquals("X", globex.mergeUser(theirs.id, """{"lastName":"X"}""").lastName)
            assertEquals(theirs.id, globex.getUserByUsername("ADA", tenant = "acme").id, "the view's tenant wins")
            assertEquals(listOf(theirs.id), globex.listUsers().items.map { it.id })
            assertEquals(0uL, acme.count(EntityKind.USER))
            assertEquals(listOf(ChangeOp.CREATE, ChangeOp.UPDATE), globex.changes().map { it.op })
            assertEquals(emptyList(), acme.changes())
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
    test("export, then import into a fresh file store: paths in, counts out, the same records") {
        withTempDir { dir ->
            val first = dir.resolve("first.jsonl").toFile()
            val second = dir.resolve("second.jsonl").toFile()
            val (written, before) = memoryStore().use { store ->
                populate(store)
                store.exportJsonl(first.path) to store.listJson(EntityKind.USER, ListQuery())
            }
            assertEquals(6uL, written, "2 roles, 3 users, 1 client")
            assertEquals(6, first.readLines().size)
            assertTrue(!first.readText().contains("cobol-forever-1959"), "no plaintext password")
            RosterStore.open(dir.resolve("copy.redb").toString(), CHEAP).use { copy ->
                assertEquals(6uL, copy.importJsonl(first.path))
                assertEquals(before, copy.listJson(EntityKind.USER, ListQuery()))
                assertEquals(6uL, copy.exportJsonl(second.path))
                assertContentEquals(first.readBytes(), second.readBytes())
            }
        }
    }

    test("import's refusals arrive typed: Conflict, Validation naming the line, Storage") {
        withTempDir { dir ->
            val export = dir.resolve("export.jsonl").toFile()
            memoryStore().use { store ->
                populate(store)
                store.exportJsonl(export.path)
                assertFailsWith<RosterException.Conflict> { store.importJsonl(export.path) }
            }
            val lines = export.readLines()
            val bad = dir.resolve("bad.jsonl").toFile()
            bad.writeText((lines.take(2) + "{not json" + lines.drop(2)).joinToString("\n", postfix = "\n"))
            memoryStore().use { store ->
                val e = assertFailsWith<RosterException.Validation> { store.importJsonl(bad.path) }
                assertTrue(e.errors.single().message.contains("line 3"), e.toString())
                assertEquals(emptyList(), store.changes())
                val missing = assertFailsWith<RosterException.Storage> { store.importJsonl(dir.resolve("none.jsonl").toString()) }
                assertTrue(missing.reason.isNotEmpty())
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
