// Transactions and the store's life through the binding: the Kotlin
// transaction { } and the raw TransactionBody callback (commit, rollback,
// what a throwing body's exception becomes, including a java.lang.Error that
// JNA swallows), reads of its own writes, Busy and Closed from the core's
// handles as RosterException, scoped views; closeStore() for every object
// made from a store, and compact while something holds the store. (The
// state machine itself is tested in Rust: core/tests/handle_tests.rs.)
package rosterdb.tests

import com.sun.jna.Callback
import com.sun.jna.Native
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNull
import kotlin.test.assertSame
import kotlin.test.assertTrue
import rosterdb.EntityKind
import rosterdb.ListQuery
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.RosterTransaction
import rosterdb.TransactionBody
import rosterdb.transaction

private fun ann() = NewUser("ann", "ann@example.com", "Ann", "A")

private fun bob() = NewUser("bob", "bob@example.com", "Bob", "B")

/** A raw [TransactionBody] running [body], keeping the transaction it got. */
private class Body(private val body: (RosterTransaction) -> Boolean) : TransactionBody {
    var tx: RosterTransaction? = null

    override fun run(tx: RosterTransaction): Boolean {
        this.tx = tx
        return body(tx)
    }
}

/** Asserts that the store holds no user and no change (nothing was committed). */
private fun assertEmpty(store: RosterStore) {
    assertEquals(0uL, store.count(EntityKind.USER))
    assertEquals(emptyList(), store.changes())
}

