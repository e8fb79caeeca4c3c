// Every bad input is a typed RosterException (docs/reference/errors.md), row by row of the
// table "Errors from bad input" in bindings/README.md: ids and versions,
// paging, options and lifetimes, empty, NUL, 1 MB and lone-surrogate text
// in every kind of String argument, and JSON text (not JSON, values JSON
// cannot hold, nesting 100,000 deep) in every JSON argument. It ends with a
// seeded random walk of a few thousand bad inputs through create, patch,
// merge, replace, list and count.
package rosterdb.tests

import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.test.fail
import rosterdb.EntityKind
import rosterdb.ExternalId
import rosterdb.ListQuery
import rosterdb.NewClient
import rosterdb.NewRole
import rosterdb.NewUser
import rosterdb.RosterException
import rosterdb.RosterStore
import rosterdb.Secret
import rosterdb.StoreOptions

/** A lone (unpaired) UTF-16 surrogate: a Kotlin String may hold one, UTF-8 text cannot. */
private const val LONE = "\uD800"

private const val NOT_FINITE = "must be a finite number (NaN and infinity are not JSON numbers)"
private const val FLOAT_RANGE = "must be a number within the range of a double (about ±1.8e308)"
private const val INTEGER_RANGE = "must be an integer from -9223372036854775808 to 18446744073709551615"
private const val KEY_NOT_UNICODE = "keys must be Unicode text (one holds lone surrogate code points)"
private const val TOO_DEEP = "may nest objects and arrays at most 32 levels deep"
private const val EMAIL = "must be an address of the form local@domain.tld"

/** Ids no record has: 0 and the largest values included. */
private val NO_IDS = listOf(0uL, 999uL, 1uL shl 53, 1uL shl 63, ULong.MAX_VALUE)

private const val MEGABYTE = 1 shl 20

/** JSON text nested [depth] arrays deep around `1`. */
private fun nested(depth: Int) = "[".repeat(depth) + "1" + "]".repeat(depth)

/** A valid user document with these extra members (JSON text, `"key": value, …`). */
private fun userDoc(extra: String = "", username: String = "ada") =
    """{"username": "$username", "email": "$username@example.com", "firstName": "A", "lastName": "L"${if (extra.isEmpty()) "" else ", $extra"}}"""

/** Asserts that [body] throws `Validation` with exactly these (field, message) pairs, in order. */
private fun assertErrors(vararg errors: Pair<String, String>, body: () -> Unit): RosterException.Validation {
    val e = assertFailsWith<RosterException.Validation> { body() }
    assertEquals(errors.toList(), e.errors.map { it.field to it.message }, e.toString())
    return e
}

/** Asserts that [body] throws `NotFound` of [entity] with [key]. */
private fun assertNotFound(entity: EntityKind, key: String, body: () -> Unit) {
    val e = assertFailsWith<RosterException.NotFound> { body() }
    assertEquals(entity to key, e.entity to e.key, e.toString())
}

/** Asserts that [body] throws `InvalidQuery` on [field] at [position]. */
private fun assertQueryError(field: String?, position: ULong? = null, body: () -> Unit): RosterException.InvalidQuery {
    val e = assertFailsWith<RosterException.InvalidQuery> { body() }
    assertEquals(field to position, e.field to e.position, e.toString())
    assertTrue(e.reason.isNotEmpty(), e.toString())
    return e
}

/** Asserts that [body] throws `InvalidPatch` at [opIndex] with a reason starting [reason]. */
private fun assertPatchError(opIndex: ULong, reason: String, body: () -> Unit) {
    val e = assertFailsWith<RosterException.InvalidPatch> { body() }
    assertEquals(opIndex, e.opIndex, e.toString())
    assertTrue(e.reason.startsWith(reason), e.toString())
}

/** Asserts that [body] throws `Storage`. */
private fun assertStorage(body: () -> Unit) {
    assertTrue(assertFailsWith<RosterException.Storage> { body() }.reason.isNotEmpty())
}

/** Every typed list call, and count, exists and explain, with [query]. */
private fun everyQueryCall(store: RosterStore, query: ListQuery): List<() -> Any> = listOf(
    { store.listUsers(query) },
    { store.listRoles(query) },
    { store.listClients(query) },
    { store.listJson(EntityKind.USER, query) },
    { store.count(EntityKind.ROLE, query) },
    { store.exists(EntityKind.CLIENT, query) },
    { store.explain(EntityKind.USER, query) },
)

