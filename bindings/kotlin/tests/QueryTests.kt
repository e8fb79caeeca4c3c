// Queries through the binding: ListQuery's fields reach the core as its
// typed arguments, typed and JSON pages come back whole, cursors cross both
// ways, and InvalidQuery arrives from every query call with its position and
// field. The query language, cursor rules and plans are tested in Rust
// (core/tests/query_*_tests.rs, cursor_tests.rs) and by tests/vectors/
// queries.json, which this suite also runs (VectorTests.kt).
package rosterdb.tests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import rosterdb.EntityKind
import rosterdb.ListQuery
import rosterdb.NewClient
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore

/** Users 1–6 (last names Hopper ×3, Lovelace, Knuth, Dijkstra), role 1 and client 1. */
private fun team(store: RosterStore) {
    val staff = store.createRole(NewRole("staff", description = "Everyone", permissions = listOf("users:read")))
    for ((i, name) in listOf("grace Hopper", "ada Lovelace", "bob hopper", "don Knuth", "edsger Dijkstra", "zoe HOPPER").withIndex()) {
        val (username, lastName) = name.split(" ")
        store.createUser(
            NewUser(
                username, "$username@example.com", username.replaceFirstChar { it.uppercase() }, lastName,
                enabled = username != "bob",
                roles = if (i % 2 == 0) listOf(staff.id) else emptyList(),
                attributes = """{"level": $i}""",
            ),
        )
    }
    store.createClient(NewClient("deployer", roles = listOf(staff.id)))
}

private fun ids(page: rosterdb.UserPage) = page.items.map { it.id }

/** The items of a listJson answer, each a document. */
private fun jsonItems(text: String): List<Map<*, *>> =
    ((Json.parse(text) as Map<*, *>)["items"] as List<*>).map { it as Map<*, *> }

/** A position [assertInvalidQuery] does not check. */
private const val ANY_POSITION = ULong.MAX_VALUE

/** Asserts that [body] throws InvalidQuery on [field] at [position] (`null`: none). */
private fun assertInvalidQuery(field: String?, position: ULong? = null, body: () -> Unit): RosterException.InvalidQuery {
    val e = assertFailsWith<RosterException.InvalidQuery> { body() }
    assertEquals(field, e.field, e.toString())
    if (position != ANY_POSITION) assertEquals(position, e.position, e.toString())
    assertTrue(e.reason.isNotEmpty() && e.toString().startsWith("invalid query: "), e.toString())
    return e
}