fun transactionTests() = Suite("transactions").apply {
    test("transaction { } commits when the block returns and returns its value") {
        memoryStore().use { store ->
            val (a, b) = store.transaction { tx -> tx.createUser(ann()) to tx.createUser(bob()) }
            assertEquals(listOf(a, b), store.listUsers().items)
            assertEquals(2, store.changes().size)
            val role = store.transaction { tx ->
                val role = tx.createRole(NewRole("staff"))
                tx.mergeUser(a.id, """{"roles": [${role.id}]}""")
                tx.patchUser(b.id, """[{"op": "add", "path": "/roles/-", "value": ${role.id}}]""")
                role
            }
            assertEquals(2uL, store.count(EntityKind.USER, ListQuery(filters = mapOf("roles" to "${role.id}"))))
        }
    }

    test("an exception rolls back and is rethrown as it was, leaving no trace") {
        memoryStore().use { store ->
            val thrown = IllegalStateException("changed my mind")
            val caught = assertFailsWith<IllegalStateException> {
                store.transaction { tx ->
                    tx.createUser(ann())
                    tx.createRole(NewRole("staff"))
                    throw thrown
                }
            }
            assertSame(thrown, caught)
            assertEmpty(store)
            assertEquals(0uL, store.count(EntityKind.ROLE))
            // A RosterException from a call inside: the same object, and the earlier writes are gone too.
            val conflict = assertFailsWith<RosterException.Conflict> {
                store.transaction { tx ->
                    tx.createUser(ann())
                    tx.createUser(ann())
                }
            }
            assertEquals("username", conflict.field)
            assertEmpty(store)
            // An Error (a failed assertion) too.
            assertFailsWith<AssertionError> { store.transaction { tx -> tx.createUser(ann()); assertTrue(false) } }
            assertEmpty(store)
        }
    }

    test("reads inside see the transaction's writes; the store's reads see the last commit") {
        memoryStore().use { store ->
            val old = store.createUser(ann())
            store.transaction { tx ->
                val b = tx.createUser(bob())
                assertEquals(b, tx.getUser(b.id))
                assertEquals(b, tx.getUserByUsername("BOB"))
                assertEquals(2uL, tx.count(EntityKind.USER))
                assertEquals(listOf(old, b), tx.listUsers().items)
                assertEquals(2, tx.changes().size)
                assertTrue(tx.exists(EntityKind.USER, ListQuery(filter = "username = 'bob'")))
                tx.deleteUser(old.id)
                assertFailsWith<RosterException.NotFound> { tx.getUser(old.id) }
                // The store, from this thread, reads the last commit.
                assertEquals(old, store.getUser(old.id))
                assertFailsWith<RosterException.NotFound> { store.getUser(b.id) }
                assertEquals(1uL, store.count(EntityKind.USER))
            }
            assertEquals(listOf("bob"), store.listUsers().items.map { it.username })
        }
    }

    test("a write through the store, a view or a nested transaction from inside is Busy") {
        memoryStore().use { store ->
            val acme = store.scoped("acme")
            store.transaction { tx ->
                tx.createUser(ann())
                val busy = listOf<() -> Any>(
                    { store.createUser(bob()) },
                    { acme.createUser(bob()) },
                    { store.deleteUser(1uL) },
                    { store.importJsonl("/nonexistent.jsonl") },
                    { store.transaction { it.createUser(bob()) } },
                    { acme.transaction { it.createUser(bob()) } },
                )
                for (call in busy) {
                    val e = assertFailsWith<RosterException.Busy> { call() }
                    assertTrue(e.toString().startsWith("busy: "), e.toString())
                }
                assertEquals(1uL, tx.count(EntityKind.USER), "nothing else was written")
            }
            assertEquals(listOf("ann"), store.listUsers().items.map { it.username })
            // Unhandled, the Busy ends the transaction: rolled back.
            assertFailsWith<RosterException.Busy> {
                store.transaction { tx ->
                    tx.createUser(bob())
                    store.createUser(bob())
                }
            }
            assertEquals(1uL, store.count(EntityKind.USER))
        }
    }

    test("the raw TransactionBody: true commits, false rolls back, what it throws becomes typed") {
        memoryStore().use { store ->
            store.transaction(Body { tx -> tx.createUser(ann()); true })
            assertEquals(1uL, store.count(EntityKind.USER))
            store.transaction(Body { tx -> tx.createUser(bob()); false })
            assertEquals(1uL, store.count(EntityKind.USER), "false rolls back")

            val notFound = assertFailsWith<RosterException.NotFound> {
                store.transaction(Body { tx -> tx.createUser(bob()); tx.getUser(99uL); true })
            }
            assertEquals(EntityKind.USER, notFound.entity)
            assertEquals("id 99", notFound.key)
            val invalid = assertFailsWith<RosterException.Validation> {
                store.transaction(Body { tx -> tx.createUser(bob()); throw RosterException.Validation(listOf(rosterdb.FieldError("x", "missing", "y"))) })
            }
            assertEquals(listOf(rosterdb.FieldError("x", "missing", "y")), invalid.errors, "thrown by Kotlin, crossed both ways")
            val aborted = assertFailsWith<RosterException.Aborted> {
                store.transaction(Body { tx -> tx.createUser(bob()); throw IllegalArgumentException("no such thing") })
            }
            assertTrue(aborted.reason.startsWith("java.lang.IllegalArgumentException: no such thing"), aborted.reason)
            assertTrue(aborted.toString().startsWith("the transaction was rolled back: its body threw java.lang."), aborted.toString())
            assertEquals(1uL, store.count(EntityKind.USER))

            // The transaction object outlives the body: every call on it is Closed.
            val body = Body { true }
            store.transaction(body)
            val finished = assertFailsWith<RosterException.Closed> { body.tx!!.createUser(bob()) }
            assertEquals("the transaction is finished", finished.reason)
            assertFailsWith<RosterException.Closed> { body.tx!!.getUser(1uL) }
        }
    }

    test("a java.lang.Error that JNA swallows rolls the raw body back, never commits") {
        memoryStore().use { store ->
            val swallowed = AtomicReference<Throwable>()
            val before = Native.getCallbackExceptionHandler()
            Native.setCallbackExceptionHandler { _: Callback, e: Throwable -> swallowed.set(e) }
            try {
                store.transaction(Body { tx -> tx.createUser(ann()); throw AssertionError("failed inside") })
            } finally {
                Native.setCallbackExceptionHandler(before)
            }
            assertEquals("failed inside", assertIs<AssertionError>(swallowed.get()).message)
            assertEmpty(store)
        }
    }

    test("a closed store: transaction is Closed; closed while open, the commit is Closed and rolled back") {
        withTempDir { dir ->
            val path = dir.resolve("tx.redb").toString()
            val store = RosterStore.open(path, CHEAP)
            val e = assertFailsWith<RosterException.Closed> {
                store.transaction { tx ->
                    tx.createUser(ann())
                    store.closeStore()
                    assertEquals("the store is closed", assertFailsWith<RosterException.Closed> { tx.getUser(1uL) }.reason)
                }
            }
            assertEquals("the store was closed; the transaction was rolled back", e.reason)
            assertEquals("the store is closed", assertFailsWith<RosterException.Closed> { store.transaction { } }.reason)
            store.close()
            RosterStore.open(path, CHEAP).use { reopened -> assertEmpty(reopened) }
        }
    }

    test("a scoped view's transaction sees its tenant") {
        memoryStore().use { store ->
            val other = store.createUser(ann())
            val acme = store.scoped("acme")
            val ada = acme.transaction { tx ->
                assertEquals("acme", tx.tenant())
                assertFailsWith<RosterException.NotFound> { tx.getUser(other.id) }
                assertEquals(0uL, tx.count(EntityKind.USER))
                tx.createUser(NewUser("ada", "ada@example.com", "Ada", "L"))
            }
            assertEquals("acme", ada.tenant)
            assertNull(store.transaction { tx -> tx.tenant() })
            assertEquals(ada, acme.getUserByUsername("ada"))
            assertEquals(2uL, store.count(EntityKind.USER))
        }
    }
}

