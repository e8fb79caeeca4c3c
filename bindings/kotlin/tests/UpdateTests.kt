// Updates through the binding (docs/reference/updates.md): patchX, mergeX and replaceX of
// every kind with their JSON text and expectedVersion, InvalidPatch with its
// index, VersionConflict with both versions, malformed JSON as typed
// exceptions, a patched password never shown. The update rules themselves
// (each op, read-only fields, merge and replace semantics, no-op updates)
// are tested in Rust (core/tests/update_tests.rs) and by tests/vectors/
// patches.json, which this suite also runs (VectorTests.kt).
package rosterdb.tests

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import rosterdb.ChangeOp
import rosterdb.EntityKind
import rosterdb.NewClient
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.User

/** A user with every optional field set, in a store of its own. */
private fun fullUser(store: RosterStore, tenant: String? = null): User = store.createUser(
    graceHopper(roles = listOf(store.createRole(NewRole("staff", tenant = tenant)).id), tenant = tenant),
)

/** The change-log entries of updates so far. */
private fun updates(store: RosterStore) = store.changes(limit = 1000u).filter { it.op == ChangeOp.UPDATE }

/** Asserts that [body] fails with InvalidPatch at operation [index] and returns it. */
private fun assertInvalidPatch(index: ULong, body: () -> Unit): RosterException.InvalidPatch {
    val e = assertFailsWith<RosterException.InvalidPatch> { body() }
    assertEquals(index, e.opIndex, e.toString())
    assertTrue(e.reason.isNotEmpty())
    return e
}

