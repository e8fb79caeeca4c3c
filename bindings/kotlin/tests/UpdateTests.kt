// Updates through the binding (SPEC §4, §13): patchX, mergeX and replaceX
// with their JSON text, each op, expectedVersion, read-only and write-only
// fields, malformed JSON as typed exceptions, and no-op updates.
package rosterdb.tests

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
import rosterdb.User

/** A user with every optional field set, in a store of its own. */
private fun fullUser(store: RosterStore, tenant: String? = null): User = store.createUser(
    NewUser(
        username = "grace",
        email = "grace@example.com",
        firstName = "Grace",
        lastName = "Hopper",
        nickname = "Amazing Grace",
        telephoneNumber = "+1 555 0100",
        mobileNumber = "+1 555 0199",
        tenant = tenant,
        roles = listOf(store.createRole(NewRole("staff", tenant = tenant)).id),
        externalIds = listOf(ExternalId("github", "1906")),
        attributes = """{"department": "Navy", "languages": ["COBOL"]}""",
        password = Secret("cobol-forever-1959"),
    ),
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
    test("patchUser: each op, applied in order") {
        memoryStore().use { store ->
            val user = fullUser(store)
            val patched = store.patchUser(
                user.id,
                """[
                    {"op": "test", "path": "/version", "value": 1},
                    {"op": "replace", "path": "/firstName", "value": "Gracie"},
                    {"op": "add", "path": "/attributes/rank", "value": "Rear Admiral"},
                    {"op": "remove", "path": "/nickname"},
                    {"op": "move", "from": "/mobileNumber", "path": "/telephoneNumber"},
                    {"op": "copy", "from": "/email", "path": "/attributes/contact"},
                    {"op": "add", "path": "/externalIds/-", "value": {"type": "ldap", "value": "uid=grace"}},
                    {"op": "replace", "path": "/enabled", "value": false}
                ]""",
            )
            assertEquals("Gracie", patched.firstName)
            assertNull(patched.nickname)
            assertEquals("+1 555 0199", patched.telephoneNumber)
            assertNull(patched.mobileNumber)
            assertFalse(patched.enabled)
            assertEquals(listOf(ExternalId("github", "1906"), ExternalId("ldap", "uid=grace")), patched.externalIds)
            assertEquals(
                Json.parse("""{"department": "Navy", "languages": ["COBOL"], "rank": "Rear Admiral", "contact": "grace@example.com"}"""),
                Json.parse(patched.attributes),
            )
            assertEquals(2uL, patched.version)
            assertEquals(user.createdAt, patched.createdAt)
            assertTrue(RFC3339_MILLIS.matches(patched.updatedAt))
            assertTrue(patched.updatedAt >= user.updatedAt)
            assertTrue(patched.hasPassword, "the password is kept")
            assertEquals(patched, store.getUser(user.id))
            assertEquals(listOf(2uL), updates(store).map { it.version }, "one change-log entry per update")
        }
    }

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
                1uL to """[$ok, {"op": "frobnicate", "path": "/firstName"}]""",
                0uL to """[{"op": "add", "path": "/nickname"}]""",
                0uL to """[{"op": "remove", "path": "firstName"}]""",
                1uL to """[$ok, {"op": "remove", "path": "/telephoneNumber/x"}]""",
                0uL to """[{"op": "move", "from": "/nothing", "path": "/nickname"}]""",
                3uL to """[$ok, $ok, $ok, 42]""",
                0uL to """[{"op": "replace", "path": "", "value": {}}]""",
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

    test("an op on a read-only field is InvalidPatch; a test may read it") {
        memoryStore().use { store ->
            val user = fullUser(store)
            for (path in listOf("/id", "/createdAt", "/updatedAt", "/version", "/hasPassword", "/lastLoginAt")) {
                val e = assertInvalidPatch(1uL) {
                    store.patchUser(
                        user.id,
                        """[{"op": "add", "path": "/nickname", "value": "G"}, {"op": "replace", "path": "$path", "value": 9}]""",
                    )
                }
                assertTrue(e.reason.contains("read-only"), e.reason)
            }
            assertInvalidPatch(0uL) { store.patchUser(user.id, """[{"op": "remove", "path": "/version"}]""") }
            assertInvalidPatch(0uL) {
                store.patchUser(user.id, """[{"op": "move", "from": "/createdAt", "path": "/nickname"}]""")
            }
            val client = store.createClient(NewClient("svc")).client
            assertInvalidPatch(0uL) {
                store.patchClient(client.id, """[{"op": "replace", "path": "/clientId", "value": "rc_x"}]""")
            }
            val role = store.getRole(user.roles.single())
            assertInvalidPatch(0uL) { store.patchRole(role.id, """[{"op": "replace", "path": "/createdAt", "value": "x"}]""") }
            // A test reads a read-only field and changes nothing.
            assertEquals(user, store.patchUser(user.id, """[{"op": "test", "path": "/id", "value": ${user.id}}]"""))
            // The tenant is writable in a document but immutable.
            assertInvalid("tenant") { store.patchUser(user.id, """[{"op": "add", "path": "/tenant", "value": "acme"}]""") }
            assertEquals(user, store.getUser(user.id))
            assertEquals(client, store.getClient(client.id))
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
            // The right version succeeds once; sending it again is stale.
            val (_, patch) = calls.first()
            assertEquals(2uL, (patch(1uL) as User).version)
            val stale = assertFailsWith<RosterException.VersionConflict> { calls[1].second(1uL) }
            assertEquals(1uL to 2uL, stale.expected to stale.actual)
            assertEquals(3uL, (calls[1].second(2uL) as User).version)
            assertEquals(4uL, store.mergeUser(user.id, """{"nickname": "Gee"}""").version, "no expectedVersion: no check")
        }
    }

    test("mergeUser: null removes a field, nested objects merge") {
        memoryStore().use { store ->
            val user = fullUser(store)
            val merged = store.mergeUser(
                user.id,
                """{"nickname": null, "mobileNumber": null, "lastName": "Murray Hopper",
                    "attributes": {"languages": null, "rank": "Rear Admiral"}}""",
            )
            assertNull(merged.nickname)
            assertNull(merged.mobileNumber)
            assertEquals("+1 555 0100", merged.telephoneNumber)
            assertEquals("Murray Hopper", merged.lastName)
            assertEquals(Json.parse("""{"department": "Navy", "rank": "Rear Admiral"}"""), Json.parse(merged.attributes))
            assertEquals(2uL, merged.version)
            assertTrue(merged.hasPassword)
            // A required field cannot be removed; every failing field is listed.
            assertInvalid("firstName", "email") { store.mergeUser(user.id, """{"firstName": null, "email": "nope"}""") }
            // Read-only fields are accepted only with their stored values.
            assertEquals(merged, store.mergeUser(user.id, """{"id": ${user.id}, "version": 2, "createdAt": "${user.createdAt}"}"""))
            assertInvalid("version") { store.mergeUser(user.id, """{"version": 7}""") }
            assertInvalid("foo") { store.mergeUser(user.id, """{"foo": 1}""") }

            val role = store.getRole(user.roles.single())
            val mergedRole = store.mergeRole(role.id, """{"description": "Staff", "permissions": ["z", "a"]}""")
            assertEquals("Staff", mergedRole.description)
            assertEquals(listOf("a", "z"), mergedRole.permissions)
            assertNull(store.mergeRole(role.id, """{"description": null}""").description)
            val client = store.createClient(NewClient("svc", description = "d", ipAllowlist = listOf("::1"))).client
            val mergedClient = store.mergeClient(client.id, """{"description": null, "enabled": false}""")
            assertNull(mergedClient.description)
            assertFalse(mergedClient.enabled)
            assertEquals(listOf("::1"), mergedClient.ipAllowlist)
        }
    }

    test("replaceUser clears absent fields and keeps the tenant and the password") {
        memoryStore().use { store ->
            val user = fullUser(store, tenant = "acme")
            val replaced = store.replaceUser(
                user.id,
                """{"username": "grace", "email": "grace@navy.example.com", "firstName": "Grace", "lastName": "Hopper"}""",
            )
            assertEquals("acme", replaced.tenant)
            assertTrue(replaced.hasPassword)
            assertEquals("grace@navy.example.com", replaced.email)
            assertNull(replaced.nickname)
            assertNull(replaced.telephoneNumber)
            assertNull(replaced.mobileNumber)
            assertTrue(replaced.enabled)
            assertEquals(emptyList(), replaced.roles)
            assertEquals(emptyList(), replaced.externalIds)
            assertEquals("{}", replaced.attributes)
            assertEquals(2uL, replaced.version)
            // The tenant may be sent unchanged, never changed or removed.
            val doc = """"username": "grace", "email": "g@example.com", "firstName": "G", "lastName": "H""""
            assertEquals("acme", store.replaceUser(user.id, """{$doc, "tenant": "acme"}""").tenant)
            assertInvalid("tenant") { store.replaceUser(user.id, """{$doc, "tenant": "globex"}""") }
            assertInvalid("email", "firstName", "lastName") { store.replaceUser(user.id, """{"username": "grace"}""") }
            assertInvalid("createdAt") { store.replaceUser(user.id, """{$doc, "createdAt": "2000-01-01T00:00:00.000Z"}""") }
            assertEquals(3uL, store.getUser(user.id).version)

            val role = store.getRole(user.roles.single())
            val replacedRole = store.replaceRole(role.id, """{"name": "crew"}""")
            assertEquals("crew", replacedRole.name)
            assertEquals("acme", replacedRole.tenant)
            assertEquals(emptyList(), replacedRole.permissions)
            val client = store.createClient(NewClient("svc", description = "d", enabled = false, ipAllowlist = listOf("::1"))).client
            val replacedClient = store.replaceClient(client.id, """{"name": "svc2"}""")
            assertEquals("svc2", replacedClient.name)
            assertNull(replacedClient.description)
            assertTrue(replacedClient.enabled)
            assertEquals(emptyList(), replacedClient.ipAllowlist)
            assertEquals(client.clientId, replacedClient.clientId)
        }
    }

    test("uniqueness, role references and NotFound through updates") {
        memoryStore().use { store ->
            val ann = store.createUser(NewUser("ann", "ann@example.com", "Ann", "A"))
            store.createUser(NewUser("bob", "bob@example.com", "Bob", "B"))
            val taken = assertFailsWith<RosterException.Conflict> { store.mergeUser(ann.id, """{"username": "BOB"}""") }
            assertEquals(EntityKind.USER to "username", taken.entity to taken.field)
            assertFailsWith<RosterException.Conflict> {
                store.patchUser(ann.id, """[{"op": "replace", "path": "/email", "value": "Bob@Example.com"}]""")
            }
            assertInvalid("roles") { store.patchUser(ann.id, """[{"op": "add", "path": "/roles/-", "value": 99}]""") }
            assertEquals(ann, store.getUser(ann.id))
            for (id in listOf(0uL, 42uL, ULong.MAX_VALUE)) {
                val cases: List<Pair<EntityKind, () -> Any>> = listOf(
                    EntityKind.USER to { store.patchUser(id, "[]") },
                    EntityKind.USER to { store.mergeUser(id, "{}") },
                    EntityKind.USER to { store.replaceUser(id, "{}") },
                    EntityKind.ROLE to { store.patchRole(id, "[]") },
                    EntityKind.ROLE to { store.mergeRole(id, "{}") },
                    EntityKind.ROLE to { store.replaceRole(id, "{}") },
                    EntityKind.CLIENT to { store.patchClient(id, "[]") },
                    EntityKind.CLIENT to { store.mergeClient(id, "{}") },
                    EntityKind.CLIENT to { store.replaceClient(id, "{}", 1uL) },
                )
                for ((entity, call) in cases) {
                    val e = assertFailsWith<RosterException.NotFound> { call() }
                    assertEquals(entity to "id $id", e.entity to e.key)
                }
            }
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

    test("an update that changes nothing keeps the version and writes nothing") {
        memoryStore().use { store ->
            val user = fullUser(store)
            val document = store.listJson(EntityKind.USER, ListQuery(filter = "id = ${user.id}")).let {
                Json.write(((Json.parse(it) as Map<*, *>)["items"] as List<*>).single())
            }
            assertEquals(user, store.patchUser(user.id, "[]", expectedVersion = 1uL))
            assertEquals(user, store.patchUser(user.id, """[{"op": "replace", "path": "/firstName", "value": "Grace"}]"""))
            assertEquals(user, store.patchUser(user.id, """[{"op": "add", "path": "/roles/-", "value": ${user.roles.single()}}]"""))
            assertEquals(user, store.mergeUser(user.id, "{}"))
            assertEquals(user, store.mergeUser(user.id, """{"lastName": "Hopper", "attributes": {"department": "Navy"}}"""))
            assertEquals(user, store.mergeUser(user.id, document), "a fetched document sent back")
            assertEquals(user, store.replaceUser(user.id, document, expectedVersion = 1uL))
            val role = store.getRole(user.roles.single())
            assertEquals(role, store.mergeRole(role.id, """{"name": "staff"}"""))
            val client = store.createClient(NewClient("svc")).client
            assertEquals(client, store.patchClient(client.id, "[]"))
            assertEquals(emptyList(), updates(store))
            assertEquals(user, store.getUser(user.id))
        }
    }
}