fun lifetimeTests() = Suite("lifetimes").apply {
    test("closeStore closes it for every view and walk: later calls are Closed; again, nothing") {
        withTempDir { dir ->
            val path = dir.resolve("close.redb").toString()
            val store = RosterStore.open(path, CHEAP)
            store.createUser(ann())
            val acme = store.scoped("acme")
            val walk = store.walkUsers()
            acme.closeStore()
            val calls = listOf<() -> Any?>(
                { store.getUser(1uL) }, { store.createUser(bob()) }, { acme.listUsers() }, { walk.next() },
                { store.walkUsers() }, { store.scoped("globex") }, { store.exportJsonl("$path.jsonl") },
                { store.check() }, { store.compact() }, { store.changes() },
            )
            for (call in calls) assertEquals("the store is closed", assertFailsWith<RosterException.Closed> { call() }.reason)
            store.closeStore()
            acme.closeStore()
            // The file was released though these objects live on.
            RosterStore.open(path, CHEAP).use { reopened -> assertEquals(1uL, reopened.count(EntityKind.USER)) }
            store.close()
            acme.close()
            walk.close()
        }
    }

    test("compact is Busy while a transaction or its walk holds the store, and runs between walk pages") {
        withTempDir { dir ->
            RosterStore.open(dir.resolve("busy.redb").toString(), CHEAP).use { store ->
                for (i in 1..5) store.createUser(NewUser("u$i", "u$i@example.com", "U", "$i"))
                val walk = store.walkUsers(ListQuery(pageSize = 2u))
                assertEquals("u1", walk.next()!!.username)
                store.compact()
                assertEquals(listOf("u2", "u3", "u4", "u5"), generateSequence { walk.next() }.map { it.username }.toList())
                store.transaction { tx ->
                    val inside = tx.walkUsers(ListQuery(pageSize = 1u))
                    assertEquals("u1", inside.next()!!.username)
                    val e = assertFailsWith<RosterException.Busy> { store.compact() }
                    assertEquals("busy: the store is in use by another call", e.toString())
                    assertEquals("u2", inside.next()!!.username)
                }
                store.compact() // the transaction ended: the store is free again
            }
        }
    }
}
