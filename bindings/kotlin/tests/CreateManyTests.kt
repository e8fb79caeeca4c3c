// createUsers: many users in one write, all or nothing, ids in input order;
// a bad user is named by its position in the list, a conflict in the list
// or with the store writes nothing; in a transaction and a scoped view.
package rosterdb.tests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import rosterdb.EntityKind
import rosterdb.ExternalId
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.Secret
import rosterdb.transaction

private fun person(name: String, email: String = "$name@example.com", tenant: String? = null) =
    NewUser(name, email, "First", "Last", tenant = tenant)

/** What a failed batch must leave as it was: users and change-log entries. */
private fun written(store: RosterStore): Pair<ULong, Int> =
    store.count(EntityKind.USER) to store.changes(limit = 1000u).size

fun createManyTests() = Suite("createUsers").apply {
    test("returns the ids in input order; the users are readable") {
        memoryStore().use { store ->
            val first = store.createUser(person("first"))
            val role = store.createRole(NewRole("staff"))
            val ids = store.createUsers(
                listOf(
                    person("zed").copy(roles = listOf(role.id), attributes = """{"n":1}"""),
                    person("amy").copy(password = Secret("correct horse 1"), externalIds = listOf(ExternalId("gh", "7"))),
                    person("jörg").copy(enabled = false),
                ),
            )
            assertEquals(listOf(first.id + 1u, first.id + 2u, first.id + 3u), ids)
            assertEquals(listOf("zed", "amy", "jörg"), ids.map { store.getUser(it).username })
            assertEquals(listOf(role.id), store.getUser(ids[0]).roles)
            assertEquals("""{"n":1}""", store.getUser(ids[0]).attributes)
            assertTrue(store.getUser(ids[1]).hasPassword)
            assertEquals(ids[1], store.getUserByExternalId("gh", "7").id)
            assertFalse(store.getUser(ids[2]).enabled)
            assertEquals(ids, store.changes().takeLast(3).map { it.id })
            assertEquals(emptyList(), store.createUsers(emptyList()))
            assertEquals(4uL, store.count(EntityKind.USER))
        }
    }

    test("a conflict in the list or with the store writes nothing") {
        memoryStore().use { store ->
            store.createUser(person("taken"))
            val before = written(store)
            val batches = listOf(
                listOf(person("ann"), person("ANN", email = "other@example.com")) to "username",
                listOf(person("ann"), person("bob", email = "ANN@example.com")) to "email",
                listOf(person("new"), person("taken")) to "username",
                listOf(
                    person("ann").copy(externalIds = listOf(ExternalId("gh", "1"))),
                    person("bob").copy(externalIds = listOf(ExternalId("gh", "1"))),
                ) to "externalIds",
            )
            for ((batch, field) in batches) {
                val e = assertFailsWith<RosterException.Conflict> { store.createUsers(batch) }
                assertEquals(field, e.field)
                assertEquals(before, written(store))
            }
            assertEquals(2uL, store.createUser(person("next")).id, "a refused batch hands out no id")
        }
    }

    test("a bad user is named by its position and nothing is written") {
        memoryStore().use { store ->
            val good = listOf(person("a0"), person("a1"))
            // What the conversion finds (text that is not Unicode, attributes
            // that are not a JSON object, and then the document's field rules).
            assertInvalid("users[2].username") { store.createUsers(good + person("b\uD800", email = "b@example.com")) }
            assertInvalid("users[1].attributes") { store.createUsers(listOf(person("a"), person("b").copy(attributes = "[1,"), person("c"))) }
            val both = assertInvalid("users[0].username", "users[0].email", "users[0].firstName") {
                store.createUsers(listOf(NewUser("a\uD800", "no", "", "L")) + good)
            }
            assertTrue(both.toString().contains("users[0].email"), both.toString())
            // What the core finds when it checks each user, named inside its item;
            // a missing role is found for the whole batch.
            assertInvalid("users[2].email") { store.createUsers(good + person("b", email = "not an email")) }
            assertInvalid("roles") { store.createUsers(good + person("b").copy(roles = listOf(77uL))) }
            assertEquals(0uL to 0, written(store))
        }
    }

    test("in a transaction: part of it, gone when it throws") {
        memoryStore().use { store ->
            assertFailsWith<IllegalStateException> {
                store.transaction { tx ->
                    val ids = tx.createUsers(listOf(person("ann"), person("bob")))
                    assertEquals(listOf("ann", "bob"), ids.map { tx.getUser(it).username })
                    throw IllegalStateException("changed my mind")
                }
            }
            assertEquals(0uL to 0, written(store))
            val ids = store.transaction { tx ->
                assertFailsWith<RosterException.Conflict> { tx.createUsers(listOf(person("cid"), person("cid"))) }
                tx.createUsers(listOf(person("ann"))) + tx.createUsers(listOf(person("bob")))
            }
            assertEquals(listOf(1uL, 2uL), ids)
            assertEquals(2uL, store.count(EntityKind.USER))
        }
    }

    test("a scoped view gives every user its tenant") {
        memoryStore().use { store ->
            store.scoped("acme").use { acme ->
                val ids = acme.createUsers(listOf(person("ann"), person("bob", tenant = "acme")))
                assertEquals(listOf("acme", "acme"), ids.map { store.getUser(it).tenant })
                assertInvalid("users[0].tenant") { acme.createUsers(listOf(person("cid", tenant = "globex"))) }
            }
            assertEquals(2uL, store.count(EntityKind.USER))
        }
    }
}