fun conversionTests() = Suite("conversions").apply {
    test("an id that cannot exist is NotFound in every call that takes one") {
        memoryStore().use { store ->
            for (id in NO_IDS) {
                val key = "id $id"
                val user = EntityKind.USER
                assertNotFound(user, key) { store.getUser(id) }
                assertNotFound(user, key) { store.deleteUser(id) }
                assertNotFound(user, key) { store.patchUser(id, "[]") }
                assertNotFound(user, key) { store.mergeUser(id, "{}") }
                assertNotFound(user, key) { store.replaceUser(id, userDoc()) }
                assertNotFound(user, key) { store.setUserPassword(id, Secret("long enough password")) }
                assertNotFound(user, key) { store.unlockUser(id) }
                assertNotFound(user, key) { store.enrollUserTotp(id) }
                assertNotFound(user, key) { store.confirmUserTotp(id, "123456") }
                assertNotFound(user, key) { store.disableUserTotp(id) }
                assertNotFound(user, key) { store.userSessions(id) }
                assertNotFound(user, key) { store.revokeUserSessions(id) }
                assertNotFound(EntityKind.ROLE, key) { store.getRole(id) }
                assertNotFound(EntityKind.ROLE, key) { store.deleteRole(id, cascade = true) }
                assertNotFound(EntityKind.ROLE, key) { store.patchRole(id, "[]") }
                assertNotFound(EntityKind.ROLE, key) { store.mergeRole(id, "{}") }
                assertNotFound(EntityKind.ROLE, key) { store.replaceRole(id, """{"name": "r"}""") }
                assertNotFound(EntityKind.CLIENT, key) { store.getClient(id) }
                assertNotFound(EntityKind.CLIENT, key) { store.deleteClient(id) }
                assertNotFound(EntityKind.CLIENT, key) { store.patchClient(id, "[]") }
                assertNotFound(EntityKind.CLIENT, key) { store.mergeClient(id, "{}") }
                assertNotFound(EntityKind.CLIENT, key) { store.replaceClient(id, """{"name": "c"}""") }
                assertNotFound(EntityKind.CLIENT, key) { store.rotateClientSecret(id) }
            }
            assertEquals(0, store.changes().size)
        }
    }

    test("an expected version other than the record's is VersionConflict with both") {
        memoryStore().use { store ->
            val ada = store.createUser(NewUser("ada", "ada@example.com", "A", "L"))
            for (version in listOf(0uL, 2uL, 1uL shl 53, ULong.MAX_VALUE)) {
                for (call in listOf<() -> Any>(
                    { store.patchUser(ada.id, """[{"op": "replace", "path": "/nickname", "value": "x"}]""", version) },
                    { store.mergeUser(ada.id, """{"nickname": "x"}""", version) },
                    { store.replaceUser(ada.id, userDoc(""""nickname": "x""""), version) },
                )) {
                    val e = assertFailsWith<RosterException.VersionConflict> { call() }
                    assertEquals(version to 1uL, e.expected to e.actual)
                }
            }
            assertEquals(ada, store.getUser(ada.id))
        }
    }

    test("role ids a record cannot hold are Validation on roles") {
        memoryStore().use { store ->
            for (id in NO_IDS) {
                assertInvalid("roles") { store.createUser(NewUser("ada", "ada@example.com", "A", "L", roles = listOf(id))) }
                assertInvalid("roles") { store.createClient(NewClient("c", roles = listOf(id))) }
            }
            assertInvalid("roles") { store.createUserJson(userDoc(""""roles": [-1]""")) }
            assertErrors("roles[0]" to INTEGER_RANGE) { store.createUserJson(userDoc(""""roles": [18446744073709551616]""")) }
            assertEquals(0, store.changes().size)
        }
    }

    test("paging values out of range are InvalidQuery naming the parameter, in every list call") {
        memoryStore().use { store ->
            store.createUser(NewUser("ada", "ada@example.com", "A", "L"))
            val bad = listOf(
                "page" to ListQuery(page = 0uL),
                "page" to ListQuery(page = ULong.MAX_VALUE),
                "pageSize" to ListQuery(pageSize = 0u),
                "pageSize" to ListQuery(pageSize = 1001u),
                "pageSize" to ListQuery(pageSize = 100_000u),
                "pageSize" to ListQuery(pageSize = UInt.MAX_VALUE),
                "limit" to ListQuery(limit = 0u),
                "limit" to ListQuery(limit = 1001u),
                "limit" to ListQuery(limit = UInt.MAX_VALUE),
                "offset" to ListQuery(page = 1uL, offset = 0uL),
            )
            for ((field, query) in bad) {
                for (call in everyQueryCall(store, query)) assertQueryError(field) { call() }
            }
            // An offset past the end is a valid, empty page.
            for (offset in listOf(1uL, 1uL shl 53, ULong.MAX_VALUE)) {
                assertEquals(emptyList(), store.listUsers(ListQuery(offset = offset, limit = 1000u)).items)
            }
            assertEquals(1, store.listUsers(ListQuery(page = 1uL, pageSize = 1000u)).items.size)
        }
    }

    test("bad cursors, sorts, fields, filters and expressions are InvalidQuery naming the parameter") {
        memoryStore().use { store ->
            for (cursor in listOf("", "junk", "\u0000", "A".repeat(MEGABYTE))) {
                for (call in everyQueryCall(store, ListQuery(cursor = cursor))) assertQueryError("cursor") { call() }
            }
            assertQueryError("sort", 0uL) { store.listUsers(ListQuery(sort = listOf("nope"))) }
            assertQueryError("sort", 3uL) { store.listUsers(ListQuery(sort = listOf("id:sideways"))) }
            assertQueryError("sort", 0uL) { store.count(EntityKind.USER, ListQuery(sort = listOf("\u0000"))) }
            assertQueryError("fields", 0uL) { store.listJson(EntityKind.USER, ListQuery(fields = listOf("nope"))) }
            assertQueryError("fields") { store.listUsers(ListQuery(fields = listOf("username"))) }
            assertQueryError("where", 4uL) { store.count(EntityKind.USER, ListQuery(filter = "((((")) }
            assertQueryError("where", 0uL) { store.count(EntityKind.USER, ListQuery(filter = "\u0000")) }
            assertQueryError("where", 64uL) {
                store.count(EntityKind.USER, ListQuery(filter = "(".repeat(100_000) + "id = 1" + ")".repeat(100_000)))
            }
            assertQueryError("where", 5uL) { store.count(EntityKind.USER, ListQuery(filter = "id = 1e400")) }
            assertQueryError("where", 5uL) { store.count(EntityKind.USER, ListQuery(filter = "id = 99999999999999999999999")) }
            assertQueryError("where", MEGABYTE.toULong()) { store.count(EntityKind.USER, ListQuery(filter = "x".repeat(MEGABYTE))) }
            assertQueryError("nope", 0uL) { store.count(EntityKind.USER, ListQuery(filters = mapOf("nope" to "1"))) }
            assertQueryError("id", 0uL) { store.count(EntityKind.USER, ListQuery(filters = mapOf("id" to "-1"))) }
            assertQueryError("id", 0uL) { store.count(EntityKind.USER, ListQuery(filters = mapOf("id" to "18446744073709551616"))) }
            assertQueryError("page") { store.count(EntityKind.USER, ListQuery(filters = mapOf("page" to "0"))) }
            assertQueryError("withTotal") { store.count(EntityKind.USER, ListQuery(filters = mapOf("withTotal" to "maybe"))) }
            assertQueryError(null) { store.count(EntityKind.USER, ListQuery(filters = mapOf("" to "1"))) }
            // Text the core reads as text is no error, however odd.
            assertEquals(0uL, store.count(EntityKind.USER, ListQuery(search = "\u0000 " + "x ".repeat(MEGABYTE / 2))))
        }
    }

    test("change-log arguments: a limit out of range is InvalidQuery, any after is valid") {
        memoryStore().use { store ->
            for (limit in listOf(0u, 1001u, UInt.MAX_VALUE)) assertQueryError("limit") { store.changes(limit = limit) }
            for (after in listOf(1uL shl 53, ULong.MAX_VALUE)) assertEquals(emptyList(), store.changes(after = after))
        }
    }

    test("session lifetimes out of range are InvalidArgument on ttlSeconds") {
        authStore().use { store ->
            store.createUser(NewUser("ada", "ada@example.com", "A", "L", password = Secret("correct horse 1")))
            val client = store.createClient(NewClient("c"))
            for (ttl in listOf(0uL, 2_592_001uL, 1uL shl 63, ULong.MAX_VALUE)) {
                assertInvalidArgument("ttlSeconds") { store.login("ada", Secret("correct horse 1"), ttlSeconds = ttl) }
                assertInvalidArgument("ttlSeconds") { store.clientLogin(client.client.clientId, client.secret, ttlSeconds = ttl) }
            }
        }
    }

    test("store options out of range are InvalidArgument naming the option, when the store opens") {
        val bad = listOf(
            "argon2MemoryKib" to StoreOptions(argon2MemoryKib = 0u),
            "argon2MemoryKib" to StoreOptions(argon2MemoryKib = UInt.MAX_VALUE),
            "argon2Iterations" to StoreOptions(argon2Iterations = 0u),
            "argon2Iterations" to StoreOptions(argon2Iterations = UInt.MAX_VALUE),
            "argon2Parallelism" to StoreOptions(argon2Parallelism = 0u),
            "argon2Parallelism" to StoreOptions(argon2Parallelism = UInt.MAX_VALUE),
            "lockoutSeconds" to StoreOptions(lockoutSeconds = 0uL),
            "lockoutSeconds" to StoreOptions(lockoutSeconds = 31_536_001uL),
            "lockoutSeconds" to StoreOptions(lockoutSeconds = ULong.MAX_VALUE),
            "cacheBytes" to StoreOptions(cacheBytes = 0uL),
            "cacheBytes" to StoreOptions(cacheBytes = 1_048_575uL),
            "totpIssuer" to StoreOptions(totpIssuer = ""),
            "totpIssuer" to StoreOptions(totpIssuer = "a:b"),
            "totpIssuer" to StoreOptions(totpIssuer = "a\u0000"),
            "totpIssuer" to StoreOptions(totpIssuer = "x".repeat(MEGABYTE)),
            "totpIssuer" to StoreOptions(totpIssuer = "issuer$LONE"),
        )
        withTempDir { dir ->
            for ((option, options) in bad) {
                assertInvalidArgument(option) { RosterStore.memory(options) }
                val path = dir.resolve("never.redb")
                assertInvalidArgument(option) { RosterStore.open(path.toString(), options) }
                assertFalse(Files.exists(path), "$option: a store with bad options creates no file")
            }
            assertEquals(NOT_UNICODE, assertInvalidArgument("totpIssuer") { RosterStore.memory(StoreOptions(totpIssuer = LONE)) }.reason)
        }
        // Any lockout threshold is valid (0 never locks).
        RosterStore.memory(CHEAP.copy(lockoutThreshold = UInt.MAX_VALUE)).close()
        // The smallest page cache, and one larger than any file, open.
        RosterStore.memory(CHEAP.copy(cacheBytes = 1_048_576uL)).close()
        RosterStore.memory(CHEAP.copy(cacheBytes = ULong.MAX_VALUE / 2uL)).close()
    }

    test("empty, NUL and 1 MB text is the core's typed error for each kind of argument") {
        val megabyte = "x".repeat(MEGABYTE)
        withTempDir { dir ->
            memoryStore().use { store ->
                for (bad in listOf("", "\u0000", "a\u0000b", megabyte)) {
                    assertInvalid("username") { store.createUser(NewUser(bad, "ada@example.com", "A", "L")) }
                    assertInvalid("name") { store.createRole(NewRole(bad)) }
                    assertInvalid("ipAllowlist[0]") { store.createClient(NewClient("c", ipAllowlist = listOf(bad))) }
                    assertInvalid("tenant") { store.scoped(bad) }
                    assertFailsWith<RosterException.NotFound> { store.getUserByUsername(bad) }
                    assertFailsWith<RosterException.NotFound> { store.getUserByEmail(bad) }
                    assertFailsWith<RosterException.NotFound> { store.getUserByExternalId(bad, bad) }
                    assertFailsWith<RosterException.NotFound> { store.getUserByUsername("ada", tenant = bad) }
                    assertFailsWith<RosterException.NotFound> { store.getClientByClientId(bad) }
                    if (bad != megabyte) {
                        assertStorage { store.exportJsonl(bad) }
                        assertStorage { store.importJsonl(bad) }
                        assertStorage { RosterStore.open(bad) }
                    }
                }
                assertInvalid("attributes") {
                    store.createUser(NewUser("ada", "ada@example.com", "A", "L", attributes = """{"a": "$megabyte"}"""))
                }
                assertInvalid("attributes") { store.createUserJson(userDoc(""""attributes": {"a": "$megabyte"}""")) }
                assertEquals(0, store.changes().size)
                // A path of 1 MB is a file name the system refuses.
                assertStorage { store.exportJsonl(dir.resolve(megabyte).toString()) }
            }
        }
    }

    test("a lone surrogate in a record's text is Validation on its field, with the core's other findings") {
        memoryStore().use { store ->
            assertErrors("email" to EMAIL, "username" to NOT_UNICODE) {
                store.createUser(NewUser("ada$LONE", "ab.cd", "A", "L"))
            }.let { e -> assertFalse(e.toString().contains(LONE)) }
            val fields = listOf(
                "firstName" to NewUser("ada", "ada@example.com", LONE, "L"),
                "lastName" to NewUser("ada", "ada@example.com", "A", "\uDC00"),
                "nickname" to NewUser("ada", "ada@example.com", "A", "L", nickname = LONE),
                "telephoneNumber" to NewUser("ada", "ada@example.com", "A", "L", telephoneNumber = LONE),
                "mobileNumber" to NewUser("ada", "ada@example.com", "A", "L", mobileNumber = LONE),
                "tenant" to NewUser("ada", "ada@example.com", "A", "L", tenant = LONE),
                "email" to NewUser("ada", "ada$LONE@example.com", "A", "L"),
                "externalIds[1].type" to NewUser("ada", "ada@example.com", "A", "L",
                    externalIds = listOf(ExternalId("github", "1"), ExternalId(LONE, "2"))),
                "externalIds[0].value" to NewUser("ada", "ada@example.com", "A", "L", externalIds = listOf(ExternalId("github", LONE))),
                "password" to NewUser("ada", "ada@example.com", "A", "L", password = Secret("long enough $LONE")),
                "passwordHash" to NewUser("ada", "ada@example.com", "A", "L", passwordHash = LONE),
            )
            for ((field, user) in fields) assertErrors(field to NOT_UNICODE) { store.createUser(user) }
            assertErrors("description" to NOT_UNICODE, "permissions[1]" to NOT_UNICODE) {
                store.createRole(NewRole("r", description = LONE, permissions = listOf("a:read", "b$LONE")))
            }
            assertErrors("ipAllowlist[0]" to NOT_UNICODE) { store.createClient(NewClient("c", ipAllowlist = listOf(LONE))) }
            assertErrors("name" to NOT_UNICODE) { store.createClient(NewClient(LONE)) }
            assertErrors("tenant" to NOT_UNICODE) { store.scoped(LONE) }
            // The same text, well formed, is accepted: nothing else changes.
            val ok = store.createUser(NewUser("ada", "ada@example.com", "A\uD83D\uDE00", "L", nickname = "\uFFFD"))
            assertEquals("A\uD83D\uDE00", ok.firstName)
            assertEquals(1, store.changes().size)
        }
    }

    test("a lone surrogate in a lookup key is NotFound; in a path, Storage") {
        withTempDir { dir ->
            memoryStore().use { store ->
                store.createUser(NewUser("ada", "ada@example.com", "A", "L", externalIds = listOf(ExternalId("github", "\uFFFD"))))
                val user = EntityKind.USER
                assertNotFound(user, "username that is not Unicode text") { store.getUserByUsername("ada$LONE") }
                assertNotFound(user, "email that is not Unicode text") { store.getUserByEmail("ada@example.com$LONE") }
                assertNotFound(user, "external id that is not Unicode text") { store.getUserByExternalId("github", LONE) }
                assertNotFound(user, "external id that is not Unicode text") { store.getUserByExternalId(LONE, "\uFFFD") }
                assertNotFound(user, "tenant that is not Unicode text") { store.getUserByUsername("ada", tenant = LONE) }
                assertNotFound(user, "tenant that is not Unicode text") { store.getUserByEmail("ada@example.com", tenant = LONE) }
                assertNotFound(EntityKind.CLIENT, "clientId that is not Unicode text") { store.getClientByClientId("rc_$LONE") }
                // Never a record whose text has U+FFFD where the surrogate was.
                assertEquals("ada", store.getUserByExternalId("github", "\uFFFD").username)
                // (java.nio cannot even make such a Path; the text goes as it is.)
                val path = "$dir/x$LONE.redb"
                assertStorage { RosterStore.open(path) }
                assertStorage { store.exportJsonl(path) }
                assertStorage { store.importJsonl(path) }
                assertEquals(0L, Files.list(dir).count())
            }
        }
    }

    test("a lone surrogate in a query is InvalidQuery on its parameter, at its position") {
        memoryStore().use { store ->
            for (call in everyQueryCall(store, ListQuery(filter = "lastName = 'é\uD83D\uDE00$LONE'"))) {
                val e = assertQueryError("where", 14uL) { call() }
                assertEquals("where $NOT_UNICODE", e.reason)
            }
            assertQueryError("search", 2uL) { store.listUsers(ListQuery(search = "ab$LONE")) }
            assertQueryError("sort", 9uL) { store.listUsers(ListQuery(sort = listOf("lastName", "\uDC00id"))) }
            assertQueryError("fields", 4uL) { store.listJson(EntityKind.USER, ListQuery(fields = listOf("id", "x$LONE"))) }
            assertQueryError("lastName") { store.count(EntityKind.USER, ListQuery(filters = mapOf("lastName" to "like:$LONE%"))) }
            assertQueryError("filters") { store.count(EntityKind.USER, ListQuery(filters = mapOf("last$LONE" to "x"))) }
            assertQueryError("cursor") { store.listUsers(ListQuery(cursor = "abc$LONE")) }
        }
    }

    test("JSON text that is not JSON is Validation on the field or document, InvalidPatch at 0 for ops") {
        memoryStore().use { store ->
            val ada = store.createUser(NewUser("ada", "ada@example.com", "A", "L"))
            val notJson = listOf(
                "", " ", "{", "[1,]", "{\"a\" 1}", "{'a': 1}", "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": .5}",
                "{\"a\": nan}", "{\"a\": inf}", "{\"a\": \"\\x\"}", "{\"a\": \"\u0001\"}", "{} {}", "{\"a\": $LONE}",
                nested(100_000).dropLast(1),
            )
            for (bad in notJson) {
                val e = assertInvalid("attributes") { store.createUser(NewUser("bob", "bob@example.com", "B", "L", attributes = bad)) }
                assertTrue(e.errors.single().message.startsWith("is not valid JSON ("), e.toString())
                for ((name, call) in listOf<Pair<String, () -> Any>>(
                    "the document" to { store.createUserJson(bad) },
                    "the document" to { store.createRoleJson(bad) },
                    "the document" to { store.createClientJson(bad) },
                    "partial" to { store.mergeUser(ada.id, bad) },
                    "doc" to { store.replaceUser(ada.id, bad) },
                )) {
                    val error = assertInvalid("") { call() }.errors.single()
                    assertTrue(error.message.startsWith("$name is not valid JSON ("), error.toString())
                    assertFalse(error.message.contains(LONE))
                }
                assertPatchError(0uL, "ops is not valid JSON (") { store.patchUser(ada.id, bad) }
            }
            assertEquals(
                "is not valid JSON (expected a value at line 2 column 6)",
                assertInvalid("attributes") { store.createUser(NewUser("bob", "bob@example.com", "B", "L", attributes = "{\"a\":\n  [1,,2]}")) }
                    .errors.single().message,
            )
            // Valid JSON of the wrong shape: the core's errors.
            assertErrors("attributes" to "must be a JSON object") {
                store.createUser(NewUser("bob", "bob@example.com", "B", "L", attributes = "[]"))
            }
            assertInvalid("") { store.mergeUser(ada.id, "[]") }
            assertPatchError(0uL, "a patch must be a JSON array") { store.patchUser(ada.id, "{}") }
            assertEquals(ada, store.getUser(ada.id))
        }
    }

    test("values JSON cannot hold are Validation naming their place, in every JSON argument") {
        memoryStore().use { store ->
            val ada = store.createUser(NewUser("ada", "ada@example.com", "A", "L"))
            val role = store.createRole(NewRole("r"))
            val values = listOf(
                "NaN" to NOT_FINITE, "Infinity" to NOT_FINITE, "-Infinity" to NOT_FINITE,
                "1e400" to FLOAT_RANGE, "-1E+999" to FLOAT_RANGE,
                "18446744073709551616" to INTEGER_RANGE, "-9223372036854775809" to INTEGER_RANGE,
                "1" + "0".repeat(400) to INTEGER_RANGE,
                "\"\\ud800\"" to NOT_UNICODE, "\"a\\udc00\\ud800b\"" to NOT_UNICODE, "\"x$LONE\"" to NOT_UNICODE,
            )
            for ((value, message) in values) {
                val attributes = """{"tags": ["ok", $value]}"""
                assertErrors("attributes.tags[1]" to message) {
                    store.createUser(NewUser("bob", "bob@example.com", "B", "L", attributes = attributes))
                }
                // With the core's findings on the other fields.
                assertErrors("email" to EMAIL, "attributes.tags[1]" to message) {
                    store.createUserJson("""{"username": "bob", "email": "ab.cd", "firstName": "B", "lastName": "L", "attributes": $attributes}""")
                }
                assertErrors("description" to message) { store.createRoleJson("""{"name": "r2", "description": $value}""") }
                assertErrors("attributes.tags[1]" to message) { store.mergeUser(ada.id, """{"attributes": $attributes}""") }
                assertErrors("attributes.tags[1]" to message) { store.replaceUser(ada.id, userDoc(""""attributes": $attributes""")) }
                assertErrors("attributes.x.tags[1]" to message) {
                    store.patchUser(ada.id, """[{"op": "add", "value": $attributes, "path": "/attributes/x"}]""")
                }
                assertErrors("permissions[0]" to message) {
                    store.patchRole(role.id, """[{"op": "test", "path": "/id", "value": 1}, {"op": "add", "path": "/permissions/0", "value": $value}]""")
                }
                // Elsewhere in an operation, or without a path to name: InvalidPatch at its index.
                assertPatchError(1uL, "value $message") { store.patchUser(ada.id, """[{"op": "test", "path": "/id", "value": 1}, {"op": "add", "value": $value}]""") }
                assertPatchError(0uL, "from $message") { store.patchUser(ada.id, """[{"op": "copy", "from": $value, "path": "/nickname"}]""") }
            }
            assertErrors("attributes" to KEY_NOT_UNICODE) { store.mergeUser(ada.id, """{"attributes": {"\udfff": 1}}""") }
            assertErrors("" to KEY_NOT_UNICODE) { store.createRoleJson("""{"name": "r2", "x$LONE": 1}""") }
            assertPatchError(0uL, "an operation's $KEY_NOT_UNICODE") { store.patchUser(ada.id, """[{"op": "add", "path": "/nickname", "value": "x", "\ud800": 1}]""") }
            // The largest 64-bit integers and the smallest doubles are values JSON holds.
            val merged = store.mergeUser(ada.id, """{"attributes": {"u": 18446744073709551615, "i": -9223372036854775808, "tiny": 1e-400}}""")
            assertEquals(Json.parse("""{"u": 18446744073709551615, "i": -9223372036854775808, "tiny": 0.0}"""), Json.parse(merged.attributes))
            assertEquals(ada.version + 1uL, merged.version)
            assertEquals(1, store.changes(after = 2uL).size, "nothing else was written")
        }
    }

    test("nesting deeper than allowed is Validation on the top-level field, at any depth") {
        memoryStore().use { store ->
            val ada = store.createUser(NewUser("ada", "ada@example.com", "A", "L"))
            for (depth in listOf(33, 127, 128, 129, 1_000, 100_000)) {
                val deep = nested(depth)
                assertInvalid("attributes") { store.createUser(NewUser("bob", "bob@example.com", "B", "L", attributes = """{"a": $deep}""")) }
                assertInvalid("attributes") { store.createUserJson(userDoc(""""attributes": {"a": $deep}""", "bob")) }
                assertInvalid("attributes") { store.mergeUser(ada.id, """{"attributes": {"a": $deep}}""") }
                assertInvalid("attributes") { store.replaceUser(ada.id, userDoc(""""attributes": {"a": $deep}""")) }
                assertInvalid("attributes") { store.patchUser(ada.id, """[{"op": "add", "path": "/attributes/a", "value": $deep}]""") }
                assertInvalid("roles") { store.mergeUser(ada.id, """{"roles": $deep}""") }
                assertInvalid("foo") { store.createRoleJson("""{"name": "r", "foo": $deep}""") }
            }
            for (call in listOf<() -> Any>(
                { store.mergeUser(ada.id, """{"attributes": {"a": ${nested(100_000)}}}""") },
                { store.patchUser(ada.id, """[{"op": "add", "path": "/attributes/a", "value": ${nested(100_000)}}]""") },
            )) {
                val e = assertFailsWith<RosterException.Validation> { call() }
                assertEquals(listOf("attributes" to TOO_DEEP), e.errors.map { it.field to it.message })
            }
            // Deep JSON that is not JSON is still only "not valid JSON".
            assertInvalid("") { store.mergeUser(ada.id, "[".repeat(100_000)) }
            assertPatchError(0uL, "ops is not valid JSON") { store.patchUser(ada.id, "[".repeat(1_000_000)) }
            // 32 levels inside attributes are fine.
            store.mergeUser(ada.id, """{"attributes": {"a": ${nested(31)}}}""")
            assertEquals(ada.version + 1uL, store.getUser(ada.id).version)
        }
    }

    test("not input: a closed store or secret is the generated code's IllegalStateException") {
        val store = memoryStore()
        store.close()
        assertFailsWith<IllegalStateException> { store.getUser(1uL) }
        val secret = Secret("correct horse 1")
        secret.close()
        assertFailsWith<IllegalStateException> { secret.expose() }
    }

    test("random JSON-ish text and random numbers are always a RosterException") {
        val seed = 20261201L
        val cases = 3000
        val outcomes = sortedMapOf<String, Int>()
        memoryStore().use { store ->
            val fuzz = Fuzz(seed)
            val ids = mutableListOf(
                store.createUser(NewUser("seed", "seed@example.com", "S", "D")).id,
                store.createRole(NewRole("seed")).id,
                store.createClient(NewClient("seed")).client.id,
            )
            repeat(cases) { case ->
                val (name, call) = fuzz.call(store, ids)
                val outcome = try {
                    when (val result = call()) {
                        is rosterdb.User -> ids += result.id
                        is rosterdb.Role -> ids += result.id
                        is rosterdb.Client -> ids += result.id
                        is String -> if (name.startsWith("create")) {
                            val doc = Json.parse(result) as Map<*, *>
                            val id = doc["id"] ?: (doc["client"] as Map<*, *>)["id"]
                            ids += (id as JsonNumber).text.toULong()
                        }
                    }
                    "ok"
                } catch (e: RosterException.Internal) {
                    fail("case $case ($name, seed $seed): an internal error: $e")
                } catch (e: RosterException) {
                    assertFalse(e.toString().contains(LONE), "case $case ($name): the error quotes a lone surrogate")
                    e::class.simpleName!!
                } catch (t: Throwable) {
                    fail("case $case ($name, seed $seed): ${t::class.qualifiedName} is not a RosterException: $t")
                }
                outcomes["$name $outcome"] = (outcomes["$name $outcome"] ?: 0) + 1
            }
        }
        println("     $cases cases (seed $seed): $outcomes")
        assertTrue(outcomes.keys.any { it.endsWith(" ok") }, "some inputs are valid")
        assertTrue(outcomes.keys.count { !it.endsWith(" ok") } >= 10, "the inputs reach many kinds of error")
    }
}

/** Random bad input, reproducible from its seed. */
private class Fuzz(seed: Long) {
    private val random = java.util.Random(seed)

    private fun <T> pick(items: List<T>): T = items[random.nextInt(items.size)]

    private fun chance(percent: Int) = random.nextInt(100) < percent

    private val edgeULongs = listOf(0uL, 1uL, 2uL, 3uL, (1uL shl 53) - 1uL, 1uL shl 53, Long.MAX_VALUE.toULong(), 1uL shl 63, ULong.MAX_VALUE)
    private val edgeUInts = listOf(0u, 1u, 100u, 1000u, 1001u, Int.MAX_VALUE.toUInt(), UInt.MAX_VALUE)

    fun ulong(): ULong = if (chance(60)) pick(edgeULongs) else random.nextLong().toULong()

    fun uint(): UInt = if (chance(60)) pick(edgeUInts) else random.nextInt().toUInt()

    private val words = listOf(
        "", "ada", "Ada Lovelace", "ada@example.com", "acme", "a b", "\u0000", "\t", "é", "\uD83D\uDE00", "\uFFFD",
        LONE, "\uDC00", "x$LONE", "\uDC00\uD800", "10.0.0.1", "::1", "rc_x", "github", "like:a%", "in:1,2", "true",
        "lastName", "id:desc", "username", "x".repeat(101), "x".repeat(300),
    )

    fun text(): String = when (random.nextInt(10)) {
        0 -> String(CharArray(random.nextInt(12)) { random.nextInt(0x10000).toChar() })
        1 -> pick(words) + pick(words)
        else -> pick(words)
    }

    private val numbers = listOf(
        "0", "-0", "1", "-1", "1.5", "1e3", "1e400", "-1e400", "1e-400", "18446744073709551615", "18446744073709551616",
        "-9223372036854775808", "-9223372036854775809", "9007199254740993", "NaN", "Infinity", "-Infinity", "01", "1.", "-", ".5",
    )

    private val keys = listOf(
        "username", "email", "firstName", "lastName", "nickname", "tenant", "enabled", "roles", "externalIds", "attributes",
        "password", "passwordHash", "name", "description", "permissions", "ipAllowlist", "id", "version", "createdAt",
        "type", "value", "op", "path", "from", "x", "",
    )

    private fun string(): String = "\"" + when (random.nextInt(6)) {
        0 -> "\\ud800"
        1 -> "\\u0000\\n\\\""
        2 -> "\\ud83d\\ude00"
        else -> text().replace("\\", "\\\\").replace("\"", "\\\"")
    } + "\""

    /** A JSON-ish value: mostly JSON, sometimes not. */
    fun json(depth: Int = 0): String = when (if (depth > 4) random.nextInt(3) else random.nextInt(9)) {
        0 -> pick(numbers)
        1 -> string()
        2 -> pick(listOf("null", "true", "false", "nul", "True"))
        3, 4 -> (0 until random.nextInt(4)).joinToString(", ", "[", "]") { json(depth + 1) }
        5, 6 -> (0 until random.nextInt(5)).joinToString(", ", "{", "}") { "\"${pick(keys)}\": ${json(depth + 1)}" }
        7 -> nested(if (chance(3)) 100_000 else random.nextInt(140))
        else -> pick(listOf("", "{", "]", "[1,]", "{\"a\" 1}", "'x'", "\"$LONE\"", "{\"$LONE\": 1}", "\"x$LONE"))
    }

    private var serial = 0

    /** The members of a valid document of [entity], with a new username or name. */
    private fun validMembers(entity: EntityKind): List<String> {
        serial++
        return when (entity) {
            EntityKind.USER -> listOf("\"username\": \"u$serial\"", "\"email\": \"u$serial@example.com\"", "\"firstName\": \"F\"", "\"lastName\": \"L\"")
            EntityKind.ROLE -> listOf("\"name\": \"r$serial\"")
            EntityKind.CLIENT -> listOf("\"name\": \"c$serial\"")
        }
    }

    /**
     * A document of [entity]: half the time a valid one with a member or two
     * added, otherwise random members of known names; sometimes any
     * JSON-ish text; sometimes damaged.
     */
    fun document(entity: EntityKind): String {
        val members = if (chance(50)) validMembers(entity).toMutableList() else mutableListOf()
        repeat(random.nextInt(if (members.isEmpty()) 7 else 3)) { members += "\"${pick(keys)}\": ${json(1)}" }
        members.shuffle(random)
        return damage(if (chance(90)) members.joinToString(", ", "{", "}") else json())
    }

    fun ops(): String {
        val paths = listOf("/nickname", "/attributes", "/attributes/a", "/roles/0", "/roles/-", "/id", "/password", "/", "", "x", "/a~2")
        val text = (0 until random.nextInt(5)).joinToString(", ", "[", "]") {
            val members = mutableListOf("\"op\": \"${pick(listOf("add", "remove", "replace", "move", "copy", "test", "nope"))}\"")
            if (chance(90)) members += "\"path\": \"${pick(paths)}\""
            if (chance(70)) members += "\"value\": ${json(1)}"
            if (chance(20)) members += "\"from\": \"${pick(paths)}\""
            members.shuffle(random)
            members.joinToString(", ", "{", "}")
        }
        return damage(if (chance(90)) text else json())
    }

    /** Deletes, doubles or swaps a character now and then, or cuts the text short. */
    private fun damage(text: String): String {
        if (text.isEmpty() || chance(75)) return text
        val at = random.nextInt(text.length)
        return when (random.nextInt(4)) {
            0 -> text.removeRange(at, at + 1)
            1 -> text.substring(0, at) + text[at] + text.substring(at)
            2 -> text.substring(0, at) + pick(listOf("\"", "{", "]", ",", ":", LONE, "\\", "\u0000")) + text.substring(at + 1)
            else -> text.substring(0, at)
        }
    }

    private fun maybe(percent: Int, value: () -> String): String? = if (chance(percent)) value() else null

    private fun query(): ListQuery = ListQuery(
        filter = maybe(30) { pick(listOf("id = ${pick(numbers)}", "lastName sw ${string()}", "(", "not " + text(), text())) },
        search = maybe(15) { text() },
        filters = if (chance(30)) mapOf(pick(keys + listOf("page", "filter[email]", text())) to text()) else emptyMap(),
        sort = if (chance(20)) List(random.nextInt(3)) { pick(listOf("id", "lastName:desc", text())) } else emptyList(),
        fields = if (chance(15)) List(random.nextInt(3)) { pick(listOf("id", "username", text())) } else emptyList(),
        page = if (chance(20)) ulong() else null,
        pageSize = if (chance(20)) uint() else null,
        offset = if (chance(20)) ulong() else null,
        limit = if (chance(20)) uint() else null,
        cursor = maybe(10) { text() },
        withTotal = chance(20),
    )

    private fun id(ids: List<ULong>): ULong = if (chance(60)) pick(ids) else ulong()

    private fun version(): ULong? = if (chance(70)) null else ulong()

    /** One call with random arguments, and its name. */
    fun call(store: RosterStore, ids: List<ULong>): Pair<String, () -> Any?> = when (random.nextInt(14)) {
        0 -> "createUserJson" to { store.createUserJson(document(EntityKind.USER)) }
        1 -> "createRoleJson" to { store.createRoleJson(document(EntityKind.ROLE)) }
        2 -> "createClientJson" to { store.createClientJson(document(EntityKind.CLIENT)) }
        3 -> "createUser" to {
            store.createUser(
                NewUser(
                    text(), text(), text(), text(), nickname = maybe(20) { text() }, tenant = maybe(10) { text() },
                    roles = List(random.nextInt(3)) { ulong() }, externalIds = List(random.nextInt(2)) { ExternalId(text(), text()) },
                    attributes = maybe(60) { damage(json()) },
                ),
            )
        }
        4 -> "createClient" to { store.createClient(NewClient(text(), roles = List(random.nextInt(2)) { ulong() }, ipAllowlist = List(random.nextInt(2)) { text() })) }
        5 -> "patchUser" to { store.patchUser(id(ids), ops(), version()) }
        6 -> "patchRole" to { store.patchRole(id(ids), ops(), version()) }
        7 -> "mergeUser" to { store.mergeUser(id(ids), document(EntityKind.USER), version()) }
        8 -> "mergeClient" to { store.mergeClient(id(ids), document(EntityKind.CLIENT), version()) }
        9 -> "replaceUser" to { store.replaceUser(id(ids), document(EntityKind.USER), version()) }
        10 -> "listUsers" to { store.listUsers(query()) }
        11 -> "listJson" to { store.listJson(pick(EntityKind.entries), query()) }
        12 -> "count" to { store.count(pick(EntityKind.entries), query()) }
        else -> "changes" to { store.changes(ulong(), uint()) }
    }
}
