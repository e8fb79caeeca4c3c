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
import rosterdb.ListQuery
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.StoreOptions

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
            assertEquals(
                mapOf(
                    "username" to "invalid_characters",
                    "email" to "invalid_email",
                    "firstName" to "string_too_short",
                    "externalIds[0].type" to "string_too_short",
                ),
                e.errors.associate { it.field to it.code },
            )
            val roles = assertInvalid("roles") {
                store.createUser(NewUser("bob", "bob@example.com", "B", "B", roles = listOf(ULong.MAX_VALUE)))
            }
            assertEquals("number_out_of_range", roles.errors.single().code)
            val json = assertFailsWith<RosterException.Validation> { store.createUserJson("{") }
            assertEquals(listOf("" to "json_invalid"), json.errors.map { it.field to it.code })
            assertInvalid("name", "permissions[0]") {
                store.createRole(NewRole("", permissions = listOf("no spaces")))
            }
            assertInvalid("ipAllowlist[0]") {
                store.createClient(rosterdb.NewClient("c", ipAllowlist = listOf("300.1.2.3")))
            }
            assertEquals(0, store.changes().size, "nothing was written")
        }
    }

    test("InvalidArgument for store options names the option") {
        assertInvalidArgument("argon2MemoryKib") { RosterStore.memory(StoreOptions(argon2MemoryKib = 1u)) }
        assertInvalidArgument("argon2Iterations") { RosterStore.memory(StoreOptions(argon2Iterations = 0u)) }
        assertInvalidArgument("lockoutSeconds") { RosterStore.memory(StoreOptions(lockoutSeconds = 0uL)) }
        assertInvalidArgument("totpIssuer") { RosterStore.memory(StoreOptions(totpIssuer = "a:b")) }
    }

    test("InvalidQuery for a change-log limit out of range") {
        memoryStore().use { store ->
            for (limit in listOf(0u, 1001u, UInt.MAX_VALUE)) {
                val e = assertFailsWith<RosterException.InvalidQuery> { store.changes(limit = limit) }
                assertEquals("limit", e.field)
                assertEquals("invalid_paging", e.code)
                assertEquals(null, e.position)
                assertTrue(e.reason.contains("1 to 1000"), e.reason)
            }
        }
    }

    test("InvalidQuery for a number out of range says so, with the range") {
        memoryStore().use { store ->
            val e = assertFailsWith<RosterException.InvalidQuery> {
                store.listUsers(ListQuery(filters = mapOf("id" to "18446744073709551616")))
            }
            assertEquals("id", e.field)
            assertEquals("number_out_of_range", e.code)
            assertTrue(e.reason.contains("out of range (too large)") && e.reason.contains("0 to 18446744073709551615"), e.reason)
            val size = assertFailsWith<RosterException.InvalidQuery> { store.listUsers(ListQuery(pageSize = 5000u)) }
            assertEquals("pageSize", size.field)
            assertEquals("invalid_paging", size.code)
            val syntax = assertFailsWith<RosterException.InvalidQuery> {
                store.listUsers(ListQuery(filter = "username = 'ann"))
            }
            assertEquals("syntax" to 11uL, syntax.code to syntax.position)
            val unknown = assertFailsWith<RosterException.InvalidQuery> { store.listUsers(ListQuery(filter = "nmae = 1")) }
            assertEquals("unknown_field" to "nmae", unknown.code to unknown.field)
            assertTrue(size.reason.contains("from 1 to 1000"), size.reason)
        }
    }

    test("InvalidPatch for a bad JSON pointer says what is wrong") {
        memoryStore().use { store ->
            val id = store.createUser(NewUser("ann", "ann@example.com", "A", "L")).id
            val escape = assertFailsWith<RosterException.InvalidPatch> {
                store.patchUser(id, """[{"op": "test", "path": "/username", "value": "ann"}, {"op": "add", "path": "/attributes/~2", "value": 1}]""")
            }
            assertEquals(1uL, escape.opIndex)
            assertEquals("pointer_syntax", escape.code)
            assertTrue(escape.reason.contains("'~' is followed by '2'"), escape.reason)
            val index = assertFailsWith<RosterException.InvalidPatch> {
                store.patchUser(id, """[{"op": "remove", "path": "/roles/0"}]""")
            }
            assertTrue(index.reason.contains("/roles has 0 elements"), index.reason)
            assertEquals("path_not_found", index.code)
            val readOnly = assertFailsWith<RosterException.InvalidPatch> {
                store.patchUser(id, """[{"op": "replace", "path": "/id", "value": 9}]""")
            }
            assertEquals("read_only", readOnly.code)
            val notJson = assertFailsWith<RosterException.InvalidPatch> { store.patchUser(id, "[") }
            assertEquals(0uL to "json_invalid", notJson.opIndex to notJson.code)
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

    test("Storage for a path that cannot be created names the path") {
        withTempDir { dir ->
            val missing = dir.resolve("missing/folder/roster.redb").toString()
            val e = assertFailsWith<RosterException.Storage> { RosterStore.open(missing) }
            assertTrue(e.reason.isNotEmpty())
            assertEquals(missing, e.path)
            assertEquals(dir.toString(), assertFailsWith<RosterException.Storage> { RosterStore.open(dir.toString()) }.path)
            memoryStore().use { store ->
                val out = dir.resolve("nowhere/export.jsonl").toString()
                assertEquals(out, assertFailsWith<RosterException.Storage> { store.exportJsonl(out) }.path)
                val absent = dir.resolve("absent.jsonl").toString()
                assertEquals(absent, assertFailsWith<RosterException.Storage> { store.importJsonl(absent) }.path)
            }
        }
    }

    test("every variant crosses to Rust and back with its data") {
        // toString() is the Rust Display of the error, so each variant is
        // lowered by Kotlin and lifted by Rust, field by field.
        val cases = listOf(
            RosterException.NotFound(EntityKind.USER, "id 42") to "user not found: id 42",
            RosterException.Conflict(EntityKind.CLIENT, "clientId") to "client clientId is already taken",
            RosterException.Validation(
                listOf(FieldError("username", "missing", "is required"), FieldError("", "object_type", "whole")),
            ) to "invalid document: username: is required; whole",
            RosterException.InvalidQuery("syntax", "unexpected end", 4uL, "sort") to
                "invalid query: unexpected end (at position 4, field sort)",
            RosterException.InvalidQuery("invalid_paging", "bad page", null, null) to "invalid query: bad page",
            // A code the caller made up still describes the error.
            RosterException.InvalidQuery("made_up", "odd", null, null) to "invalid query: odd",
            RosterException.InvalidPatch(2uL, "read_only", "read-only") to "invalid patch: operation 2: read-only",
            RosterException.VersionConflict(1uL, 2uL) to "version conflict: expected version 1, found 2",
            RosterException.InUse(3uL, 5uL) to
                "role 3 is held by 5 users or clients; delete with cascade to remove it from them",
            RosterException.AuthenticationFailed() to "authentication failed",
            RosterException.InvalidToken() to "invalid or expired session token",
            RosterException.Locked() to "the store file is locked by another process or store",
            RosterException.IncompatibleFormat("newer") to "incompatible file format: newer",
            RosterException.Storage("disk full", null) to "storage error: disk full",
            RosterException.Storage("disk full", "/data/x.roster") to "storage error: disk full",
            RosterException.Closed("the store is closed") to "the store is closed",
            RosterException.Busy("in use") to "busy: in use",
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
                is RosterException.Closed -> "Closed"
                is RosterException.Busy -> "Busy"
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
