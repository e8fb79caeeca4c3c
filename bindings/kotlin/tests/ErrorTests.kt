// Every error kind arrives as its RosterException subclass with its data,
// and crosses back from Kotlin to Rust (a transaction body may throw one).
// Which input raises which error is ConversionTests.kt's and the core's
// (core/tests/error_tests.rs) business.
package rosterdb.tests

import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import rosterdb.EntityKind
import rosterdb.FieldError
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore

fun errorTests() = Suite("errors").apply {
    test("NotFound carries the entity and the key") {
        memoryStore().use { store ->
            val e = assertFailsWith<RosterException.NotFound> { store.getUserByUsername("ghost") }
            assertEquals(EntityKind.USER to "username \"ghost\"", e.entity to e.key)
            assertEquals(EntityKind.ROLE to "id 7", assertFailsWith<RosterException.NotFound> { store.getRole(7uL) }.let { it.entity to it.key })
            assertEquals(EntityKind.CLIENT, assertFailsWith<RosterException.NotFound> { store.getClientByClientId("rc_0000000000000000000000") }.entity)
        }
    }

    test("Conflict names the taken field") {
        memoryStore().use { store ->
            store.createUser(NewUser("alice", "alice@example.com", "Alice", "L"))
            val byName = assertFailsWith<RosterException.Conflict> {
                store.createUser(NewUser("ALICE", "other@example.com", "A", "L"))
            }
            assertEquals(EntityKind.USER, byName.entity)
            assertEquals("username", byName.field)
            val byEmail = assertFailsWith<RosterException.Conflict> {
                store.createUser(NewUser("alice2", "Alice@Example.com", "A", "L"))
            }
            assertEquals("email", byEmail.field)
            store.createRole(NewRole("admins"))
            val role = assertFailsWith<RosterException.Conflict> { store.createRole(NewRole("Admins")) }
            assertEquals(EntityKind.ROLE, role.entity)
            assertEquals("name", role.field)
        }
    }

    test("Validation lists every failing field") {
        memoryStore().use { store ->
            val e = assertInvalid("username", "email", "firstName", "externalIds[0].type") {
                store.createUser(
                    NewUser(
                        "a b", "not-an-email", "", "L",
                        externalIds = listOf(rosterdb.ExternalId("", "x")),
                    ),
                )
            }
            assertTrue(e.errors.all { it.message.isNotEmpty() }, e.errors.toString())
            assertTrue(e.message.contains("username"), "message: ${e.message}")
            assertInvalid("roles") {
                store.createUser(NewUser("bob", "bob@example.com", "B", "B", roles = listOf(ULong.MAX_VALUE)))
            }
            assertInvalid("name", "permissions[0]") {
                store.createRole(NewRole("", permissions = listOf("no spaces")))
            }
            assertInvalid("ipAllowlist[0]") {
                store.createClient(rosterdb.NewClient("c", ipAllowlist = listOf("300.1.2.3")))
            }
            assertEquals(0, store.changes().size, "nothing was written")
        }
    }

    test("Locked when the file is open in another store") {
        withTempDir { dir ->
            val path = dir.resolve("locked.redb").toString()
            RosterStore.open(path).use {
                assertFailsWith<RosterException.Locked> { RosterStore.open(path) }
            }
            RosterStore.open(path).close()
        }
    }

    test("IncompatibleFormat for a file that is not a store, left unchanged") {
        withTempDir { dir ->
            val path = dir.resolve("notes.txt")
            Files.writeString(path, "not a database")
            val e = assertFailsWith<RosterException.IncompatibleFormat> { RosterStore.open(path.toString()) }
            assertTrue(e.reason.isNotEmpty())
            assertEquals("not a database", Files.readString(path))
        }
    }

    test("Storage for a path that cannot be created") {
        withTempDir { dir ->
            val e = assertFailsWith<RosterException.Storage> {
                RosterStore.open(dir.resolve("missing/folder/roster.redb").toString())
            }
            assertTrue(e.reason.isNotEmpty())
            assertFailsWith<RosterException.Storage> { RosterStore.open(dir.toString()) }
        }
    }

    test("every variant crosses to Rust and back with its data") {
        // toString() is the Rust Display of the error, so each variant is
        // lowered by Kotlin and lifted by Rust, field by field.
        val cases = listOf(
            RosterException.NotFound(EntityKind.USER, "id 42") to "user not found: id 42",
            RosterException.Conflict(EntityKind.CLIENT, "clientId") to "client clientId is already taken",
            RosterException.Validation(listOf(FieldError("username", "is required"), FieldError("", "whole"))) to
                "invalid document: username: is required; whole",
            RosterException.InvalidQuery("unexpected end", 4uL, "sort") to
                "invalid query: unexpected end (at position 4, field sort)",
            RosterException.InvalidQuery("bad page", null, null) to "invalid query: bad page",
            RosterException.InvalidPatch(2uL, "read-only") to "invalid patch: operation 2: read-only",
            RosterException.VersionConflict(1uL, 2uL) to "version conflict: expected version 1, found 2",
            RosterException.InUse(3uL, 5uL) to
                "role 3 is held by 5 users or clients; delete with cascade to remove it from them",
            RosterException.AuthenticationFailed() to "authentication failed",
            RosterException.InvalidToken() to "invalid or expired session token",
            RosterException.Locked() to "the store file is locked by another process or store",
            RosterException.IncompatibleFormat("newer") to "incompatible file format: newer",
            RosterException.Storage("disk full") to "storage error: disk full",
            RosterException.InvalidArgument("ttlSeconds", "must be 1 to 2592000 whole seconds") to
                "invalid argument ttlSeconds: must be 1 to 2592000 whole seconds",
            RosterException.Closed("the store is closed") to "the store is closed",
            RosterException.Busy("the store is in use by another call") to "busy: the store is in use by another call",
            RosterException.Aborted("java.lang.IllegalStateException: no") to
                "the transaction was rolled back: its body threw java.lang.IllegalStateException: no",
            RosterException.Internal("boom") to "internal error (a bug in rosterdb; please report it): boom",
        )
        for ((error, text) in cases) {
            assertEquals(text, error.toString())
            // One catch clause handles them all; `when` over the sealed class is exhaustive.
            val kind = when (error) {
                is RosterException.NotFound -> "NotFound"
                is RosterException.Conflict -> "Conflict"
                is RosterException.Validation -> "Validation"
                is RosterException.InvalidQuery -> "InvalidQuery"
                is RosterException.InvalidPatch -> "InvalidPatch"
                is RosterException.VersionConflict -> "VersionConflict"
                is RosterException.InUse -> "InUse"
                is RosterException.AuthenticationFailed -> "AuthenticationFailed"
                is RosterException.InvalidToken -> "InvalidToken"
                is RosterException.Locked -> "Locked"
                is RosterException.IncompatibleFormat -> "IncompatibleFormat"
                is RosterException.Storage -> "Storage"
                is RosterException.InvalidArgument -> "InvalidArgument"
                is RosterException.Closed -> "Closed"
                is RosterException.Busy -> "Busy"
                is RosterException.Aborted -> "Aborted"
                is RosterException.Internal -> "Internal"
            }
            assertEquals(error::class.simpleName, kind)
        }
    }
}
