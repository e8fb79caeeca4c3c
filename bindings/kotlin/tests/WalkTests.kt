// Walks through the binding: walkUsers/walkRoles/walkClients/walkJson
// return every match one at a time as records or JSON documents, over
// several pages, in a scoped view and in a transaction; errors arrive typed.
// (How the core reads pages and follows cursors is tested in Rust:
// core/tests/walk_tests.rs.)
package rosterdb.tests

import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue
import rosterdb.EntityKind
import rosterdb.ListQuery
import rosterdb.NewClient
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.transaction

/** Users u1…u[n] with last names Name0…Name4, every fourth disabled. */
private fun users(store: RosterStore, n: Int) {
    for (i in 1..n) {
        store.createUser(NewUser("u$i", "u$i@example.com", "U", "Name${i % 5}", enabled = i % 4 != 0))
    }
}

fun walkTests() = Suite("walks").apply {
    test("a walk returns every match of several pages once, in order, as records") {
        memoryStore().use { store ->
            users(store, 23)
            val query = ListQuery(filters = mapOf("enabled" to "true"), sort = listOf("lastName:desc"), pageSize = 4u)
            val expected = store.listUsers(query.copy(pageSize = 1000u)).items
            assertEquals(18, expected.size)
            val walk = store.walkUsers(query)
            assertEquals(expected, generateSequence { walk.next() }.toList())
            assertNull(walk.next(), "an ended walk stays ended")

            for (i in 1..3) store.createRole(NewRole("r$i"))
            for (i in 1..3) store.createClient(NewClient("c$i"))
            val roles = store.walkRoles(ListQuery(pageSize = 1u))
            assertEquals(store.listRoles().items, generateSequence { roles.next() }.toList())
            val clients = store.walkClients(ListQuery(sort = listOf("name:desc"), pageSize = 2u))
            assertEquals(listOf("c3", "c2", "c1"), generateSequence { clients.next() }.map { it.name }.toList())
        }
    }

    test("walkJson returns documents as listJson does, projected to fields") {
        memoryStore().use { store ->
            users(store, 5)
            store.createClient(NewClient("deployer"))
            val walk = store.walkJson(EntityKind.USER, ListQuery(fields = listOf("username"), sort = listOf("username:desc"), pageSize = 2u))
            val docs = generateSequence { walk.next() }.map { Json.parse(it) }.toList()
            assertEquals(
                listOf("u5", "u4", "u3", "u2", "u1").map { name ->
                    mapOf("id" to JsonNumber(name.drop(1)), "username" to name)
                },
                docs,
            )
            val whole = store.walkJson(EntityKind.USER, ListQuery(filter = "username = 'u1'"))
            val listed = (Json.parse(store.listJson(EntityKind.USER, ListQuery(filter = "username = 'u1'"))) as Map<*, *>)["items"]
            assertEquals(listed, listOf(Json.parse(whole.next()!!)))
            assertNull(whole.next())
            val client = store.walkJson(EntityKind.CLIENT).next()!!
            assertTrue(!(Json.parse(client) as Map<*, *>).containsKey("secret"), client)
        }
    }

    test("a walk with no match ends at once") {
        memoryStore().use { store ->
            assertNull(store.walkUsers().next())
            users(store, 3)
            val none = store.walkUsers(ListQuery(filter = "username = 'nobody'", pageSize = 1u))
            assertNull(none.next())
            assertNull(none.next())
            assertNull(store.walkJson(EntityKind.ROLE).next())
        }
    }

    test("a walk of a scoped view sees its tenant") {
        memoryStore().use { store ->
            users(store, 4)
            val acme = store.scoped("acme")
            val ada = acme.createUser(NewUser("ada", "ada@example.com", "Ada", "L"))
            val bob = acme.createUser(NewUser("bob", "bob@example.com", "Bob", "B"))
            val walk = acme.walkUsers(ListQuery(pageSize = 1u))
            assertEquals(listOf(ada, bob), generateSequence { walk.next() }.toList())
            val json = acme.walkJson(EntityKind.USER, ListQuery(fields = listOf("tenant")))
            assertEquals(listOf("acme", "acme"), generateSequence { json.next() }.map { (Json.parse(it) as Map<*, *>)["tenant"] }.toList())
            assertEquals(6, generateSequence(store.walkUsers()::next).count(), "the whole store sees every tenant")
        }
    }

    test("walk errors arrive typed, and a failed step can be retried") {
        memoryStore().use { store ->
            users(store, 3)
            val e = assertFailsWith<RosterException.InvalidQuery> { store.walkUsers(ListQuery(fields = listOf("username"))) }
            assertEquals("fields", e.field, "a typed walk holds whole records")
            assertFailsWith<RosterException.InvalidQuery> { store.walkJson(EntityKind.USER, ListQuery(sort = listOf("lastName,firstName"))) }
            // Found when the first page runs: on next(), every time.
            val unknown = store.walkRoles(ListQuery(filter = "email = 'x'"))
            repeat(2) { assertEquals("email", assertFailsWith<RosterException.InvalidQuery> { unknown.next() }.field) }
            val bad = store.walkUsers(ListQuery(cursor = "not-a-cursor"))
            assertEquals("cursor", assertFailsWith<RosterException.InvalidQuery> { bad.next() }.field)
        }
    }

    test("threads share a walk: each match goes to one of them") {
        memoryStore().use { store ->
            users(store, 40)
            val walk = store.walkUsers(ListQuery(pageSize = 3u))
            val seen = ConcurrentLinkedQueue<ULong>()
            concurrently(4, "walker") {
                generateSequence { walk.next() }.forEach { seen += it.id }
            }
            assertEquals((1uL..40uL).toList(), seen.sorted())
        }
    }

    test("a walk in a transaction sees its writes and ends with it") {
        memoryStore().use { store ->
            users(store, 2)
            val leaked = store.transaction { tx ->
                tx.createUser(NewUser("kay", "kay@example.com", "Kay", "K"))
                val walk = tx.walkUsers(ListQuery(pageSize = 1u))
                assertEquals(listOf("u1", "u2", "kay"), generateSequence { walk.next() }.map { it.username }.toList())
                tx.walkUsers()
            }
            val e = assertFailsWith<RosterException.Closed> { leaked.next() }
            assertEquals("the transaction is finished", e.reason)
        }
    }
}