fun updateTests() = Suite("updates").apply {
    test("patchRole and patchClient return their typed records") {
        memoryStore().use { store ->
            val role = store.createRole(NewRole("ops", permissions = listOf("b:read")))
            val patchedRole = store.patchRole(
                role.id,
                """[{"op": "add", "path": "/permissions/-", "value": "a:write"},
                    {"op": "add", "path": "/description", "value": "Operations"}]""",
            )
            assertEquals(listOf("a:write", "b:read"), patchedRole.permissions, "kept sorted")
            assertEquals("Operations", patchedRole.description)
            assertEquals(2uL, patchedRole.version)

            val client = store.createClient(NewClient("deployer")).client
            val patchedClient = store.patchClient(
                client.id,
                """[{"op": "add", "path": "/ipAllowlist/0", "value": "10.0.0.0/8"},
                    {"op": "add", "path": "/roles/-", "value": ${role.id}},
                    {"op": "test", "path": "/clientId", "value": "${client.clientId}"}]""",
            )
            assertEquals(listOf("10.0.0.0/8"), patchedClient.ipAllowlist)
            assertEquals(listOf(role.id), patchedClient.roles)
            assertEquals(client.clientId, patchedClient.clientId)
            assertEquals(patchedClient, store.getClient(client.id))
        }
    }

    test("a failing op is InvalidPatch with its index, and nothing changes") {
        memoryStore().use { store ->
            val user = fullUser(store)
            val ok = """{"op": "replace", "path": "/firstName", "value": "Changed"}"""
            val cases = listOf(
                2uL to """[$ok, $ok, {"op": "replace", "path": "/nope/deeper", "value": 1}]""",
                1uL to """[$ok, {"op": "test", "path": "/lastName", "value": "Lovelace"}]""",
                3uL to """[$ok, $ok, $ok, 42]""",
            )
            for ((index, ops) in cases) {
                val e = assertInvalidPatch(index) { store.patchUser(user.id, ops) }
                assertTrue(e.toString().startsWith("invalid patch: operation $index: "), e.toString())
            }
            assertInvalidPatch(1uL) {
                store.patchRole(store.getUser(user.id).roles.single(), """[{"op": "add", "path": "/name", "value": "x"}, {"op": "test", "path": "/name", "value": "y"}]""")
            }
            assertEquals(user, store.getUser(user.id), "all or nothing")
            assertEquals(emptyList(), updates(store))
        }
    }

    test("expectedVersion: a mismatch is VersionConflict with both versions") {
        memoryStore().use { store ->
            val user = fullUser(store)
            val role = store.getRole(user.roles.single())
            val client = store.createClient(NewClient("svc")).client
            val calls: List<Pair<ULong, (ULong) -> Any>> = listOf(
                user.version to { v -> store.patchUser(user.id, """[{"op": "add", "path": "/nickname", "value": "G"}]""", v) },
                user.version to { v -> store.mergeUser(user.id, """{"nickname": "M"}""", v) },
                user.version to { v -> store.replaceUser(user.id, """{"username": "g", "email": "g@example.com", "firstName": "G", "lastName": "H"}""", v) },
                role.version to { v -> store.patchRole(role.id, """[{"op": "add", "path": "/description", "value": "d"}]""", v) },
                role.version to { v -> store.mergeRole(role.id, """{"description": "d"}""", v) },
                role.version to { v -> store.replaceRole(role.id, """{"name": "staff2"}""", v) },
                client.version to { v -> store.patchClient(client.id, """[{"op": "add", "path": "/description", "value": "d"}]""", v) },
                client.version to { v -> store.mergeClient(client.id, """{"description": "d"}""", v) },
                client.version to { v -> store.replaceClient(client.id, """{"name": "svc2"}""", v) },
            )
            for ((version, call) in calls) {
                for (wrong in listOf(0uL, version + 5uL, ULong.MAX_VALUE)) {
                    val e = assertFailsWith<RosterException.VersionConflict> { call(wrong) }
                    assertEquals(wrong, e.expected)
                    assertEquals(version, e.actual)
                    assertTrue(e.toString().contains("expected version $wrong, found $version"), e.toString())
                }
            }
            assertEquals(emptyList(), updates(store), "a version conflict changes nothing")
            // The right version succeeds (the patch of each kind).
            for ((version, call) in calls.chunked(3).map { it.first() }) call(version)
            assertEquals(3, updates(store).size)
        }
    }

    test("JSON text that is not JSON is a typed exception naming the argument") {
        memoryStore().use { store ->
            val user = store.createUser(NewUser("ann", "ann@example.com", "Ann", "A"))
            val role = store.createRole(NewRole("r"))
            val client = store.createClient(NewClient("c")).client
            val deep = "[".repeat(200) + "]".repeat(200)
            for (bad in listOf("", " ", "[", "not json", "[{\"op\": }]", "[] []", "[1,]", deep.dropLast(1))) {
                for (patch in listOf<(String) -> Any>(
                    { store.patchUser(user.id, it) }, { store.patchRole(role.id, it) }, { store.patchClient(client.id, it) },
                )) {
                    val e = assertInvalidPatch(0uL) { patch(bad) }
                    assertTrue(e.reason.startsWith("ops is not valid JSON"), e.reason)
                }
            }
            // JSON nested too deeply is JSON: an operation nested too deeply, as the core says.
            val e = assertInvalidPatch(0uL) { store.patchUser(user.id, deep) }
            assertEquals("may nest objects and arrays at most 32 levels deep", e.reason)
            for (bad in listOf("", "{", "nope", "{\"a\": 1} x", "{'a': 1}")) {
                for ((name, update) in listOf<Pair<String, (String) -> Any>>(
                    "partial" to { store.mergeUser(user.id, it) }, "doc" to { store.replaceUser(user.id, it) },
                    "partial" to { store.mergeRole(role.id, it) }, "doc" to { store.replaceRole(role.id, it) },
                    "partial" to { store.mergeClient(client.id, it) }, "doc" to { store.replaceClient(client.id, it) },
                )) {
                    val e = assertInvalid("") { update(bad) }
                    assertTrue(e.errors.single().message.startsWith("$name is not valid JSON"), e.toString())
                }
            }
            // Valid JSON of the wrong shape: the core's own errors.
            for (notArray in listOf("{}", "null", "\"add\"", "{\"op\": \"add\", \"path\": \"/nickname\", \"value\": \"x\"}")) {
                assertInvalidPatch(0uL) { store.patchUser(user.id, notArray) }
            }
            for (notObject in listOf("[]", "null", "42", "\"x\"")) {
                assertInvalid("") { store.mergeUser(user.id, notObject) }
                assertInvalid("") { store.replaceRole(role.id, notObject) }
            }
            // An attributes value that is not an object is a field error.
            assertInvalid("attributes") { store.mergeUser(user.id, """{"attributes": [1]}""") }
            assertEquals(emptyList(), updates(store))
        }
    }

    test("a password set by patch appears nowhere") {
        val password = "Zq9-a-patched-password"
        memoryStore().use { store ->
            val user = store.createUser(NewUser("ann", "ann@example.com", "Ann", "A"))
            assertFalse(user.hasPassword)
            val patched = store.patchUser(user.id, """[{"op": "add", "path": "/password", "value": "$password"}]""")
            assertTrue(patched.hasPassword)
            assertEquals(2uL, patched.version)
            val replaced = store.patchUser(user.id, """[{"op": "replace", "path": "/password", "value": "$password-2"}]""")
            assertEquals(3uL, replaced.version, "setting a password is a change")
            val seen = listOf(
                patched.toString(), replaced.toString(), store.getUser(user.id).toString(),
                store.listJson(EntityKind.USER), store.listUsers().toString(), store.changes().toString(),
            )
            for (text in seen) assertFalse(text.contains(password), text)
            // Nor in the errors of patches that carry it.
            val failures = listOf(
                runCatching { store.patchUser(user.id, """[{"op": "add", "path": "/password", "value": "$password"}, {"op": "remove", "path": "/nope"}]""") },
                runCatching { store.patchUser(user.id, """[{"op": "test", "path": "/password", "value": "$password"}]""") },
                runCatching { store.patchUser(user.id, """[{"op": "copy", "from": "/password", "path": "/nickname"}]""") },
                runCatching { store.patchUser(user.id, """[{"op": "add", "path": "/password/x", "value": "$password"}]""") },
                runCatching { store.patchUser(user.id, """[{"op": "add", "path": "/password", "value": "Zq9"}]""") },
                runCatching { store.mergeUser(user.id, """{"password": "Zq9", "email": "bad"}""") },
                runCatching { store.replaceUser(user.id, """{"username": "ann", "password": "$password"}""") },
                runCatching { store.patchUser(user.id, """[{"op": "add", "path": "/password", "value": "$password"}]""", 1uL) },
            )
            for (failure in failures) {
                val e = failure.exceptionOrNull() as RosterException
                assertFalse(e.toString().contains(password) || e.toString().contains("Zq9"), e.toString())
                assertFalse(e.message.orEmpty().contains(password), e.message)
            }
            assertInvalid("password") { store.patchUser(user.id, """[{"op": "add", "path": "/password", "value": "short"}]""") }
            assertEquals(3uL, store.getUser(user.id).version)
            // Merge and replace set it too; replace without one keeps it.
            assertTrue(store.mergeUser(user.id, """{"password": "$password-3"}""").hasPassword)
            val kept = store.replaceUser(user.id, """{"username": "ann", "email": "ann@example.com", "firstName": "Ann", "lastName": "Able"}""")
            assertTrue(kept.hasPassword)
            assertEquals(5uL, kept.version)
        }
    }

}