fun queryTests() = Suite("queries").apply {
    test("list with filters, an expression, search, sort and paging") {
        memoryStore().use { store ->
            team(store)
            val all = store.listUsers()
            assertEquals((1uL..6uL).toList(), ids(all), "ListQuery() is every record by id")
            assertEquals(all.items, all.items.map { store.getUser(it.id) }, "typed items are whole records")
            assertNull(all.total)
            assertNull(all.nextCursor)

            val hoppers = ListQuery(filters = mapOf("lastName" to "like:hop%", "enabled" to "true"))
            assertEquals(listOf(1uL, 6uL), ids(store.listUsers(hoppers)))
            assertEquals(listOf(1uL), ids(store.listUsers(hoppers.copy(filter = "attributes.level < 3"))), "filters AND the expression")
            assertEquals(listOf(3uL), ids(store.listUsers(ListQuery(filters = mapOf("filter[username]" to "in:BOB,nobody")))))
            assertEquals(listOf(2uL), ids(store.listUsers(ListQuery(search = "ADA love"))))

            // Strings sort case-folded, then exact: HOPPER < Hopper < hopper.
            val sorted = ListQuery(sort = listOf("lastName", "username:desc"), pageSize = 2u, withTotal = true)
            val first = store.listUsers(sorted)
            assertEquals(listOf(5uL, 6uL), ids(first))
            assertEquals(6uL, first.total)
            assertNotNull(first.nextCursor)
            assertEquals(listOf(1uL, 3uL), ids(store.listUsers(sorted.copy(page = 2uL))))
            val last = store.listUsers(sorted.copy(page = 3uL))
            assertEquals(listOf(4uL, 2uL), ids(last))
            assertNull(last.nextCursor, "the last page has no cursor")
            assertEquals(
                listOf(1uL, 6uL),
                ids(store.listUsers(ListQuery(sort = listOf("lastName:desc"), offset = 3uL, limit = 2u))),
            )
            assertEquals(emptyList(), ids(store.listUsers(ListQuery(page = 9uL))))

            val roles = store.listRoles(ListQuery(filter = "permissions eq 'users:read'", withTotal = true))
            assertEquals(listOf(store.getRole(1uL)), roles.items)
            assertEquals(1uL, roles.total)
            val clients = store.listClients(ListQuery(filters = mapOf("roles" to "1")))
            assertEquals(listOf(store.getClient(1uL)), clients.items)
        }
    }

    test("nextCursor crosses back as ListQuery(cursor): every match once, in order") {
        memoryStore().use { store ->
            for (i in 1..23) {
                store.createUser(NewUser("u$i", "u$i@example.com", "U", "Name${i % 5}", enabled = i % 4 != 0))
            }
            val query = ListQuery(filters = mapOf("enabled" to "true"), sort = listOf("lastName:desc"), pageSize = 4u)
            val expected = ids(store.listUsers(query.copy(pageSize = 1000u)))
            assertEquals(18, expected.size)
            val seen = mutableListOf<ULong>()
            var page = store.listUsers(query)
            seen += ids(page)
            while (page.nextCursor != null) {
                page = store.listUsers(ListQuery(cursor = page.nextCursor))
                seen += ids(page)
                assertTrue(seen.size <= expected.size, "the walk does not end")
            }
            assertEquals(expected, seen)
            val json = Json.parse(store.listJson(EntityKind.USER, query)) as Map<*, *>
            val walked = jsonItems(store.listJson(EntityKind.USER, ListQuery(cursor = json["nextCursor"] as String)))
            assertEquals(expected.drop(4).take(4), walked.map { (it["id"] as JsonNumber).text.toULong() })
        }
    }

    test("count, exists and explain take the same query") {
        memoryStore().use { store ->
            team(store)
            assertEquals(6uL, store.count(EntityKind.USER))
            val enabled = ListQuery(filters = mapOf("enabled" to "true"))
            assertEquals(5uL, store.count(EntityKind.USER, enabled))
            assertEquals(5uL, store.count(EntityKind.USER, enabled.copy(page = 2uL, pageSize = 1u)), "paging is ignored")
            assertEquals(1uL, store.count(EntityKind.ROLE))
            assertEquals(1uL, store.count(EntityKind.CLIENT, ListQuery(filter = "name = 'DEPLOYER'")))
            assertTrue(store.exists(EntityKind.USER, ListQuery(filter = "username = 'ZOE'")))
            assertFalse(store.exists(EntityKind.USER, ListQuery(filter = "username = 'nobody'")))
            assertFalse(store.exists(EntityKind.CLIENT, ListQuery(search = "billing")))
            assertTrue(store.exists(EntityKind.ROLE, ListQuery(search = "every")))

            val indexed = store.explain(EntityKind.USER, ListQuery(filters = mapOf("lastName" to "Hopper")))
            assertTrue(indexed.contains("Index lookup idx.user.last_name = 'hopper'"), indexed)
            val sorted = store.explain(EntityKind.USER, ListQuery(sort = listOf("lastName:desc")))
            assertTrue(sorted.contains("Index scan idx.user.last_name, lastName desc"), sorted)
            val scan = store.explain(EntityKind.USER, ListQuery(filter = "nickname is null"))
            assertTrue(scan.contains("Table scan users"), scan)
            val roles = store.explain(EntityKind.ROLE, ListQuery(filter = "name = 'STAFF'"))
            assertTrue(roles.contains("Index lookup idx.role.name.order = 'staff'"), roles)
        }
    }

    test("listJson projects to fields and carries total and nextCursor") {
        memoryStore().use { store ->
            team(store)
            val text = store.listJson(
                EntityKind.USER,
                ListQuery(filter = "lastName = 'hopper'", fields = listOf("USERNAME", "attributes"), pageSize = 2u, withTotal = true),
            )
            val page = Json.parse(text) as Map<*, *>
            assertEquals(listOf("items", "total", "nextCursor"), page.keys.toList(), text)
            assertEquals(JsonNumber("3"), page["total"])
            assertTrue(page["nextCursor"] is String, text)
            assertEquals(
                listOf(
                    mapOf("id" to JsonNumber("1"), "username" to "grace", "attributes" to mapOf("level" to JsonNumber("0"))),
                    mapOf("id" to JsonNumber("3"), "username" to "bob", "attributes" to mapOf("level" to JsonNumber("2"))),
                ),
                page["items"],
                "id is always included; field names are case-insensitive",
            )

            val created = Json.parse(
                store.createUserJson("""{"username": "kay", "email": "kay@example.com", "firstName": "Kay", "lastName": "Ng", "nickname": "K"}"""),
            )
            val whole = Json.parse(store.listJson(EntityKind.USER, ListQuery(filter = "nickname = 'k'"))) as Map<*, *>
            assertEquals(mapOf("items" to listOf(created), "total" to null, "nextCursor" to null), whole, "whole documents")

            val roles = jsonItems(store.listJson(EntityKind.ROLE, ListQuery(fields = listOf("name"))))
            assertEquals(listOf(mapOf("id" to JsonNumber("1"), "name" to "staff")), roles)
            val clients = jsonItems(store.listJson(EntityKind.CLIENT))
            assertEquals(setOf("deployer"), clients.map { it["name"] }.toSet())
            assertFalse(clients.single().containsKey("secret"), "a client's secret is never listed")
        }
    }

    test("typed lists refuse fields; listJson takes them") {
        memoryStore().use { store ->
            team(store)
            val projected = ListQuery(fields = listOf("id", "username"))
            for (list in listOf({ store.listUsers(projected) }, { store.listRoles(projected) }, { store.listClients(projected) })) {
                val e = assertInvalidQuery("fields") { list() }
                assertTrue(e.reason.contains("listJson"), e.reason)
            }
            assertEquals(6, jsonItems(store.listJson(EntityKind.USER, projected)).size)
            // Lists reach the core as lists: a blank item is no field, and one item is one field.
            assertInvalidQuery("fields", 0uL) { store.listUsers(ListQuery(fields = listOf(" "))) }
            assertInvalidQuery("sort", 8uL) { store.listUsers(ListQuery(sort = listOf("lastName,firstName"))) }
        }
    }

    test("every InvalidQuery arrives with its position and field") {
        memoryStore().use { store ->
            team(store)
            // Each failing query, through every call that takes one.
            val calls = listOf<(ListQuery) -> Any>(
                { store.listUsers(it) },
                { store.listJson(EntityKind.USER, it) },
                { store.count(EntityKind.USER, it) },
                { store.exists(EntityKind.USER, it) },
                { store.explain(EntityKind.USER, it) },
            )
            fun invalid(query: ListQuery, field: String?, position: ULong? = null) {
                for (call in calls) assertInvalidQuery(field, position) { call(query) }
            }
            invalid(ListQuery(filter = "enabled = true and foo = 1"), "foo", 19uL)
            invalid(ListQuery(filters = mapOf("enabled" to "maybe")), "enabled", ANY_POSITION)
            invalid(ListQuery(pageSize = 0u), "pageSize")
            invalid(ListQuery(page = 2uL, limit = 10u), "limit")
            invalid(ListQuery(sort = listOf("username", "roles")), "sort", 9uL) // "roles" after "username,"

            // Errors found when the query runs, not when it is read.
            for (call in calls.take(2)) {
                assertInvalidQuery("cursor") { call(ListQuery(cursor = "not-a-cursor")) }
                assertInvalidQuery("page") { call(ListQuery(page = ULong.MAX_VALUE, pageSize = 1000u)) }
            }
            assertInvalidQuery("fields", 3uL) { // in "id,password"
                store.listJson(EntityKind.USER, ListQuery(fields = listOf("id", "password")))
            }
            // Filters are passed by name, so the first bad one does not depend on the map's order.
            for (filters in listOf(mapOf("zz" to "1", "aa" to "2"), mapOf("aa" to "2", "zz" to "1"))) {
                assertInvalidQuery("aa", ANY_POSITION) { store.listUsers(ListQuery(filters = filters)) }
            }
            assertEquals(emptyList(), ids(store.listUsers(ListQuery(offset = ULong.MAX_VALUE))))
        }
    }
}
